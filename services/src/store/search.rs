//! [`SearchStore`]: the message search index and queries against it.
//!
//! Each backend indexes what [`crate::search::tokens::Document`] makes of a
//! message (SQLite: an FTS5 table; PostgreSQL: a `tsvector` column with a
//! GIN index), written in the same transaction as the message, its edit or
//! its deletion. Who may read what is part of every query: a page is never
//! short because rows were dropped after the fact.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::search::{ConversationHit, SearchSort};
use domain::ConversationKind;
use uuid::Uuid;

use super::StoreError;
use crate::search::terms::Terms;

/// Longest a search may run in the database before it is stopped (a
/// query that would read most of a large index is refused, not left to
/// hold a connection and a core).
pub const SEARCH_TIME_LIMIT: Duration = Duration::from_secs(3);
/// Most matches ranked by relevance: the newest this many (ranking every
/// match of a frequent word would read the whole index).
pub const MAX_RANKED: u32 = 500;
/// Queued new messages indexed in one transaction (on SQLite it holds the
/// one writing connection: messages being sent wait that long).
pub const QUEUE_BATCH: u32 = 200;

/// Where a page of results ends, to go on from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// Newest first: messages older than this one (ids are uuid v7, in
    /// time order).
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

impl<'a> MessageSearch<'a> {
    /// Everything `user_id` is a member of, matching `terms`, newest first,
    /// a page of [`domain::search::MESSAGES_PER_PAGE`]: the start of a
    /// search, its filters set field by field.
    pub fn newest(user_id: Uuid, terms: &'a Terms) -> Self {
        Self {
            user_id,
            terms,
            public: false,
            sender: None,
            conversation: None,
            since: None,
            until: None,
            has_link: false,
            sort: SearchSort::Newest,
            cursor: None,
            limit: domain::search::MESSAGES_PER_PAGE,
        }
    }
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

    /// Indexes up to `batch` messages stored since the last call, oldest
    /// first; how many it went through (0: none waits). SQLite indexes new messages after their
    /// transaction, in batches (and before each search); PostgreSQL in the
    /// message's own transaction, so it has none.
    async fn index_queued(&self, batch: u32) -> Result<u64, StoreError>;

    /// Indexes up to `batch` messages stored before the index existed
    /// (oldest first); how many it indexed. Safe to run from several
    /// processes at once and to stop at any point: what is done stays done.
    async fn index_pending(&self, batch: u32) -> Result<u64, StoreError>;

    /// How many messages wait to be indexed.
    async fn pending_index(&self) -> Result<u64, StoreError>;
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
    // Without words there is nothing to rank: newest first.
    let relevance = !search.terms.is_empty() && search.sort == SearchSort::Relevance;
    let next = more.then(|| {
        if relevance {
            let skipped = match search.cursor {
                Some(SearchCursor::Offset(n)) => n,
                _ => 0,
            };
            SearchCursor::Offset(skipped.saturating_add(search.limit))
        } else {
            rows.last().map_or(SearchCursor::Offset(0), |(_, key)| *key)
        }
    });
    (rows.into_iter().map(|(row, _)| row).collect(), next)
}
