//! [`ChangeStore`] on SQLite.

use async_trait::async_trait;
use chrono::Utc;
use domain::ChatMessage;
use sqlx::Row;
use uuid::Uuid;

use super::conversations::{message_from_row, message_select};
use super::SqliteStore;
use crate::search::tokens::Document;
use crate::store::changes::{react, ChangeStore, MessageChange, MessageVersion};
use crate::store::StoreError;

#[async_trait]
impl ChangeStore for SqliteStore {
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
        let mut tx = self.writer.begin().await?;
        // The first statement writes, so SQLite takes the write lock at once.
        let number: Option<i64> = sqlx::query_scalar(
            "update conversations set last_change = last_change + 1 where id = ? \
             returning last_change",
        )
        .bind(conversation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let number = number.ok_or(StoreError::NotFound("message"))?;
        let current = sqlx::query(
            "select body, reactions, deleted_at is not null as deleted from messages \
             where id = ? and conversation_id = ?",
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
                     values (?, ?, ?, ?)",
                )
                .bind(message_id)
                .bind(number)
                .bind(old)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "update messages set body = ?, edited_at = ?, change_seq = ? where id = ?",
                )
                .bind(body)
                .bind(now)
                .bind(number)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
                if let Some(document) = &indexed {
                    super::search::reindex(&mut tx, message_id, document).await?;
                }
            }
            MessageChange::Delete => {
                sqlx::query("delete from message_versions where message_id = ?")
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                // Its files go with it (their bytes wait in file_removals).
                sqlx::query("delete from files where message_id = ?")
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "update messages set body = '', reactions = '', mentions = '', \
                     mentions_all = false, files = '', deleted_at = ?, \
                     change_seq = ? where id = ?",
                )
                .bind(now)
                .bind(number)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("delete from message_search where message_id = ?")
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
                sqlx::query("update messages set reactions = ?, change_seq = ? where id = ?")
                    .bind(reactions)
                    .bind(number)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let row = sqlx::query(concat!(message_select!(), "where m.id = ?"))
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
        let message = message_from_row(&row)?;
        tx.commit().await?;
        if matches!(change, MessageChange::Delete) {
            self.checkpoint_soon();
        }
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
            "where m.conversation_id = ? and m.change_seq > 0 and m.change_seq > ? order by m.change_seq asc limit ?"
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
             where message_id = ? order by change_seq",
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

/// How long after a deletion the write-ahead log is emptied (deletions
/// meanwhile share the checkpoint).
const CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

impl SqliteStore {
    /// The old pages of a deleted message stay in the write-ahead log until
    /// it is reused: soon, in the background, copy them back and empty the
    /// log, so the erased text leaves the disk (best effort: a long reader
    /// makes it a partial checkpoint, and a later one empties the log). At
    /// most one is waiting at a time, so deletions cannot queue checkpoints
    /// in front of the sends.
    fn checkpoint_soon(&self) {
        use std::sync::atomic::Ordering;
        if self.checkpoint_due.swap(true, Ordering::AcqRel) {
            return;
        }
        let (writer, due) = (self.writer.clone(), self.checkpoint_due.clone());
        tokio::spawn(async move {
            tokio::time::sleep(CHECKPOINT_DELAY).await;
            due.store(false, Ordering::Release);
            if let Err(err) = sqlx::query("pragma wal_checkpoint(truncate)")
                .execute(&writer)
                .await
            {
                tracing::debug!(error = %err, "checkpoint after a deletion failed");
            }
        });
    }
}

/// A message as it is now (read on the writer: it sees its own writes).
async fn read(store: &SqliteStore, message_id: Uuid) -> Result<ChatMessage, StoreError> {
    let row = sqlx::query(concat!(message_select!(), "where m.id = ?"))
        .bind(message_id)
        .fetch_optional(&store.writer)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    Ok(message_from_row(&row)?)
}
