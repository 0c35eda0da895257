//! [`AdminService`]: what installation admins may do — list and count
//! accounts, make admins, disable and enable accounts, read the audit log —
//! and the admins named by configuration.
//!
//! Who is an admin: the first account of an installation (decided by the
//! store when it is created), the accounts configuration names
//! ([`AdminService::ensure_admins`]), and those an admin promotes. Every
//! method taking an `admin` id checks that it is an enabled admin's.
//!
//! Disabling an account refuses its sign-ins, refreshes and access tokens
//! at once ([`ServiceError::AccountDisabled`]), ends its sessions, and tells
//! every server process (an `AccountDisabled` event on the user's topic)
//! to close its real-time connections.
//!
//! Admins also manage public rooms (`rooms`: create, change the topic,
//! delete) and watch what is happening now (`live`: online users,
//! connections, messages per minute).

mod live;
mod rooms;

use std::sync::Arc;

use chrono::{Duration, Utc};
use domain::admin::MAX_ACCOUNT_PAGE;
use domain::{AccountSummary, AuditEvent, AuditKind, UserStats};
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use crate::audit::AuditService;
use crate::auth::{AuthService, ClientInfo};
use crate::bus::Bus;
use crate::store::{AuditQuery, Store, User};
use crate::ServiceError;

/// Accounts listed when a listing asks for none in particular.
pub const DEFAULT_ACCOUNT_PAGE: u32 = 50;

const NOT_ADMIN: ServiceError = ServiceError::Forbidden(domain::messages::ADMINS_ONLY);
const OWN_ACCOUNT: ServiceError = ServiceError::Forbidden(domain::messages::NOT_YOUR_OWN_ACCOUNT);

/// Which accounts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountQuery {
    /// Part of a username, display name or email (any case); blank for all.
    pub search: String,
    /// Most accounts returned: 0 means [`DEFAULT_ACCOUNT_PAGE`], at most
    /// [`MAX_ACCOUNT_PAGE`].
    pub limit: u32,
}

/// Admin actions over accounts, each checked and audited.
#[derive(Clone)]
pub struct AdminService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    auth: AuthService,
    audit: AuditService,
    members: crate::members::Members,
}

impl AdminService {
    /// The service over a store and a bus (room changes); sessions are
    /// ended (and connections closed) through `auth`, actions recorded in
    /// `audit`, membership caches told through `members`.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        auth: AuthService,
        audit: AuditService,
        members: crate::members::Members,
    ) -> Self {
        Self {
            store,
            bus,
            auth,
            audit,
            members,
        }
    }

    /// Makes admins of the accounts named `usernames` (configuration,
    /// `CHATSPHERE_ADMINS`) and remembers the names: an account created
    /// later under one of them is an admin from the start. Call at start-up.
    /// Returns the accounts promoted now.
    #[instrument(skip_all, fields(names = usernames.len()))]
    pub async fn ensure_admins(
        &self,
        usernames: &[String],
    ) -> Result<Vec<AccountSummary>, ServiceError> {
        self.auth.set_configured_admins(usernames);
        let promoted = self.store.promote_admins(usernames).await?;
        for account in &promoted {
            tracing::info!(user = %account.id, "account made an admin by configuration");
            let detail = json!({"is_admin": true, "source": "configuration"});
            self.audit
                .record(
                    AuditKind::RoleChanged,
                    Some(account.id),
                    None,
                    None,
                    Some(detail),
                )
                .await;
        }
        Ok(promoted)
    }

    /// The account of `admin` if it is an enabled admin; `Forbidden` otherwise.
    pub async fn require_admin(&self, admin: Uuid) -> Result<User, ServiceError> {
        match self.store.user_by_id(admin).await? {
            Some(user) if user.is_admin && !user.is_disabled() => Ok(user),
            _ => Err(NOT_ADMIN),
        }
    }

    /// Accounts matching `query`, by username. A search longer than the
    /// longest email address (no username or display name is longer) is
    /// refused.
    pub async fn users(
        &self,
        admin: Uuid,
        query: &AccountQuery,
    ) -> Result<Vec<AccountSummary>, ServiceError> {
        self.require_admin(admin).await?;
        let max = domain::Email::MAX;
        if query.search.chars().nth(max).is_some() {
            return Err(ServiceError::Invalid(format!(
                "search: at most {max} characters"
            )));
        }
        let limit = match query.limit {
            0 => DEFAULT_ACCOUNT_PAGE,
            n => n.min(MAX_ACCOUNT_PAGE),
        };
        Ok(self.store.accounts(&query.search, limit).await?)
    }

    /// Counts of accounts (all, admins, disabled, seen in the last 7 days).
    pub async fn stats(&self, admin: Uuid) -> Result<UserStats, ServiceError> {
        self.require_admin(admin).await?;
        let week_ago = Utc::now() - Duration::days(7);
        Ok(self.store.account_stats(week_ago).await?)
    }

    /// The audit log, newest first (see [`AuditQuery`] for filters and paging).
    pub async fn audit_events(
        &self,
        admin: Uuid,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEvent>, ServiceError> {
        self.require_admin(admin).await?;
        self.audit.query(query).await
    }

    /// Makes `user_id` an admin or not. Admins cannot demote themselves (so
    /// an installation keeps at least the admin acting). Audited as
    /// `RoleChanged` when it changed something.
    #[instrument(skip_all, fields(admin = %admin, user = %user_id, is_admin))]
    pub async fn set_admin(
        &self,
        admin: Uuid,
        user_id: Uuid,
        is_admin: bool,
        client: &ClientInfo,
    ) -> Result<AccountSummary, ServiceError> {
        self.require_admin(admin).await?;
        if admin == user_id && !is_admin {
            return Err(OWN_ACCOUNT);
        }
        let (account, changed) = self.store.set_user_admin(user_id, is_admin).await?;
        if changed {
            tracing::info!("admin role changed");
            let detail = json!({ "is_admin": is_admin });
            self.audit
                .record(
                    AuditKind::RoleChanged,
                    Some(user_id),
                    Some(admin),
                    Some(client),
                    Some(detail),
                )
                .await;
        }
        Ok(account)
    }

    /// Disables `user_id` (refused sign-ins, refreshes and access tokens,
    /// sessions ended, connections closed on every server process) or
    /// enables it again. Admins cannot disable themselves. Audited as
    /// `UserDisabled`/`UserEnabled` when it changed something.
    #[instrument(skip_all, fields(admin = %admin, user = %user_id, disabled))]
    pub async fn set_disabled(
        &self,
        admin: Uuid,
        user_id: Uuid,
        disabled: bool,
        client: &ClientInfo,
    ) -> Result<AccountSummary, ServiceError> {
        self.require_admin(admin).await?;
        if admin == user_id && disabled {
            return Err(OWN_ACCOUNT);
        }
        let now = Utc::now();
        let (account, changed) = self
            .store
            .set_user_disabled(user_id, disabled.then_some(now))
            .await?;
        let (kind, detail) = if disabled {
            // Even when it was disabled already: nothing of theirs may survive.
            let ended = self.auth.shut_out(user_id).await?;
            (AuditKind::UserDisabled, json!({ "sessions_ended": ended }))
        } else if changed {
            self.auth.let_back_in(user_id).await?;
            (AuditKind::UserEnabled, json!({}))
        } else {
            return Ok(account);
        };
        if changed {
            tracing::info!(?kind, "account state changed");
            self.audit
                .record(kind, Some(user_id), Some(admin), Some(client), Some(detail))
                .await;
        }
        Ok(account)
    }
}
