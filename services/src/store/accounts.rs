//! Installation admins and disabled accounts: the [`AccountStore`] part of a
//! store. Creating the very first account as an admin is part of
//! [`Store::create_user`](super::Store::create_user) and
//! [`IdentityStore::create_user_with_identity`](super::IdentityStore::create_user_with_identity).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{AccountSummary, UserStats};
use uuid::Uuid;

use super::StoreError;

/// Storage of account roles and states, for the admin view.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Accounts whose username, display name or email contains `search`
    /// (without regard to case; every account when blank), by username, at
    /// most `limit`.
    async fn accounts(&self, search: &str, limit: u32) -> Result<Vec<AccountSummary>, StoreError>;

    /// Counts of accounts; "active" ones were seen at or after `seen_since`.
    async fn account_stats(&self, seen_since: DateTime<Utc>) -> Result<UserStats, StoreError>;

    /// Makes the account an admin or not. Returns it and whether that
    /// changed anything; `NotFound("user")` for an unknown account.
    async fn set_user_admin(
        &self,
        user_id: Uuid,
        is_admin: bool,
    ) -> Result<(AccountSummary, bool), StoreError>;

    /// Disables the account at `disabled_at`, or enables it with `None`. An
    /// account disabled already keeps its first time. Returns it and whether
    /// that changed anything; `NotFound("user")` for an unknown account.
    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<(AccountSummary, bool), StoreError>;

    /// Makes admins of the accounts named `usernames` (without regard to
    /// case) that are not admins yet; returns those it changed.
    async fn promote_admins(&self, usernames: &[String])
        -> Result<Vec<AccountSummary>, StoreError>;
}
