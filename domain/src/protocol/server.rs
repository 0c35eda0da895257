//! What the server sends: events (published on the bus and forwarded to
//! every connection that follows their conversation or user) and the
//! answers to one connection.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ChatMessage;

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    // Events, published once and forwarded as the same bytes.
    /// A new message (to the conversation's members).
    Message {
        /// The message.
        message: Cow<'a, ChatMessage>,
    },
    /// A message was edited or deleted: its new state (a deleted one has an
    /// empty body and `deleted_at`). `message.change` numbers the changes
    /// of a conversation 1, 2, 3, … (apart from its messages' sequence
    /// numbers); each reaches a connection once and in order, and a
    /// `resume` with `changes` replays the ones missed.
    Changed {
        /// The message as it is now.
        message: Cow<'a, ChatMessage>,
    },
    /// The user became a member of a conversation (on their user topic:
    /// their connections start following it).
    Joined {
        /// The conversation.
        conversation_id: Uuid,
    },
    /// The user is no longer a member (their connections stop following it).
    Left {
        /// The conversation.
        conversation_id: Uuid,
    },
    /// A member's delivered or read position moved.
    Receipt {
        /// The conversation.
        conversation_id: Uuid,
        /// The member.
        user_id: Uuid,
        /// Messages up to here reached one of their devices.
        delivered_seq: i64,
        /// Messages up to here were seen.
        read_seq: i64,
    },
    /// A member started (`active`) or stopped typing. Never stored; the
    /// server sends the stop ~5 s after the last keystroke notice, or when
    /// their message arrives (clients also let it lapse by themselves).
    Typing {
        /// The conversation.
        conversation_id: Uuid,
        /// Who.
        user_id: Uuid,
        /// Their display name, to show "… is typing".
        name: Cow<'a, str>,
        /// Typing now; `false` when they stopped.
        active: bool,
    },
    /// A group's members changed: someone was added, removed or left, or
    /// ownership passed on (to the group's members; rooms' members come and
    /// go too often to announce). Clients showing the list read it again.
    Members {
        /// The group.
        conversation_id: Uuid,
    },
    /// A user came online or went offline (sent to the members of their
    /// direct and group conversations).
    Presence {
        /// Who.
        user_id: Uuid,
        /// Online now.
        online: bool,
        /// When they were last seen (now, when they came online).
        last_seen_at: DateTime<Utc>,
    },
    /// An admin disabled the user's account (on their user topic): every
    /// server process closes that user's connections. Not forwarded.
    AccountDisabled {
        /// The account.
        user_id: Uuid,
    },
    /// One of the user's sessions ended (signed out, revoked, a refresh
    /// token reused, the password changed; on their user topic): every
    /// server process closes that session's connections at once. Not
    /// forwarded.
    SessionEnded {
        /// The account.
        user_id: Uuid,
        /// The session.
        session_id: Uuid,
    },

    // Answers to one connection.
    /// The connection is authenticated and follows the user's conversations.
    Ready {
        /// Who is connected.
        user_id: Uuid,
        /// How many conversations this connection follows.
        conversations: usize,
    },
    /// The outcome of a `send` (or `chat`).
    Ack {
        /// The client's id for the message.
        client_msg_id: Cow<'a, str>,
        /// The stored message's id, when accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Uuid>,
        /// Its conversation, when accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<Uuid>,
        /// Its sequence number, when accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
        /// Whether this was a resend of a message already stored.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
        /// Why it was refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<AckError>,
    },
    /// The outcome of an `edit` or `delete`.
    ChangeAck {
        /// The message.
        message_id: Uuid,
        /// The change that did it, when accepted (the `changed` event
        /// follows on the conversation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<i64>,
        /// Why it was refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<AckError>,
    },
    /// Answer to `ping`.
    Pong,
    /// The replay asked for by `resume` is complete: live events follow.
    Resumed {
        /// Messages replayed.
        #[serde(default)]
        replayed: usize,
        /// Conversations with more missed messages than one replay sends
        /// (the client re-reads their newest messages through the API).
        #[serde(default)]
        truncated: Vec<Uuid>,
    },
    /// A frame that could not be understood.
    Error {
        /// What was wrong with it.
        detail: String,
    },

    /// A frame of a type this build does not know (sent by a newer server):
    /// decoding only (serializing it is an error), clients ignore it.
    #[serde(other, skip_serializing)]
    Unknown,
}

/// Why a send was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckError {
    /// The HTTP status the same refusal has in the REST API.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
}

impl<'a> ServerFrame<'a> {
    /// A `message` event, borrowing the message.
    pub fn message(message: &'a ChatMessage) -> Self {
        Self::Message {
            message: Cow::Borrowed(message),
        }
    }

    /// A `changed` event, borrowing the message.
    pub fn changed(message: &'a ChatMessage) -> Self {
        Self::Changed {
            message: Cow::Borrowed(message),
        }
    }

    /// A `typing` event, borrowing the name.
    pub fn typing(conversation_id: Uuid, user_id: Uuid, name: &'a str, active: bool) -> Self {
        Self::Typing {
            conversation_id,
            user_id,
            name: Cow::Borrowed(name),
            active,
        }
    }

    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A frame read from JSON text. Decoding never borrows from the text
    /// (no `#[serde(borrow)]`): what a frame borrows when sent, it owns when
    /// read.
    pub fn from_text(text: &str) -> Result<ServerFrame<'static>, serde_json::Error> {
        serde_json::from_str(text)
    }
}
