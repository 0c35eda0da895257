//! Which messages a search finds on PostgreSQL, newest first: their ids.
//!
//! A GIN index cannot give its matches in order, nor take the searcher's
//! conversations as a list (`= any(…)`) as an index condition: for a word in
//! one message of seven it reads the word's whole posting list (143,781
//! entries in the benchmark), then sorts what is left. So a search with words
//! first reads the searcher's newest messages backwards, conversation by
//! conversation, merged in id order (`messages (conversation_id, id)`), and
//! keeps those that match: a frequent word fills a page from the first few
//! hundred. Only when two such windows have too few matches (a rarer word,
//! whose posting list is short) does the GIN index find the rest, below them.

use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::store::search::MessageSearch;

/// How a search walks the newest messages before it asks the GIN index
/// (see the module's description); the defaults suit every size measured
/// (`cargo bench -p services --bench search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchWindows {
    /// Newest readable messages read first, for a page newest first.
    pub first: i64,
    /// The same, for ranking by relevance (which wants up to
    /// [`crate::store::search::MAX_RANKED`] matches).
    pub first_ranked: i64,
    /// Then how many more below them, before the GIN index finds the rest.
    pub next: i64,
    /// With more conversations than this nothing is walked (one index walk
    /// each, merged: planning grows with their number); the GIN index alone
    /// finds the matches.
    pub max_conversations: usize,
}

impl Default for SearchWindows {
    /// Walking costs about 0.7 µs a message; the GIN index, for a phrase of
    /// frequent Chinese characters, 150 ms (every message holding the
    /// characters is read to check their order).
    fn default() -> Self {
        Self {
            first: 2_000,
            first_ranked: 5_000,
            next: 20_000,
            max_conversations: 100,
        }
    }
}

/// Up to `wanted` ids of messages matching `search` in `readable`, newest
/// first, older than `below`.
pub(super) async fn matching_ids(
    tx: &mut PgConnection,
    windows: SearchWindows,
    search: &MessageSearch<'_>,
    readable: &[Uuid],
    below: Option<Uuid>,
    wanted: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    if search.terms.is_empty() {
        // Filters only: no words to match, nothing for a window to save.
        return indexed(tx, search, readable, below, wanted).await;
    }
    if let Some(sender) = search.sender {
        return from_sender(tx, search, sender, readable, below, wanted).await;
    }
    if readable.len() > windows.max_conversations {
        return indexed(tx, search, readable, below, wanted).await;
    }
    let first = if wanted > i64::from(search.limit) + 1 {
        windows.first_ranked
    } else {
        windows.first
    };
    let mut ids = Vec::new();
    let mut below = below;
    for window in [first.max(1), windows.next.max(1)] {
        let hits = recent(
            tx,
            search,
            readable,
            below,
            window,
            wanted - ids.len() as i64,
        )
        .await?;
        ids.extend(hits);
        if ids.len() as i64 >= wanted {
            return Ok(ids);
        }
        // On below the window's oldest message; none when it held every
        // readable message left.
        match window_edge(tx, readable, below, window).await? {
            Some(oldest) => below = Some(oldest),
            None => return Ok(ids),
        }
    }
    let older = indexed(tx, search, readable, below, wanted - ids.len() as i64).await?;
    ids.extend(older);
    Ok(ids)
}

/// The readable messages, newest first, older than `below`: one backward
/// walk of `messages (conversation_id, id)` per conversation, merged, at
/// most `window`, with the `columns` asked for.
fn push_walk(
    sql: &mut QueryBuilder<'_, Postgres>,
    columns: &str,
    readable: &[Uuid],
    below: Option<Uuid>,
    window: i64,
) {
    sql.push("(select ").push(columns).push(" from (");
    for (i, conversation) in readable.iter().enumerate() {
        if i > 0 {
            sql.push(" union all ");
        }
        sql.push("(select ")
            .push(columns)
            .push(" from messages where conversation_id = ")
            .push_bind(*conversation);
        if let Some(id) = below {
            sql.push(" and id < ").push_bind(id);
        }
        sql.push(" order by id desc limit ")
            .push_bind(window)
            .push(")");
    }
    sql.push(") walked order by id desc limit ")
        .push_bind(window)
        .push(")");
}

