//! The embedded SQLite store: the default, needing no other service.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{MemberRole, RoomSummary};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
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
mod sessions;

use super::{
    classify, count_u32, findable, user_conflict, Admission, Backend, NewUser, Profile, Store,
    StoreError, User,
};

/// A store in one SQLite file, in WAL mode with foreign keys enforced.
///
/// SQLite lets one connection write at a time. Writes go through a pool of
/// one connection, so concurrent writers queue in order; on a shared pool
/// they would meet SQLite's busy handler, which sleeps and retries (waits of
/// up to 100 ms: with ten senders in step, p99 send → ack was 81 ms, with
/// the queue 22 ms; measured with the fan-out bench of the time, senders in
/// step, since replaced by `cargo bench -p server --bench load`).
/// Reads use their own pool and, in WAL mode, never wait for the writer.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Reading connections.
    pool: SqlitePool,
    /// The writing connection (the same pool as `pool` for an in-memory
    /// database, which exists per connection and so must be the only one,
    /// kept open for the life of the process).
    writer: SqlitePool,
    /// Whether `pool` is its own pool (a file) rather than `writer`.
    separate_readers: bool,
    /// A checkpoint after a deletion is waiting to run.
    checkpoint_due: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SqliteStore {
    /// The reading connections (for the migration to PostgreSQL).
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating if missing) the database at `url` (`sqlite://path/to/file.db`)
    /// and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if let Some(dir) = file_path(url).and_then(|p| p.parent().map(ToOwned::to_owned)) {
            if !dir.as_os_str().is_empty() {
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // A deleted message's text is overwritten in the file, not just
            // unlinked (a tombstone must not leave the body readable on disk).
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(5));
        let separate_readers = file_path(url).is_some();
        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5));
        if !separate_readers {
            // `sqlite::memory:`: closing the connection (idle for 10 minutes,
            // or 30 minutes old: the pool's defaults) would drop every table
            // and message with it.
            writer = writer
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let writer = writer.connect_with(options.clone()).await?;
        sqlx::migrate!("../migrations/sqlite").run(&writer).await?;
        let pool = if separate_readers {
            SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?
        } else {
            writer.clone()
        };
        Ok(Self {
            pool,
            writer,
            separate_readers,
            checkpoint_due: Default::default(),
        })
    }
}

/// The file path in an `sqlite:` URL, or `None` for an in-memory database.
fn file_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

fn user_from_row(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        avatar_url: row.try_get("avatar_url")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
        is_admin: row.try_get("is_admin")?,
        disabled_at: row.try_get("disabled_at")?,
        is_bot: row.try_get("is_bot")?,
    })
}

/// Inserts a user (with its email marked verified or not) and returns it.
/// One statement decides whether it is the first account, which becomes an
/// admin: SQLite runs one writing statement at a time, so of two concurrent
/// first registrations only one finds the table empty.
async fn insert_user(
    conn: &mut sqlx::SqliteConnection,
    user: &NewUser,
    email_verified: bool,
) -> Result<User, StoreError> {
    let sql = concat!(
        "insert into users (id, username, email, email_verified, display_name, password_hash, \
         created_at, is_admin) \
         select ?, ?, ?, ?, ?, ?, ?, not exists (select 1 from users) returning ",
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
        .fetch_one(conn)
        .await
        .map_err(|e| classify(e, user_conflict, "user"))?;
    Ok(user_from_row(&row)?)
}

fn room_from_row(row: &SqliteRow) -> Result<RoomSummary, sqlx::Error> {
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
         where c.kind = 'room' and c.is_public = 1"
    };
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    fn pool_status(&self) -> (u32, usize) {
        let (size, idle) = (self.writer.size(), self.writer.num_idle());
        if !self.separate_readers {
            return (size, idle);
        }
        (self.pool.size() + size, self.pool.num_idle() + idle)
    }

    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let mut conn = self.writer.acquire().await?;
        insert_user(&mut conn, user, false).await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let sql = concat!("select ", user_columns!(), " from users where id = ?");
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
                ", password_hash from users where lower(email) = lower(?)"
            )
        } else {
            concat!(
                "select ",
                user_columns!(),
                ", password_hash from users where lower(username) = lower(?)"
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
            sqlx::query_scalar("select password_hash from users where id = ?")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("update users set password_hash = ? where id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn update_profile(&self, user_id: Uuid, profile: &Profile) -> Result<User, StoreError> {
        let sql = concat!(
            "update users set display_name = ?, avatar_url = ?, \
             email_verified = case when lower(coalesce(email, '')) = lower(coalesce(?, '')) \
             then email_verified else 0 end, email = ? where id = ? returning ",
            user_columns!()
        );
        let email = profile.email.as_ref().map(|e| e.as_str());
        let query = sqlx::query(sql)
            .bind(profile.display_name.as_str())
            .bind(profile.avatar_url.as_deref())
            .bind(email);
        let query = query.bind(email);
        let row = query
            .bind(user_id)
            .fetch_optional(&self.writer)
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
            " and lower(c.name) = lower(?) group by c.id, c.name, c.topic"
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
            "insert into members (conversation_id, user_id, role, joined_at) values (?, ?, ?, ?) \
             on conflict (conversation_id, user_id) do nothing",
        )
        .bind(conversation_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(Utc::now())
        .execute(&self.writer)
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
        // On the one writer connection: the count and the insert see the
        // same members.
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "insert into members (conversation_id, user_id, role, joined_at) \
             select ?1, ?2, ?3, ?4 \
             where (select count(*) from members where conversation_id = ?1) < ?5 \
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
                "select 1 from members where conversation_id = ?1 and user_id = ?2",
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

#[cfg(test)]
mod tests {
    use super::{file_path, SqliteStore};
    use crate::store::{NewUser, Store as _};

    #[tokio::test]
    async fn an_in_memory_database_keeps_its_one_connection_open() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let options = store.writer.options();
        assert_eq!(options.get_max_connections(), 1);
        assert_eq!(options.get_min_connections(), 1);
        assert_eq!(options.get_idle_timeout(), None, "never closed when idle");
        assert_eq!(options.get_max_lifetime(), None, "never recycled");
        assert!(!store.separate_readers);
        let user = store
            .create_user(&NewUser {
                username: domain::Username::parse("memo").unwrap(),
                email: None,
                display_name: domain::DisplayName::parse("Memo").unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        let found = store.user_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(found.username.as_str(), "memo");
    }

    #[test]
    fn file_path_is_taken_from_the_url() {
        assert_eq!(
            file_path("sqlite://data/chat.db").unwrap(),
            std::path::Path::new("data/chat.db")
        );
        assert_eq!(
            file_path("sqlite:chat.db?mode=rwc").unwrap(),
            std::path::Path::new("chat.db")
        );
        assert!(file_path("sqlite::memory:").is_none());
        assert!(file_path("postgres://x").is_none());
    }
}
