//! [`FileRecordStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::files::FileInfo;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::files::{in_given_order, FileRecordStore, FILE_COLUMNS};
use crate::store::StoreError;
use crate::store::{list_to_text, NewMessage};

pub(super) fn file_from_row(row: &PgRow) -> Result<FileInfo, sqlx::Error> {
    let size: i64 = row.try_get("size")?;
    let width: Option<i32> = row.try_get("width")?;
    let height: Option<i32> = row.try_get("height")?;
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
impl FileRecordStore for PgStore {
    async fn insert_file(&self, file: &FileInfo, quota: Option<u64>) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if quota.is_some() {
            // One upload of this person's at a time past this point (the
            // lock ends with the transaction).
            sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text, 7))")
                .bind(file.uploader_id)
                .execute(&mut *tx)
                .await?;
        }
        let size = i64::try_from(file.size).unwrap_or(i64::MAX);
        let inserted = sqlx::query(&format!(
            "insert into files ({FILE_COLUMNS}) select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             where $13::bigint is null \
             or (select coalesce(sum(size), 0) from files where uploader_id = $3) + $7 <= $13"
        ))
        .bind(file.id)
        .bind(file.conversation_id)
        .bind(file.uploader_id)
        .bind(file.message_id)
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(size)
        .bind(&file.sha256)
        .bind(file.width.and_then(|w| i32::try_from(w).ok()))
        .bind(file.height.and_then(|h| i32::try_from(h).ok()))
        .bind(file.inline)
        .bind(file.created_at)
        .bind(quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX)))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted == 1)
    }

    async fn file(&self, id: Uuid) -> Result<Option<FileInfo>, StoreError> {
        let row = sqlx::query(&format!("select {FILE_COLUMNS} from files where id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(file_from_row).transpose()?)
    }

    async fn uploaded_bytes(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let total: i64 = sqlx::query_scalar(
            "select coalesce(sum(size), 0)::bigint from files where uploader_id = $1",
        )
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
            // The outer conditions again: a row attached meanwhile is
            // checked anew after its lock (read committed), and kept.
            "delete from files where id in (select id from files \
             where message_id is null and created_at < $1 order by created_at limit $2) \
             and message_id is null and created_at < $1",
        )
        .bind(before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    async fn file_removals(&self, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "select file_id from file_removals order by removed_at, file_id limit $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn postpone_removals(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        sqlx::query("update file_removals set removed_at = now() where file_id = any($1)")
            .bind(ids)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn discard_file(&self, id: Uuid, uploader_id: Uuid) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "delete from files where id = $1 and uploader_id = $2 and message_id is null",
        )
        .bind(id)
        .bind(uploader_id)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn forget_removals(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        sqlx::query("delete from file_removals where file_id = any($1)")
            .bind(ids)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Attaches `message`'s files to the message `id` being stored in `tx`,
/// and keeps their view with it (see [`NewMessage::attachments`]).
pub(super) async fn attach(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    message: &NewMessage<'_>,
) -> Result<(), StoreError> {
    if message.attachments.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(&format!(
        "update files set message_id = $1 where conversation_id = $2 and uploader_id = $3 \
         and message_id is null and id = any($4) returning {FILE_COLUMNS}"
    ))
    .bind(id)
    .bind(message.conversation_id)
    .bind(message.sender_id)
    .bind(message.attachments)
    .fetch_all(&mut *tx)
    .await?;
    let found = rows
        .iter()
        .map(file_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let files = in_given_order(message.attachments, found)?;
    sqlx::query("update messages set files = $1 where id = $2")
        .bind(list_to_text(&files))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
