//! Outgoing webhooks: what a conversation's new messages send to a URL its
//! managers chose (optionally only those starting with a trigger word),
//! how the request is signed, and the delivery log they read. The server
//! sends (`services::integrations::outgoing`); the wire types and limits
//! live here, once.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::conversation::str_enum;
use crate::messages::{BAD_HOOK_URL, BAD_TRIGGER_WORD};
use crate::patterns;

/// The header carrying the Unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-ChatSphere-Timestamp";
/// The header carrying `v1=` and the hex HMAC-SHA256, keyed with the
/// hook's signing secret, of `"{timestamp}.{body}"`.
pub const SIGNATURE_HEADER: &str = "X-ChatSphere-Signature";
/// The header carrying the delivery's id (the same on every attempt): a
/// receiver that saw it already can ignore a retry.
pub const DELIVERY_HEADER: &str = "X-ChatSphere-Delivery";
/// How old a signed timestamp a receiver should accept, in seconds:
/// anything older is a replay.
pub const REPLAY_WINDOW_SECS: i64 = 300;
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 5;
/// Requests one hook's receiver gets at once, at most: a slow receiver
/// holds this many of the server's senders, not all of them.
pub const MAX_CONCURRENT_PER_HOOK: u32 = 4;
/// The most of a receiver's answer that is read (a reply is at most a
/// message).
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Deliveries listed in a hook's log.
pub const DELIVERY_LOG: u32 = 100;

/// Where an outgoing webhook posts: `https://` (or `http://`, which the
/// server accepts only for networks its operator allowed), at most
/// [`HookUrl::MAX`] characters, no whitespace. Whether the address is
/// public is checked by the server, when created and on every request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HookUrl(String);

impl HookUrl {
    /// Longest accepted URL, in characters.
    pub const MAX: usize = 2048;

    /// Validates a URL (surrounding whitespace is ignored); the error is
    /// [`BAD_HOOK_URL`].
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let url = raw.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let ok = rest.is_some_and(|rest| !rest.is_empty())
            && url.chars().count() <= Self::MAX
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then(|| Self(url.to_owned())).ok_or(BAD_HOOK_URL)
    }

    /// What [`HookUrl::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        let visible = patterns::none_of(&[&patterns::WHITESPACE, &patterns::CONTROL]);
        let rest = |scheme: &str| format!("{scheme}{visible}{{1,{}}}", Self::MAX - scheme.len());
        patterns::trimmed(&format!("{}|{}", rest("http://"), rest("https://")))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A word a message must start with to be sent: 1–[`TriggerWord::MAX`]
/// characters, no whitespace or control characters (`!deploy`, `告警`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TriggerWord(String);

impl TriggerWord {
    /// Longest accepted word, in characters.
    pub const MAX: usize = 32;

    /// Validates a word (surrounding whitespace is ignored); the error is
    /// [`BAD_TRIGGER_WORD`].
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let word = raw.trim();
        let len = word.chars().count();
        let ok = (1..=Self::MAX).contains(&len)
            && !word.chars().any(|c| c.is_whitespace() || c.is_control());
        ok.then(|| Self(word.to_owned())).ok_or(BAD_TRIGGER_WORD)
    }

    /// What [`TriggerWord::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        let visible = patterns::none_of(&[&patterns::WHITESPACE, &patterns::CONTROL]);
        patterns::trimmed(&format!("{visible}{{1,{}}}", Self::MAX))
    }

    /// The word.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! checked_string {
    ($($ty:ident),+) => {$(
        impl TryFrom<String> for $ty {
            type Error = &'static str;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

checked_string!(HookUrl, TriggerWord);

/// Whether a message `body` is sent by a hook with `trigger`: every
/// message without one; with one, a message whose first word it is (the
/// word alone, or followed by whitespace).
pub fn triggers(body: &str, trigger: Option<&str>) -> bool {
    let Some(word) = trigger else {
        return true;
    };
    body.trim_start()
        .strip_prefix(word)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// What an outgoing webhook posts: JSON, with the field names Mattermost's
/// outgoing webhooks use (so receivers written for it work), and ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutgoingPayload {
    /// The webhook sending it.
    pub hook_id: Uuid,
    /// The conversation.
    pub channel_id: Uuid,
    /// The conversation's name (a group's or room's).
    pub channel_name: String,
    /// The message's id.
    pub post_id: Uuid,
    /// Its place in the conversation.
    pub seq: i64,
    /// Its sender.
    pub user_id: Uuid,
    /// Its sender's display name.
    pub user_name: String,
    /// Its text (Markdown, as written).
    pub text: String,
    /// The hook's trigger word, if it has one.
    pub trigger_word: Option<String>,
    /// When the message was sent, in milliseconds since 1970.
    pub timestamp: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: the receiver refused it, it could not be reached
    /// [`MAX_ATTEMPTS`] times, or the address is not allowed.
    Failed,
}

str_enum!(DeliveryStatus { Pending => "pending", Delivered => "delivered", Failed => "failed" });

/// One message sent (or being sent) by an outgoing webhook: its log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HookDelivery {
    /// Its id (the `X-ChatSphere-Delivery` header).
    pub id: Uuid,
    /// The message sent.
    pub message_id: Uuid,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far (at most [`MAX_ATTEMPTS`]).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 5))]
    pub attempts: u32,
    /// The HTTP status of the last answer, if one came.
    #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 599))]
    pub response_status: Option<u16>,
    /// What went wrong last (or what became of a reply), if anything.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_at: Option<DateTime<Utc>>,
    /// When it was delivered or given up.
    pub done_at: Option<DateTime<Utc>>,
}

/// How long to wait after failed attempt number `attempts` (1-based):
/// `base`, then four times longer each time.
pub fn backoff(base: std::time::Duration, attempts: u32) -> std::time::Duration {
    base.saturating_mul(4u32.saturating_pow(attempts.saturating_sub(1)))
}
