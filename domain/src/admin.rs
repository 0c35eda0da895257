//! Accounts as the admin view sees them: who they are, whether they are
//! admins or disabled, and counts of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most accounts one admin listing returns.
pub const MAX_ACCOUNT_PAGE: u32 = 200;

/// One account in the admin view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSummary {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Email address, if any.
    pub email: Option<String>,
    /// May manage accounts and read the audit log.
    pub is_admin: bool,
    /// When the account was disabled; absent while it may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When a connection of theirs last opened or closed, if ever.
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Counts of accounts, for the admin view's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserStats {
    /// Every account.
    pub total: u32,
    /// Accounts that are admins.
    pub admins: u32,
    /// Accounts that are disabled.
    pub disabled: u32,
    /// Accounts seen (a connection opened or closed) in the last 7 days.
    pub active_last_7_days: u32,
}
