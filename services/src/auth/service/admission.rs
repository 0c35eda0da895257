//! Who may hold a session: new accounts settled in (default rooms, admins
//! by being first or by configuration), sign-ins refused to disabled
//! accounts, and disabled accounts shut out of the sessions they had.

use std::sync::PoisonError;

use chrono::{Duration, Utc};
use domain::AuditKind;
use serde_json::json;
use uuid::Uuid;

use super::{AuthService, ClientInfo, TokenPair};
use crate::audit::AuditService;
use crate::store::User;
use crate::ServiceError;

impl AuthService {
    /// The audit log this service writes to.
    pub(crate) fn audit(&self) -> &AuditService {
        &self.audit
    }

    /// Remembers the usernames that configuration makes admins (any case).
    pub(crate) fn set_configured_admins(&self, usernames: &[String]) {
        let names = usernames.iter().map(|n| n.trim().to_lowercase()).collect();
        *self
            .configured_admins
            .write()
            .unwrap_or_else(PoisonError::into_inner) = names;
    }

    fn is_configured_admin(&self, username: &str) -> bool {
        let wanted = username.to_lowercase();
        self.configured_admins
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&wanted)
    }

    /// Settles a new account: puts it in the default rooms (when
    /// configured), makes it an admin if configuration names it, and audits
    /// how it became an admin. Returns the account as it now is.
    pub(crate) async fn welcome(&self, mut user: User) -> Result<User, ServiceError> {
        if let Some(chat) = &self.chat {
            chat.join_default_rooms(user.id).await?;
        }
        let source = if user.is_admin {
            "first_account"
        } else if self.is_configured_admin(&user.username)
            && !self
                .store
                .promote_admins(std::slice::from_ref(&user.username))
                .await?
                .is_empty()
        {
            user.is_admin = true;
            "configuration"
        } else {
            return Ok(user);
        };
        tracing::info!(user = %user.id, source, "account made an admin");
        let detail = json!({"is_admin": true, "source": source});
        self.audit
            .record(
                AuditKind::RoleChanged,
                Some(user.id),
                None,
                None,
                Some(detail),
            )
            .await;
        Ok(user)
    }

    /// Starts a session for a user who has proven who they are by `method`
    /// (`password`, `registration`, `oauth` with `provider`), unless the
    /// account is disabled; either way the audit log says so.
    pub(crate) async fn sign_in(
        &self,
        user: &User,
        client: ClientInfo,
        method: &str,
        provider: Option<&str>,
    ) -> Result<TokenPair, ServiceError> {
        let mut detail = json!({ "method": method });
        if let Some(provider) = provider {
            detail["provider"] = provider.into();
        }
        let started = if user.is_disabled() {
            Err(ServiceError::AccountDisabled)
        } else {
            self.start_session(user.id, client.clone()).await
        };
        let kind = match &started {
            Ok(tokens) => {
                detail["session_id"] = tokens.session_id.to_string().into();
                AuditKind::SignIn
            }
            Err(ServiceError::AccountDisabled) => {
                tracing::info!(user = %user.id, "sign-in refused: account disabled");
                detail["login"] = user.username.clone().into();
                detail["reason"] = "account_disabled".into();
                AuditKind::SignInFailed
            }
            Err(_) => return started,
        };
        self.audit
            .record(kind, Some(user.id), None, Some(&client), Some(detail))
            .await;
        started
    }

    /// Shuts a disabled account out: refuses its outstanding access tokens
    /// (with `AccountDisabled`), has its connections closed on every server
    /// process (saying why, before the sessions' own announcements), then
    /// ends every session. Returns how many sessions ended.
    pub(crate) async fn shut_out(&self, user_id: Uuid) -> Result<usize, ServiceError> {
        let now = Utc::now();
        let until = now + self.policy.access_ttl + Duration::seconds(30);
        self.deny(&account_key(user_id), until, now).await?;
        self.announce(
            user_id,
            domain::protocol::ServerFrame::AccountDisabled { user_id },
        )
        .await;
        let revoked = self.store.revoke_other_sessions(user_id, None, now).await?;
        for id in &revoked {
            self.deny_session(user_id, *id, now).await?;
        }
        Ok(revoked.len())
    }

    /// Lets an account enabled again use new access tokens.
    pub(crate) async fn let_back_in(&self, user_id: Uuid) -> Result<(), ServiceError> {
        let key = account_key(user_id);
        if self.kv.is_redis() {
            Ok(self.kv.remove(&key).await?)
        } else {
            Ok(self.store.lift_denial(&key).await?)
        }
    }

    /// Whether the account exists and is disabled.
    pub(super) async fn is_account_disabled(&self, user_id: Uuid) -> Result<bool, ServiceError> {
        let user = self.store.user_by_id(user_id).await?;
        Ok(user.is_some_and(|u| u.is_disabled()))
    }
}

/// The deny-list key that refuses every access token of a disabled account.
pub(super) fn account_key(user_id: Uuid) -> String {
    format!("user:{user_id}")
}
