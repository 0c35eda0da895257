//! Sessions (refresh-token families), their rotating refresh tokens, and the
//! deny list of revoked access tokens: the [`SessionStore`] part of a store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;

/// A signed-in device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (also the `sid` claim of its access tokens).
    pub id: Uuid,
    /// Whose session it is.
    pub user_id: Uuid,
    /// The browser or app that signed in, as it described itself.
    pub user_agent: Option<String>,
    /// The client address at sign-in.
    pub ip_address: Option<String>,
    /// When it was created (sign-in time).
    pub created_at: DateTime<Utc>,
    /// When a refresh token of it was last used.
    pub last_used_at: DateTime<Utc>,
    /// Absolute end of the session.
    pub expires_at: DateTime<Utc>,
    /// When it was ended (logout, revocation, reuse detected), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Session {
    /// The browser and system it signed in with, as far as recognised.
    pub fn agent(&self) -> crate::auth::Agent {
        self.user_agent
            .as_deref()
            .and_then(crate::auth::agent::describe)
            .unwrap_or_default()
    }

    /// Whether the session may still be used at `now`, given the idle limit.
    pub fn is_usable(&self, now: DateTime<Utc>, idle: chrono::Duration) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now - self.last_used_at < idle
    }
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and `next` replaces it.
    Rotated(Session),
    /// The token had been used before: the whole session is now revoked.
    Reused(Session),
    /// The token was used at or after the grace instant: most likely two
    /// parallel requests of one client presented it together. Nothing
    /// changed; the session is returned for the caller to decide.
    Raced(Session),
    /// No such token.
    Unknown,
}

/// Storage of sessions, refresh tokens and the access-token deny list.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Creates a session with its first refresh token (stored as `token_hash`).
    /// `AccountDisabled` if the user is disabled, `NotFound("user")` if there
    /// is no such user. Atomic with disabling: a session is either refused or
    /// exists when the account's sessions are revoked after disabling it.
    async fn create_session(
        &self,
        session: &Session,
        token_hash: &[u8; 32],
    ) -> Result<(), StoreError>;

    /// Finds a session by id.
    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError>;

    /// The user's sessions that are not revoked and not past `expires_at`,
    /// most recently used first.
    async fn active_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError>;

    /// Marks the refresh token `presented` used and, if it was current,
    /// stores `next` in its place and records `now` as the session's last use.
    /// A token that was already used revokes its whole session (reuse
    /// detection), unless it was used at or after `grace_since` (`Raced`).
    /// The caller checks the returned session's lifetime.
    async fn rotate_refresh_token(
        &self,
        presented: &[u8; 32],
        next: &[u8; 32],
        now: DateTime<Utc>,
        grace_since: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;

    /// Revokes one session of `user_id`; `false` if there was no such active one.
    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes every active session of `user_id` except `keep`; returns the
    /// ids revoked.
    async fn revoke_other_sessions(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Puts `key` (an access token's `jti`, or a revoked session's id) on the
    /// deny list until `expires_at`. Adding a key twice is harmless.
    async fn deny(&self, key: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Takes `key` off the deny list (a disabled account enabled again).
    async fn lift_denial(&self, key: &str) -> Result<(), StoreError>;

    /// Whether any of `keys` is on the deny list and not yet expired at `now`.
    async fn is_denied(&self, keys: &[&str], now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Forgets credentials that ended, at most `limit` of each kind: the
    /// refresh tokens of sessions that expired or were revoked before
    /// `before`, those sessions once they have none left (their push
    /// devices go with them), the personal access tokens that ended before
    /// `before`, and the deny list's entries expired at `now`.
    async fn prune_ended(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Pruned, StoreError>;
}

/// What [`SessionStore::prune_ended`] forgot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions.
    pub sessions: u64,
    /// Their refresh tokens.
    pub refresh_tokens: u64,
    /// Personal access tokens.
    pub tokens: u64,
    /// Deny-list entries.
    pub denials: u64,
}
