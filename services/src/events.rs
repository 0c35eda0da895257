//! How the server's events travel between processes, and the bus topics.
//! An event is a [`ServerFrame`] (`domain::protocol`, the one definition of
//! the real-time protocol): its JSON is also the WebSocket frame, so an
//! event is serialized once per fan-out, whatever the number of readers.
//!
//! On the bus an event travels in an [`Envelope`]: the message's sequence
//! number, its conversation and the publication time, then the JSON.
//! Connections route and de-duplicate by those without parsing the JSON.

use bytes::{BufMut, Bytes, BytesMut};
use domain::protocol::ServerFrame;
use domain::ChatMessage;
use uuid::Uuid;

/// A [`ServerFrame`] put on the bus.
pub trait Publish {
    /// The frame in its bus envelope ([`Envelope`]).
    fn to_bytes(&self) -> Bytes;
}

impl Publish for ServerFrame<'_> {
    fn to_bytes(&self) -> Bytes {
        let (seq, conversation_id) = match self {
            Self::Message { message } => (message.seq, message.conversation_id),
            // Changes are numbered apart from messages: negative on the
            // envelope (older processes treat them as unordered events).
            Self::Changed { message } => (-message.change, message.conversation_id),
            _ => (0, Uuid::nil()),
        };
        let mut buf = BytesMut::with_capacity(256);
        buf.put_i64(seq);
        buf.put_u64(now_micros());
        buf.put_slice(conversation_id.as_bytes());
        // Serializing plain data with string keys cannot fail.
        let _ = serde_json::to_writer((&mut buf).writer(), self);
        buf.freeze()
    }
}

/// The two ordered streams of a conversation: its messages, numbered by
/// sequence number, and the changes of its messages (edits, deletions),
/// numbered by change number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// `message` events.
    Messages,
    /// `changed` events.
    Changes,
}

impl Stream {
    /// The number of `message` in this stream.
    pub fn number(self, message: &ChatMessage) -> i64 {
        match self {
            Self::Messages => message.seq,
            Self::Changes => message.change,
        }
    }
}

/// An event as it travels on the bus: the sequence number of the message it
/// carries (the change number, negated, of a change; 0 for other events),
/// when it was published, the message's
/// conversation (nil for other events), and the JSON frame. On the wire:
/// 8 bytes of seq and 8 of time (big-endian), 16 of conversation id, then
/// the JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The message's sequence number; minus the change number of a
    /// `changed` event; 0 for other events ([`Envelope::position`]).
    pub seq: i64,
    /// Publication time, in microseconds since the Unix epoch (for the
    /// fan-out latency metric; processes on different hosts may disagree).
    pub published_us: u64,
    /// The conversation of the message; nil when the event is not a message.
    /// A connection takes a position only from a message of the
    /// conversation whose topic it arrived on.
    pub conversation_id: Uuid,
    /// The WebSocket frame, as published.
    pub json: Bytes,
}

/// Bytes before the JSON.
const HEADER_LEN: usize = 32;
/// Bytes before the JSON in the previous format (seq and time only).
/// Every frame is a JSON object, so the format shows where the `{` is: at
/// [`HEADER_LEN`] in a current envelope (whatever the conversation id's
/// first byte, which may itself be `{`), at this offset in an old one
/// (whose JSON, `{"type":"…",…`, never has a `{` at [`HEADER_LEN`]).
const LEGACY_HEADER_LEN: usize = 16;

impl Envelope {
    /// Opens bytes published with [`ServerFrame::to_bytes`]; `None` if they are
    /// not an envelope. Envelopes of the previous format (no conversation
    /// id: the JSON right after the time), still published by older
    /// processes during a rolling upgrade, open with a nil conversation.
    pub fn open(mut bytes: Bytes) -> Option<Self> {
        let current = bytes.get(HEADER_LEN) == Some(&b'{');
        let legacy = !current && bytes.get(LEGACY_HEADER_LEN) == Some(&b'{');
        if !current && !legacy {
            return None;
        }
        let head = bytes.split_to(if legacy {
            LEGACY_HEADER_LEN
        } else {
            HEADER_LEN
        });
        let seq = i64::from_be_bytes(head[..8].try_into().ok()?);
        let published_us = u64::from_be_bytes(head[8..16].try_into().ok()?);
        let conversation_id = if legacy {
            Uuid::nil()
        } else {
            Uuid::from_slice(&head[16..]).ok()?
        };
        Some(Self {
            seq,
            published_us,
            conversation_id,
            json: bytes,
        })
    }

