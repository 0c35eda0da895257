//! Storage: the [`Store`] trait and its two implementations.
//!
//! [`connect`] picks the implementation from the database URL's scheme:
//! `sqlite:` for the embedded default, `postgres:`/`postgresql:` for
//! production. Each implementation applies its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) when it connects. The contract
//! tests in `services/tests/store_contract.rs` hold both to the same behaviour.

pub mod accounts;
pub mod audit;
pub mod changes;
pub mod conversations;
pub mod deliveries;
pub mod export;
pub mod files;
pub mod identities;
pub mod integrations;
pub mod mentions;
pub mod migrate;
pub mod notify;
mod postgres;
pub mod receipts;
pub mod rooms;
pub mod search;
pub mod sessions;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{DisplayName, Email, MemberRole, RoomSummary, Username};
use uuid::Uuid;

pub use accounts::AccountStore;
pub use audit::{AuditEntry, AuditQuery, AuditStore, DEFAULT_AUDIT_PAGE};
pub(crate) use changes::{
    list_from_text, list_to_text, mentions_from_text, mentions_to_text, reactions_from_text,
    reply_preview,
};
pub use changes::{ChangeStore, MessageChange, MessageVersion};
pub use conversations::{Conversation, ConversationStore, NewMessage, Posted};
pub use deliveries::{Attempted, ClaimedDelivery, DeliveryStore, NewDelivery};
pub use export::ExportStore;
pub use files::FileRecordStore;
pub use identities::{IdentityStore, PendingLogin};
pub use integrations::{
    IntegrationStore, NewTokenRow, NewWebhookRow, OutgoingRow, StoredHook, TokenGrant,
};
pub use mentions::MentionStore;
pub use notify::NotifyStore;
pub use postgres::{PgStore, SearchWindows};
pub use receipts::{MemberPositions, Positions, ReceiptStore};
pub use rooms::RoomStore;
pub use search::SearchStore;
pub use sessions::{Pruned, Rotation, Session, SessionStore};
pub use sqlite::SqliteStore;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Lowercase name for logs and `/health`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL scheme {0:?} (expected sqlite: or postgres:)")]
    UnsupportedScheme(String),
    /// A referenced row does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is already taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The account is disabled: it may not start a session.
    #[error("account disabled")]
    AccountDisabled,
    /// Stored data that does not decode (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A query ran past its time limit and was stopped (only searches have
    /// one: a search too broad to answer in time).
    #[error("{0} took too long")]
    TimedOut(&'static str),
    /// The conversation has as many members as it may hold.
    #[error("{0} is full")]
    Full(&'static str),
}

impl StoreError {
    /// Whether the database could not be reached or its connection broke
    /// mid-call (I/O, pool timeout, a server shutting down or starting up,
    /// too many connections): the same call may succeed in a moment.
    pub fn is_transient(&self) -> bool {
        let Self::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // SQLSTATE class 08: connection exception; 57P01–57P03:
                // admin or crash shutdown, cannot connect now; 53300: too
                // many connections.
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
            }),
            _ => false,
        }
    }
}

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id (uuid v7).
    pub id: Uuid,
    /// Login name, case preserved.
    pub username: String,
    /// Email address, if any.
    pub email: Option<String>,
    /// Name shown to others.
    pub display_name: String,
    /// Avatar image URL, if any.
    pub avatar_url: Option<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// May manage accounts and read the audit log.
    pub is_admin: bool,
    /// When an admin disabled the account; `None` while it may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// A bot account: it acts only through access tokens.
    pub is_bot: bool,
}

impl User {
    /// Whether the account is disabled (no sign-in, no refresh).
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// A user to create. Every field is already validated by its type.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: Username,
    /// Email address, if any.
    pub email: Option<Email>,
    /// Name shown to others.
    pub display_name: DisplayName,
    /// argon2id PHC string; `None` for OAuth-only accounts.
    pub password_hash: Option<String>,
}

/// A user's editable profile, replaced as a whole by [`Store::update_profile`].
#[derive(Debug, Clone)]
pub struct Profile {
    /// Name shown to others.
    pub display_name: DisplayName,
    /// Avatar image URL, if any.
    pub avatar_url: Option<String>,
    /// Email address, if any; changing it clears its verified flag.
    pub email: Option<Email>,
}

