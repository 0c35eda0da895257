//! [`AuthService`]: accounts and sessions — register, sign in, refresh,
//! sign out, profile, password change, and the session list.
//!
//! Every rule lives here; REST handlers, server functions and the WebSocket
//! gateway only translate. Access tokens live ~15 minutes; sessions (refresh
//! token families) end after an absolute lifetime or an idle period, on sign
//! out, on revocation, or when a used refresh token is presented again.
//!
//! Security events are written to the audit log ([`AuditService`]): sign-ins
//! and refused ones, sign-outs, password changes, revoked sessions. Disabled
//! accounts are refused with [`ServiceError::AccountDisabled`] when signing
//! in, refreshing and authenticating.

mod admission;
mod credentials;
mod personal;
pub use personal::is_personal;
mod profile;
mod sessions;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use domain::AuditKind;
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::password::{PasswordError, PasswordHasher};
use super::throttle::LoginThrottle;
use super::tokens::{hash_refresh_token, new_refresh_token, AccessTokens};
use crate::audit::AuditService;
use crate::kv::SharedKv;
use crate::store::{Rotation, Store};
use crate::ServiceError;

use admission::account_key;

/// Lifetimes of tokens and sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// How long an access token is valid.
    pub access_ttl: Duration,
    /// Absolute lifetime of a session, from sign-in.
    pub session_lifetime: Duration,
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A refresh token presented again this soon after its rotation is taken
    /// for two parallel requests of one client (a browser loading a page and
    /// its data), not for theft: it does not end the session.
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            session_lifetime: Duration::days(30),
            idle_timeout: Duration::days(7),
            reuse_grace: Duration::seconds(10),
        }
    }
}

/// Who is signing in, for the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The `User-Agent` header, shortened.
    pub user_agent: Option<String>,
    /// The client address.
    pub ip_address: Option<String>,
    /// The known-device token the client presented (a cookie), if any: a
    /// password sign-in of its account then draws on the device's own
    /// failure budget (see [`super::throttle`]).
    pub device_token: Option<String>,
}

/// What signing in or refreshing hands back.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// The opaque refresh token; present it once to get the next pair.
    pub refresh_token: String,
    /// When the session ends at the latest.
    pub session_expires_at: DateTime<Utc>,
    /// The session these tokens belong to.
    pub session_id: Uuid,
    /// A new known-device token after a password sign-in or registration
    /// (for the client to keep, as a cookie, and present at its next
    /// sign-in); `None` otherwise.
    pub device_token: Option<String>,
}

/// What presenting a refresh token gave.
#[derive(Debug, Clone)]
pub enum Refreshed {
    /// A new pair; the presented refresh token is spent.
    Rotated(TokenPair),
    /// The token had just been rotated by a parallel request: a new access
    /// token for the same session; the refresh token to keep is the one the
    /// other request received.
    Concurrent {
        /// The JWT for `Authorization: Bearer`.
        access_token: String,
        /// When it expires.
        access_expires_at: DateTime<Utc>,
    },
}

/// A verified, non-revoked access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user_id: Uuid,
    /// Their session.
    pub session_id: Uuid,
    /// The token's id.
    pub jti: Uuid,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// What it may do: everything for a signed-in session, a personal
    /// access token's scopes otherwise.
    pub scopes: domain::integrations::Scopes,
    /// Whether it is a personal access token (then `session_id` and `jti`
    /// are the token's id).
    pub personal: bool,
}

impl Authenticated {
    /// Who acts with these credentials: a server admin's powers come with
    /// a session, and with a personal access token only if it has the
    /// `admin` scope.
    pub fn actor(&self) -> crate::conversations::Actor {
        crate::conversations::Actor {
            user_id: self.user_id,
            admin_powers: self.scopes.allows(domain::integrations::TokenScope::Admin),
        }
    }

    /// How long the token has left by this process's clock; `None` once it
    /// has expired (it may still be accepted for a few seconds of clock
    /// skew between processes, but nothing long-lived starts on it).
    pub fn time_left(&self) -> Option<std::time::Duration> {
        (self.expires_at - Utc::now())
            .to_std()
            .ok()
            .filter(|left| !left.is_zero())
    }
}

/// A registration request, as typed.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Wanted username.
    pub username: String,
    /// Email address; empty for none.
    pub email: String,
    /// Name shown to others; empty to use the username.
    pub display_name: String,
    /// The password.
    pub password: String,
}

