//! Reading and posting messages.

use domain::chat::{valid_client_msg_id, MAX_HISTORY_PAGE};
use domain::{ChatMessage, MessageBody};
use tracing::instrument;
use uuid::Uuid;

use super::{ConversationService, Outgoing, NOT_FOUND};
use crate::events::{conversation_topic, Event};
use crate::store::{NewMessage, Posted};
use crate::ServiceError;

impl ConversationService {
    /// A page of history, newest first: messages before `before` (the newest
    /// when `None`), at most `limit` (≤ 100).
    pub async fn history(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        self.readable(user_id, conversation_id).await?;
        let limit = limit.clamp(1, MAX_HISTORY_PAGE);
        Ok(self.store.history(conversation_id, before, limit).await?)
    }

    /// Messages after `after`, oldest first (catch-up after a reconnect).
    pub async fn since(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        self.readable(user_id, conversation_id).await?;
        let limit = limit.clamp(1, MAX_HISTORY_PAGE);
        Ok(self
            .store
            .messages_after(conversation_id, after, limit)
            .await?)
    }

    /// Sends a message: the user must be a member. A retry with the same
    /// client id returns the original. The message is published to the
    /// conversation's topic, serialized once (a retry publishes the
    /// original again: connections skip what they already sent).
    #[instrument(skip_all, fields(user = %user_id, conversation = %outgoing.conversation_id))]
    pub async fn post(&self, user_id: Uuid, outgoing: Outgoing) -> Result<Posted, ServiceError> {
        let conversation = self
            .store
            .conversation(outgoing.conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        if self.members.role(conversation.id, user_id).await?.is_none() {
            return Err(if conversation.is_public {
                ServiceError::Forbidden("join the room to post in it")
            } else {
                NOT_FOUND
            });
        }
        let (sent, window_left) = self
            .kv
            .increment(
                &format!("send:{user_id}"),
                std::time::Duration::from_secs(1),
            )
            .await?;
        if sent > u64::from(self.policy.sends_per_second) {
            return Err(ServiceError::TooManyRequests {
                retry_after: window_left.as_secs().max(1),
            });
        }
        if !valid_client_msg_id(&outgoing.client_msg_id) {
            return Err(ServiceError::Invalid(
                "client_msg_id: 1 to 64 visible ASCII characters".into(),
            ));
        }
        let body = MessageBody::parse(&outgoing.body, self.policy.max_message_chars)
            .map_err(ServiceError::InvalidName)?;
        if let Some(reply_to) = outgoing.reply_to {
            let replied = self.store.message(reply_to).await?;
            // An id that names no message here is a reference to nothing,
            // like an unknown member of a new group: not found.
            if replied.map(|m| m.conversation_id) != Some(conversation.id) {
                return Err(ServiceError::NotFound("message"));
            }
        }
        let posted = self
            .store
            .post_message(&NewMessage {
                conversation_id: conversation.id,
                sender_id: user_id,
                client_msg_id: &outgoing.client_msg_id,
                body: body.as_str(),
                reply_to: outgoing.reply_to,
            })
            .await?;
        if matches!(posted, Posted::New(_)) {
            metrics::counter!("chatsphere_messages_stored_total").increment(1);
        }
        // A duplicate is published again: its first attempt may have been
        // stored by a process that died before publishing it. Connections
        // skip messages they have already sent, by sequence number. The
        // store finds duplicates within the conversation only, and the topic
        // is the message's own: never another conversation's.
        {
            let message = posted.message();
            let payload = Event::Message { message }.to_bytes();
            if let Err(err) = self
                .bus
                .publish(&conversation_topic(message.conversation_id), payload)
                .await
            {
                // Stored, so not lost: readers catch up from history.
                tracing::warn!(error = %err, "message stored but not published");
            }
        }
        Ok(posted)
    }
}
