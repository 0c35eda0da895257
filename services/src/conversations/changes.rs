//! Editing and deleting messages, and reading back the changes a client
//! missed. Each change is the conversation's next change
//! ([`crate::store::ChangeStore`]), published as a `changed` event carrying
//! the message's new state, ordered by its change number like messages by
//! their sequence number.

use chrono::Utc;
use domain::chat::MAX_HISTORY_PAGE;
use domain::messages as m;
use domain::protocol::ServerFrame;
use domain::{AuditKind, ChatMessage, ConversationKind, MessageBody};
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::{Actor, ConversationService};
use crate::events::{conversation_topic, Publish};
use crate::store::{Conversation, MessageChange};
use crate::ServiceError;

/// A change to a message, as a client asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeAction {
    /// New text.
    Edit(String),
    /// Erase it.
    Delete,
    /// Add or take back a reaction.
    React {
        /// The emoji.
        emoji: String,
        /// Add or remove.
        on: bool,
    },
}

impl ConversationService {
    /// Applies `action` to a message ([`Self::edit`], [`Self::delete`],
    /// [`Self::react`]); the message's state afterwards.
    pub async fn change(
        &self,
        actor: Actor,
        conversation_id: Uuid,
        message_id: Uuid,
        action: ChangeAction,
    ) -> Result<ChatMessage, ServiceError> {
        let user_id = actor.user_id;
        match action {
            ChangeAction::Edit(body) => {
                self.edit(user_id, conversation_id, message_id, &body).await
            }
            ChangeAction::Delete => self.delete(actor, conversation_id, message_id).await,
            ChangeAction::React { emoji, on } => {
                self.react(user_id, conversation_id, message_id, &emoji, on)
                    .await
            }
        }
    }

    /// Replaces the text of one of the user's own messages (nobody edits
    /// another person's words, admins included), within the edit window,
    /// as long as they are a member. The same text again changes nothing.
    /// Counts against the send rate.
    #[instrument(skip_all, fields(user = %user_id, message = %message_id))]
    pub async fn edit(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        message_id: Uuid,
        body: &str,
    ) -> Result<ChatMessage, ServiceError> {
        let (conversation, message) = self
            .changeable(user_id, conversation_id, message_id)
            .await?;
        // Refused and idle attempts cost as much as edits.
        self.count_send(user_id).await?;
        if message.sender_id != user_id {
            return Err(ServiceError::Forbidden(m::NOT_YOUR_MESSAGE));
        }
        self.writer(&conversation, user_id).await?;
        if let Some(window) = self.policy.edit_window {
            let age = (Utc::now() - message.created_at)
                .to_std()
                .unwrap_or_default();
            if age > window {
                return Err(ServiceError::Forbidden(m::EDIT_WINDOW_OVER));
            }
        }
        let body = MessageBody::parse(body, self.policy.max_message_chars)
            .map_err(ServiceError::InvalidName)?;
        if body.as_str() == message.body {
            return Ok(message);
        }
        let (changed, _) = self
            .store
            .change_message(
                conversation.id,
                message.id,
                MessageChange::Edit {
                    body: body.as_str(),
                },
            )
            .await?;
        self.announce_change(&changed).await;
        self.audit
            .record(
                AuditKind::MessageEdited,
                Some(user_id),
                None,
                None,
                Some(json!({ "conversation_id": conversation.id, "message_id": message.id })),
            )
            .await;
        Ok(changed)
    }

    /// Deletes a message: its text (and every earlier version) is erased,
    /// it stays as a tombstone in its place. Its sender may; so may the
    /// owners and admins of a group or room, and the server's admins in
    /// public rooms (which they manage). Deleting it again changes nothing.
    #[instrument(skip_all, fields(user = %actor.user_id, message = %message_id))]
    pub async fn delete(
        &self,
        actor: Actor,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<ChatMessage, ServiceError> {
        let user_id = actor.user_id;
        let (conversation, message) = self
            .changeable(user_id, conversation_id, message_id)
            .await?;
        self.count_send(user_id).await?;
        if message.sender_id != user_id && !self.moderates(actor, &conversation).await? {
            return Err(ServiceError::Forbidden(m::MAY_NOT_DELETE));
        }
        if message.is_deleted() {
            return Ok(message);
        }
        let (changed, now) = self
            .store
            .change_message(conversation.id, message.id, MessageChange::Delete)
            .await?;
        if !now {
            // Deleted meanwhile by someone else: announced and audited there.
            return Ok(changed);
        }
        self.announce_change(&changed).await;
        let actor = (message.sender_id != user_id).then_some(user_id);
        self.audit
            .record(
                AuditKind::MessageDeleted,
                Some(message.sender_id),
                actor,
                None,
                Some(json!({
                    "conversation_id": conversation.id,
                    "message_id": message.id,
                })),
            )
            .await;
        Ok(changed)
    }

    /// Messages changed after change `after`, in change order (catch-up
    /// after a reconnect): each once, in its latest state.
    pub async fn changes_since(
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
            .changes_after(conversation_id, after, limit)
            .await?)
    }

    /// Whether `actor` may delete other people's messages in
    /// `conversation`: its owners and admins; in a public room also the
    /// server's admins, when their admin powers come with what they do.
    pub async fn moderates(
        &self,
        actor: Actor,
        conversation: &Conversation,
    ) -> Result<bool, ServiceError> {
        let role = self.members.role(conversation.id, actor.user_id).await?;
        if role.is_some_and(domain::MemberRole::may_delete_messages) {
            return Ok(true);
        }
        if actor.admin_powers
            && conversation.is_public
            && conversation.kind == ConversationKind::Room
        {
            let user = self.store.user_by_id(actor.user_id).await?;
            return Ok(user.is_some_and(|u| u.is_admin && !u.is_disabled()));
        }
        Ok(false)
    }

    /// The conversation (readable by the user) and its message, or not
    /// found.
    pub(super) async fn changeable(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<(Conversation, ChatMessage), ServiceError> {
        let conversation = self.readable(user_id, conversation_id).await?;
        let message = self
            .store
            .message(message_id)
            .await?
            .filter(|m| m.conversation_id == conversation.id)
            .ok_or(ServiceError::NotFound("message"))?;
        Ok((conversation, message))
    }

    /// Publishes a change to the conversation's members, serialized once.
    pub(super) async fn announce_change(&self, message: &ChatMessage) {
        let payload = ServerFrame::changed(message).to_bytes();
        if let Err(err) = self
            .bus
            .publish(&conversation_topic(message.conversation_id), payload)
            .await
        {
            // Stored, so not lost: readers catch up when they resume.
            tracing::warn!(error = %err, "message change stored but not published");
        }
    }
}
