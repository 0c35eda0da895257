//! What the server pushes to clients in real time, and the bus topics it
//! travels on. The JSON of an [`Event`] is also the WebSocket frame, so a
//! message is serialized once per fan-out, whatever the number of readers.

use bytes::Bytes;
use domain::ChatMessage;
use serde::Serialize;
use uuid::Uuid;

/// An event for the members of one conversation.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A new message.
    Message {
        /// The message.
        message: &'a ChatMessage,
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
}

/// A membership change as a connection reads it from the user topic.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventHeader {
    /// See [`Event::Joined`].
    Joined {
        /// The conversation.
        conversation_id: Uuid,
    },
    /// See [`Event::Left`].
    Left {
        /// The conversation.
        conversation_id: Uuid,
    },
}

impl Event<'_> {
    /// The serialized event, ready for the bus and the socket.
    pub fn to_bytes(&self) -> Bytes {
        // Serializing plain data with string keys cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// The topic of a conversation's events.
pub fn conversation_topic(conversation_id: Uuid) -> String {
    format!("conversation:{conversation_id}")
}

/// The topic of events about one user's memberships (joined, left), so
/// their open connections follow them.
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}
