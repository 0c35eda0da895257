//! [`SessionStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::sessions::{Pruned, Rotation, Session, SessionStore};
use crate::store::StoreError;

macro_rules! session_columns {
    () => {
        "id, user_id, user_agent, ip_address, created_at, last_used_at, expires_at, revoked_at"
    };
}

fn session_from_row(row: &PgRow) -> Result<Session, sqlx::Error> {
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
impl SessionStore for PgStore {
    async fn create_session(&self, s: &Session, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // `for share` holds the user row until commit: disabling the account
        // (an update of that row) waits for this session to exist, or this
        // insert waits for the update and then finds the account disabled.
        let created = sqlx::query(
            "insert into sessions (id, user_id, user_agent, ip_address, created_at, last_used_at, expires_at) \
             select $1, id, $2, $3, $4, $5, $6 from users where id = $7 and disabled_at is null for share",
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
            let exists: Option<i32> = sqlx::query_scalar("select 1 from users where id = $1")
                .bind(s.user_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::AccountDisabled,
                None => StoreError::NotFound("user"),
            });
        }
        sqlx::query(
            "insert into refresh_tokens (token_hash, session_id, issued_at) values ($1, $2, $3)",
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
        let sql = concat!(
            "select ",
            session_columns!(),
            " from sessions where id = $1"
        );
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
            " from sessions where user_id = $1 and revoked_at is null and expires_at > $2 \
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
        let mut tx = self.pool.begin().await?;
        // One statement claims the token: of two concurrent presentations,
        // exactly one sees it unused.
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "update refresh_tokens set used_at = $1 where token_hash = $2 and used_at is null returning session_id",
        )
        .bind(now)
        .bind(&presented[..])
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match claimed {
            Some(session_id) => {
                sqlx::query("insert into refresh_tokens (token_hash, session_id, issued_at) values ($1, $2, $3)")
                    .bind(&next[..])
                    .bind(session_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let sql = concat!(
                    "update sessions set last_used_at = $1 where id = $2 returning ",
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
                    "select session_id, used_at from refresh_tokens where token_hash = $1",
                )
                .bind(&presented[..])
                .fetch_optional(&mut *tx)
                .await?;
                match used {
                    Some((session_id, Some(used_at))) if used_at >= grace_since => {
                        // Spent a moment ago by a parallel request of the same client.
                        let sql = concat!(
                            "select ",
                            session_columns!(),
                            " from sessions where id = $1"
                        );
                        // (Gone if the sweep forgot it meanwhile.)
                        match sqlx::query(sql)
                            .bind(session_id)
                            .fetch_optional(&mut *tx)
                            .await?
                        {
                            Some(row) => Rotation::Raced(session_from_row(&row)?),
                            None => Rotation::Unknown,
                        }
                    }
                    Some((session_id, _)) => {
                        let sql = concat!(
                            "update sessions set revoked_at = coalesce(revoked_at, $1) where id = $2 returning ",
                            session_columns!()
                        );
                        match sqlx::query(sql)
                            .bind(now)
                            .bind(session_id)
                            .fetch_optional(&mut *tx)
                            .await?
                        {
                            Some(row) => Rotation::Reused(session_from_row(&row)?),
                            None => Rotation::Unknown,
                        }
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
            "update sessions set revoked_at = $1 where id = $2 and user_id = $3 and revoked_at is null",
        )
        .bind(now)
        .bind(session_id)
        .bind(user_id)
        .execute(&self.pool)
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
            "update sessions set revoked_at = $1 \
             where user_id = $2 and revoked_at is null and ($3::uuid is null or id <> $3) returning id",
        )
        .bind(now)
        .bind(user_id)
        .bind(keep)
        .fetch_all(&self.pool)
        .await?;
        Ok(revoked)
    }

    async fn deny(&self, key: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "insert into revoked_access_tokens (jti, expires_at) values ($1, $2) \
             on conflict (jti) do update set expires_at = greatest(revoked_access_tokens.expires_at, excluded.expires_at)",
        )
        .bind(key)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn lift_denial(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("delete from revoked_access_tokens where jti = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn is_denied(&self, keys: &[&str], now: DateTime<Utc>) -> Result<bool, StoreError> {
        if keys.is_empty() {
            return Ok(false);
        }
        // One round trip whatever the number of keys: they travel as an array.
        let hit: Option<i32> = sqlx::query_scalar(
            "select 1 from revoked_access_tokens where jti = any($1) and expires_at > $2 limit 1",
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
             where s.expires_at < $1 or s.revoked_at < $1 limit $2 for update of r skip locked)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let sessions = sqlx::query(
            "delete from sessions where id in (select id from sessions s \
             where (expires_at < $1 or revoked_at < $1) \
             and not exists (select 1 from refresh_tokens r where r.session_id = s.id) \
             limit $2 for update skip locked)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let tokens = sqlx::query(
            "delete from access_tokens where id in (select id from access_tokens \
             where expires_at < $1 or revoked_at < $1 limit $2 for update skip locked)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let denials = sqlx::query(
            "delete from revoked_access_tokens where jti in (select jti from revoked_access_tokens \
             where expires_at < $1 limit $2 for update skip locked)",
        )
        .bind(now)
        .bind(limit)
        .execute(&self.pool)
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
