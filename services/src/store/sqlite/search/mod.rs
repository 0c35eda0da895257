//! [`SearchStore`] on SQLite: an FTS5 index over `message_search`.

use async_trait::async_trait;
use domain::search::{ConversationHit, SearchSort};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::SqliteStore;
mod queue;
use crate::search::tokens::{documents, Document};
use crate::store::search::{
    page, FoundMessage, FoundPage, MessageSearch, SearchCursor, SearchStore, MAX_RANKED,
    SEARCH_TIME_LIMIT,
};
use crate::store::{findable, like_pattern, StoreError};

/// Indexes an edited message's new text, in the edit's transaction.
pub(super) async fn reindex(
    tx: &mut SqliteConnection,
    message_id: Uuid,
    document: &Document,
) -> Result<(), sqlx::Error> {
    let (stems, words) = document.sqlite_columns();
    sqlx::query(
        "update message_search set has_link = ?, stems = ?, words = ? where message_id = ?",
    )
    .bind(document.has_link)
    .bind(stems)
    .bind(words)
    .bind(message_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Up to how many documents of one sender or conversation each is looked
/// up in the index of words (beyond, the matches are gathered once).
const FEW_DOCUMENTS: i64 = 5_000;

/// The columns of a result, after `select s.doc, `. `searcher` is a
/// one-row table holding the searcher's id (for `joined` and the name of
/// a direct conversation).
const FOUND_COLUMNS: &str = "m.id, m.conversation_id, c.kind, m.seq, m.sender_id, \
    u.display_name as sender_name, m.body, m.created_at, m.edited_at, \
    p.user_id as peer_id, coalesce(c.name, pu.display_name, me.display_name, '') as conversation_name, \
    j.user_id is not null as joined";

/// The joins every result needs, after `from message_search s`.
const FOUND_JOINS: &str = " join messages m on m.id = s.message_id \
    join conversations c on c.id = s.conversation_id \
    join users u on u.id = m.sender_id \
    left join members j on j.conversation_id = c.id and j.user_id = (select id from searcher) \
    left join members p on c.kind = 'direct' and p.conversation_id = c.id and p.user_id <> (select id from searcher) \
    left join users pu on pu.id = p.user_id \
    left join users me on c.kind = 'direct' and me.id = (select id from searcher) ";

fn found_from_row(row: &SqliteRow, user_id: Uuid) -> Result<FoundMessage, sqlx::Error> {
    let kind: &str = row.try_get("kind")?;
    let kind = domain::ConversationKind::from_stored(kind)
        .ok_or_else(|| sqlx::Error::Decode(format!("conversation kind {kind:?}").into()))?;
    let peer: Option<Uuid> = row.try_get("peer_id")?;
    Ok(FoundMessage {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        kind,
        conversation_name: row.try_get("conversation_name")?,
        // A conversation with oneself has no other member.
        peer_id: (kind == domain::ConversationKind::Direct).then(|| peer.unwrap_or(user_id)),
        joined: row.try_get("joined")?,
        seq: row.try_get("seq")?,
        sender_id: row.try_get("sender_id")?,
        sender_name: row.try_get("sender_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
    })
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search_messages(&self, search: &MessageSearch<'_>) -> Result<FoundPage, StoreError> {
        // Every message stored before this search is found.
        self.flush_queue().await?;
        let matching = !search.terms.is_empty();
        let relevance = matching && search.sort == SearchSort::Relevance;
        // Where the page starts: below the previous page's last message
        // (its document, or while that message was deleted meanwhile, its
        // id: documents are in message order).
        let (mut below_doc, mut below_id, mut skip) = (None, None, 0);
        match search.cursor {
            Some(SearchCursor::Message(id)) if !relevance => {
                below_doc = sqlx::query_scalar::<_, i64>(
                    "select doc from message_search where message_id = ?",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                if below_doc.is_none() {
                    below_id = Some(id);
                }
            }
            Some(SearchCursor::Offset(n)) if relevance => skip = n,
            // Another order's cursor: nothing follows.
            Some(_) => return Ok(FoundPage::default()),
            None => {}
        }
        // First the page's documents, the index read in the order asked for
        // (newest first: FTS5 walks its index backwards and stops at the
        // page's end; by relevance: the newest MAX_RANKED matches ranked);
        // then what the page shows of them.
        // A filter by sender or conversation reads that sender's or
        // conversation's documents newest first and keeps those the words
        // match (the matches gathered once): a frequent word is not read
        // through for the few messages that pass. Otherwise the index of
        // words is read, newest first, and stops at the page's end.
        let narrow =
            matching && !relevance && (search.sender.is_some() || search.conversation.is_some());
        let fts_driven = matching && !narrow;
        // Few such documents: each is looked up in the index of words;
        // many: the matches are gathered once and each document looked up
        // among them.
        let few = narrow && {
            let mut count: QueryBuilder<Sqlite> = QueryBuilder::new(
                "select count(*) from (select 1 from message_search s where true",
            );
            if let Some(sender) = search.sender {
                count.push(" and s.sender_id = ").push_bind(sender);
            }
            if let Some(conversation) = search.conversation {
                count
                    .push(" and s.conversation_id = ")
                    .push_bind(conversation);
            }
            count.push(" limit ").push_bind(FEW_DOCUMENTS + 1).push(")");
            let n: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
            n <= FEW_DOCUMENTS
        };
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("");
        if relevance {
            sql.push("select doc from (");
        }
        sql.push(if relevance {
            "select f.rowid as doc, f.rank as score from "
        } else {
            "select s.doc from "
        });
        if fts_driven {
            sql.push("message_fts f join message_search s on s.doc = f.rowid");
        } else {
            sql.push("message_search s");
        }
        let by_message = search.since.is_some() || search.until.is_some() || below_id.is_some();
        if by_message {
            sql.push(" join messages m on m.id = s.message_id");
        }
        sql.push(
            " where (s.conversation_id in (select conversation_id from members where user_id = ",
        )
        .push_bind(search.user_id)
        .push(")");
        if search.public {
            sql.push(
                " or s.conversation_id in (select id from conversations where kind = 'room' and is_public)",
            );
        }
        sql.push(")");
        if fts_driven {
            sql.push(" and message_fts match ")
                .push_bind(search.terms.fts5());
        } else if few {
            sql.push(
                " and exists (select 1 from message_fts where rowid = s.doc and message_fts match ",
            )
            .push_bind(search.terms.fts5())
            .push(")");
        } else if narrow {
            sql.push(" and s.doc in (select rowid from message_fts where message_fts match ")
                .push_bind(search.terms.fts5())
                .push(")");
        }
        if let Some(sender) = search.sender {
            sql.push(" and s.sender_id = ").push_bind(sender);
        }
        if let Some(conversation) = search.conversation {
            sql.push(" and s.conversation_id = ")
                .push_bind(conversation);
        }
        if let Some(since) = search.since {
            sql.push(" and m.created_at >= ").push_bind(since);
        }
        if let Some(until) = search.until {
            sql.push(" and m.created_at < ").push_bind(until);
        }
        if search.has_link {
            sql.push(" and s.has_link");
        }
        let key = if fts_driven { "f.rowid" } else { "s.doc" };
        if let Some(doc) = below_doc {
            sql.push(format_args!(" and {key} < ")).push_bind(doc);
        }
        if let Some(id) = below_id {
            sql.push(" and m.id < ").push_bind(id);
        }
        sql.push(format_args!(" order by {key} desc limit "));
        if relevance {
            sql.push_bind(i64::from(MAX_RANKED))
                .push(") order by score, doc desc limit ")
                .push_bind(i64::from(search.limit) + 1)
                .push(" offset ")
                .push_bind(i64::from(skip));
        } else {
            sql.push_bind(i64::from(search.limit) + 1);
        }
        let docs: Vec<i64> = {
            let mut conn = self.pool.acquire().await?;
            let limit = TimeLimit::arm(&mut conn, SEARCH_TIME_LIMIT).await?;
            let docs = sql.build_query_scalar().fetch_all(&mut *conn).await;
            limit.disarm(&mut conn).await?;
            docs.map_err(|err| timed_out(err, "search"))?
        };
        if docs.is_empty() {
            return Ok(FoundPage::default());
        }
        let mut details: QueryBuilder<Sqlite> = QueryBuilder::new("with searcher (id) as (select ");
        details
            .push_bind(search.user_id)
            .push(") select s.doc, ")
            .push(FOUND_COLUMNS)
            .push(" from message_search s")
            .push(FOUND_JOINS)
            .push("where m.deleted_at is null and s.doc in (");
        let mut list = details.separated(", ");
        for doc in &docs {
            list.push_bind(doc);
        }
        details.push(")");
        let rows = details.build().fetch_all(&self.pool).await?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(
                row.try_get::<i64, _>("doc")?,
                found_from_row(row, search.user_id)?,
            );
        }
        // In the order of the documents found.
        let rows = docs
            .iter()
            .filter_map(|doc| found.remove(doc))
            .map(|message| {
                let key = SearchCursor::Message(message.id);
                (message, key)
            })
            .collect();
        let (messages, next) = page(rows, search);
        Ok(FoundPage { messages, next })
    }

    async fn search_conversations(
        &self,
        user_id: Uuid,
        text: &str,
        limit: u32,
    ) -> Result<Vec<ConversationHit>, StoreError> {
        if !findable(text) || text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let pattern = like_pattern(text);
        let rows = sqlx::query(
            "select c.id, c.kind, c.name, c.topic, j.user_id is not null as joined \
             from conversations c left join members j on j.conversation_id = c.id and j.user_id = ?1 \
             where c.kind <> 'direct' and (c.is_public or j.user_id is not null) \
             and (lower(c.name) like lower(?2) escape '\\' or lower(c.topic) like lower(?2) escape '\\') \
             order by lower(c.name) limit ?3",
        )
        .bind(user_id)
        .bind(&pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: &str = row.try_get("kind")?;
                Ok(ConversationHit {
                    id: row.try_get("id")?,
                    kind: domain::ConversationKind::from_stored(kind).ok_or_else(|| {
                        StoreError::Corrupt(format!("conversation kind {kind:?}"))
                    })?,
                    name: row
                        .try_get::<Option<String>, _>("name")?
                        .unwrap_or_default(),
                    topic: row.try_get("topic")?,
                    joined: row.try_get("joined")?,
                })
            })
            .collect()
    }

    async fn index_queued(&self, batch: u32) -> Result<u64, StoreError> {
        self.index_queue(batch).await
    }

    async fn index_pending(&self, batch: u32) -> Result<u64, StoreError> {
        // Read and tokenized without the writing connection; written only
        // where still pending (an edit or deletion meanwhile wins).
        let rows = sqlx::query(
            "select s.doc, m.body from message_search s join messages m on m.id = s.message_id \
             where s.stems is null order by s.doc limit ?",
        )
        .bind(i64::from(batch))
        .fetch_all(&self.pool)
        .await?;
        let docs = rows
            .iter()
            .map(|row| row.try_get::<i64, _>("doc"))
            .collect::<Result<Vec<_>, _>>()?;
        let bodies = rows
            .iter()
            .map(|row| row.try_get::<String, _>("body"))
            .collect::<Result<Vec<_>, _>>()?;
        let documents = documents(bodies).await?;
        let mut tx = self.writer.begin().await?;
        let mut indexed = 0;
        for (doc, document) in docs.iter().zip(&documents) {
            let (stems, words) = document.sqlite_columns();
            indexed += sqlx::query(
                "update message_search set has_link = ?, stems = ?, words = ? \
                 where doc = ? and stems is null",
            )
            .bind(document.has_link)
            .bind(stems)
            .bind(words)
            .bind(doc)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(indexed)
    }

    async fn pending_index(&self) -> Result<u64, StoreError> {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from message_search where stems is null")
                .fetch_one(&self.pool)
                .await?;
        Ok(pending.max(0) as u64)
    }
}

/// A time limit on the statements of one connection, through SQLite's
/// progress handler. If the future running the statement is dropped (the
/// client went away), the statement is stopped at once rather than left
/// to run; a handler left behind does nothing.
struct TimeLimit(std::sync::Arc<std::sync::atomic::AtomicU8>);

/// The handler stops the statement once the deadline has passed.
const RUNNING: u8 = 0;
/// The handler does nothing (the statement ended).
const DONE: u8 = 1;
/// The handler stops the statement now, then does nothing.
const ABANDONED: u8 = 2;

impl TimeLimit {
    async fn arm(
        conn: &mut SqliteConnection,
        limit: std::time::Duration,
    ) -> Result<Self, sqlx::Error> {
        use std::sync::atomic::Ordering;
        let state = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(RUNNING));
        let deadline = std::time::Instant::now() + limit;
        let seen = state.clone();
        conn.lock_handle()
            .await?
            .set_progress_handler(1_000, move || match seen.load(Ordering::Relaxed) {
                DONE => true,
                ABANDONED => {
                    seen.store(DONE, Ordering::Relaxed);
                    false
                }
                _ => std::time::Instant::now() < deadline,
            });
        Ok(Self(state))
    }

    async fn disarm(self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        self.0.store(DONE, std::sync::atomic::Ordering::Relaxed);
        conn.lock_handle().await?.remove_progress_handler();
        Ok(())
    }
}

impl Drop for TimeLimit {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        // Still running: the future was dropped mid-statement.
        let _ = self
            .0
            .compare_exchange(RUNNING, ABANDONED, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// A statement stopped by its time limit as [`StoreError::TimedOut`].
fn timed_out(err: sqlx::Error, what: &'static str) -> StoreError {
    // SQLITE_INTERRUPT
    if err.as_database_error().and_then(|db| db.code()).as_deref() == Some("9") {
        StoreError::TimedOut(what)
    } else {
        StoreError::Database(err)
    }
}
