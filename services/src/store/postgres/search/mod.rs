//! [`SearchStore`] on PostgreSQL: a `tsvector` column with a GIN index.

use async_trait::async_trait;
use domain::search::{ConversationHit, SearchSort};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::PgStore;
use matches::matching_ids;
pub use matches::SearchWindows;

mod matches;
use crate::search::tokens::{documents, Document};
use crate::store::search::{
    page, FoundMessage, FoundPage, MessageSearch, SearchCursor, SearchStore, MAX_RANKED,
    SEARCH_TIME_LIMIT,
};
use crate::store::{findable, like_pattern, StoreError};

/// The columns of a result; `$1` is the searcher.
const FOUND_COLUMNS: &str = " m.id, m.conversation_id, c.kind, m.seq, m.sender_id, \
    u.display_name as sender_name, m.body, m.created_at, m.edited_at, \
    p.user_id as peer_id, coalesce(c.name, pu.display_name, me.display_name, '') as conversation_name, \
    j.user_id is not null as joined \
    from messages m \
    join conversations c on c.id = m.conversation_id \
    join users u on u.id = m.sender_id \
    left join members j on j.conversation_id = c.id and j.user_id = $1 \
    left join members p on c.kind = 'direct' and p.conversation_id = c.id and p.user_id <> $1 \
    left join users pu on pu.id = p.user_id \
    left join users me on c.kind = 'direct' and me.id = $1 ";

fn found_from_row(row: &PgRow, user_id: Uuid) -> Result<FoundMessage, sqlx::Error> {
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
impl SearchStore for PgStore {
    async fn search_messages(&self, search: &MessageSearch<'_>) -> Result<FoundPage, StoreError> {
        let matching = !search.terms.is_empty();
        let relevance = matching && search.sort == SearchSort::Relevance;
        let mut skip = 0;
        let mut below = None;
        match search.cursor {
            Some(SearchCursor::Message(id)) if !relevance => below = Some(id),
            Some(SearchCursor::Offset(n)) if relevance => skip = n,
            // Another order's cursor: nothing follows.
            Some(_) => return Ok(FoundPage::default()),
            None => {}
        }
        // The conversations the searcher may read, given to the index with
        // the words: it then reads only the matches in them.
        let mut readable: Vec<Uuid> = sqlx::query_scalar(if search.public {
            "select conversation_id from members where user_id = $1 \
             union select id from conversations where kind = 'room' and is_public"
        } else {
            "select conversation_id from members where user_id = $1"
        })
        .bind(search.user_id)
        .fetch_all(&self.pool)
        .await?;
        if let Some(only) = search.conversation {
            readable.retain(|id| *id == only);
        }
        if readable.is_empty() {
            return Ok(FoundPage::default());
        }
        // Stopped by the server past the time limit (also when the client
        // went away and left it running).
        let mut tx = self.pool.begin().await?;
        // One snapshot for every statement: the windows' edges and the
        // details agree whatever is stored or deleted meanwhile.
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "set local statement_timeout = {}",
            SEARCH_TIME_LIMIT.as_millis()
        ))
        .execute(&mut *tx)
        .await?;
        let wanted = if relevance {
            i64::from(MAX_RANKED)
        } else {
            i64::from(search.limit) + 1
        };
        let found = async {
            let ids = matching_ids(
                &mut tx,
                self.search_windows,
                search,
                &readable,
                below,
                wanted,
            )
            .await?;
            // The page's details; by relevance, the matches ranked first.
            let mut sql: QueryBuilder<Postgres> = QueryBuilder::new("select ");
            // The first bind is $1, which the joins use.
            sql.push_bind(search.user_id).push("::uuid as searcher,");
            if relevance {
                sql.push(" ts_rank_cd(m.search, ")
                    .push_bind(search.terms.tsquery())
                    .push("::tsquery) as score,");
            }
            sql.push(FOUND_COLUMNS)
                .push("where m.deleted_at is null and m.id = any(")
                .push_bind(ids)
                .push(")");
            if relevance {
                sql.push(" order by score desc, m.id desc limit ")
                    .push_bind(i64::from(search.limit) + 1)
                    .push(" offset ")
                    .push_bind(i64::from(skip));
            } else {
                sql.push(" order by m.id desc");
            }
            sql.build().persistent(false).fetch_all(&mut *tx).await
        }
        .await
        .map_err(
            |err| match err.as_database_error().and_then(|db| db.code()) {
                // query_canceled
                Some(code) if code == "57014" => StoreError::TimedOut("search"),
                _ => StoreError::Database(err),
            },
        )?;
        tx.commit().await?;
        let rows = found
            .iter()
            .map(|row| {
                let found = found_from_row(row, search.user_id)?;
                let key = SearchCursor::Message(found.id);
                Ok((found, key))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
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
             from conversations c left join members j on j.conversation_id = c.id and j.user_id = $1 \
             where c.kind <> 'direct' and (c.is_public or j.user_id is not null) \
             and (lower(c.name) like lower($2) escape '\\' or lower(c.topic) like lower($2) escape '\\') \
             order by lower(c.name) limit $3",
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

    async fn index_queued(&self, _batch: u32) -> Result<u64, StoreError> {
        // Indexed in each message's transaction: nothing waits.
        Ok(0)
    }

    async fn index_pending(&self, batch: u32) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locked rows are another process's batch: skipped, not waited for.
        let rows = sqlx::query(
            "select id, body from messages where search is null and deleted_at is null \
             order by id limit $1 for update skip locked",
        )
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await?;
        let ids = rows
            .iter()
            .map(|row| row.try_get::<Uuid, _>("id"))
            .collect::<Result<Vec<_>, _>>()?;
        let bodies = rows
            .iter()
            .map(|row| row.try_get::<String, _>("body"))
            .collect::<Result<Vec<_>, _>>()?;
        let documents = documents(bodies).await?;
        let vectors: Vec<String> = documents.iter().map(Document::tsvector).collect();
        let links: Vec<bool> = documents.iter().map(|d| d.has_link).collect();
        sqlx::query(
            "update messages m set search = v.search::tsvector, has_link = v.link \
             from unnest($1::uuid[], $2::text[], $3::bool[]) as v(id, search, link) where m.id = v.id",
        )
        .bind(&ids)
        .bind(&vectors)
        .bind(&links)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    async fn pending_index(&self) -> Result<u64, StoreError> {
        let pending: i64 = sqlx::query_scalar(
            "select count(*) from messages where search is null and deleted_at is null",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(pending.max(0) as u64)
    }
}
