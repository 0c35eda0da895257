//! [`SearchStore`]: the message search index and queries against it.
//!
//! Each backend indexes what [`crate::search::tokens::Document`] makes of a
//! message (SQLite: an FTS5 table; PostgreSQL: a `tsvector` column with a
//! GIN index), written in the same transaction as the message, its edit or
//! its deletion. Who may read what is part of every query: a page is never
//! short because rows were dropped after the fact.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::search::{ConversationHit, SearchSort};
use domain::ConversationKind;
use uuid::Uuid;

use super::StoreError;
use crate::search::terms::Terms;

/// Where a page of results ends, to go on from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// SQLite, newest first: index documents below this one.
    Doc(i64),
    /// PostgreSQL, newest first: messages with a smaller id.
    Message(Uuid),
    /// By relevance: skip this many.
    Offset(u32),
}

/// A message search, every filter resolved to ids.
#[derive(Debug, Clone)]
pub struct MessageSearch<'a> {
    /// Who searches: only what they may read is found.
    pub user_id: Uuid,
    /// What the messages must contain (empty: filters only).
    pub terms: &'a Terms,
    /// Also public rooms the user has not joined.
    pub public: bool,
    /// Sent by this user.
    pub sender: Option<Uuid>,
    /// In this conversation.
    pub conversation: Option<Uuid>,
    /// Sent at or after.
    pub since: Option<DateTime<Utc>>,
    /// Sent before.
    pub until: Option<DateTime<Utc>>,
    /// Only messages with a link.
    pub has_link: bool,
    /// Order.
    pub sort: SearchSort,
    /// Continue after this.
    pub cursor: Option<SearchCursor>,
    /// Page size.
    pub limit: u32,
}

/// A message found, as stored.
#[derive(Debug, Clone)]
pub struct FoundMessage {
    /// Message id.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// Room or group name; the other member's display name for a direct
    /// conversation.
    pub conversation_name: String,
    /// The other member of a direct conversation.
    pub peer_id: Option<Uuid>,
    /// Whether the searcher is a member.
    pub joined: bool,
    /// Sequence number.
    pub seq: i64,
    /// Sender.
    pub sender_id: Uuid,
    /// Sender's display name.
    pub sender_name: String,
    /// The text.
    pub body: String,
    /// When sent.
    pub created_at: DateTime<Utc>,
    /// When last edited.
    pub edited_at: Option<DateTime<Utc>>,
}

/// A page of messages found.
#[derive(Debug, Clone, Default)]
pub struct FoundPage {
    /// In the order asked for.
    pub messages: Vec<FoundMessage>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<SearchCursor>,
}

/// How far building the index of older messages has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexProgress {
    /// Messages indexed by this call.
    pub indexed: u64,
    /// Messages still waiting.
    pub pending: u64,
}

/// The search index.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// A page of messages matching `search` that its user may read.
    async fn search_messages(&self, search: &MessageSearch<'_>) -> Result<FoundPage, StoreError>;

    /// Groups the user is in and public rooms whose name or topic contains
    /// `text` (without regard to case), by name.
    async fn search_conversations(
        &self,
        user_id: Uuid,
        text: &str,
        limit: u32,
    ) -> Result<Vec<ConversationHit>, StoreError>;

    /// Indexes up to `batch` messages stored before the index existed
    /// (oldest first). Safe to run from several processes at once and to
    /// stop at any point: what is done stays done.
    async fn index_pending(&self, batch: u32) -> Result<IndexProgress, StoreError>;
}

/// The first `limit` rows and where the next page starts, from `limit + 1`
/// rows fetched (`key` gives a row's cursor for newest-first order).
pub(crate) fn page<T>(
    mut rows: Vec<(T, SearchCursor)>,
    search: &MessageSearch<'_>,
) -> (Vec<T>, Option<SearchCursor>) {
    let limit = search.limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more.then(|| match search.sort {
        SearchSort::Relevance => {
            let skipped = match search.cursor {
                Some(SearchCursor::Offset(n)) => n,
                _ => 0,
            };
            SearchCursor::Offset(skipped.saturating_add(search.limit))
        }
        SearchSort::Newest => rows
            .last()
            .map(|(_, key)| *key)
            .unwrap_or(SearchCursor::Offset(0)),
    });
    (rows.into_iter().map(|(row, _)| row).collect(), next)
}
