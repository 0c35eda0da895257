//! [`IntegrationStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::integrations::{AccessTokenInfo, BotSummary, Scopes, WebhookInfo};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::integrations::{
    IntegrationStore, NewTokenRow, NewWebhookRow, StoredHook, TokenGrant,
};
use crate::store::{classify, user_conflict, StoreError};

const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.username, t.name, t.scopes, t.created_by, \
     t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
     from access_tokens t join users u on u.id = t.user_id";
const BOT_COLUMNS: &str =
    "id, username, display_name, bot_owner, created_at, disabled_at is not null as disabled \
     from users u where is_bot and not webhook_bot";
const HOOK_COLUMNS: &str =
    "id, conversation_id, name, bot_id, creator_id, created_at, rotated_at, secret_hash, url, \
     trigger_word, signing_secret from webhooks";

fn scopes(text: &str) -> Result<Scopes, StoreError> {
    Scopes::from_stored(text).ok_or_else(|| StoreError::Corrupt(format!("token scopes {text:?}")))
}

fn token_from_row(row: &PgRow) -> Result<AccessTokenInfo, StoreError> {
    Ok(AccessTokenInfo {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        scopes: scopes(row.try_get("scopes")?)?.list(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn bot_from_row(row: &PgRow) -> Result<BotSummary, sqlx::Error> {
    Ok(BotSummary {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        owner_id: row.try_get("bot_owner")?,
        created_at: row.try_get("created_at")?,
        disabled: row.try_get("disabled")?,
    })
}

fn hook_from_row(row: &PgRow) -> Result<StoredHook, StoreError> {
    let hash: Vec<u8> = row.try_get("secret_hash")?;
    let hash = <[u8; 32]>::try_from(hash.as_slice())
        .map_err(|_| StoreError::Corrupt("webhook secret hash".into()))?;
    Ok(StoredHook {
        info: WebhookInfo {
            id: row.try_get("id")?,
            conversation_id: row.try_get("conversation_id")?,
            name: row.try_get("name")?,
            bot_id: row.try_get("bot_id")?,
            creator_id: row.try_get("creator_id")?,
            created_at: row.try_get("created_at")?,
            rotated_at: row.try_get("rotated_at")?,
            url: row.try_get("url")?,
            trigger_word: row.try_get("trigger_word")?,
        },
        secret_hash: hash,
        signing_secret: row.try_get("signing_secret")?,
    })
}

#[async_trait]
impl IntegrationStore for PgStore {
    async fn create_bot(
        &self,
        username: &str,
        display_name: &str,
        owner: Uuid,
        created_at: DateTime<Utc>,
    ) -> Result<BotSummary, StoreError> {
        let id = Uuid::now_v7();
        sqlx::query(
            "insert into users (id, username, display_name, created_at, is_bot, bot_owner) \
             values ($1, $2, $3, $4, true, $5)",
        )
        .bind(id)
        .bind(username)
        .bind(display_name)
        .bind(created_at)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, user_conflict, "owner"))?;
        self.bot(id).await?.ok_or(StoreError::NotFound("bot"))
    }

    async fn bots(&self, owner: Option<Uuid>) -> Result<Vec<BotSummary>, StoreError> {
        let sql = format!(
            "select {BOT_COLUMNS} and ($1 is null or bot_owner = $2) order by created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(bot_from_row).collect::<Result<_, _>>()?)
    }

    async fn bot(&self, id: Uuid) -> Result<Option<BotSummary>, StoreError> {
        let sql = format!("select {BOT_COLUMNS} and id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(bot_from_row).transpose()?)
    }

    async fn insert_token(
        &self,
        token: &NewTokenRow<'_>,
        max_live: u32,
    ) -> Result<AccessTokenInfo, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        // The account's row, locked: two creations count one after the
        // other (read committed would let both pass).
        let found: Option<Uuid> =
            sqlx::query_scalar("select id from users where id = $1 for update")
                .bind(token.user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(StoreError::NotFound("user"));
        }
        let done = sqlx::query(
            "insert into access_tokens (id, user_id, name, token_hash, scopes, created_by, \
             created_at, expires_at) \
             select $1, $2, $3, $4, $5, $6, $7, $8 \
             where (select count(*) from access_tokens where user_id = $9 and revoked_at is null \
                    and expires_at > $10) < $11",
        )
        .bind(id)
        .bind(token.user_id)
        .bind(token.name)
        .bind(&token.hash[..])
        .bind(token.scopes.to_stored())
        .bind(token.created_by)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.user_id)
        .bind(token.created_at)
        .bind(i64::from(max_live))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "token", "user"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("token"));
        }
        tx.commit().await?;
        self.token(id).await?.ok_or(StoreError::NotFound("token"))
    }

    async fn tokens(
        &self,
        user_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AccessTokenInfo>, StoreError> {
        let sql = format!(
            "select {TOKEN_COLUMNS} where ($1 is null or t.user_id = $2) \
             order by t.created_at desc, t.id desc limit $3"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(user_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn token(&self, id: Uuid) -> Result<Option<AccessTokenInfo>, StoreError> {
        let sql = format!("select {TOKEN_COLUMNS} where t.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenGrant>, StoreError> {
        let row = sqlx::query(
            "select t.id, t.user_id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, \
             u.disabled_at is not null as disabled \
             from access_tokens t join users u on u.id = t.user_id where t.token_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TokenGrant {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            scopes: scopes(row.try_get("scopes")?)?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            last_used_at: row.try_get("last_used_at")?,
            disabled: row.try_get("disabled")?,
        }))
    }

    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("update access_tokens set last_used_at = $1 where id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_token(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<AccessTokenInfo>, StoreError> {
        sqlx::query("update access_tokens set revoked_at = coalesce(revoked_at, $1) where id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.token(id).await
    }

    async fn create_webhook(
        &self,
        hook: &NewWebhookRow<'_>,
        max: u32,
    ) -> Result<WebhookInfo, StoreError> {
        let id = Uuid::now_v7();
        let bot_id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        // The conversation's row, locked: two creations count one after
        // the other.
        let found: Option<Uuid> =
            sqlx::query_scalar("select id from conversations where id = $1 for update")
                .bind(hook.conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(StoreError::NotFound("conversation"));
        }
        let count: i64 =
            sqlx::query_scalar("select count(*) from webhooks where conversation_id = $1")
                .bind(hook.conversation_id)
                .fetch_one(&mut *tx)
                .await?;
        if count >= i64::from(max) {
            return Err(StoreError::Conflict("webhook"));
        }
        sqlx::query(
            "insert into users (id, username, display_name, created_at, is_bot, bot_owner, \
             webhook_bot) values ($1, $2, $3, $4, true, $5, true)",
        )
        .bind(bot_id)
        .bind(hook.bot_username)
        .bind(hook.name)
        .bind(hook.created_at)
        .bind(hook.creator_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, user_conflict, "user"))?;
        let cap = hook
            .member_cap
            .map_or(i64::MAX, |cap| i64::try_from(cap).unwrap_or(i64::MAX));
        let joined = sqlx::query(
            "insert into members (conversation_id, user_id, role, joined_at) \
             select $1, $2, 'member', $3 \
             where (select count(*) from members where conversation_id = $1) < $4",
        )
        .bind(hook.conversation_id)
        .bind(bot_id)
        .bind(hook.created_at)
        .bind(cap)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "member", "conversation"))?;
        if joined.rows_affected() == 0 {
            return Err(StoreError::Full("conversation"));
        }
        sqlx::query(
            "insert into webhooks (id, conversation_id, bot_id, creator_id, name, secret_hash, \
             created_at, url, trigger_word, signing_secret) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(hook.conversation_id)
        .bind(bot_id)
        .bind(hook.creator_id)
        .bind(hook.name)
        .bind(&hook.secret_hash[..])
        .bind(hook.created_at)
        .bind(hook.outgoing.map(|o| o.url))
        .bind(hook.outgoing.and_then(|o| o.trigger_word))
        .bind(hook.outgoing.map(|o| o.signing_secret))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "webhook", "conversation or user"))?;
        tx.commit().await?;
        Ok(WebhookInfo {
            id,
            conversation_id: hook.conversation_id,
            name: hook.name.to_owned(),
            bot_id,
            creator_id: hook.creator_id,
            created_at: hook.created_at,
            rotated_at: None,
            url: hook.outgoing.map(|o| o.url.to_owned()),
            trigger_word: hook
                .outgoing
                .and_then(|o| o.trigger_word)
                .map(str::to_owned),
        })
    }

    async fn webhooks(&self, conversation_id: Uuid) -> Result<Vec<WebhookInfo>, StoreError> {
        let sql =
            format!("select {HOOK_COLUMNS} where conversation_id = $1 order by created_at, id");
        let rows = sqlx::query(&sql)
            .bind(conversation_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| hook_from_row(row).map(|hook| hook.info))
            .collect()
    }

    async fn webhook(&self, id: Uuid) -> Result<Option<StoredHook>, StoreError> {
        let sql = format!("select {HOOK_COLUMNS} where id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(hook_from_row).transpose()
    }

    async fn rotate_webhook(
        &self,
        id: Uuid,
        secret_hash: &[u8; 32],
        signing_secret: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookInfo>, StoreError> {
        let sql = format!(
            "update webhooks set secret_hash = $1, signing_secret = coalesce($2, signing_secret), \
             rotated_at = $3 where id = $4 returning {}",
            HOOK_COLUMNS.trim_end_matches(" from webhooks")
        );
        let row = sqlx::query(&sql)
            .bind(&secret_hash[..])
            .bind(signing_secret)
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .as_ref()
            .map(hook_from_row)
            .transpose()?
            .map(|hook| hook.info))
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<Option<WebhookInfo>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "delete from webhooks where id = $1 returning {}",
            HOOK_COLUMNS.trim_end_matches(" from webhooks")
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let hook = hook_from_row(&row)?.info;
        sqlx::query("delete from members where conversation_id = $1 and user_id = $2")
            .bind(hook.conversation_id)
            .bind(hook.bot_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("update users set disabled_at = $2 where id = $1 and disabled_at is null")
            .bind(hook.bot_id)
            .bind(chrono::Utc::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(hook))
    }
}
