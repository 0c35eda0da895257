//! [`AccountStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{AccountSummary, UserStats};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::accounts::AccountStore;
use crate::store::{count_u32, findable, like_pattern, StoreError};

macro_rules! account_columns {
    () => {
        "id, username, display_name, email, is_admin, disabled_at, created_at, last_seen_at"
    };
}

fn account_from_row(row: &PgRow) -> Result<AccountSummary, sqlx::Error> {
    Ok(AccountSummary {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        is_admin: row.try_get("is_admin")?,
        disabled_at: row.try_get("disabled_at")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    })
}

impl PgStore {
    /// The outcome of an update that matched `row` when it changed something:
    /// the account and `true`, else the account as it is and `false`.
    async fn changed_or_current(
        &self,
        user_id: Uuid,
        row: Option<PgRow>,
    ) -> Result<(AccountSummary, bool), StoreError> {
        if let Some(row) = row {
            return Ok((account_from_row(&row)?, true));
        }
        let sql = concat!("select ", account_columns!(), " from users where id = $1");
        let row = sqlx::query(sql)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok((account_from_row(&row)?, false))
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn accounts(&self, search: &str, limit: u32) -> Result<Vec<AccountSummary>, StoreError> {
        if !findable(search) {
            return Ok(Vec::new());
        }
        let pattern = like_pattern(search);
        let sql = concat!(
            "select ",
            account_columns!(),
            " from users where lower(username) like lower($1) escape '\\' \
             or lower(display_name) like lower($1) escape '\\' \
             or lower(coalesce(email, '')) like lower($1) escape '\\' \
             order by lower(username) limit $2"
        );
        let rows = sqlx::query(sql)
            .bind(&pattern)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(account_from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn account_stats(&self, seen_since: DateTime<Utc>) -> Result<UserStats, StoreError> {
        let row = sqlx::query(
            "select count(*) as total, count(*) filter (where is_admin) as admins, \
             count(*) filter (where disabled_at is not null) as disabled, \
             count(*) filter (where last_seen_at >= $1) as active from users",
        )
        .bind(seen_since)
        .fetch_one(&self.pool)
        .await?;
        Ok(UserStats {
            total: count_u32(row.try_get("total")?),
            admins: count_u32(row.try_get("admins")?),
            disabled: count_u32(row.try_get("disabled")?),
            active_last_7_days: count_u32(row.try_get("active")?),
        })
    }

    async fn set_user_admin(
        &self,
        user_id: Uuid,
        is_admin: bool,
    ) -> Result<(AccountSummary, bool), StoreError> {
        let sql = concat!(
            "update users set is_admin = $1 where id = $2 and is_admin <> $1 returning ",
            account_columns!()
        );
        let row = sqlx::query(sql)
            .bind(is_admin)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        self.changed_or_current(user_id, row).await
    }

    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<(AccountSummary, bool), StoreError> {
        let sql = match disabled_at {
            Some(_) => concat!(
                "update users set disabled_at = $1 where id = $2 and disabled_at is null returning ",
                account_columns!()
            ),
            None => concat!(
                "update users set disabled_at = $1 where id = $2 and disabled_at is not null returning ",
                account_columns!()
            ),
        };
        let row = sqlx::query(sql)
            .bind(disabled_at)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        self.changed_or_current(user_id, row).await
    }

    async fn promote_admins(
        &self,
        usernames: &[String],
    ) -> Result<Vec<AccountSummary>, StoreError> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let sql = concat!(
            "update users set is_admin = true where not is_admin \
             and lower(username) in (select lower(name) from unnest($1::text[]) as name) returning ",
            account_columns!()
        );
        let rows = sqlx::query(sql)
            .bind(usernames)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(account_from_row)
            .collect::<Result<_, _>>()?)
    }
}