/// A profile change; `None` leaves a field as it is, `Some("")` clears the
/// avatar or email.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New avatar URL.
    pub avatar_url: Option<String>,
    /// New email.
    pub email: Option<String>,
}

use domain::messages::{
    BAD_ACCESS_TOKEN as BAD_TOKEN, BAD_CREDENTIALS, SESSION_ENDED as BAD_SESSION,
    WRONG_CURRENT_PASSWORD,
};

/// Accounts and sessions.
#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    tokens: AccessTokens,
    policy: SessionPolicy,
    throttle: LoginThrottle,
    /// The deny list lives here when it is Redis; otherwise in the store.
    kv: SharedKv,
    /// Puts new accounts in the default rooms, when set.
    chat: Option<crate::ConversationService>,
    /// Told when a public profile changes, when set (its cache).
    profiles: Option<crate::profiles::Profiles>,
    /// Where security events are recorded.
    audit: AuditService,
    /// Where ended sessions and disabled accounts are announced, so every
    /// server process closes their connections at once (when set).
    bus: Option<Arc<dyn crate::bus::Bus>>,
    /// Usernames (lowercase) made admins as soon as their account exists
    /// (configuration); shared by every clone.
    configured_admins: Arc<RwLock<Vec<String>>>,
    /// Personal access tokens looked up lately.
    grants: personal::Grants,
    /// Whether every user may create bots (else admins only); shared by
    /// every clone.
    user_bots: Arc<std::sync::atomic::AtomicBool>,
}

