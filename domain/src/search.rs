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

/// Longest query, in characters.
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

/// A search as the REST API and the results page take it: the query
/// typed, and the controls beside the box.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchParams {
    /// What was typed, filters included.
    #[serde(default)]
    pub q: String,
    /// Only this conversation (as `in:` does by name).
    #[serde(default)]
    pub conversation: Option<Uuid>,
    /// Only from this username (as `from:`).
    #[serde(default)]
    pub from: Option<String>,
    /// Only after this day (as `after:`).
    #[serde(default)]
    pub after: Option<NaiveDate>,
    /// Only before this day (as `before:`).
    #[serde(default)]
    pub before: Option<NaiveDate>,
    /// Only messages with a link (as `has:link`).
    #[serde(default)]
    pub has_link: bool,
    /// Also public rooms the searcher has not joined.
    #[serde(default)]
    pub public: bool,
    /// Order.
    #[serde(default)]
    pub sort: SearchSort,
    /// The previous page's `next`.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl SearchParams {
    /// The query typed with the controls' filters merged in (a control
    /// narrows what the text says; it never widens it).
    pub fn query(&self) -> Result<SearchQuery, QueryError> {
        let mut query = match SearchQuery::parse(&self.q) {
            Err(QueryError::Empty) => SearchQuery::default(),
            other => other?,
        };
        if let Some(from) = self
            .from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            query.from = Some(from.trim_start_matches('@').to_owned());
        }
        if let Some(after) = self.after {
            let next = after
                .succ_opt()
                .filter(|d| query::in_range(*d))
                .ok_or(QueryError::BadDate("after"))?;
            query.since_day(next);
        }
        if let Some(before) = self.before {
            if !query::in_range(before) {
                return Err(QueryError::BadDate("before"));
            }
            query.until_day(before);
        }
        query.has_link |= self.has_link;
        if query.is_empty() && self.conversation.is_none() {
            return Err(QueryError::Empty);
        }
        Ok(query)
    }

    /// Reads the parameters of a results page's address (or a plain HTML
    /// form): empty fields are absent, a checkbox is on when present.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params = Self::default();
        for (key, value) in pairs {
            let value = value.trim();
            let some = || (!value.is_empty()).then(|| value.to_owned());
            match key {
                "q" => params.q = value.to_owned(),
                "conversation" => params.conversation = value.parse().ok(),
                "from" => params.from = some(),
                "after" => params.after = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
                "before" => params.before = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
                "has_link" => params.has_link = !matches!(value, "" | "false" | "0"),
                "public" => params.public = !matches!(value, "" | "false" | "0"),
                "sort" if value == "relevance" => params.sort = SearchSort::Relevance,
                "cursor" => params.cursor = some(),
                _ => {}
            }
        }
        params
    }
}

/// A day given in a filter, as the instant it starts (UTC).
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}
