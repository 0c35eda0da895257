//! The audit log as clients see it: what happened to accounts and sessions
//! (sign-ins, password changes, role changes, connections) and to public
//! rooms (created, changed, deleted by admins), for the admin view and the
//! REST API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most events one page of the audit log returns.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// What an audit event records. Stored (and serialized) as the snake_case
/// string of [`AuditKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditKind {
    /// Signed in (password, registration or identity provider).
    #[serde(rename = "sign_in")]
    SignIn,
    /// A sign-in was refused (wrong credentials, disabled account).
    #[serde(rename = "sign_in_failed")]
    SignInFailed,
    /// Signed out of one session.
    #[serde(rename = "sign_out")]
    SignOut,
    /// Changed their password (their other sessions ended).
    #[serde(rename = "password_changed")]
    PasswordChanged,
    /// Ended one or more of their sessions from the session list.
    #[serde(rename = "session_revoked")]
    SessionRevoked,
    /// An external identity (Google, GitHub, OIDC) was linked to the account.
    #[serde(rename = "oauth_linked")]
    OAuthLinked,
    /// Was made an admin, or stopped being one.
    #[serde(rename = "role_changed")]
    RoleChanged,
    /// The account was disabled: no sign-in, every session ended.
    #[serde(rename = "user_disabled")]
    UserDisabled,
    /// The account was enabled again.
    #[serde(rename = "user_enabled")]
    UserEnabled,
    /// Opened a real-time (WebSocket) connection.
    #[serde(rename = "connected")]
    Connected,
    /// Closed a real-time connection.
    #[serde(rename = "disconnected")]
    Disconnected,
    /// An admin created a public room (`detail`: its id and name).
    #[serde(rename = "room_created")]
    RoomCreated,
    /// An admin changed a public room's topic.
    #[serde(rename = "room_changed")]
    RoomChanged,
    /// An admin deleted a public room with its messages.
    #[serde(rename = "room_deleted")]
    RoomDeleted,
    /// A message was edited by its sender (`detail`: conversation and
    /// message ids; the replaced text is kept apart, never in the log).
    #[serde(rename = "message_edited")]
    MessageEdited,
    /// A message was deleted (its text erased) by its sender, a manager of
    /// its conversation or an admin (`detail`: conversation, message and
    /// sender ids).
    #[serde(rename = "message_deleted")]
    MessageDeleted,
    /// A personal access token was created (`detail`: its id, name, scopes, and for a bot's, the bot).
    #[serde(rename = "token_created")]
    TokenCreated,
    /// A personal access token was revoked (`detail`: its id).
    #[serde(rename = "token_revoked")]
    TokenRevoked,
    /// A bot account was created (`detail`: its id and username).
    #[serde(rename = "bot_created")]
    BotCreated,
    /// An incoming webhook was created (`detail`: its id and conversation).
    #[serde(rename = "webhook_created")]
    WebhookCreated,
    /// An incoming webhook's address was changed.
    #[serde(rename = "webhook_rotated")]
    WebhookRotated,
    /// An incoming webhook was deleted.
    #[serde(rename = "webhook_deleted")]
    WebhookDeleted,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [AuditKind; 22] = [
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::PasswordChanged,
        Self::SessionRevoked,
        Self::OAuthLinked,
        Self::RoleChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::Connected,
        Self::Disconnected,
        Self::RoomCreated,
        Self::RoomChanged,
        Self::RoomDeleted,
        Self::MessageEdited,
        Self::MessageDeleted,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::BotCreated,
        Self::WebhookCreated,
        Self::WebhookRotated,
        Self::WebhookDeleted,
    ];

    /// The stored (and serialized) form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::PasswordChanged => "password_changed",
            Self::SessionRevoked => "session_revoked",
            Self::OAuthLinked => "oauth_linked",
            Self::RoleChanged => "role_changed",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
            Self::RoomCreated => "room_created",
            Self::RoomChanged => "room_changed",
            Self::RoomDeleted => "room_deleted",
            Self::MessageEdited => "message_edited",
            Self::MessageDeleted => "message_deleted",
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::BotCreated => "bot_created",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookRotated => "webhook_rotated",
            Self::WebhookDeleted => "webhook_deleted",
        }
    }

    /// Parses the stored form; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One recorded event, newest first in listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Event id (uuid v7).
    pub id: Uuid,
    /// When it happened (microsecond precision).
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub kind: AuditKind,
    /// The account it is about, if known (a failed sign-in may name none).
    pub user_id: Option<Uuid>,
    /// That account's username now (absent once the account is gone).
    pub username: Option<String>,
    /// Who did it when it was someone else (an admin), else absent.
    pub actor_id: Option<Uuid>,
    /// The actor's username now.
    pub actor_username: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The client's `User-Agent`, shortened.
    pub user_agent: Option<String>,
    /// More about it: a small JSON object (`{"login":"…"}`, `{"is_admin":true}`).
    pub detail: Option<String>,
}

