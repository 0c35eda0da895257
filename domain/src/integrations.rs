//! Integrations: personal access tokens and their scopes, bot accounts,
//! and incoming webhooks (Slack's format, flattened to Markdown in
//! [`slack`]). The wire types and limits of all of them live here, once.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::conversation::str_enum;
use crate::names::{string_newtype_impls, NameError, Rule};
use crate::patterns;
use crate::{DisplayName, Username};

pub mod outgoing;
pub mod slack;
#[cfg(test)]
mod tests;

/// What every personal access token begins with, so a leaked one is
/// recognised (by secret scanners too) and never taken for a session's
/// access token.
pub const TOKEN_PREFIX: &str = "csp_";
/// Longest a token may be kept, in days.
pub const MAX_TOKEN_DAYS: u16 = 366;
/// Most live tokens one account may have.
pub const MAX_TOKENS_PER_USER: u32 = 50;
/// Most incoming webhooks one conversation may have.
pub const MAX_HOOKS_PER_CONVERSATION: u32 = 20;
/// Longest a secret in a webhook's address may be (it is 43 characters).
pub const MAX_HOOK_SECRET: usize = 64;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read: every `GET`, and receiving on the socket.
    Read,
    /// Post: every other request (sending, editing, reacting, joining…)
    /// and sending on the socket.
    Post,
    /// Admin: the `/api/v1/admin` routes, for an admin's token only.
    Admin,
}

str_enum!(TokenScope { Read => "read", Post => "post", Admin => "admin" });

impl TokenScope {
    const fn bit(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::Post => 2,
            Self::Admin => 4,
        }
    }
}

/// A set of scopes; what a request may do on the strength of its
/// credentials. A signed-in session may do everything its user may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Everything: a signed-in session.
    pub const ALL: Self = Self(7);

    /// The set of `scopes`.
    pub fn of(scopes: &[TokenScope]) -> Self {
        Self(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether the set holds `scope`.
    pub const fn allows(self, scope: TokenScope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in the set, in the order read, post, admin.
    pub fn list(self) -> Vec<TokenScope> {
        [TokenScope::Read, TokenScope::Post, TokenScope::Admin]
            .into_iter()
            .filter(|s| self.allows(*s))
            .collect()
    }

    /// The stored form: `read,post`.
    pub fn to_stored(self) -> String {
        self.list()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form; `None` for an unknown scope.
    pub fn from_stored(text: &str) -> Option<Self> {
        text.split(',')
            .filter(|s| !s.is_empty())
            .map(TokenScope::from_stored)
            .collect::<Option<Vec<_>>>()
            .map(|list| Self::of(&list))
    }
}

/// The name of a token or a webhook, for people: 1–64 characters of any
/// script, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationName(String);

impl IntegrationName {
    /// Longest accepted name, in characters.
    pub const MAX: usize = 64;

    /// Validates a name (surrounding whitespace is ignored).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let reject = |rule| NameError {
            field: "name",
            rule,
        };
        let len = name.chars().count();
        if len == 0 || len > Self::MAX {
            return Err(reject(Rule::Length {
                min: 1,
                max: Self::MAX,
            }));
        }
        if name.chars().any(char::is_control) {
            return Err(reject(Rule::NoControlChars));
        }
        Ok(Self(name.to_owned()))
    }

    /// What [`IntegrationName::parse`] accepts, as a regular expression.
    pub fn pattern() -> String {
        patterns::trimmed(&patterns::line(1, Self::MAX))
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(IntegrationName);

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAccessToken {
    /// What it is for ("CI alerts").
    #[cfg_attr(feature = "openapi", schema(value_type = IntegrationName))]
    pub name: IntegrationName,
    /// What it may do: one to three scopes (one named twice counts once);
    /// `admin` only for an admin's own token.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 3))]
    #[serde(deserialize_with = "distinct_scopes")]
    pub scopes: Vec<TokenScope>,
    /// Days until it stops working, 1–366.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 366))]
    #[serde(deserialize_with = "whole_days")]
    pub expires_in_days: u16,
    /// Whose token: a bot the caller owns (admins: any bot); absent for
    /// the caller's own.
    #[serde(default)]
    pub user_id: Option<Uuid>,
}

/// Reads one to three scopes (the schema's `maxItems`), each kept once.
fn distinct_scopes<'de, D>(deserializer: D) -> Result<Vec<TokenScope>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let scopes = Vec::<TokenScope>::deserialize(deserializer)?;
    if scopes.len() > 3 {
        return Err(D::Error::custom("scopes: at most 3"));
    }
    Ok(Scopes::of(&scopes).list())
}

/// Reads a number of days as JSON Schema counts integers (`30` and `30.0`
/// are the same), 1–[`MAX_TOKEN_DAYS`].
fn whole_days<'de, D>(deserializer: D) -> Result<u16, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u16::MAX))
            .map(|f| f as u64)
    });
    match whole.and_then(|n| u16::try_from(n).ok()) {
        Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Ok(days),
        _ => Err(D::Error::custom(format_args!(
            "expires_in_days: {number}: expected a whole number from 1 to {MAX_TOKEN_DAYS}"
        ))),
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessTokenInfo {
    /// Its id.
    pub id: Uuid,
    /// The account it acts as.
    pub user_id: Uuid,
    /// That account's username.
    pub username: String,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last used (to within a minute); absent if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; absent while it works.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// The secret, for `Authorization: Bearer`; it begins with `csp_`.
    pub token: String,
    /// The token.
    pub info: AccessTokenInfo,
}

/// A bot account to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBot {
    /// Its username.
    #[cfg_attr(feature = "openapi", schema(value_type = Username))]
    pub username: Username,
    /// The name shown with its messages.
    #[cfg_attr(feature = "openapi", schema(value_type = DisplayName))]
    pub display_name: DisplayName,
}

