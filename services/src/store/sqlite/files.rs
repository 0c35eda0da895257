//! [`FileRecordStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::files::FileInfo;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::files::{in_given_order, FileRecordStore, FILE_COLUMNS};
use crate::store::StoreError;
use crate::store::{list_to_text, NewMessage};

pub(super) fn file_from_row(row: &SqliteRow) -> Result<FileInfo, sqlx::Error> {
    let size: i64 = row.try_get("size")?;
    let width: Option<i64> = row.try_get("width")?;
    let height: Option<i64> = row.try_get("height")?;
    Ok(FileInfo {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        uploader_id: row.try_get("uploader_id")?,
        message_id: row.try_get("message_id")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: size.max(0) as u64,
        sha256: row.try_get("sha256")?,
        width: width.and_then(|w| u32::try_from(w).ok()),
        height: height.and_then(|h| u32::try_from(h).ok()),
        inline: row.try_get("inline")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl FileRecordStore for SqliteStore {
    async fn insert_file(&self, file: &FileInfo, quota: Option<u64>) -> Result<bool, StoreError> {
        // One writing connection: the sum and the insert are one step.
        let size = i64::try_from(file.size).unwrap_or(i64::MAX);
        let inserted = sqlx::query(&format!(
            "insert into files ({FILE_COLUMNS}) select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
             where ? is null or (select coalesce(sum(size), 0) from files where uploader_id = ?) + ? <= ?"
        ))
        .bind(file.id)
        .bind(file.conversation_id)
        .bind(file.uploader_id)
        .bind(file.message_id)
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(size)
        .bind(&file.sha256)
        .bind(file.width.map(i64::from))
        .bind(file.height.map(i64::from))
        .bind(file.inline)
        .bind(file.created_at)
        .bind(quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX)))
        .bind(file.uploader_id)
        .bind(size)
        .bind(quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX)))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn file(&self, id: Uuid) -> Result<Option<FileInfo>, StoreError> {
        let row = sqlx::query(&format!("select {FILE_COLUMNS} from files where id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(file_from_row).transpose()?)
    }

    async fn uploaded_bytes(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let total: i64 =
            sqlx::query_scalar("select coalesce(sum(size), 0) from files where uploader_id = ?")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(total.max(0) as u64)
    }

    async fn delete_unattached(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "delete from files where id in (select id from files \
             where message_id is null and created_at < ? order by created_at limit ?)",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    async fn file_removals(&self, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "select file_id from file_removals order by removed_at, file_id limit ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn postpone_removals(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        // The trigger's format, so the order holds.
        self.for_removals(
            "update file_removals set removed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             where file_id in (",
            ids,
        )
        .await
    }

    async fn discard_file(&self, id: Uuid, uploader_id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "delete from files where id = ? and uploader_id = ? and message_id is null",
        )
        .bind(id)
        .bind(uploader_id)
        .execute(&self.writer)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn forget_removals(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.for_removals("delete from file_removals where file_id in (", ids)
            .await
    }
}

impl SqliteStore {
    /// Runs `statement`, which ends in `file_id in (`, for `ids`.
    async fn for_removals(&self, statement: &str, ids: &[Uuid]) -> Result<(), StoreError> {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(statement);
        let mut list = sql.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        sql.push(")");
        sql.build().execute(&self.writer).await?;
        Ok(())
    }
}

/// Attaches `message`'s files to the message `id` being stored in `tx`,
/// and keeps their view with it (see [`NewMessage::attachments`]).
pub(super) async fn attach(
    tx: &mut sqlx::SqliteConnection,
    id: Uuid,
    message: &NewMessage<'_>,
) -> Result<(), StoreError> {
    if message.attachments.is_empty() {
        return Ok(());
    }
    let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("update files set message_id = ");
    sql.push_bind(id)
        .push(" where conversation_id = ")
        .push_bind(message.conversation_id)
        .push(" and uploader_id = ")
        .push_bind(message.sender_id)
        .push(" and message_id is null and id in (");
    let mut list = sql.separated(", ");
    for file in message.attachments {
        list.push_bind(*file);
    }
    sql.push(format!(") returning {FILE_COLUMNS}"));
    let rows = sql.build().fetch_all(&mut *tx).await?;
    let found = rows
        .iter()
        .map(file_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let files = in_given_order(message.attachments, found)?;
    sqlx::query("update messages set files = ? where id = ?")
        .bind(list_to_text(&files))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
