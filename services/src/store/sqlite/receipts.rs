//! [`ReceiptStore`] on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{MemberRole, UserSummary};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::SqliteStore;
use crate::store::receipts::{MemberPositions, Positions, ReceiptStore};
use crate::store::{count_u32, StoreError};

/// SQLite limits the number of parameters of one statement.
pub(super) const CHUNK: usize = 400;

fn positions_from_row(row: &SqliteRow) -> Result<Positions, sqlx::Error> {
    Ok(Positions {
        delivered_seq: row.try_get("delivered_seq")?,
        read_seq: row.try_get("read_seq")?,
    })
}

fn member_from_row(row: &SqliteRow) -> Result<MemberPositions, sqlx::Error> {
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

pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[async_trait]
impl ReceiptStore for SqliteStore {
    async fn mark_delivered(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, StoreError> {
        // The guard in `where` keeps the position monotonic under races.
        let row = sqlx::query(
            "update members set delivered_seq = min(?, (select last_seq from conversations where id = ?)) \
             where conversation_id = ? and user_id = ? \
             and delivered_seq < min(?, (select last_seq from conversations where id = ?)) \
             returning delivered_seq, read_seq",
        )
        .bind(seq)
        .bind(conversation_id)
        .bind(conversation_id)
        .bind(user_id)
        .bind(seq)
        .bind(conversation_id)
        .fetch_optional(&self.writer)
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
            "update members set \
             read_seq = min(?, (select last_seq from conversations where id = ?)), \
             delivered_seq = max(delivered_seq, min(?, (select last_seq from conversations where id = ?))) \
             where conversation_id = ? and user_id = ? \
             and read_seq < min(?, (select last_seq from conversations where id = ?)) \
             returning delivered_seq, read_seq",
        )
        .bind(seq)
        .bind(conversation_id)
        .bind(seq)
        .bind(conversation_id)
        .bind(conversation_id)
        .bind(user_id)
        .bind(seq)
        .bind(conversation_id)
        .fetch_optional(&self.writer)
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
             where m.conversation_id = ? order by lower(u.username) limit ?",
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
             where m.conversation_id = ? and m.user_id <> ? and m.delivered_seq >= ? \
             order by lower(u.username) limit ?",
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
             where m.user_id = ? and c.kind in ('direct', 'group')",
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
        let mut counts = HashMap::new();
        if users.is_empty() {
            return Ok(counts);
        }
        for conversation_chunk in conversations.chunks(CHUNK / 4) {
            for user_chunk in users.chunks(CHUNK) {
                let sql = format!(
                    "select conversation_id, count(*) as n from members \
                     where conversation_id in ({}) and user_id in ({}) group by conversation_id",
                    placeholders(conversation_chunk.len()),
                    placeholders(user_chunk.len()),
                );
                let mut query = sqlx::query(&sql);
                for id in conversation_chunk.iter().chain(user_chunk) {
                    query = query.bind(id);
                }
                for row in query.fetch_all(&self.pool).await? {
                    let n: i64 = row.try_get("n")?;
                    *counts.entry(row.try_get("conversation_id")?).or_insert(0) += count_u32(n);
                }
            }
        }
        Ok(counts)
    }

    async fn set_last_seen(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("update users set last_seen_at = ? where id = ?")
            .bind(at)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn last_seen(&self, users: &[Uuid]) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
        let mut seen = HashMap::new();
        for chunk in users.chunks(CHUNK) {
            let sql = format!(
                "select id, last_seen_at from users where last_seen_at is not null and id in ({})",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                seen.insert(row.try_get("id")?, row.try_get("last_seen_at")?);
            }
        }
        Ok(seen)
    }
}
