//! [`SessionStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::SqliteStore;
use crate::store::sessions::{Pruned, Rotation, Session, SessionStore};
use crate::store::StoreError;

macro_rules! session_columns {
    () => {
        "id, user_id, user_agent, ip_address, created_at, last_used_at, expires_at, revoked_at"
    };
}

fn session_from_row(row: &SqliteRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_agent: row.try_get("user_agent")?,
        ip_address: row.try_get("ip_address")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, s: &Session, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        // Writing first takes SQLite's write lock: disabling the account
        // happens wholly before or after this transaction.
        let created = sqlx::query(
            "insert into sessions (id, user_id, user_agent, ip_address, created_at, last_used_at, expires_at) \
             select ?, id, ?, ?, ?, ?, ? from users where id = ? and disabled_at is null",
        )
        .bind(s.id)
        .bind(&s.user_agent)
        .bind(&s.ip_address)
        .bind(s.created_at)
        .bind(s.last_used_at)
        .bind(s.expires_at)
        .bind(s.user_id)
        .execute(&mut *tx)
        .await?;
        if created.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar("select 1 from users where id = ?")
                .bind(s.user_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::AccountDisabled,
                None => StoreError::NotFound("user"),
            });
        }
        sqlx::query(
            "insert into refresh_tokens (token_hash, session_id, issued_at) values (?, ?, ?)",
        )
        .bind(&token_hash[..])
        .bind(s.id)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        let sql = concat!("select ", session_columns!(), " from sessions where id = ?");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(session_from_row).transpose()?)
    }

    async fn active_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let sql = concat!(
            "select ",
            session_columns!(),
            " from sessions where user_id = ? and revoked_at is null and expires_at > ? \
             order by last_used_at desc"
        );
        let rows = sqlx::query(sql)
            .bind(user_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(session_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn rotate_refresh_token(
        &self,
        presented: &[u8; 32],
        next: &[u8; 32],
        now: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.writer.begin().await?;
        // One statement claims the token: of two concurrent presentations,
        // exactly one sees it unused.
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "update refresh_tokens set used_at = ? where token_hash = ? and used_at is null returning session_id",
        )
        .bind(now)
        .bind(&presented[..])
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match claimed {
            Some(session_id) => {
                sqlx::query("insert into refresh_tokens (token_hash, session_id, issued_at) values (?, ?, ?)")
                    .bind(&next[..])
                    .bind(session_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let sql = concat!(
                    "update sessions set last_used_at = ? where id = ? returning ",
                    session_columns!()
                );
                let row = sqlx::query(sql)
                    .bind(now)
                    .bind(session_id)
                    .fetch_one(&mut *tx)
                    .await?;
                Rotation::Rotated(session_from_row(&row)?)
            }
            None => {
                let used: Option<(Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "select session_id, used_at from refresh_tokens where token_hash = ?",
                )
                .bind(&presented[..])
                .fetch_optional(&mut *tx)
                .await?;
                match used {
                    Some((session_id, Some(used_at))) if used_at >= grace_since => {
                        // Spent a moment ago by a parallel request of the same client.
                        let sql =
                            concat!("select ", session_columns!(), " from sessions where id = ?");
                        let row = sqlx::query(sql)
                            .bind(session_id)
                            .fetch_one(&mut *tx)
                            .await?;
                        Rotation::Raced(session_from_row(&row)?)
                    }
                    Some((session_id, _)) => {
                        let sql = concat!(
                            "update sessions set revoked_at = coalesce(revoked_at, ?) where id = ? returning ",
                            session_columns!()
                        );
                        let row = sqlx::query(sql)
                            .bind(now)
                            .bind(session_id)
                            .fetch_one(&mut *tx)
                            .await?;
                        Rotation::Reused(session_from_row(&row)?)
                    }
                    None => Rotation::Unknown,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "update sessions set revoked_at = ? where id = ? and user_id = ? and revoked_at is null",
        )
        .bind(now)
        .bind(session_id)
        .bind(user_id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_other_sessions(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let revoked = sqlx::query_scalar(
            "update sessions set revoked_at = ? \
             where user_id = ? and revoked_at is null and (? is null or id <> ?) returning id",
        )
        .bind(now)
        .bind(user_id)
        .bind(keep)
        .bind(keep)
        .fetch_all(&self.writer)
        .await?;
        Ok(revoked)
    }

    async fn deny(&self, key: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "insert into revoked_access_tokens (jti, expires_at) values (?, ?) \
             on conflict (jti) do update set expires_at = max(expires_at, excluded.expires_at)",
        )
        .bind(key)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn lift_denial(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("delete from revoked_access_tokens where jti = ?")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn is_denied(&self, keys: &[&str], now: DateTime<Utc>) -> Result<bool, StoreError> {
        if keys.is_empty() {
            return Ok(false);
        }
        // One round trip whatever the number of keys: they travel as a JSON array.
        let keys = serde_json::to_string(keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hit: Option<i64> = sqlx::query_scalar(
            "select 1 from revoked_access_tokens \
             where jti in (select value from json_each(?)) and expires_at > ? limit 1",
        )
        .bind(keys)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(hit.is_some())
    }

    async fn prune_ended(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Pruned, StoreError> {
        let limit = i64::from(limit);
        // A session's refresh tokens first (one per renewal: thousands for a
        // month of use), so that no statement deletes more than `limit`
        // rows through a cascade; then sessions that have none left.
        let refresh_tokens = sqlx::query(
            "delete from refresh_tokens where token_hash in (select r.token_hash \
             from refresh_tokens r join sessions s on s.id = r.session_id \
             where s.expires_at < ?1 or s.revoked_at < ?1 limit ?2)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let sessions = sqlx::query(
            "delete from sessions where id in (select id from sessions s \
             where (expires_at < ?1 or revoked_at < ?1) \
             and not exists (select 1 from refresh_tokens r where r.session_id = s.id) \
             limit ?2)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let tokens = sqlx::query(
            "delete from access_tokens where id in (select id from access_tokens \
             where expires_at < ?1 or revoked_at < ?1 limit ?2)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let denials = sqlx::query(
            "delete from revoked_access_tokens where jti in (select jti from revoked_access_tokens \
             where expires_at < ?1 limit ?2)",
        )
        .bind(now)
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(Pruned {
            sessions,
            refresh_tokens,
            tokens,
            denials,
        })
    }
}