/// The matches among the newest `window` readable messages, newest first,
/// at most `wanted`: the walk stops at the `wanted`th. The words are matched
/// on the rows walked (above a `limit` the planner cannot use the GIN index
/// instead: it would, for a phrase it wrongly thinks rare, and read all
/// 64,661 matches of `数据库`).
async fn recent(
    tx: &mut PgConnection,
    search: &MessageSearch<'_>,
    readable: &[Uuid],
    below: Option<Uuid>,
    window: i64,
    wanted: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("select m.id from ");
    push_walk(
        &mut sql,
        "id, search, sender_id, created_at, has_link, deleted_at",
        readable,
        below,
        window,
    );
    sql.push(" m where m.deleted_at is null and m.search @@ ")
        .push_bind(search.terms.tsquery())
        .push("::tsquery");
    push_filters(&mut sql, search);
    sql.push(" order by m.id desc limit ").push_bind(wanted);
    // Planned for these values (an unnamed statement).
    sql.build_query_scalar()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await
}

/// The oldest message of the window (from the index alone); `None` when the
/// window held every readable message.
async fn window_edge(
    tx: &mut PgConnection,
    readable: &[Uuid],
    below: Option<Uuid>,
    window: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("select id from ");
    push_walk(&mut sql, "id", readable, below, window);
    sql.push(" w order by id desc offset ")
        .push_bind(window - 1)
        .push(" limit 1");
    sql.build_query_scalar()
        .persistent(false)
        .fetch_optional(&mut *tx)
        .await
}

/// One sender's matches: `messages (conversation_id, sender_id, …)` finds
/// their messages in the searcher's conversations, and the words are checked
/// on those (a window of everyone's messages would hold few of theirs; the
/// GIN index, which the planner picks for a phrase it wrongly thinks rare,
/// would read every message holding the characters: 150 ms and more).
async fn from_sender(
    tx: &mut PgConnection,
    search: &MessageSearch<'_>,
    sender: Uuid,
    readable: &[Uuid],
    below: Option<Uuid>,
    wanted: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "select m.id from (select id, search, sender_id, created_at, has_link from messages \
         where deleted_at is null and conversation_id = any(",
    );
    sql.push_bind(readable.to_vec())
        .push(") and sender_id = ")
        .push_bind(sender);
    if let Some(id) = below {
        sql.push(" and id < ").push_bind(id);
    }
    // `offset 0`: planned apart, so the words are not given to the index.
    sql.push(" offset 0) m where m.search @@ ")
        .push_bind(search.terms.tsquery())
        .push("::tsquery");
    push_filters(&mut sql, search);
    sql.push(" order by m.id desc limit ").push_bind(wanted);
    sql.build_query_scalar()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await
}

/// Matches through the GIN index (or, without words, the filters' own
/// indexes), older than `older_than` when given.
async fn indexed(
    tx: &mut PgConnection,
    search: &MessageSearch<'_>,
    readable: &[Uuid],
    below: Option<Uuid>,
    wanted: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "select m.id from messages m where m.deleted_at is null and m.conversation_id = any(",
    );
    sql.push_bind(readable.to_vec()).push(")");
    if !search.terms.is_empty() {
        sql.push(" and m.search @@ ")
            .push_bind(search.terms.tsquery())
            .push("::tsquery");
    }
    push_filters(&mut sql, search);
    if let Some(id) = below {
        sql.push(" and m.id < ").push_bind(id);
    }
    sql.push(" order by m.id desc limit ").push_bind(wanted);
    sql.build_query_scalar()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await
}

/// The filters of `search` on `m`, other than its words and conversations.
fn push_filters(sql: &mut QueryBuilder<'_, Postgres>, search: &MessageSearch<'_>) {
    if let Some(sender) = search.sender {
        sql.push(" and m.sender_id = ").push_bind(sender);
    }
    if let Some(since) = search.since {
        sql.push(" and m.created_at >= ").push_bind(since);
    }
    if let Some(until) = search.until {
        sql.push(" and m.created_at < ").push_bind(until);
    }
    if search.has_link {
        sql.push(" and m.has_link");
    }
}
