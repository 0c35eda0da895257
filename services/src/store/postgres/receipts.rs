//! [`ReceiptStore`] on PostgreSQL.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{MemberRole, UserSummary};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::receipts::{MemberPositions, Positions, ReceiptStore};
use crate::store::{count_u32, StoreError};

fn positions_from_row(row: &PgRow) -> Result<Positions, sqlx::Error> {
    Ok(Positions {
        delivered_seq: row.try_get("delivered_seq")?,
        read_seq: row.try_get("read_seq")?,
    })
}

fn member_from_row(row: &PgRow) -> Result<MemberPositions, sqlx::Error> {
    Ok(MemberPositions {
        user: UserSummary {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
        },
        positions: positions_from_row(row)?,
        role: {
            let role: String = row.try_get("role")?;
            MemberRole::from_stored(&role)
                .ok_or_else(|| sqlx::Error::Decode(format!("member role {role:?}").into()))?
        },
    })
}

#[async_trait]
impl ReceiptStore for PgStore {
    async fn mark_delivered(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, StoreError> {
        // The guard in `where` keeps the position monotonic under races.
        let row = sqlx::query(
            "update members m set delivered_seq = least($3, c.last_seq) from conversations c \
             where c.id = $1 and m.conversation_id = $1 and m.user_id = $2 \
             and m.delivered_seq < least($3, c.last_seq) \
             returning m.delivered_seq, m.read_seq",
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(positions_from_row).transpose()?)
    }

    async fn mark_read(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, StoreError> {
        let row = sqlx::query(
            "update members m set read_seq = least($3, c.last_seq), \
             delivered_seq = greatest(m.delivered_seq, least($3, c.last_seq)) from conversations c \
             where c.id = $1 and m.conversation_id = $1 and m.user_id = $2 \
             and m.read_seq < least($3, c.last_seq) \
             returning m.delivered_seq, m.read_seq",
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(positions_from_row).transpose()?)
    }

    async fn member_positions(
        &self,
        conversation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<MemberPositions>, StoreError> {
        let rows = sqlx::query(
            "select u.id, u.username, u.display_name, m.delivered_seq, m.read_seq, m.role \
             from members m join users u on u.id = m.user_id \
             where m.conversation_id = $1 order by lower(u.username) limit $2",
        )
        .bind(conversation_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(member_from_row).collect::<Result<_, _>>()?)
    }

    async fn recipients_of(
        &self,
        conversation_id: Uuid,
        seq: i64,
        except: Uuid,
        limit: u32,
    ) -> Result<Vec<MemberPositions>, StoreError> {
        let rows = sqlx::query(
            "select u.id, u.username, u.display_name, m.delivered_seq, m.read_seq, m.role \
             from members m join users u on u.id = m.user_id \
             where m.conversation_id = $1 and m.user_id <> $2 and m.delivered_seq >= $3 \
             order by lower(u.username) limit $4",
        )
        .bind(conversation_id)
        .bind(except)
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(member_from_row).collect::<Result<_, _>>()?)
    }

    async fn presence_audience(&self, user_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "select c.id from members m join conversations c on c.id = m.conversation_id \
             where m.user_id = $1 and c.kind in ('direct', 'group')",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn members_among(
        &self,
        conversations: &[Uuid],
        users: &[Uuid],
    ) -> Result<HashMap<Uuid, u32>, StoreError> {
        if users.is_empty() || conversations.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(
            "select conversation_id, count(*) as n from members \
             where conversation_id = any($1) and user_id = any($2) group by conversation_id",
        )
        .bind(conversations)
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let n: i64 = row.try_get("n")?;
                Ok((row.try_get("conversation_id")?, count_u32(n)))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn set_last_seen(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("update users set last_seen_at = $1 where id = $2")
            .bind(at)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn last_seen(&self, users: &[Uuid]) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
        let rows = sqlx::query(
            "select id, last_seen_at from users where last_seen_at is not null and id = any($1)",
        )
        .bind(users)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("last_seen_at")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
