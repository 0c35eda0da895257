//! Sessions: starting one, the user's list, revoking, the deny list that
//! refuses a revoked session's access tokens until they expire, and
//! forgetting what ended long ago.

use chrono::{DateTime, Duration, Utc};
use domain::AuditKind;
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::super::tokens::new_refresh_token;
use super::{AuthService, Authenticated, ClientInfo, TokenPair};
use crate::events::{user_topic, Publish};
use crate::store::{Pruned, Session};
use crate::ServiceError;
use domain::protocol::ServerFrame;

impl AuthService {
    /// Forgets sessions and personal access tokens that ended (expired or
    /// revoked) more than `kept` ago, and deny-list entries past their
    /// expiry, at most `batch` rows of each kind a step with a pause between
    /// steps (other writers get their turn); how many of each.
    pub async fn prune_ended(&self, kept: Duration, batch: u32) -> Result<Pruned, ServiceError> {
        let mut total = Pruned::default();
        loop {
            let now = Utc::now();
            let step = self.store.prune_ended(now - kept, now, batch).await?;
            total.sessions += step.sessions;
            total.refresh_tokens += step.refresh_tokens;
            total.tokens += step.tokens;
            total.denials += step.denials;
            let full = u64::from(batch);
            if [
                step.sessions,
                step.refresh_tokens,
                step.tokens,
                step.denials,
            ]
            .iter()
            .all(|&n| n < full)
            {
                return Ok(total);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The user's active sessions, most recently used first.
    pub async fn sessions(&self, auth: &Authenticated) -> Result<Vec<Session>, ServiceError> {
        let now = Utc::now();
        let mut sessions = self.store.active_sessions(auth.user_id, now).await?;
        sessions.retain(|s| s.is_usable(now, self.policy.idle_timeout));
        Ok(sessions)
    }

    /// Ends one of the user's sessions.
    #[instrument(skip_all, fields(user = %auth.user_id, session = %session_id))]
    pub async fn revoke_session(
        &self,
        auth: &Authenticated,
        session_id: Uuid,
    ) -> Result<(), ServiceError> {
        let now = Utc::now();
        if !self
            .store
            .revoke_session(auth.user_id, session_id, now)
            .await?
        {
            return Err(ServiceError::NotFound("session"));
        }
        self.deny_session(auth.user_id, session_id, now).await?;
        let detail = json!({ "session_id": session_id, "by_session_id": auth.session_id });
        self.audit_own(AuditKind::SessionRevoked, auth, detail)
            .await;
        Ok(())
    }

    /// Ends every session of the user but the current one; returns how many.
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn revoke_other_sessions(&self, auth: &Authenticated) -> Result<usize, ServiceError> {
        let ended = self.end_other_sessions(auth).await?;
        let detail =
            json!({ "others": true, "by_session_id": auth.session_id, "sessions_ended": ended });
        self.audit_own(AuditKind::SessionRevoked, auth, detail)
            .await;
        Ok(ended)
    }

    pub(super) async fn end_other_sessions(
        &self,
        auth: &Authenticated,
    ) -> Result<usize, ServiceError> {
        let now = Utc::now();
        let revoked = self
            .store
            .revoke_other_sessions(auth.user_id, Some(auth.session_id), now)
            .await?;
        for id in &revoked {
            self.deny_session(auth.user_id, *id, now).await?;
        }
        Ok(revoked.len())
    }

    /// Starts a session for a user who has proven who they are
    /// (`AccountDisabled` if the account is disabled).
    pub(super) async fn start_session(
        &self,
        user_id: Uuid,
        client: ClientInfo,
    ) -> Result<TokenPair, ServiceError> {
        let now = Utc::now();
        let session = Session {
            id: Uuid::now_v7(),
            user_id,
            user_agent: client.user_agent.map(|ua| ua.chars().take(256).collect()),
            ip_address: client.ip_address,
            created_at: now,
            last_used_at: now,
            expires_at: now + self.policy.session_lifetime,
            revoked_at: None,
        };
        let (refresh, hash) = new_refresh_token();
        self.store.create_session(&session, &hash).await?;
        self.pair(&session, refresh)
    }

    pub(super) fn pair(
        &self,
        session: &Session,
        refresh_token: String,
    ) -> Result<TokenPair, ServiceError> {
        let (access_token, claims) = self
            .tokens
            .issue(session.user_id, session.id)
            .map_err(|e| ServiceError::Internal(format!("signing an access token: {e}")))?;
        Ok(TokenPair {
            access_token,
            access_expires_at: DateTime::from_timestamp(claims.exp as i64, 0)
                .unwrap_or_else(Utc::now),
            refresh_token,
            session_expires_at: session.expires_at,
            session_id: session.id,
            device_token: None,
        })
    }

    pub(super) async fn revoke(
        &self,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.store
            .revoke_session(session.user_id, session.id, now)
            .await?;
        self.deny_session(session.user_id, session.id, now).await
    }

    /// Refuses the session's outstanding access tokens until they would
    /// have expired, and has its open connections closed on every server
    /// process. Every way a session ends comes through here.
    pub(super) async fn deny_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let until = now + self.policy.access_ttl + Duration::seconds(30);
        self.deny(&format!("sid:{session_id}"), until, now).await?;
        self.announce(
            user_id,
            ServerFrame::SessionEnded {
                user_id,
                session_id,
            },
        )
        .await;
        Ok(())
    }

    /// Publishes an event on the user's topic. The denial is in place
    /// already: a lost announcement leaves a connection open only until
    /// its access token expires (it could not reconnect).
    pub(super) async fn announce(&self, user_id: Uuid, event: ServerFrame<'_>) {
        let Some(bus) = &self.bus else { return };
        if let Err(err) = bus.publish(&user_topic(user_id), event.to_bytes()).await {
            tracing::warn!(error = %err, "session change not announced on the bus");
        }
    }

    pub(super) async fn deny(
        &self,
        key: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        if self.kv.is_redis() {
            let ttl = (until - now).to_std().unwrap_or_default();
            Ok(self.kv.flag(key, ttl).await?)
        } else {
            Ok(self.store.deny(key, until).await?)
        }
    }

    pub(super) async fn is_denied(&self, keys: &[&str]) -> Result<bool, ServiceError> {
        if self.kv.is_redis() {
            Ok(self.kv.any(keys).await?)
        } else {
            Ok(self.store.is_denied(keys, Utc::now()).await?)
        }
    }
}
