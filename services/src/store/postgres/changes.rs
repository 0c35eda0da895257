//! [`ChangeStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::Utc;
use domain::ChatMessage;
use sqlx::Row;
use uuid::Uuid;

use super::conversations::{message_from_row, message_select};
use super::PgStore;
use crate::search::tokens::Document;
use crate::store::changes::{react, ChangeStore, MessageChange, MessageVersion};
use crate::store::StoreError;

#[async_trait]
impl ChangeStore for PgStore {
    async fn change_message(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
        change: MessageChange<'_>,
    ) -> Result<(ChatMessage, bool), StoreError> {
        // An edit is tokenized before the transaction.
        let indexed = match &change {
            MessageChange::Edit { body } => Some(Document::of(body)),
            _ => None,
        };
        let mut tx = self.pool.begin().await?;
        // The conversation's row lock orders its changes (as its sends).
        let number: Option<i64> = sqlx::query_scalar(
            "update conversations set last_change = last_change + 1 where id = $1 \
             returning last_change",
        )
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let number = number.ok_or(StoreError::NotFound("message"))?;
        let current = sqlx::query(
            "select body, reactions, deleted_at is not null as deleted from messages \
             where id = $1 and conversation_id = $2 for update",
        )
        .bind(message_id)
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        let deleted: bool = current.try_get("deleted")?;
        let now = Utc::now();
        match change {
            MessageChange::Edit { .. } | MessageChange::React { .. } if deleted => {
                return Err(StoreError::NotFound("message"));
            }
            MessageChange::Delete if deleted => {
                // Nothing to change: the counter goes back with the rollback.
                tx.rollback().await?;
                return Ok((read(self, message_id).await?, false));
            }
            MessageChange::Edit { body } => {
                let old: String = current.try_get("body")?;
                sqlx::query(
                    "insert into message_versions (message_id, change_seq, body, replaced_at) \
                     values ($1, $2, $3, $4)",
                )
                .bind(message_id)
                .bind(number)
                .bind(old)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let indexed = indexed.unwrap_or_else(|| Document::of(body));
                sqlx::query(
                    "update messages set body = $1, edited_at = $2, change_seq = $3, \
                     search = $5::tsvector, has_link = $6 where id = $4",
                )
                .bind(body)
                .bind(now)
                .bind(number)
                .bind(message_id)
                .bind(indexed.tsvector())
                .bind(indexed.has_link)
                .execute(&mut *tx)
                .await?;
            }
            MessageChange::Delete => {
                sqlx::query("delete from message_versions where message_id = $1")
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                // Its files go with it (their bytes wait in file_removals).
                sqlx::query("delete from files where message_id = $1")
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "update messages set body = '', reactions = '', mentions = '', \
                     mentions_all = false, files = '', deleted_at = $1, search = ''::tsvector, has_link = false, \
                     change_seq = $2 where id = $3",
                )
                .bind(now)
                .bind(number)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
            }
            MessageChange::React { user, emoji, on } => {
                let stored: &str = current.try_get("reactions")?;
                let Some(reactions) = react(stored, user, emoji, on)? else {
                    // Already so: the counter goes back with the rollback.
                    tx.rollback().await?;
                    return Ok((read(self, message_id).await?, false));
                };
                sqlx::query("update messages set reactions = $1, change_seq = $2 where id = $3")
                    .bind(reactions)
                    .bind(number)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let row = sqlx::query(concat!(message_select!(), "where m.id = $1"))
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
        let message = message_from_row(&row)?;
        tx.commit().await?;
        Ok((message, true))
    }

    async fn changes_after(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let sql = concat!(
            message_select!(),
            "where m.conversation_id = $1 and m.change_seq > 0 and m.change_seq > $2 order by m.change_seq asc limit $3"
        );
        let rows = sqlx::query(sql)
            .bind(conversation_id)
            .bind(after.max(0))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn message_versions(&self, message_id: Uuid) -> Result<Vec<MessageVersion>, StoreError> {
        let rows = sqlx::query(
            "select change_seq, body, replaced_at from message_versions \
             where message_id = $1 order by change_seq",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MessageVersion {
                    change: row.try_get("change_seq")?,
                    body: row.try_get("body")?,
                    replaced_at: row.try_get("replaced_at")?,
                })
            })
            .collect()
    }
}

/// A message as it is now.
async fn read(store: &PgStore, message_id: Uuid) -> Result<ChatMessage, StoreError> {
    let row = sqlx::query(concat!(message_select!(), "where m.id = $1"))
        .bind(message_id)
        .fetch_optional(&store.pool)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    Ok(message_from_row(&row)?)
}
