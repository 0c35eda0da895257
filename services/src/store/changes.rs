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
use domain::chat;
use domain::{ChatMessage, Reaction, Reactor, ReplyPreview};
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
    /// Erase: the body, every earlier version and the reactions are
    /// removed; the message keeps its place as a tombstone.
    Delete,
    /// Add (`on`) or remove `user`'s reaction with `emoji` (a validated
    /// emoji). A deleted message is not found; setting what is already so
    /// changes nothing; a new emoji beyond
    /// [`domain::chat::MAX_REACTION_KINDS`] is a `Conflict("reaction")`.
    React {
        /// Who.
        user: &'a Reactor,
        /// The emoji.
        emoji: &'a str,
        /// Add or remove.
        on: bool,
    },
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

/// The preview of a replied-to message from the columns every message read
/// selects (the first 480 characters of its text: enough for
/// [`chat::reply_excerpt`], which keeps at most 120 of one line).
pub(crate) fn reply_preview(
    seq: i64,
    sender_id: Uuid,
    sender_name: String,
    body: String,
    deleted: bool,
) -> ReplyPreview {
    ReplyPreview {
        seq,
        sender_id,
        sender_name,
        excerpt: chat::reply_excerpt(&body),
        deleted,
    }
}

/// A list kept with its message as JSON text (reactions, attachments;
/// empty text: none); `what` names it in a decoding error.
pub(crate) fn list_from_text<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<Vec<T>, sqlx::Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|err| sqlx::Error::Decode(format!("{what}: {err}").into()))
}

/// A list as kept with its message (see [`list_from_text`]).
pub(crate) fn list_to_text<T: serde::Serialize>(items: &[T]) -> String {
    if items.is_empty() {
        return String::new();
    }
    serde_json::to_string(items).unwrap_or_default()
}

/// A message's stored reactions.
pub(crate) fn reactions_from_text(text: &str) -> Result<Vec<Reaction>, sqlx::Error> {
    list_from_text(text, "reactions")
}

/// Reactions as stored.
pub(crate) fn reactions_to_text(reactions: &[Reaction]) -> String {
    list_to_text(reactions)
}

/// Applies a reaction change to stored reactions: the new text, or `None`
/// when it changes nothing.
pub(crate) fn react(
    stored: &str,
    user: &Reactor,
    emoji: &str,
    on: bool,
) -> Result<Option<String>, StoreError> {
    let mut reactions = reactions_from_text(stored)?;
    match chat::set_reaction(&mut reactions, user, emoji, on) {
        Ok(true) => Ok(Some(reactions_to_text(&reactions))),
        Ok(false) => Ok(None),
        Err(chat::TooManyReactions) => Err(StoreError::Conflict("reaction")),
    }
}

/// A message's stored mentions (JSON text of ids; empty: none).
pub(crate) fn mentions_from_text(text: &str) -> Result<Vec<Uuid>, sqlx::Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|err| sqlx::Error::Decode(format!("mentions: {err}").into()))
}

/// Mentions as stored (empty text for none).
pub(crate) fn mentions_to_text(mentions: &[Uuid]) -> String {
    if mentions.is_empty() {
        return String::new();
    }
    serde_json::to_string(mentions).unwrap_or_default()
}
