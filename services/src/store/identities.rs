//! Accounts at external identity providers (OAuth2/OIDC) and browser sign-ins
//! in flight: the [`IdentityStore`] part of a store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{NewUser, StoreError, User};

/// A browser sign-in sent to a provider and not yet back: what the callback
/// needs to finish it. Found by the SHA-256 of its one-time `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// SHA-256 of the `state` sent to the provider.
    pub state_hash: [u8; 32],
    /// The provider's id in this installation (`google`, `github`, `oidc`).
    pub provider: String,
    /// The PKCE code verifier whose S256 challenge went to the provider.
    pub pkce_verifier: String,
    /// The OIDC `nonce` the ID token must carry.
    pub nonce: String,
    /// Where to go once signed in (a local path).
    pub next: String,
    /// The sign-in must be finished before this.
    pub expires_at: DateTime<Utc>,
}

/// Identities and pending browser sign-ins.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Records a sign-in sent to a provider.
    async fn save_pending_login(&self, login: &PendingLogin) -> Result<(), StoreError>;

    /// Takes (finds and deletes, in one statement) the pending sign-in with
    /// this state hash if it has not expired at `now`: a state works once.
    /// Expired rows are purged on the way.
    async fn take_pending_login(
        &self,
        state_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>, StoreError>;

    /// Creates a user linked to an external identity, in one transaction. An
    /// email in `user` is recorded as verified (only verified ones are passed).
    /// The first account of an installation is an admin, as with
    /// [`Store::create_user`](super::Store::create_user).
    /// `Conflict("username")`, `Conflict("email")` or `Conflict("identity")`.
    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        provider: &str,
        subject: &str,
    ) -> Result<User, StoreError>;

    /// The user linked to `subject` at `provider` (an issuer URL or `github`).
    async fn user_by_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError>;

    /// The user whose email is `email` (any case) and verified.
    async fn user_by_verified_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Links an external identity to an existing user; `Conflict("identity")`
    /// when it is linked already, `NotFound("user")` for an unknown user.
    async fn link_identity(
        &self,
        provider: &str,
        subject: &str,
        user_id: Uuid,
        email: Option<&str>,
    ) -> Result<(), StoreError>;
}
