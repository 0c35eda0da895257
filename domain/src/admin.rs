//! Accounts as the admin view sees them: who they are, whether they are
//! admins or disabled, and counts of them; and the live activity counts.

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

/// Minutes of message activity the admin view charts.
pub const ACTIVITY_MINUTES: usize = 30;

/// Messages stored in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinuteCount {
    /// The minute's start (UTC, seconds zero).
    pub minute: DateTime<Utc>,
    /// Messages stored in it.
    pub messages: u32,
}

/// What is happening now, for the admin view's live panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveCounts {
    /// Users online on any server process (a connection open, or closed
    /// less than the presence grace period ago).
    pub online_users: u32,
    /// Real-time connections open on the server process that answered.
    pub connections: u32,
    /// Messages stored in the last 60 seconds (all conversations).
    pub messages_last_minute: u32,
    /// Messages per clock minute for the last [`ACTIVITY_MINUTES`] minutes,
    /// oldest first, the current (unfinished) minute last; minutes without
    /// messages are there with 0.
    pub per_minute: Vec<MinuteCount>,
}
