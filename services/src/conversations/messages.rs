//! Reading and posting messages.

use domain::chat::{valid_client_msg_id, MAX_HISTORY_PAGE};
use domain::files::MAX_ATTACHMENTS;
use domain::{ChatMessage, MessageBody};
use tracing::instrument;
use uuid::Uuid;

use super::commit::Waiting;
use super::{Actor, ConversationService, Outgoing, NOT_FOUND};
use crate::store::{Conversation, Posted};
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

    /// The history around message `seq`, oldest first: up to `limit`
    /// messages, half of them older than it, then it and newer ones; near
    /// either end of the conversation the other side fills the page.
    pub async fn around(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        self.readable(user_id, conversation_id).await?;
        let limit = limit.clamp(1, MAX_HISTORY_PAGE);
        let store = &self.store;
        let half = limit / 2;
        let mut older = store.history(conversation_id, Some(seq), half).await?;
        let newer = store
            .messages_after(
                conversation_id,
                seq.saturating_sub(1),
                limit - older.len() as u32,
            )
            .await?;
        let short = limit - (older.len() + newer.len()) as u32;
        if short > 0 && older.len() as u32 == half {
            let oldest = older.last().map_or(seq, |m| m.seq);
            older.extend(store.history(conversation_id, Some(oldest), short).await?);
        }
        older.reverse();
        older.extend(newer);
        Ok(older)
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
    /// client id returns the original. The message is stored with the
    /// others sent to the conversation meanwhile, in one commit, then
    /// published to the conversation's topic, serialized once (a retry
    /// publishes the original again: connections skip what they already
    /// sent). The answer comes once it is committed.
    #[instrument(skip_all, fields(user = %actor.user_id, conversation = %outgoing.conversation_id))]
    pub async fn post(&self, actor: Actor, outgoing: Outgoing) -> Result<Posted, ServiceError> {
        let user_id = actor.user_id;
        let conversation = self
            .store
            .conversation(outgoing.conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        self.writer(&conversation, user_id).await?;
        self.count_send(user_id).await?;
        if !valid_client_msg_id(&outgoing.client_msg_id) {
            return Err(ServiceError::Invalid(
                "client_msg_id: 1 to 64 visible ASCII characters".into(),
            ));
        }
        check_attachments(&outgoing.attachments)?;
        // Files alone make a message: its text may then be empty.
        let body = if outgoing.body.trim().is_empty() && !outgoing.attachments.is_empty() {
            String::new()
        } else {
            MessageBody::parse(&outgoing.body, self.policy.max_message_chars)
                .map_err(ServiceError::InvalidName)?
                .as_str()
                .to_owned()
        };
        if let Some(reply_to) = outgoing.reply_to {
            let replied = self.store.message(reply_to).await?;
            // An id that names no message here is a reference to nothing,
            // like an unknown member of a new group: not found.
            if replied.map(|m| m.conversation_id) != Some(conversation.id) {
                return Err(ServiceError::NotFound("message"));
            }
        }
        let alone = self
            .attachable(
                user_id,
                conversation.id,
                &outgoing.client_msg_id,
                &outgoing.attachments,
            )
            .await?;
        let mentions = self.mentioned(actor, &conversation, &body).await?;
        self.committer
            .post(
                Waiting::new(
                    conversation.id,
                    user_id,
                    outgoing.client_msg_id,
                    body,
                    outgoing.reply_to,
                    mentions,
                    outgoing.attachments,
                )
                .labelled(outgoing.label)
                .alone(alone),
            )
            .await
    }
}

/// The files of a message: at most [`MAX_ATTACHMENTS`], each once.
fn check_attachments(files: &[Uuid]) -> Result<(), ServiceError> {
    if files.len() > MAX_ATTACHMENTS {
        return Err(ServiceError::Invalid(format!(
            "attachments: at most {MAX_ATTACHMENTS} files"
        )));
    }
    let mut seen = files.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != files.len() {
        return Err(ServiceError::Invalid("attachments: each file once".into()));
    }
    Ok(())
}

impl ConversationService {
    /// Checks a message's files before it joins a group commit (the store
    /// checks again as it attaches them), so that a file which is not the
    /// sender's to send fails this message alone, not the batch. A file
    /// already sent with this very message (a retry) passes: the store
    /// answers with the original. One whose record is gone — never
    /// uploaded, or deleted with the message a retry repeats — cannot be
    /// told apart here: `true`, the message is stored on its own and the
    /// store decides.
    async fn attachable(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        client_msg_id: &str,
        files: &[Uuid],
    ) -> Result<bool, ServiceError> {
        let mut alone = false;
        for id in files {
            let Some(file) = self.store.file(*id).await? else {
                alone = true;
                continue;
            };
            if file.uploader_id != user_id || file.conversation_id != conversation_id {
                return Err(ServiceError::NotFound("file"));
            }
            if let Some(sent_with) = file.message_id {
                let retried =
                    self.store.message(sent_with).await?.is_some_and(|m| {
                        m.sender_id == user_id && m.client_msg_id == client_msg_id
                    });
                if !retried {
                    return Err(ServiceError::NotFound("file"));
                }
            }
        }
        Ok(alone)
    }

    /// Who may write in a conversation (post, edit, react): its members. A
    /// public room's visitor is told to join; anyone else finds nothing.
    pub(super) async fn writer(
        &self,
        conversation: &Conversation,
        user_id: Uuid,
    ) -> Result<(), ServiceError> {
        if self.members.role(conversation.id, user_id).await?.is_none() {
            return Err(if conversation.is_public {
                ServiceError::Forbidden("join the room to post in it")
            } else {
                NOT_FOUND
            });
        }
        Ok(())
    }

    /// Counts a send (or an edit or deletion) against the user's rate,
    /// shared by every connection, the REST API and every process.
    pub(super) async fn count_send(&self, user_id: Uuid) -> Result<(), ServiceError> {
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
        Ok(())
    }

    /// Transactions that stored messages on this process so far (a group
    /// commit stores many in one; for tests and diagnostics).
    pub fn commits(&self) -> u64 {
        self.committer.commits()
    }
}