    /// A stored message as a live event's envelope: what a replay or a gap
    /// filled from the store sends, framed as if it had been published now.
    pub fn of_message(message: &ChatMessage) -> Self {
        Self::of(Stream::Messages, message)
    }

    /// A stored message as the event of `stream`: a `message`, or the
    /// `changed` of its latest change.
    pub fn of(stream: Stream, message: &ChatMessage) -> Self {
        let (seq, frame) = match stream {
            Stream::Messages => (message.seq, ServerFrame::message(message)),
            Stream::Changes => (-message.change, ServerFrame::changed(message)),
        };
        Self {
            seq,
            published_us: now_micros(),
            conversation_id: message.conversation_id,
            // Serializing plain data with string keys cannot fail.
            json: Bytes::from(serde_json::to_vec(&frame).unwrap_or_default()),
        }
    }

    /// The ordered stream this event is in and its number there; `None`
    /// for events outside both (typing, receipts, …). Only a forged
    /// envelope says `i64::MIN`: it reads as change `i64::MAX`, which
    /// readers drop.
    pub fn position(&self) -> Option<(Stream, i64)> {
        match self.seq {
            0 => None,
            seq if seq > 0 => Some((Stream::Messages, seq)),
            // `i64::MIN` has no positive counterpart: the furthest number,
            // which no change ever reaches.
            seq => Some((Stream::Changes, seq.checked_neg().unwrap_or(i64::MAX))),
        }
    }

    /// Time since publication (zero if the clocks disagree the other way).
    pub fn age(&self) -> std::time::Duration {
        std::time::Duration::from_micros(now_micros().saturating_sub(self.published_us))
    }
}

/// Microseconds since the Unix epoch.
fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The topic of presence changes. A change is published once, naming the
/// conversations whose members hear of it ([`PresenceBroadcast`]); each
/// process hands it once to each of its connections in any of them. Were
/// it published to each conversation's topic instead, a member of 500 of
/// the user's groups would get 500 copies at once.
pub const PRESENCE_TOPIC: &str = "presence";

/// A presence change and its audience, as published on [`PRESENCE_TOPIC`]:
/// the number of conversations (4 bytes, big-endian), their ids (16 bytes
/// each), then the event's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceBroadcast {
    /// The conversations whose members hear of it.
    pub audience: Vec<Uuid>,
    /// The `presence` event.
    pub envelope: Envelope,
}

impl PresenceBroadcast {
    /// `event` for the members of `audience`, ready to publish.
    pub fn to_bytes(audience: &[Uuid], event: &ServerFrame<'_>) -> Bytes {
        let envelope = event.to_bytes();
        let mut buf = BytesMut::with_capacity(4 + audience.len() * 16 + envelope.len());
        buf.put_u32(u32::try_from(audience.len()).unwrap_or(u32::MAX));
        for id in audience.iter().take(u32::MAX as usize) {
            buf.put_slice(id.as_bytes());
        }
        buf.put_slice(&envelope);
        buf.freeze()
    }

    /// Opens what [`PresenceBroadcast::to_bytes`] made; `None` otherwise.
    pub fn open(mut bytes: Bytes) -> Option<Self> {
        if bytes.len() < 4 {
            return None;
        }
        let count = u32::from_be_bytes(bytes[..4].try_into().ok()?) as usize;
        let ids_end = count.checked_mul(16)?.checked_add(4)?;
        if bytes.len() < ids_end {
            return None;
        }
        let head = bytes.split_to(ids_end);
        let audience = head[4..]
            .chunks_exact(16)
            .filter_map(|id| Uuid::from_slice(id).ok())
            .collect();
        Some(Self {
            audience,
            envelope: Envelope::open(bytes)?,
        })
    }
}

/// The topic of a conversation's events.
pub fn conversation_topic(conversation_id: Uuid) -> String {
    format!("conversation:{conversation_id}")
}