impl AuditEvent {
    /// The cursor that continues a listing after this event.
    pub fn cursor(&self) -> AuditCursor {
        AuditCursor {
            occurred_at: self.occurred_at,
            id: self.id,
        }
    }
}

/// A position in the audit log (newest first): a page asked for
/// `before` a cursor holds the events strictly older than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditCursor {
    /// The last listed event's time.
    pub occurred_at: DateTime<Utc>,
    /// The last listed event's id (orders events of the same instant).
    pub id: Uuid,
}

impl AuditCursor {
    /// The cursor as one URL-safe token: `<unix microseconds>_<id>`.
    pub fn to_token(&self) -> String {
        format!(
            "{}_{}",
            self.occurred_at.timestamp_micros(),
            self.id.simple()
        )
    }

    /// Most digits of a token's time: any instant up to the year 33,000
    /// (chrono's range ends near the year 262,000, so every such time fits).
    const MAX_DIGITS: usize = 18;

    /// Reads a token made by [`AuditCursor::to_token`]: the time's digits,
    /// `_`, the id's 32 hex digits, nothing else; `None` otherwise.
    pub fn parse(token: &str) -> Option<Self> {
        let (micros, id) = token.split_once('_')?;
        let time_ok = (1..=Self::MAX_DIGITS).contains(&micros.len())
            && micros.bytes().all(|b| b.is_ascii_digit());
        let id_ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if !(time_ok && id_ok) {
            return None;
        }
        Some(Self {
            occurred_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }

    /// What [`AuditCursor::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        format!("^[0-9]{{1,{}}}_[0-9A-Fa-f]{{32}}$", Self::MAX_DIGITS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_matches_serde() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(AuditKind::OAuthLinked.as_str(), "oauth_linked");
        assert_eq!(AuditKind::parse("SignIn"), None);
        assert_eq!(AuditKind::parse(""), None);
    }

    #[test]
    fn cursor_tokens_round_trip_and_refuse_garbage() {
        let cursor = AuditCursor {
            occurred_at: DateTime::from_timestamp_micros(1_750_000_000_123_456).unwrap(),
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042),
        };
        let token = cursor.to_token();
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_eq!(AuditCursor::parse(&token), Some(cursor));
        for bad in [
            "",
            "_",
            "123",
            "abc_0190",
            "1_not-a-uuid",
            "x_01900000000070008000000000000042",
        ] {
            assert_eq!(AuditCursor::parse(bad), None, "{bad}");
        }
        let far = format!("{}_{}", "9".repeat(18), cursor.id.simple());
        assert!(
            AuditCursor::parse(&far).is_some(),
            "every 18-digit time fits"
        );
    }

    #[test]
    fn the_cursor_pattern_accepts_exactly_what_parse_accepts() {
        let id = "0190000000007000800000000000004f";
        let mut tokens: Vec<String> = ["", "_", "1_", "+1_", "-1_", " 1_", "01_", "1__", "1_-"]
            .iter()
            .map(|p| format!("{p}{id}"))
            .collect();
        tokens.extend([
            format!("{}_{id}", "1".repeat(18)),
            format!("{}_{id}", "1".repeat(19)),
            format!("1_{}", id.to_uppercase()),
            format!("1_{}", &id[1..]),
            format!("1_{id}0"),
            format!("1_{{{id}}}"),
            "1_01900000-0000-7000-8000-000000000042".to_owned(),
            format!("1_{id} "),
        ]);
        let regex = regex::Regex::new(&AuditCursor::pattern()).unwrap();
        for token in &tokens {
            assert_eq!(
                regex.is_match(token),
                AuditCursor::parse(token).is_some(),
                "{token:?}"
            );
        }
    }
}
