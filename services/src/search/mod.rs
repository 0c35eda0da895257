//! Message search: [`SearchService`] finds the messages a user may read,
//! and people and conversations by name, from one query.
//!
//! - [`tokens`] — the one tokenizer both indexes are fed from.
//! - [`terms`] — a query's words as index terms, for each backend.
//! - [`snippet`] — the excerpt shown for each message found.
//!
//! The design and its trade-offs: `docs/search.md`.

use std::sync::Arc;

use domain::search::{
    MessageHit, QueryError, SearchParams, SearchQuery, SearchResults, SearchSort, Within,
    MAX_CURSOR_BYTES, MESSAGES_PER_PAGE, NAMES_PER_PAGE,
};
use domain::ConversationKind;
use uuid::Uuid;

use crate::conversations::{ConversationRef, ConversationService};
use crate::store::search::{MessageSearch, SearchCursor, QUEUE_BATCH};
use crate::store::Store;
use crate::ServiceError;

pub mod snippet;
pub mod terms;
pub mod tokens;

use terms::Terms;

/// Messages indexed per batch when building the index of older messages.
pub const INDEX_BATCH: u32 = 500;
/// Deepest page by relevance (ranking every match further is not worth it).
const MAX_RELEVANCE_OFFSET: u32 = 1_000;
const _: () = assert!(
    MAX_RELEVANCE_OFFSET == 1_000,
    "cursor_pattern spells it out"
);

/// A search as asked: the query typed, and the controls beside it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query, filters included (the controls' filters are merged in by
    /// the caller).
    pub query: SearchQuery,
    /// A conversation picked from a list (as `in:` does by name).
    pub conversation: Option<Uuid>,
    /// Also public rooms the searcher has not joined.
    pub public: bool,
    /// Order.
    pub sort: SearchSort,
    /// From the previous page's `next`.
    pub cursor: Option<String>,
}

impl SearchRequest {
    /// The request the API's parameters (or the results page's address)
    /// describe.
    pub fn from_params(params: &SearchParams) -> Result<Self, QueryError> {
        Ok(Self {
            query: params.query()?,
            conversation: params.conversation,
            public: params.public,
            sort: params.sort,
            cursor: params.cursor.clone(),
        })
    }
}

/// Searches messages, people and conversations.
#[derive(Clone)]
pub struct SearchService {
    store: Arc<dyn Store>,
    chat: ConversationService,
}

impl SearchService {
    /// A search over `store`; `chat` resolves names in filters.
    pub fn new(store: Arc<dyn Store>, chat: ConversationService) -> Self {
        Self { store, chat }
    }

    /// A page of what `user_id` may read that matches the request. A
    /// filter naming nobody or no conversation the user may read finds
    /// nothing (it is not an error: a name is not a secret, but what the
    /// user cannot read stays unseen either way).
    pub async fn search(
        &self,
        user_id: Uuid,
        request: &SearchRequest,
    ) -> Result<SearchResults, ServiceError> {
        let query = &request.query;
        let terms = Terms::of(query);
        let filtered = query.from.is_some()
            || query.within.is_some()
            || query.since.is_some()
            || query.until.is_some()
            || query.has_link
            || request.conversation.is_some();
        let cursor = request.cursor.as_deref().map(parse_cursor).transpose()?;
        let mut results = SearchResults {
            messages: Vec::new(),
            next: None,
            people: Vec::new(),
            conversations: Vec::new(),
        };
        if cursor.is_none() {
            let text = query.text();
            if !text.trim().is_empty() && !filtered {
                // Names are short: a long query names nobody.
                if text.chars().count() <= crate::conversations::MAX_SEARCH_CHARS {
                    results.people = self.store.search_users(&text, NAMES_PER_PAGE).await?;
                }
                results.conversations = self
                    .store
                    .search_conversations(user_id, &text, NAMES_PER_PAGE)
                    .await?;
            }
        }
        if terms.is_empty() && !filtered {
            // Only punctuation or symbols (`*`, `-`, an emoji): no message
            // can match, as in any search of words.
            return Ok(results);
        }
        let sender = match &query.from {
            Some(name) => match self.chat.user_by_username(name).await? {
                Some(user) => Some(user.id),
                None => return Ok(results),
            },
            None => None,
        };
        let conversation = match (
            self.within(user_id, query.within.as_ref()).await?,
            request.conversation,
        ) {
            (Some(None), _) => return Ok(results),
            (Some(Some(named)), Some(picked)) if named != picked => return Ok(results),
            (Some(Some(named)), _) => Some(named),
            (None, picked) => picked,
        };
        let found = self
            .store
            .search_messages(&MessageSearch {
                user_id,
                terms: &terms,
                public: request.public,
                sender,
                conversation,
                since: query.since,
                until: query.until,
                has_link: query.has_link,
                // Without words there is nothing to rank.
                sort: if terms.is_empty() {
                    SearchSort::Newest
                } else {
                    request.sort
                },
                cursor,
                limit: MESSAGES_PER_PAGE,
            })
            .await?;
        results.next = found.next.and_then(format_cursor);
        // Snippets parse and tokenize whole messages: off the async runtime.
        let terms = terms.clone();
        results.messages = tokio::task::spawn_blocking(move || {
            found
                .messages
                .into_iter()
                .map(|found| MessageHit {
                    snippet: snippet::snippet(&found.body, &terms),
                    id: found.id,
                    conversation_id: found.conversation_id,
                    conversation_kind: found.kind,
                    conversation_name: found.conversation_name,
                    peer_id: found.peer_id,
                    joined: found.joined,
                    seq: found.seq,
                    sender_id: found.sender_id,
                    sender_name: found.sender_name,
                    created_at: found.created_at,
                    edited_at: found.edited_at,
                })
                .collect()
        })
        .await
        .map_err(|err| ServiceError::Internal(format!("snippets: {err}")))?;
        Ok(results)
    }

