//! Notifications: what a user wants to hear about, and the one rule that
//! decides whether a message notifies them. The browser applies it to
//! desktop notifications, the server to Web Push and to the email of what
//! was missed, so every device agrees.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chat::ChatMessage;
use crate::conversation::{str_enum, ConversationKind};

/// Which messages of a conversation notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NotifyLevel {
    /// Every message.
    All,
    /// Direct messages and messages that mention the user (the default).
    #[default]
    Mentions,
    /// None.
    Nothing,
}

str_enum!(NotifyLevel { All => "all", Mentions => "mentions", Nothing => "nothing" });

/// A user's notification settings, the same on every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyPrefs {
    /// What notifies in conversations without a setting of their own.
    pub level: NotifyLevel,
    /// Whether notifications show the sender and the text; without
    /// previews they say only "new message" and where.
    pub previews: bool,
    /// Whether missed mentions and direct messages are emailed.
    pub email: bool,
    /// The language of pushed notifications and emails (`en`, `zh-CN`).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(en|zh-CN)$", example = "en"))]
    pub locale: String,
}

impl Default for NotifyPrefs {
    fn default() -> Self {
        Self {
            level: NotifyLevel::default(),
            previews: true,
            email: true,
            locale: DEFAULT_LOCALE.to_owned(),
        }
    }
}

/// A user's settings with what this server and account can do, as the
/// settings page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifySettings {
    /// The settings.
    #[serde(flatten)]
    pub prefs: NotifyPrefs,
    /// The public key devices subscribe to Web Push with (base64url);
    /// `null` when this server has no push.
    pub push_key: Option<String>,
    /// Whether this server sends email.
    pub email_available: bool,
    /// Whether the account has an email address to send to.
    pub has_email: bool,
}

/// The language notifications use until the user saves another.
pub const DEFAULT_LOCALE: &str = "en";
/// The languages notifications are written in.
pub const LOCALES: [&str; 2] = ["en", "zh-CN"];

/// A member's own setting for one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationNotify {
    /// What notifies here; `null`: the user's default.
    #[serde(default)]
    pub level: Option<NotifyLevel>,
    /// Muted until then (no notification, a quiet badge);
    /// `9999-12-31T23:59:59Z` is "until unmuted" (a later time counts as
    /// that). `null`: not muted.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            value_type = Option<String>,
            format = DateTime,
            pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
        )
    )]
    pub muted_until: Option<DateTime<Utc>>,
}

impl ConversationNotify {
    /// Whether this is the default (no level of its own, not muted).
    pub fn is_default(&self) -> bool {
        self.level.is_none() && self.muted_until.is_none()
    }

    /// Whether it is muted at `now`.
    pub fn muted(&self, now: DateTime<Utc>) -> bool {
        self.muted_until.is_some_and(|until| until > now)
    }

    /// The level that applies, given the user's default.
    pub fn level_or(&self, default: NotifyLevel) -> NotifyLevel {
        self.level.unwrap_or(default)
    }

    /// Whether `message`, in a conversation of `kind`, notifies `me` at
    /// `now` (see [`notifies`]).
    pub fn notifies(
        &self,
        default: NotifyLevel,
        kind: ConversationKind,
        message: &ChatMessage,
        me: Uuid,
        now: DateTime<Utc>,
    ) -> bool {
        !self.muted(now)
            && notifies(
                self.level_or(default),
                kind,
                Mention::of(message, me),
                message.sender_id == me || message.deleted_at.is_some(),
            )
    }
}

/// "Muted until unmuted": the latest time the API takes.
pub fn mute_forever() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a message mentions its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mention {
    /// By name, or everyone.
    Yes,
    /// Not at all.
    No,
}

impl Mention {
    /// Whether `message` mentions `reader`.
    pub fn of(message: &ChatMessage, reader: Uuid) -> Self {
        if message.mentions_all || message.mentions.contains(&reader) {
            Self::Yes
        } else {
            Self::No
        }
    }
}

/// The rule: whether a message notifies its reader at `level`, in a
/// conversation of `kind`. Nothing notifies its own sender, and nothing
/// deleted notifies (`own_or_gone`); muting is checked by the caller
/// ([`ConversationNotify::notifies`]).
pub fn notifies(
    level: NotifyLevel,
    kind: ConversationKind,
    mention: Mention,
    own_or_gone: bool,
) -> bool {
    if own_or_gone {
        return false;
    }
    match level {
        NotifyLevel::All => true,
        NotifyLevel::Nothing => false,
        NotifyLevel::Mentions => kind == ConversationKind::Direct || mention == Mention::Yes,
    }
}

/// Longest first line a notification shows, in characters.
pub const PREVIEW_CHARS: usize = 140;

/// What a notification of `message` in a conversation of `kind` named
/// `name` says: a title and a line. With previews the title is the person
/// (direct) or the conversation, the line the sender and the first line of
/// the text (or the first file's name); without, `hidden` ("new message")
/// under the product's name.
pub fn notice(
    kind: ConversationKind,
    name: &str,
    message: &ChatMessage,
    previews: bool,
    hidden: &str,
) -> (String, String) {
    if !previews {
        return ("ChatSphere".to_owned(), hidden.to_owned());
    }
    let text = match message.files.first() {
        _ if !message.body.trim().is_empty() => first_line(&message.body, PREVIEW_CHARS),
        Some(file) => format!("📎 {}", file.name),
        None => String::new(),
    };
    match kind {
        ConversationKind::Direct => (message.sender_name.clone(), text),
        ConversationKind::Room => (
            format!("#{name}"),
            format!("{}: {text}", message.sender_name),
        ),
        ConversationKind::Group => (name.to_owned(), format!("{}: {text}", message.sender_name)),
    }
}

/// Whether a message that notifies its reader is also one for the email of
/// what was missed: only direct messages and mentions are, whatever the
/// level (a busy room at "all" must not flood a mailbox).
pub fn emailed(kind: ConversationKind, mention: Mention) -> bool {
    kind == ConversationKind::Direct || mention == Mention::Yes
}

/// A device's Web Push subscription, as the browser's
/// `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    /// The push service's URL for this device (`https:`).
    #[cfg_attr(feature = "openapi", schema(max_length = 2048))]
    pub endpoint: String,
    /// The device's keys.
    pub keys: PushKeys,
}

/// The keys of a push subscription (RFC 8291), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    /// The device's P-256 public key (65 bytes, uncompressed).
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub p256dh: String,
    /// The shared authentication secret (16 bytes).
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub auth: String,
}

/// Longest push endpoint accepted, in bytes.
pub const MAX_PUSH_ENDPOINT: usize = 2048;

/// What a push message carries to the service worker (JSON, encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PushPayload {
    /// A message to show.
    Message {
        /// Its conversation (the notification's tag: one per conversation).
        conversation_id: Uuid,
        /// Its position.
        seq: i64,
        /// The notification's title: the conversation, and the sender
        /// when previews are on.
        title: String,
        /// The first line, or "new message" without previews.
        body: String,
        /// Where a click goes (a path on this site).
        url: String,
    },
    /// The user read the conversation up to `seq` on some device: close
    /// its notification.
    Read {
        /// The conversation.
        conversation_id: Uuid,
        /// Read up to here.
        seq: i64,
    },
}

/// The first line of a text, at most `max` characters (an ellipsis marks a cut).
pub fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut out: String = line.chars().take(max).collect();
    if line.chars().nth(max).is_some() || text.trim().lines().count() > 1 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
