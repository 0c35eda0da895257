//! Edits and deletions of messages: the [`ChangeStore`] part of a store.
//!
//! Each change of a message is the next change of its conversation
//! (`conversations.last_change`), a counter of its own: message sequence
//! numbers stay 1, 2, 3, … without gaps, which read positions and unread
//! counts rely on. A message row holds its current state and the number of
//! its latest change, so what a client missed since change `n` is the
//! messages whose change is above `n` — each once, in its latest state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ChatMessage;
use uuid::Uuid;

use super::StoreError;

/// What to do to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChange<'a> {
    /// New text (validated); the replaced text is kept as a version, for
    /// the audit log only.
    Edit {
        /// The new body.
        body: &'a str,
    },
    /// Erase: the body and every earlier version are removed; the message
    /// keeps its place as a tombstone.
    Delete,
}

/// Text an edit replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageVersion {
    /// The change that replaced it.
    pub change: i64,
    /// The text before that change.
    pub body: String,
    /// When it was replaced.
    pub replaced_at: DateTime<Utc>,
}

/// Changing messages, and reading the changes back in order.
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Applies `change` to message `message_id` of `conversation_id` as
    /// the conversation's next change, in one transaction; the message's new
    /// state, and whether this call changed it. `NotFound("message")` when
    /// there is no such message in that conversation, or when an edit finds
    /// it deleted. Deleting a deleted message changes nothing (`false`) and
    /// returns it as it is.
    async fn change_message(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
        change: MessageChange<'_>,
    ) -> Result<(ChatMessage, bool), StoreError>;

    /// Messages of the conversation whose latest change is after `after`,
    /// in change order, at most `limit`.
    async fn changes_after(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// The texts edits replaced, oldest first (none once deleted).
    async fn message_versions(&self, message_id: Uuid) -> Result<Vec<MessageVersion>, StoreError>;
}
