//! What a client sends.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Conversation id → sequence number.
pub type Positions = HashMap<Uuid, i64>;

/// A frame from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Post a message.
    Send {
        /// Where.
        conversation_id: Uuid,
        /// The client's id for it; a resend with the same id is acknowledged
        /// with the original message.
        client_msg_id: String,
        /// Plain text.
        body: String,
        /// A message of the same conversation it answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
        /// Files uploaded to this conversation by the sender and not sent
        /// yet, at most `MAX_ATTACHMENTS`; the body may then be empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Uuid>,
    },
    /// Replace the text of one of the user's own messages. Answered with
    /// `change_ack`; every member's connections get a `changed` event.
    Edit {
        /// Its conversation.
        conversation_id: Uuid,
        /// The message.
        message_id: Uuid,
        /// The new text.
        body: String,
    },
    /// Delete a message (one's own, or any as an owner or admin of the
    /// conversation). Answered with `change_ack`; members get `changed`.
    Delete {
        /// Its conversation.
        conversation_id: Uuid,
        /// The message.
        message_id: Uuid,
    },
    /// Add (`on: true`) or take back (`on: false`) one's reaction to a
    /// message. Answered with `change_ack`; members get `changed`. Setting
    /// what is already so changes nothing (the ack carries the
    /// change number the message already had).
    React {
        /// Its conversation.
        conversation_id: Uuid,
        /// The message.
        message_id: Uuid,
        /// One emoji.
        emoji: String,
        /// Add or remove.
        on: bool,
    },
    /// The spec's example frame: a message to a room by name.
    Chat {
        /// The text.
        content: String,
        /// The room's name (or id).
        room_id: String,
        /// Optional idempotency key (one is made up when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    /// Are you there? Answered with `pong`.
    Ping,
    /// This device received the conversation's messages up to `seq`.
    Delivered {
        /// The conversation.
        conversation_id: Uuid,
        /// The highest sequence number received.
        seq: i64,
    },
    /// The user has seen the conversation up to `seq`.
    Read {
        /// The conversation.
        conversation_id: Uuid,
        /// The highest sequence number seen.
        seq: i64,
    },
    /// Several receipts in one frame (after a reconnect, or gathered for a
    /// moment), for each kind.
    Receipts {
        /// Received up to, per conversation.
        #[serde(default, skip_serializing_if = "HashMap::is_empty")]
        delivered: Positions,
        /// Seen up to, per conversation.
        #[serde(default, skip_serializing_if = "HashMap::is_empty")]
        read: Positions,
    },
    /// The user is typing in the conversation (send at most every 3 s),
    /// or, with `active: false`, stopped (their message went by another
    /// way than this connection, such as the REST API or the web page's
    /// form).
    Typing {
        /// The conversation.
        conversation_id: Uuid,
        /// `false`: the user stopped typing. Absent: typing.
        #[serde(default = "typing_active")]
        active: bool,
    },
    /// Replay what was missed: for each conversation, the highest sequence
    /// number the client has. Sent first on a connection opened with
    /// `?resume=1`, whose live events wait for it.
    Resume {
        /// Conversation id → last sequence number held.
        positions: Positions,
        /// Conversation id → last change number held (edits and deletions;
        /// absent: the client asks for none).
        #[serde(default, skip_serializing_if = "HashMap::is_empty")]
        changes: Positions,
    },
}

impl ClientFrame {
    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A `typing` frame without `active` says the user is typing.
fn typing_active() -> bool {
    true
}
