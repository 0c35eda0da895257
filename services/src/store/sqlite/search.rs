//! [`SearchStore`] on SQLite: an FTS5 index over `message_search`.

use async_trait::async_trait;
use domain::search::{ConversationHit, SearchSort};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::SqliteStore;
use crate::search::tokens::{documents, Document};
use crate::store::search::{
    page, FoundMessage, FoundPage, IndexProgress, MessageSearch, SearchCursor, SearchStore,
};
use crate::store::{findable, like_pattern, StoreError};

/// Indexes a message just stored, in its transaction.
pub(super) async fn index_new(
    tx: &mut SqliteConnection,
    message_id: Uuid,
    conversation_id: Uuid,
    body: &str,
) -> Result<(), sqlx::Error> {
    let document = Document::of(body);
    let (stems, words) = document.sqlite_columns();
    sqlx::query(
        "insert into message_search (message_id, conversation_id, has_link, stems, words) \
         values (?, ?, ?, ?, ?)",
    )
    .bind(message_id)
    .bind(conversation_id)
    .bind(document.has_link)
    .bind(stems)
    .bind(words)
    .execute(tx)
    .await?;
    Ok(())
}

/// Indexes an edited message's new text, in the edit's transaction.
pub(super) async fn reindex(
    tx: &mut SqliteConnection,
    message_id: Uuid,
    body: &str,
) -> Result<(), sqlx::Error> {
    let document = Document::of(body);
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
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("with searcher (id) as (select ");
        sql.push_bind(search.user_id)
            .push(") select s.doc, ")
            .push(FOUND_COLUMNS);
        let matching = !search.terms.is_empty();
        if matching {
            sql.push(" from message_fts f join message_search s on s.doc = f.rowid");
        } else {
            sql.push(" from message_search s");
        }
        sql.push(FOUND_JOINS);
        sql.push("where (s.conversation_id in (select conversation_id from members where user_id = (select id from searcher))");
        if search.public {
            sql.push(" or s.conversation_id in (select id from conversations where is_public)");
        }
        sql.push(")");
        if matching {
            sql.push(" and message_fts match ")
                .push_bind(search.terms.fts5());
        }
        if let Some(sender) = search.sender {
            sql.push(" and m.sender_id = ").push_bind(sender);
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
        let relevance = matching && search.sort == SearchSort::Relevance;
        match search.cursor {
            Some(SearchCursor::Doc(doc)) if !relevance => {
                sql.push(" and s.doc < ").push_bind(doc);
            }
            Some(SearchCursor::Offset(_)) if relevance => {}
            // Another backend's or another order's cursor: nothing follows.
            Some(_) => return Ok(FoundPage::default()),
            None => {}
        }
        if relevance {
            sql.push(" order by f.rank, s.doc desc");
        } else {
            sql.push(" order by s.doc desc");
        }
        sql.push(" limit ").push_bind(i64::from(search.limit) + 1);
        if let (true, Some(SearchCursor::Offset(skip))) = (relevance, search.cursor) {
            sql.push(" offset ").push_bind(i64::from(skip));
        }
        let rows = sql.build().fetch_all(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|row| {
                Ok((
                    found_from_row(row, search.user_id)?,
                    SearchCursor::Doc(row.try_get("doc")?),
                ))
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

    async fn index_pending(&self, batch: u32) -> Result<IndexProgress, StoreError> {
        let mut tx = self.writer.begin().await?;
        let rows = sqlx::query(
            "select s.doc, m.body from message_search s join messages m on m.id = s.message_id \
             where s.stems is null order by s.doc limit ?",
        )
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await?;
        let bodies = rows
            .iter()
            .map(|row| row.try_get::<String, _>("body"))
            .collect::<Result<Vec<_>, _>>()?;
        for (row, document) in rows.iter().zip(documents(bodies).await?) {
            let (stems, words) = document.sqlite_columns();
            sqlx::query(
                "update message_search set has_link = ?, stems = ?, words = ? where doc = ?",
            )
            .bind(document.has_link)
            .bind(stems)
            .bind(words)
            .bind(row.try_get::<i64, _>("doc")?)
            .execute(&mut *tx)
            .await?;
        }
        let pending: i64 =
            sqlx::query_scalar("select count(*) from message_search where stems is null")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(IndexProgress {
            indexed: rows.len() as u64,
            pending: pending.max(0) as u64,
        })
    }
}
