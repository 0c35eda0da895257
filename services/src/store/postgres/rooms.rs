//! [`RoomStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::Utc;
use domain::RoomSummary;
use uuid::Uuid;

use super::{room_from_row, PgStore};
use crate::store::rooms::RoomStore;
use crate::store::{classify, StoreError};

/// Narrows a statement to public rooms.
const PUBLIC_ROOM: &str = "kind = 'room' and is_public";

impl PgStore {
    /// A public room by id, with its member count.
    async fn room_by_id(
        &self,
        conn: &mut sqlx::PgConnection,
        room_id: Uuid,
    ) -> Result<RoomSummary, StoreError> {
        let sql = format!(
            "select id, name, topic, \
             (select count(*) from members m where m.conversation_id = c.id) as member_count \
             from conversations c where id = $1 and {PUBLIC_ROOM}"
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
impl RoomStore for PgStore {
    async fn create_room(
        &self,
        creator: Uuid,
        name: &str,
        topic: &str,
    ) -> Result<RoomSummary, StoreError> {
        let id = Uuid::now_v7();
        sqlx::query(
            "insert into conversations (id, kind, name, topic, is_public, created_by, created_at) \
             values ($1, 'room', $2, $3, true, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(topic)
        .bind(creator)
        .bind(Utc::now())
        .execute(&self.pool)
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
        let mut tx = self.pool.begin().await?;
        let sql = format!("update conversations set topic = $1 where id = $2 and {PUBLIC_ROOM}");
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
        let mut tx = self.pool.begin().await?;
        // Locked first: a concurrent join waits, then finds the room gone.
        let sql =
            format!("select id from conversations where id = $1 and {PUBLIC_ROOM} for update");
        let found: Option<Uuid> = sqlx::query_scalar(&sql)
            .bind(room_id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound("room"));
        }
        let mut members: Vec<Uuid> =
            sqlx::query_scalar("delete from members where conversation_id = $1 returning user_id")
                .bind(room_id)
                .fetch_all(&mut *tx)
                .await?;
        // Its messages go with it (on delete cascade).
        sqlx::query("delete from conversations where id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        members.sort_unstable();
        Ok(members)
    }
}
