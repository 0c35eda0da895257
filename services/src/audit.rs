//! [`AuditService`]: the audit log of security events and activity — who
//! signed in (or failed to), signed out, changed a password, ended a
//! session, linked an identity provider, was made admin or disabled, opened
//! or closed a real-time connection.
//!
//! Recording never fails the caller: an event that cannot be stored is
//! logged as a warning and the action it describes goes on. Events are
//! listed newest first and pruned after a retention period.

use std::sync::Arc;

use chrono::{Duration, Utc};
use domain::{AuditEvent, AuditKind};
use serde_json::Value;
use tracing::instrument;
use uuid::Uuid;

use crate::auth::ClientInfo;
use crate::store::{AuditEntry, AuditQuery, Store};
use crate::ServiceError;

/// How long events are kept unless configured otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::days(90);

/// Longest client address kept, in characters.
const MAX_IP_CHARS: usize = 64;
/// Longest `User-Agent` kept, in characters (as sessions keep it).
const MAX_USER_AGENT_CHARS: usize = 256;
/// Longest detail kept, in bytes of JSON; a longer one is replaced by a marker.
const MAX_DETAIL_BYTES: usize = 2048;

/// Records, lists and prunes the audit log.
#[derive(Clone)]
pub struct AuditService {
    store: Arc<dyn Store>,
}

impl AuditService {
    /// The service over a store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Records that `kind` happened now to `user` (if known), done by
    /// `actor` when that is someone else (an admin), from `client`, with a
    /// small JSON `detail`. Never fails: a store error is logged as a warning.
    /// The real-time gateway calls it with `Connected`/`Disconnected`.
    #[instrument(skip_all, fields(kind = kind.as_str()))]
    pub async fn record(
        &self,
        kind: AuditKind,
        user: Option<Uuid>,
        actor: Option<Uuid>,
        client: Option<&ClientInfo>,
        detail: Option<Value>,
    ) {
        let entry = AuditEntry {
            user_id: user,
            actor_id: actor,
            ip: client
                .and_then(|c| c.ip_address.as_deref())
                .map(|ip| shorten(ip, MAX_IP_CHARS)),
            user_agent: client
                .and_then(|c| c.user_agent.as_deref())
                .map(|ua| shorten(ua, MAX_USER_AGENT_CHARS)),
            detail: detail.map(|d| detail_text(&d)),
            ..AuditEntry::now(kind)
        };
        if let Err(err) = self.store.record(&entry).await {
            tracing::warn!(error = %err, user = ?user, "audit event not recorded");
        }
    }

    /// Events matching `query`, newest first. Unchecked: callers decide who
    /// may read the log ([`crate::AdminService::audit_events`] for admins).
    pub async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, ServiceError> {
        Ok(self.store.audit_events(query).await?)
    }

    /// Deletes events older than `retention`; returns how many.
    #[instrument(skip_all)]
    pub async fn prune(&self, retention: Duration) -> Result<u64, ServiceError> {
        let pruned = self.store.prune_audit(Utc::now() - retention).await?;
        if pruned > 0 {
            tracing::info!(pruned, "old audit events deleted");
        }
        Ok(pruned)
    }
}

/// At most `max` characters of `text`.
fn shorten(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The detail as stored: its JSON, or a marker when it is too long (cutting
/// JSON would make it unreadable).
fn detail_text(detail: &Value) -> String {
    let text = detail.to_string();
    if text.len() <= MAX_DETAIL_BYTES {
        text
    } else {
        r#"{"truncated":true}"#.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_details_become_a_marker_and_small_ones_stay_json() {
        let small = serde_json::json!({"login": "mei"});
        assert_eq!(detail_text(&small), r#"{"login":"mei"}"#);
        let big = serde_json::json!({"login": "x".repeat(MAX_DETAIL_BYTES)});
        assert_eq!(detail_text(&big), r#"{"truncated":true}"#);
        assert_eq!(shorten("日本語テキスト", 3), "日本語");
    }
}
