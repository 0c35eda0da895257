//! [`ExportStore`] on SQLite.

use async_trait::async_trait;
use domain::ChatMessage;
use uuid::Uuid;

use super::conversations::{message_from_row, message_select};
use super::SqliteStore;
use crate::store::export::ExportStore;
use crate::store::StoreError;

#[async_trait]
impl ExportStore for SqliteStore {
    async fn messages_by(
        &self,
        sender_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        // Ids are uuid v7: their order is the order they were sent in.
        let rows = sqlx::query(concat!(
            message_select!(),
            "where m.sender_id = ? and (? is null or m.id > ?) order by m.id limit ?"
        ))
        .bind(sender_id)
        .bind(after)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()?)
    }
}
