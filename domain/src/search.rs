//! Message search: the query language people type into the search box and
//! the results' wire types. How words become index tokens (stemming,
//! Chinese and Japanese characters) is the server's (`services::search`).
//!
//! A query is words, `"quoted phrases"` and filters:
//! `from:@user`, `in:#room` (or a group's name, or `in:@user` for the
//! direct conversation), `before:YYYY-MM-DD`, `after:YYYY-MM-DD`,
//! `on:YYYY-MM-DD` (days in UTC) and `has:link`. Anything else is text:
//! a `key:value` with an unknown key, an unbalanced quote (the phrase runs
//! to the end), search-engine operators (`NEAR`, `OR`, `*`, `-`) are
//! searched for as the words they contain.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ConversationKind, UserSummary};

mod query;
#[cfg(test)]
mod tests;

pub use query::{QueryError, SearchQuery, Within, Word};

/// Longest query, in characters (surrounding whitespace ignored).
pub const MAX_QUERY_CHARS: usize = 256;
/// Messages per page of results.
pub const MESSAGES_PER_PAGE: u32 = 20;
/// People and conversations shown beside the first page of messages.
pub const NAMES_PER_PAGE: u32 = 5;
/// Longest paging cursor, in bytes.
pub const MAX_CURSOR_BYTES: usize = 48;

/// How results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SearchSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Best match first (newest first among equals).
    Relevance,
}

impl SearchSort {
    /// The query-string form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Relevance => "relevance",
        }
    }
}

/// A stretch of a snippet; `hit` marks the words the query matched.
/// Shown as text (the UI marks hits with an element), never as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnippetPiece {
    /// The text.
    pub text: String,
    /// Whether the query matched it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

/// A message found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageHit {
    /// Message id.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Direct, group or room.
    pub conversation_kind: ConversationKind,
    /// Room or group name; for a direct conversation, the other person's
    /// display name.
    pub conversation_name: String,
    /// For a direct conversation, the other person (oneself in a
    /// conversation with oneself); the link to the conversation uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<Uuid>,
    /// Whether the searcher is a member (false: a public room they have not
    /// joined, found with `public=true`).
    pub joined: bool,
    /// Its sequence number: open the conversation `around` it.
    pub seq: i64,
    /// Who sent it.
    pub sender_id: Uuid,
    /// The sender's display name.
    pub sender_name: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// Part of its text (formatting removed) around the first match.
    pub snippet: Vec<SnippetPiece>,
}

/// A conversation whose name or topic matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationHit {
    /// Conversation id.
    pub id: Uuid,
    /// Group or room.
    pub kind: ConversationKind,
    /// Its name.
    pub name: String,
    /// Room topic (empty otherwise).
    pub topic: String,
    /// Whether the searcher is a member.
    pub joined: bool,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    /// Messages, in the order asked for.
    pub messages: Vec<MessageHit>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// People whose name or username matches the query's text (first page
    /// only).
    #[serde(default)]
    pub people: Vec<UserSummary>,
    /// Groups the searcher is in and public rooms whose name or topic
    /// matches (first page only).
    #[serde(default)]
    pub conversations: Vec<ConversationHit>,
}

/// A day given in a filter, as the instant it starts (UTC).
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}
