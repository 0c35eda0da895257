//! The frames of `/ws` (documented with examples in `docs/protocol.md`).
//! Server events from the bus (`message`, `joined`, `left`, `receipt`,
//! `typing`, `presence`) are forwarded as the bytes they were published as;
//! the frames here are the rest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a client sends.
#[derive(Debug, Deserialize)]
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
        #[serde(default)]
        reply_to: Option<Uuid>,
    },
    /// The spec's example frame: a message to a room by name.
    Chat {
        /// The text.
        content: String,
        /// The room's name (or id).
        room_id: String,
        /// Optional idempotency key (one is made up when absent).
        #[serde(default)]
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
    /// moment): conversation id → sequence number, for each kind.
    Receipts {
        /// Received up to, per conversation.
        #[serde(default)]
        delivered: HashMap<Uuid, i64>,
        /// Seen up to, per conversation.
        #[serde(default)]
        read: HashMap<Uuid, i64>,
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
        positions: HashMap<Uuid, i64>,
    },
}

/// Why a send was refused.
#[derive(Debug, Serialize)]
pub struct AckError {
    /// The HTTP status the same refusal has in the REST API.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
}

/// What the server sends besides forwarded events.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
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
        client_msg_id: &'a str,
        /// The stored message's id, when accepted.
        #[serde(skip_serializing_if = "Option::is_none")]
        message_id: Option<Uuid>,
        /// Its conversation, when accepted.
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<Uuid>,
        /// Its sequence number, when accepted.
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
        /// Whether this was a resend of a message already stored.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
        /// Why it was refused.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<AckError>,
    },
    /// Answer to `ping`.
    Pong,
    /// The replay asked for by `resume` is complete: live events follow.
    Resumed {
        /// Messages replayed.
        replayed: usize,
        /// Conversations with more missed messages than one replay sends
        /// (the client re-reads them through the REST API).
        truncated: Vec<Uuid>,
    },
    /// A frame that could not be understood.
    Error {
        /// What was wrong with it.
        detail: String,
    },
}

impl ServerFrame<'_> {
    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A `typing` frame without `active` says the user is typing.
fn typing_active() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example_frame_is_a_chat_frame() {
        let frame: ClientFrame = serde_json::from_str(
            r#"{"type":"chat","content":"Hello everyone!","room_id":"general"}"#,
        )
        .unwrap();
        assert!(matches!(frame, ClientFrame::Chat { ref room_id, .. } if room_id == "general"));
    }

    #[test]
    fn a_resume_frame_lists_positions_per_conversation() {
        let id = Uuid::now_v7();
        let frame: ClientFrame =
            serde_json::from_str(&format!(r#"{{"type":"resume","positions":{{"{id}":41}}}}"#))
                .unwrap();
        assert!(matches!(frame, ClientFrame::Resume { ref positions } if positions[&id] == 41));
    }

    #[test]
    fn acks_carry_either_the_message_or_the_error() {
        let ok = ServerFrame::Ack {
            client_msg_id: "c1",
            message_id: Some(Uuid::nil()),
            conversation_id: Some(Uuid::nil()),
            seq: Some(3),
            duplicate: false,
            error: None,
        };
        let json: serde_json::Value = serde_json::from_str(&ok.to_text()).unwrap();
        assert_eq!(json["type"], "ack");
        assert_eq!(json["seq"], 3);
        assert!(json.get("error").is_none() && json.get("duplicate").is_none());
        let refused = ServerFrame::Ack {
            client_msg_id: "c2",
            message_id: None,
            conversation_id: None,
            seq: None,
            duplicate: false,
            error: Some(AckError {
                status: 403,
                detail: "join the room to post in it".into(),
            }),
        };
        let json: serde_json::Value = serde_json::from_str(&refused.to_text()).unwrap();
        assert_eq!(json["error"]["status"], 403);
        assert!(json.get("seq").is_none());
    }
}
