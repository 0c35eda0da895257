//! [`IdentityStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{insert_user, user_from_row, SqliteStore};
use crate::store::identities::{IdentityStore, PendingLogin};
use crate::store::{classify, NewUser, StoreError, User};

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn save_pending_login(&self, login: &PendingLogin) -> Result<(), StoreError> {
        sqlx::query(
            "insert into oauth_logins (state_hash, provider, pkce_verifier, nonce, next_path, expires_at) \
             values (?, ?, ?, ?, ?, ?)",
        )
        .bind(&login.state_hash[..])
        .bind(&login.provider)
        .bind(&login.pkce_verifier)
        .bind(&login.nonce)
        .bind(&login.next)
        .bind(login.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn take_pending_login(
        &self,
        state_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>, StoreError> {
        sqlx::query("delete from oauth_logins where expires_at <= ?")
            .bind(now)
            .execute(&self.writer)
            .await?;
        let row = sqlx::query(
            "delete from oauth_logins where state_hash = ? and expires_at > ? \
             returning provider, pkce_verifier, nonce, next_path, expires_at",
        )
        .bind(&state_hash[..])
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PendingLogin {
            state_hash: *state_hash,
            provider: row.try_get("provider")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            nonce: row.try_get("nonce")?,
            next: row.try_get("next_path")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        provider: &str,
        subject: &str,
    ) -> Result<User, StoreError> {
        let mut tx = self.writer.begin().await?;
        let email = user.email.as_ref().map(|e| e.as_str());
        let created = insert_user(&mut tx, user, email.is_some()).await?;
        sqlx::query(
            "insert into external_identities (provider, subject, user_id, email, created_at) \
             values (?, ?, ?, ?, ?)",
        )
        .bind(provider)
        .bind(subject)
        .bind(created.id)
        .bind(email)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "identity", "user"))?;
        tx.commit().await?;
        Ok(created)
    }

    async fn user_by_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = concat!(
            "select ",
            user_columns!("u."),
            " from external_identities i join users u on u.id = i.user_id \
             where i.provider = ? and i.subject = ?"
        );
        let row = sqlx::query(sql)
            .bind(provider)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_verified_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = concat!(
            "select ",
            user_columns!(),
            " from users where lower(email) = lower(?) and email_verified = 1"
        );
        let row = sqlx::query(sql)
            .bind(email.trim())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "insert into external_identities (provider, subject, user_id, email, created_at) \
             values (?, ?, ?, ?, ?)",
        )
        .bind(provider)
        .bind(subject)
        .bind(user_id)
        .bind(email)
        .bind(Utc::now())
        .execute(&self.writer)
        .await
        .map_err(|e| classify(e, |_| "identity", "user"))?;
        Ok(())
    }
}
