//! The PostgreSQL store, for production and for several server processes.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{MemberRole, RoomSummary};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use uuid::Uuid;

macro_rules! user_columns {
    () => {
        user_columns!("")
    };
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "username, ",
            $p,
            "email, ",
            $p,
            "display_name, ",
            $p,
            "avatar_url, ",
            $p,
            "created_at, ",
            $p,
            "is_admin, ",
            $p,
            "disabled_at, ",
            $p,
            "is_bot"
        )
    };
}

mod accounts;
mod audit;
mod batch;
mod changes;
mod conversations;
mod deliveries;
mod export;
mod files;
mod identities;
mod integrations;
mod mentions;
mod notify;
mod receipts;
mod rooms;
mod search;
pub use search::SearchWindows;
mod sessions;

use super::{
    classify, count_u32, findable, user_conflict, Admission, Backend, NewUser, Profile, Store,
    StoreError, User,
};

/// A store in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    search_windows: SearchWindows,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool,
            search_windows: SearchWindows::default(),
        })
    }

    /// Its connections (for the migration from SQLite).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The same store, searching with other windows (tests, tuning).
    pub fn with_search_windows(self, search_windows: SearchWindows) -> Self {
        Self {
            search_windows,
            ..self
        }
    }
}

fn user_from_row(row: &PgRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        avatar_url: row.try_get("avatar_url")?,
        created_at: row.try_get("created_at")?,
        is_admin: row.try_get("is_admin")?,
        disabled_at: row.try_get("disabled_at")?,
        is_bot: row.try_get("is_bot")?,
    })
}

/// The advisory lock that serializes the creation of an installation's
/// first account (any fixed number; "ChatSph" in ASCII).
const FIRST_ACCOUNT_LOCK: i64 = 0x0043_6861_7453_7068;

/// Inserts a user (with its email marked verified or not) in `tx`, which
/// must not have run any statement yet, and returns it.
///
/// The first account becomes an admin, race-free: while the table looks
/// empty, creators take a transaction-scoped advisory lock, so they insert
/// one after the other; at read committed (set here whatever the server's
/// default) each insert's `not exists` is a new snapshot that sees the
/// account a previous lock holder committed. Once a user exists the probe
/// says so and no lock is taken.
async fn insert_user(
    tx: &mut sqlx::PgConnection,
    user: &NewUser,
    email_verified: bool,
) -> Result<User, StoreError> {
    sqlx::query("set transaction isolation level read committed")
        .execute(&mut *tx)
        .await?;
    let any: bool = sqlx::query_scalar("select exists (select 1 from users)")
        .fetch_one(&mut *tx)
        .await?;
    if !any {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(FIRST_ACCOUNT_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    let sql = concat!(
        "insert into users (id, username, email, email_verified, display_name, password_hash, \
         created_at, is_admin) \
         select $1, $2, $3, $4, $5, $6, $7, not exists (select 1 from users) returning ",
        user_columns!()
    );
    let row = sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(user.username.as_str())
        .bind(user.email.as_ref().map(|e| e.as_str()))
        .bind(email_verified)
        .bind(user.display_name.as_str())
        .bind(user.password_hash.as_deref())
        .bind(Utc::now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| classify(e, user_conflict, "user"))?;
    Ok(user_from_row(&row)?)
}

fn room_from_row(row: &PgRow) -> Result<RoomSummary, sqlx::Error> {
    Ok(RoomSummary {
        id: row.try_get("id")?,
        name: row
            .try_get::<Option<String>, _>("name")?
            .unwrap_or_default(),
        topic: row.try_get("topic")?,
        member_count: count_u32(row.try_get("member_count")?),
        online_count: 0,
    })
}

macro_rules! public_rooms {
    () => {
        "select c.id, c.name, c.topic, count(m.user_id) as member_count \
         from conversations c left join members m on m.conversation_id = c.id \
         where c.kind = 'room' and c.is_public"
    };
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_status(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let created = insert_user(&mut tx, user, false).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let sql = concat!("select ", user_columns!(), " from users where id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn credentials_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        if !findable(login) {
            return Ok(None);
        }
        let sql = if login.contains('@') {
            concat!(
                "select ",
                user_columns!(),
                ", password_hash from users where lower(email) = lower($1)"
            )
        } else {
            concat!(
                "select ",
                user_columns!(),
                ", password_hash from users where lower(username) = lower($1)"
            )
        };
        let row = sqlx::query(sql)
            .bind(login.trim())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((user_from_row(&row)?, row.try_get("password_hash")?)))
    }

    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> =
            sqlx::query_scalar("select password_hash from users where id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("update users set password_hash = $1 where id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn update_profile(&self, user_id: Uuid, profile: &Profile) -> Result<User, StoreError> {
        let sql = concat!(
            "update users set display_name = $1, avatar_url = $2, \
             email_verified = case when lower(coalesce(email, '')) = lower(coalesce($3, '')) \
             then email_verified else false end, email = $3 where id = $4 returning ",
            user_columns!()
        );
        let email = profile.email.as_ref().map(|e| e.as_str());
        let query = sqlx::query(sql)
            .bind(profile.display_name.as_str())
            .bind(profile.avatar_url.as_deref())
            .bind(email);

        let row = query
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| classify(e, user_conflict, "user"))?;
        let row = row.ok_or(StoreError::NotFound("user"))?;
        Ok(user_from_row(&row)?)
    }

    async fn list_public_rooms(&self) -> Result<Vec<RoomSummary>, StoreError> {
        let sql = concat!(
            public_rooms!(),
            " group by c.id, c.name, c.topic order by lower(c.name)"
        );
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(room_from_row).collect::<Result<_, _>>()?)
    }

    async fn public_room_by_name(&self, name: &str) -> Result<Option<RoomSummary>, StoreError> {
        if !findable(name) {
            return Ok(None);
        }
        let sql = concat!(
            public_rooms!(),
            " and lower(c.name) = lower($1) group by c.id, c.name, c.topic"
        );
        let row = sqlx::query(sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(room_from_row).transpose()?)
    }

    async fn add_member(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        role: MemberRole,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "insert into members (conversation_id, user_id, role, joined_at) values ($1, $2, $3, $4) \
             on conflict (conversation_id, user_id) do nothing",
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(|e| classify(e, |_| "member", "conversation or user"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_member_within(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        role: MemberRole,
        cap: usize,
    ) -> Result<Admission, StoreError> {
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        // The conversation's row, locked: adds to one conversation count
        // one after the other.
        let found: Option<Uuid> =
            sqlx::query_scalar("select id from conversations where id = $1 for update")
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(StoreError::NotFound("conversation"));
        }
        let done = sqlx::query(
            "insert into members (conversation_id, user_id, role, joined_at) \
             select $1, $2, $3, $4 \
             where (select count(*) from members where conversation_id = $1) < $5 \
             on conflict (conversation_id, user_id) do nothing",
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(Utc::now())
        .bind(cap)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify(e, |_| "member", "conversation or user"))?;
        let admission = if done.rows_affected() == 1 {
            Admission::Added
        } else {
            let member: Option<i32> = sqlx::query_scalar(
                "select 1 from members where conversation_id = $1 and user_id = $2",
            )
            .bind(conversation_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if member.is_some() {
                Admission::AlreadyMember
            } else {
                Admission::Full
            }
        };
        tx.commit().await?;
        Ok(admission)
    }
}