/// The topic of events about one user's memberships (joined, left), their
/// own receipts in rooms and their account (disabled), so all their open
/// connections follow.
pub fn user_topic(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_message_framed_again_equals_its_publication() {
        let message = ChatMessage {
            id: Uuid::now_v7(),
            conversation_id: Uuid::now_v7(),
            seq: 7,
            sender_id: Uuid::now_v7(),
            sender_name: "Ann".into(),
            sender_bot: false,
            label: None,
            client_msg_id: "c".into(),
            body: "<b>hi</b>".into(),
            reply_to: None,
            created_at: chrono::Utc::now(),
            change: 0,
            edited_at: None,
            deleted_at: None,
            reply: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_all: false,
            files: Vec::new(),
        };
        let published = Envelope::open(ServerFrame::message(&message).to_bytes()).unwrap();
        let framed = Envelope::of_message(&message);
        assert_eq!(
            (framed.seq, framed.conversation_id, &framed.json),
            (published.seq, published.conversation_id, &published.json)
        );
    }

    #[test]
    fn a_presence_broadcast_carries_its_audience_and_the_frame() {
        let audience = [Uuid::now_v7(), Uuid::now_v7()];
        let event = ServerFrame::Presence {
            user_id: Uuid::now_v7(),
            online: true,
            last_seen_at: chrono::Utc::now(),
        };
        let opened =
            PresenceBroadcast::open(PresenceBroadcast::to_bytes(&audience, &event)).unwrap();
        assert_eq!(opened.audience, audience);
        assert!(opened.envelope.json.starts_with(br#"{"type":"presence""#));
        assert_eq!(
            PresenceBroadcast::open(Bytes::from_static(b"\0\0\0\x09short")),
            None
        );
    }

    #[test]
    fn an_envelope_carries_the_message_seq_conversation_and_the_frame_unchanged() {
        let conversation_id = Uuid::now_v7();
        let message = ChatMessage {
            id: Uuid::nil(),
            conversation_id,
            seq: 42,
            sender_id: Uuid::nil(),
            sender_name: "Ann".into(),
            sender_bot: false,
            label: None,
            client_msg_id: "c".into(),
            body: "hi".into(),
            reply_to: None,
            created_at: chrono::Utc::now(),
            change: 0,
            edited_at: None,
            deleted_at: None,
            reply: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_all: false,
            files: Vec::new(),
        };
        let opened = Envelope::open(ServerFrame::message(&message).to_bytes()).unwrap();
        assert_eq!(opened.seq, 42);
        assert_eq!(opened.conversation_id, conversation_id);
        let json: serde_json::Value = serde_json::from_slice(&opened.json).unwrap();
        assert_eq!(json["type"], "message");
        assert_eq!(json["message"]["seq"], 42);
        let left = Envelope::open(
            ServerFrame::Left {
                conversation_id: Uuid::nil(),
            }
            .to_bytes(),
        )
        .unwrap();
        assert_eq!(left.seq, 0);
        assert!(left.conversation_id.is_nil());
        assert!(Envelope::open(Bytes::from_static(b"short")).is_none());
        // The previous format (no conversation id) still opens.
        let mut legacy = BytesMut::new();
        legacy.put_i64(7);
        legacy.put_u64(1);
        legacy.put_slice(br#"{"type":"message"}"#);
        let opened = Envelope::open(legacy.freeze()).unwrap();
        assert_eq!((opened.seq, opened.conversation_id), (7, Uuid::nil()));
        assert_eq!(&opened.json[..], br#"{"type":"message"}"#);
        // A conversation id may begin with the byte `{` (a random UUID):
        // still read as the current format.
        let odd = Uuid::from_bytes([b'{'; 16]);
        let message = ChatMessage {
            conversation_id: odd,
            ..message
        };
        let opened = Envelope::open(ServerFrame::message(&message).to_bytes()).unwrap();
        assert_eq!((opened.seq, opened.conversation_id), (42, odd));
        assert_eq!(opened.json[0], b'{');
    }

    #[test]
    fn a_disabled_account_is_read_from_the_user_topic() {
        let user_id = Uuid::now_v7();
        let bytes = ServerFrame::AccountDisabled { user_id }.to_bytes();
        let envelope = Envelope::open(bytes).unwrap();
        let event: ServerFrame<'_> = serde_json::from_slice(&envelope.json).unwrap();
        assert!(matches!(event, ServerFrame::AccountDisabled { user_id: id } if id == user_id));
    }
}