impl AuthService {
    /// The service over a store, signing access tokens with `tokens`. The
    /// deny list is kept in Redis when `kv` is Redis, else in the database.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        policy: SessionPolicy,
        throttle: LoginThrottle,
        kv: SharedKv,
    ) -> Self {
        Self {
            hasher,
            tokens,
            policy,
            throttle,
            kv,
            chat: None,
            profiles: None,
            bus: None,
            audit: AuditService::new(store.clone()),
            configured_admins: Arc::default(),
            grants: personal::grants(),
            user_bots: Arc::default(),
            store,
        }
    }

    /// New accounts join `chat`'s default rooms.
    pub fn with_chat(mut self, chat: crate::ConversationService) -> Self {
        self.chat = Some(chat);
        self
    }

    /// Ended sessions and disabled accounts are announced on `bus`.
    pub fn with_bus(mut self, bus: Arc<dyn crate::bus::Bus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Profile changes invalidate `profiles` (on every process).
    pub fn with_profiles(mut self, profiles: crate::profiles::Profiles) -> Self {
        self.profiles = Some(profiles);
        self
    }

    /// Exchanges a refresh token for a new pair (API clients, which hold
    /// their tokens themselves). A refresh token that was already used ends
    /// its whole session at once: it was stolen, or the legitimate client is
    /// about to find out.
    #[instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, ServiceError> {
        match self.rotate(refresh_token, Duration::zero()).await? {
            Refreshed::Rotated(pair) => Ok(pair),
            Refreshed::Concurrent { .. } => Err(ServiceError::Unauthorized(BAD_SESSION)),
        }
    }

    /// Like [`AuthService::refresh`], for a browser whose parallel requests
    /// share one refresh cookie: a token rotated less than
    /// [`SessionPolicy::reuse_grace`] ago gives a new access token for the
    /// same session (the request that lost the race keeps the refresh cookie
    /// the winner set) instead of ending the session. Replayed later, it
    /// still ends it.
    #[instrument(skip_all)]
    pub async fn refresh_allowing_race(
        &self,
        refresh_token: &str,
    ) -> Result<Refreshed, ServiceError> {
        self.rotate(refresh_token, self.policy.reuse_grace).await
    }

    async fn rotate(
        &self,
        refresh_token: &str,
        grace: Duration,
    ) -> Result<Refreshed, ServiceError> {
        let now = Utc::now();
        let (next, next_hash) = new_refresh_token();
        let rotation = self
            .store
            .rotate_refresh_token(
                &hash_refresh_token(refresh_token),
                &next_hash,
                now,
                now - grace,
            )
            .await?;
        if let Rotation::Rotated(session) | Rotation::Raced(session) = &rotation {
            if self.is_account_disabled(session.user_id).await? {
                // Disabling revoked it already; a session that raced it ends too.
                self.revoke(session, now).await?;
                return Err(ServiceError::AccountDisabled);
            }
        }
        match rotation {
            Rotation::Rotated(session) if session.is_usable(now, self.policy.idle_timeout) => {
                self.pair(&session, next).map(Refreshed::Rotated)
            }
            Rotation::Raced(session) if session.is_usable(now, self.policy.idle_timeout) => {
                let pair = self.pair(&session, String::new())?;
                Ok(Refreshed::Concurrent {
                    access_token: pair.access_token,
                    access_expires_at: pair.access_expires_at,
                })
            }
            Rotation::Raced(_) => Err(ServiceError::Unauthorized(BAD_SESSION)),
            Rotation::Rotated(session) => {
                // Consumed but dead: make sure it stays dead everywhere.
                self.revoke(&session, now).await?;
                Err(ServiceError::Unauthorized(BAD_SESSION))
            }
            Rotation::Reused(session) => {
                tracing::warn!(user = %session.user_id, session = %session.id, "refresh token reuse: session revoked");
                self.deny_session(session.user_id, session.id, now).await?;
                Err(ServiceError::Unauthorized(BAD_SESSION))
            }
            Rotation::Unknown => Err(ServiceError::Unauthorized(BAD_SESSION)),
        }
    }

    /// The user an access token was issued to, if its signature and claims
    /// hold; the deny list is not consulted (no I/O). For keying request
    /// budgets by user, never for authorizing.
    pub fn token_subject(&self, access_token: &str) -> Option<Uuid> {
        if personal::is_personal(access_token) {
            // Only a token this process looked up lately: nothing is
            // asked of the database for a budget's key.
            return self.cached_personal_subject(access_token);
        }
        self.tokens
            .verify(access_token)
            .ok()
            .map(|claims| claims.sub)
    }

    /// Verifies an access token and checks it was not revoked since, nor
    /// its account disabled (`AccountDisabled`).
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, ServiceError> {
        if personal::is_personal(access_token) {
            return self.authenticate_personal(access_token).await;
        }
        let claims = self.tokens.verify(access_token).map_err(|err| {
            tracing::debug!(reason = %err, "access token refused");
            ServiceError::Unauthorized(BAD_TOKEN)
        })?;
        let jti_key = format!("jti:{}", claims.jti);
        let sid_key = format!("sid:{}", claims.sid);
        let account_key = account_key(claims.sub);
        if self.is_denied(&[&jti_key, &sid_key, &account_key]).await? {
            // Only refused tokens pay for telling the two reasons apart.
            if self.is_denied(&[&account_key]).await? {
                return Err(ServiceError::AccountDisabled);
            }
            return Err(ServiceError::Unauthorized(BAD_TOKEN));
        }
        let expires_at = DateTime::from_timestamp(claims.exp as i64, 0).unwrap_or_else(Utc::now);
        Ok(Authenticated {
            user_id: claims.sub,
            session_id: claims.sid,
            jti: claims.jti,
            expires_at,
            scopes: domain::integrations::Scopes::ALL,
            personal: false,
        })
    }

    /// Signs out: ends the session and refuses its access tokens from now on.
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), ServiceError> {
        let now = Utc::now();
        self.store
            .revoke_session(auth.user_id, auth.session_id, now)
            .await?;
        self.deny(&format!("jti:{}", auth.jti), auth.expires_at, now)
            .await?;
        self.deny_session(auth.user_id, auth.session_id, now)
            .await?;
        let detail = json!({ "session_id": auth.session_id });
        self.audit_own(AuditKind::SignOut, auth, detail).await;
        Ok(())
    }

    /// Records an action the signed-in user took on their own account.
    async fn audit_own(&self, kind: AuditKind, auth: &Authenticated, detail: serde_json::Value) {
        let user = Some(auth.user_id);
        self.audit
            .record(kind, user, None, None, Some(detail))
            .await;
    }
}

/// A store error as the caller sees it, an email address in use told as
/// [`domain::messages::EMAIL_UNAVAILABLE`] (422), never as taken.
fn email_unavailable_if_taken(err: crate::StoreError) -> ServiceError {
    match ServiceError::from(err) {
        ServiceError::Conflict("email") => {
            ServiceError::Invalid(domain::messages::EMAIL_UNAVAILABLE.into())
        }
        other => other,
    }
}

fn invalid(err: domain::NameError) -> ServiceError {
    ServiceError::InvalidName(err)
}

fn password_error(err: PasswordError) -> ServiceError {
    match err {
        PasswordError::TooWeak(msg) => ServiceError::Invalid(msg),
        PasswordError::Hashing(msg) => ServiceError::Internal(msg),
    }
}
