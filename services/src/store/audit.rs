//! The audit log: the [`AuditStore`] part of a store. Events are appended,
//! listed newest first with keyset pagination, and pruned by age.

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use domain::audit::MAX_AUDIT_PAGE;
use domain::{AuditCursor, AuditEvent, AuditKind};
use uuid::Uuid;

use super::StoreError;

/// Events listed when a query asks for no particular number.
pub const DEFAULT_AUDIT_PAGE: u32 = 50;

/// An event to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Event id (uuid v7).
    pub id: Uuid,
    /// When it happened; stored with microsecond precision.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub kind: AuditKind,
    /// The account it is about, if known.
    pub user_id: Option<Uuid>,
    /// Who did it, when someone else (an admin).
    pub actor_id: Option<Uuid>,
    /// The client address.
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// More about it (a small JSON object).
    pub detail: Option<String>,
}

impl AuditEntry {
    /// An entry of `kind` happening now, about nobody yet.
    pub fn now(kind: AuditKind) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            kind,
            user_id: None,
            actor_id: None,
            ip: None,
            user_agent: None,
            detail: None,
        }
    }
}

/// Which events to list: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
    /// Only events about this account.
    pub user_id: Option<Uuid>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events older than this position (the previous page's last event).
    pub before: Option<AuditCursor>,
    /// Most events returned: 0 means [`DEFAULT_AUDIT_PAGE`], at most
    /// [`MAX_AUDIT_PAGE`].
    pub limit: u32,
}

impl AuditQuery {
    /// The limit the store applies.
    pub fn capped_limit(&self) -> i64 {
        i64::from(match self.limit {
            0 => DEFAULT_AUDIT_PAGE,
            n => n.min(MAX_AUDIT_PAGE),
        })
    }
}

/// The time as both backends store it (PostgreSQL keeps microseconds), so
/// an event's cursor finds its place again.
pub(crate) fn stored_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Storage of the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an event.
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Events matching `query`, newest first (by time, then id), with the
    /// usernames of the account and the actor.
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// Deletes events that happened before `older_than`, and the texts edits
    /// replaced before then (kept for the log only); returns how many events.
    async fn prune_audit(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_the_default_size_when_unasked_and_never_above_the_cap() {
        let page = |limit| AuditQuery {
            limit,
            ..Default::default()
        };
        assert_eq!(page(0).capped_limit(), i64::from(DEFAULT_AUDIT_PAGE));
        assert_eq!(page(7).capped_limit(), 7);
        assert_eq!(page(10_000).capped_limit(), i64::from(MAX_AUDIT_PAGE));
        assert_eq!(MAX_AUDIT_PAGE, 500);
    }
}