    /// The conversation `in:` names: `None` without the filter,
    /// `Some(None)` when it names none the user may read.
    async fn within(
        &self,
        user_id: Uuid,
        within: Option<&Within>,
    ) -> Result<Option<Option<Uuid>>, ServiceError> {
        let Some(within) = within else {
            return Ok(None);
        };
        let found = match within {
            Within::Direct(username) => match self.chat.user_by_username(username).await? {
                Some(user) => self
                    .chat
                    .resolve(user_id, &ConversationRef::DirectWith(user.id))
                    .await
                    .ok(),
                None => None,
            },
            Within::Room(name) => self
                .chat
                .resolve(user_id, &ConversationRef::RoomName(name.clone()))
                .await
                .ok(),
            Within::Named(name) => {
                // A group of the user's by that name, else a public room.
                let mine = self
                    .chat
                    .list(user_id)
                    .await?
                    .into_iter()
                    .find(|c| {
                        c.kind != ConversationKind::Direct && c.name.eq_ignore_ascii_case(name)
                    })
                    .map(|c| c.id);
                match mine {
                    Some(id) => Some(id),
                    None => self
                        .chat
                        .resolve(user_id, &ConversationRef::RoomName(name.clone()))
                        .await
                        .ok(),
                }
            }
        };
        Ok(Some(found))
    }

    /// Indexes the messages stored since the last call (SQLite indexes new
    /// messages in batches after their transactions; searching also does,
    /// first); how many. Run every moment in the background.
    pub async fn index_new_messages(&self) -> Result<u64, ServiceError> {
        let mut total = 0;
        loop {
            let taken = self.store.index_queued(QUEUE_BATCH).await?;
            total += taken;
            if taken < u64::from(QUEUE_BATCH) {
                return Ok(total);
            }
            // Let the messages being sent now go first.
            tokio::task::yield_now().await;
        }
    }

    /// Indexes messages stored before the index existed, batch after batch,
    /// logging progress, until none is left; how many it indexed. Run at
    /// start and now and then after (a process of an older version may have
    /// stored messages without indexing them); several processes share the
    /// work.
    pub async fn build_index(&self) -> Result<u64, ServiceError> {
        let pending = self.store.pending_index().await?;
        if pending == 0 {
            return Ok(0);
        }
        tracing::info!(pending, "search index: indexing older messages");
        let mut total = 0;
        loop {
            let indexed = self.store.index_pending(INDEX_BATCH).await?;
            if indexed == 0 {
                tracing::info!(indexed = total, "search index: older messages indexed");
                return Ok(total);
            }
            total += indexed;
            tracing::info!(
                indexed = total,
                pending = pending.saturating_sub(total),
                "search index: indexing older messages"
            );
            // Let the messages being sent now go first.
            tokio::task::yield_now().await;
        }
    }
}

/// The cursors [`format_cursor`] writes, as a regular expression (for the
/// API's description; [`parse_cursor`] is the check, and admits exactly
/// these).
pub fn cursor_pattern() -> String {
    // m: a message id (newest first); r: how many to skip (by relevance).
    format!("^(m[0-9a-f]{{32}}|r([0-9]{{1,3}}|{MAX_RELEVANCE_OFFSET}))$")
}

/// Reads a cursor from a previous page's `next`.
fn parse_cursor(text: &str) -> Result<SearchCursor, ServiceError> {
    let bad = || ServiceError::Invalid(domain::messages::BAD_SEARCH_CURSOR.into());
    let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let hex = |v: &str| v.len() == 32 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if text.len() > MAX_CURSOR_BYTES || !text.is_ascii() || text.is_empty() {
        return Err(bad());
    }
    let (kind, value) = text.split_at(1);
    match kind {
        "m" if hex(value) => value.parse().ok().map(SearchCursor::Message),
        "r" if digits(value) && (value.len() <= 3 || value == MAX_RELEVANCE_OFFSET.to_string()) => {
            value.parse().ok().map(SearchCursor::Offset)
        }
        _ => None,
    }
    .ok_or_else(bad)
}

/// A cursor as `next`; `None` past the deepest page by relevance.
fn format_cursor(cursor: SearchCursor) -> Option<String> {
    match cursor {
        SearchCursor::Message(id) => Some(format!("m{}", id.simple())),
        SearchCursor::Offset(n) if n <= MAX_RELEVANCE_OFFSET => Some(format!("r{n}")),
        SearchCursor::Offset(_) => None,
    }
}

#[cfg(test)]
mod tests;