/// A bot account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotSummary {
    /// Its user id (for tokens, adding to groups).
    pub id: Uuid,
    /// Its username.
    pub username: String,
    /// Its display name.
    pub display_name: String,
    /// Who created it (and may give it tokens).
    pub owner_id: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Whether an admin disabled it.
    pub disabled: bool,
}

/// A webhook to create: incoming without `url`, outgoing with one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Its name, shown as the sender of what it posts.
    #[cfg_attr(feature = "openapi", schema(value_type = IntegrationName))]
    pub name: IntegrationName,
    /// Outgoing: where each new message of the conversation is posted
    /// (public `https://` unless the operator allowed other networks).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<outgoing::HookUrl>))]
    pub url: Option<outgoing::HookUrl>,
    /// Outgoing: only messages starting with this word are posted.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<outgoing::TriggerWord>))]
    pub trigger_word: Option<outgoing::TriggerWord>,
}

/// A webhook as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    /// Its id.
    pub id: Uuid,
    /// The conversation it posts into.
    pub conversation_id: Uuid,
    /// Its name.
    pub name: String,
    /// The bot account its messages come from.
    pub bot_id: Uuid,
    /// Who created it: it stops working if they leave.
    pub creator_id: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When its address (incoming) or signing secret (outgoing) last
    /// changed; absent if never.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Outgoing: where it posts new messages; absent for an incoming one.
    pub url: Option<String>,
    /// Outgoing: the word a message must start with to be posted.
    pub trigger_word: Option<String>,
}

/// A webhook just created or rotated: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    /// Incoming: the address to post to, on this server
    /// (`/hooks/{id}/{secret}`: the secret is part of it).
    pub path: Option<String>,
    /// Outgoing: the key of the HMAC-SHA256 in `X-ChatSphere-Signature`.
    pub signing_secret: Option<String>,
    /// The webhook.
    pub hook: WebhookInfo,
}

/// The path of an incoming webhook's address.
pub fn hook_path(id: Uuid, secret: &str) -> String {
    format!("/hooks/{id}/{secret}")
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