/// The database behind every service. Methods are grouped by aggregate and
/// kept in create-read-update-delete order; sessions are in [`SessionStore`],
/// external identities in [`IdentityStore`], receipt positions and last-seen
/// times in [`ReceiptStore`], the audit log in [`AuditStore`], admins and
/// disabled accounts in [`AccountStore`], managing public rooms in
/// [`RoomStore`], the search index in [`SearchStore`].
#[async_trait]
pub trait Store:
    SessionStore
    + IdentityStore
    + ConversationStore
    + ChangeStore
    + ReceiptStore
    + AuditStore
    + AccountStore
    + RoomStore
    + MentionStore
    + FileRecordStore
    + NotifyStore
    + IntegrationStore
    + ExportStore
    + DeliveryStore
    + SearchStore
{
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Checks that the database answers (for `/health`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The connection pool's size and idle connections (for metrics).
    fn pool_status(&self) -> (u32, usize);

    /// Creates a user; `Conflict("username")`/`Conflict("email")` when taken
    /// (compared without regard to case). The first account of an
    /// installation is created an admin, atomically: of two concurrent first
    /// registrations exactly one becomes admin.
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError>;

    /// Finds a user by id.
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;

    /// Finds a user and their password hash by username, or by email when
    /// `login` contains `@` (both without regard to case).
    async fn credentials_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError>;

    /// The password hash of a user; `None` for OAuth-only accounts.
    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, StoreError>;

    /// Replaces a user's password hash.
    async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), StoreError>;

    /// Replaces a user's profile; `Conflict("email")` if the email is taken,
    /// `NotFound("user")` if there is no such user.
    async fn update_profile(&self, user_id: Uuid, profile: &Profile) -> Result<User, StoreError>;

    /// Every public room ordered by name, with member counts.
    async fn list_public_rooms(&self) -> Result<Vec<RoomSummary>, StoreError>;

    /// Finds a public room by name (case-insensitive).
    async fn public_room_by_name(&self, name: &str) -> Result<Option<RoomSummary>, StoreError>;

    /// Adds a member with a role. Returns `false` if they already were a
    /// member (their role is left unchanged); `NotFound` if the conversation
    /// or the user does not exist.
    async fn add_member(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        role: MemberRole,
    ) -> Result<bool, StoreError>;

    /// Adds a member while the conversation has fewer than `cap` members,
    /// counting and adding as one step: two requests racing for the last
    /// place do not both get it. `NotFound` if the conversation or the
    /// user does not exist.
    async fn add_member_within(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        role: MemberRole,
        cap: usize,
    ) -> Result<Admission, StoreError>;
}

/// What [`Store::add_member_within`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The user is a member now.
    Added,
    /// They were a member already (their role is left unchanged).
    AlreadyMember,
    /// The conversation is full: nobody was added.
    Full,
}

/// Connects to the database named by `url`, creating an SQLite file (and its
/// directory) if needed, and applies pending migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(url).await?)),
        other => Err(StoreError::UnsupportedScheme(other.to_owned())),
    }
}

/// Maps a constraint violation to `Conflict`/`NotFound`, anything else to `Database`.
fn classify(
    err: sqlx::Error,
    conflict: impl FnOnce(&str) -> &'static str,
    missing: &'static str,
) -> StoreError {
    if let Some(db) = err.as_database_error() {
        if db.is_unique_violation() {
            let detail = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            return StoreError::Conflict(conflict(&detail));
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound(missing);
        }
    }
    StoreError::Database(err)
}

/// Which user field a unique violation is about, from the constraint name
/// (PostgreSQL) or the message (SQLite names the indexed expression).
fn user_conflict(detail: &str) -> &'static str {
    if detail.contains("email") {
        "email"
    } else {
        "username"
    }
}

/// Whether `text` can be found in the database at all. No stored text
/// holds a NUL character (PostgreSQL's text cannot; every rule that admits
/// text refuses control characters), while clients can send one in any
/// text: a lookup by such text finds nothing, on both backends, without
/// asking either (PostgreSQL fails on the parameter, SQLite's `like` reads
/// the pattern only up to the NUL and matches everything).
fn findable(text: &str) -> bool {
    !text.contains('\0')
}

/// A `like` pattern matching `text` anywhere, with `%`, `_` and `\\` escaped
/// (use with `escape '\\'`).
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Converts a stored count to the API's `u32`, saturating.
fn count_u32(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}
