//! [`RoomStore`] on SQLite.

use async_trait::async_trait;
use chrono::Utc;
use domain::RoomSummary;
use uuid::Uuid;

use super::{room_from_row, SqliteStore};
use crate::store::rooms::RoomStore;
use crate::store::{classify, StoreError};

/// Narrows a statement to public rooms.
const PUBLIC_ROOM: &str = "kind = 'room' and is_public = 1";

impl SqliteStore {
    /// A public room by id, with its member count.
    async fn room_by_id(
        &self,
        conn: &mut sqlx::SqliteConnection,
        room_id: Uuid,
    ) -> Result<RoomSummary, StoreError> {
        let sql = format!(
            "select id, name, topic, \
             (select count(*) from members m where m.conversation_id = c.id) as member_count \
             from conversations c where id = ? and {PUBLIC_ROOM}"
        );
        let row = sqlx::query(&sql)
            .bind(room_id)
            .fetch_optional(conn)
            .await?
            .ok_or(StoreError::NotFound("room"))?;
        Ok(room_from_row(&row)?)
    }
}

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(
        &self,
        creator: Uuid,
        name: &str,
        topic: &str,
    ) -> Result<RoomSummary, StoreError> {
        let id = Uuid::now_v7();
        sqlx::query(
            "insert into conversations (id, kind, name, topic, is_public, created_by, created_at) \
             values (?, 'room', ?, ?, 1, ?, ?)",
        )
        .bind(id)
        .bind(name)
        .bind(topic)
        .bind(creator)
        .bind(Utc::now())
        .execute(&self.writer)
        .await
        .map_err(|e| classify(e, |_| "room name", "user"))?;
        Ok(RoomSummary {
            id,
            name: name.to_owned(),
            topic: topic.to_owned(),
            member_count: 0,
            online_count: 0,
        })
    }

    async fn set_room_topic(&self, room_id: Uuid, topic: &str) -> Result<RoomSummary, StoreError> {
        let mut tx = self.writer.begin().await?;
        let sql = format!("update conversations set topic = ? where id = ? and {PUBLIC_ROOM}");
        let done = sqlx::query(&sql)
            .bind(topic)
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("room"));
        }
        let room = self.room_by_id(&mut tx, room_id).await?;
        tx.commit().await?;
        Ok(room)
    }

    async fn delete_room(&self, room_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let mut tx = self.writer.begin().await?;
        // A write first, so the transaction holds the write lock from the
        // start (a read upgraded later could fail instead of waiting).
        let sql = format!("update conversations set topic = topic where id = ? and {PUBLIC_ROOM}");
        let found = sqlx::query(&sql).bind(room_id).execute(&mut *tx).await?;
        if found.rows_affected() == 0 {
            return Err(StoreError::NotFound("room"));
        }
        let mut members: Vec<Uuid> =
            sqlx::query_scalar("delete from members where conversation_id = ? returning user_id")
                .bind(room_id)
                .fetch_all(&mut *tx)
                .await?;
        // Its messages go with it (on delete cascade).
        sqlx::query("delete from conversations where id = ?")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        members.sort_unstable();
        Ok(members)
    }
}
