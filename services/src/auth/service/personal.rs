//! Personal access tokens and bot accounts: tokens are created for the
//! caller or for a bot they own (admins: any bot), shown once, stored as a
//! SHA-256 hash, accepted as `Authorization: Bearer` with the scopes they
//! were given, and revoked by their owner or an admin — at once on every
//! process (the session deny list) and on open connections.

use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use domain::integrations::{
    AccessTokenInfo, BotSummary, CreatedToken, NewAccessToken, NewBot, Scopes, TokenScope,
    MAX_TOKENS_PER_USER, MAX_TOKEN_DAYS, TOKEN_PREFIX,
};
use domain::messages::TOKEN_NEEDS_SESSION;
use domain::protocol::ServerFrame;
use domain::AuditKind;
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::admission::account_key;
use super::{AuthService, Authenticated, BAD_TOKEN};
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::store::{NewTokenRow, TokenGrant};
use crate::ServiceError;

/// How long a looked-up token is kept by a process before the database is
/// asked again (its `last_used_at` moves at most this often). A revocation
/// is seen at once all the same: it goes on the deny list for longer.
pub const GRANT_TTL: StdDuration = StdDuration::from_secs(60);
/// Most tokens a process keeps looked up.
pub const GRANT_CAPACITY: u64 = 10_000;
/// Longest a presented personal token may be (it is 47 characters): a
/// longer one is refused before it is hashed or looked up.
const MAX_TOKEN_CHARS: usize = 128;
/// Most tokens one listing returns.
pub const MAX_TOKEN_LIST: u32 = 500;

/// The lookup cache of [`AuthService`].
pub(super) type Grants = moka::sync::Cache<[u8; 32], TokenGrant>;

pub(super) fn grants() -> Grants {
    moka::sync::Cache::builder()
        .max_capacity(GRANT_CAPACITY)
        .time_to_live(GRANT_TTL)
        .support_invalidation_closures()
        .build()
}

/// The key a presented token is looked up by (the hash of its secret);
/// `None` for one too long to be ours, before it is hashed.
fn grant_key(token: &str) -> Option<[u8; 32]> {
    (token.len() <= MAX_TOKEN_CHARS).then(|| hash_refresh_token(token))
}

/// Whether `token` is a personal access token (not a session's JWT).
pub fn is_personal(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX)
}

impl AuthService {
    /// Lets every user create bots (by default only admins may), on every
    /// clone of this service.
    pub fn set_user_bots(&self, allowed: bool) {
        self.user_bots.store(allowed, Ordering::Relaxed);
    }

    /// The user of a personal access token this process looked up lately
    /// (for rate budgets: no lookup, no database).
    pub(super) fn cached_personal_subject(&self, token: &str) -> Option<Uuid> {
        self.grants
            .get(&grant_key(token)?)
            .map(|grant| grant.user_id)
    }

    /// The user of a personal access token, with its scopes.
    pub(super) async fn authenticate_personal(
        &self,
        token: &str,
    ) -> Result<Authenticated, ServiceError> {
        let hash = grant_key(token).ok_or(ServiceError::Unauthorized(BAD_TOKEN))?;
        let now = Utc::now();
        let grant = match self.grants.get(&hash) {
            Some(grant) => grant,
            None => {
                let grant = self
                    .store
                    .token_by_hash(&hash)
                    .await?
                    .ok_or(ServiceError::Unauthorized(BAD_TOKEN))?;
                let stale = grant
                    .last_used_at
                    .is_none_or(|at| now - at >= Duration::seconds(60));
                let live = grant.revoked_at.is_none() && grant.expires_at > now;
                // Best effort: a busy database does not refuse the request.
                if stale && live {
                    if let Err(err) = self.store.touch_token(grant.id, now).await {
                        tracing::warn!(error = %err, "token use not recorded");
                    }
                }
                self.grants.insert(hash, grant);
                grant
            }
        };
        if grant.revoked_at.is_some() || grant.expires_at <= now {
            return Err(ServiceError::Unauthorized(BAD_TOKEN));
        }
        let token_key = format!("sid:{}", grant.id);
        let account = account_key(grant.user_id);
        if grant.disabled || self.is_denied(&[&token_key, &account]).await? {
            if grant.disabled || self.is_denied(&[&account]).await? {
                return Err(ServiceError::AccountDisabled);
            }
            return Err(ServiceError::Unauthorized(BAD_TOKEN));
        }
        // Like a session's access token, what it authenticates lasts at
        // most an access token's lifetime: a connection opened with it
        // authenticates again by then (and a revocation whose announcement
        // was lost still ends it).
        let expires_at = grant.expires_at.min(now + self.policy.access_ttl);
        Ok(Authenticated {
            user_id: grant.user_id,
            session_id: grant.id,
            jti: grant.id,
            expires_at,
            scopes: grant.scopes,
            personal: true,
        })
    }

    /// Creates a token for the caller, or for a bot they own (admins: any
    /// bot). Only a signed-in session may: a token cannot make tokens.
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn create_token(
        &self,
        auth: &Authenticated,
        new: NewAccessToken,
    ) -> Result<CreatedToken, ServiceError> {
        self.session_only(auth)?;
        if new.scopes.is_empty() {
            return Err(ServiceError::Invalid("scopes: at least one".into()));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&new.expires_in_days) {
            return Err(ServiceError::Invalid(format!(
                "expires_in_days: from 1 to {MAX_TOKEN_DAYS}"
            )));
        }
        let caller = self.active_user(auth.user_id).await?;
        let owner = match new.user_id {
            None => auth.user_id,
            Some(id) if id == auth.user_id => id,
            Some(bot_id) => self.managed_bot(&caller, bot_id).await?.id,
        };
        let scopes = Scopes::of(&new.scopes);
        if scopes.allows(TokenScope::Admin) && !(caller.is_admin && owner == caller.id) {
            return Err(ServiceError::Forbidden(
                domain::messages::ADMIN_SCOPE_OWN_ONLY,
            ));
        }
        let (secret, _) = new_refresh_token();
        let token = format!("{TOKEN_PREFIX}{secret}");
        let now = Utc::now();
        let row = NewTokenRow {
            user_id: owner,
            name: new.name.as_str(),
            hash: hash_refresh_token(&token),
            scopes,
            created_by: auth.user_id,
            created_at: now,
            expires_at: now + Duration::days(i64::from(new.expires_in_days)),
        };
        let info = match self.store.insert_token(&row, MAX_TOKENS_PER_USER).await {
            Err(crate::StoreError::Conflict(_)) => {
                return Err(ServiceError::Invalid(
                    domain::messages::TOO_MANY_TOKENS.to_owned(),
                ))
            }
            other => other?,
        };
        let detail = json!({
            "token_id": info.id, "name": info.name, "scopes": scopes.to_stored(),
            "expires_at": info.expires_at,
        });
        self.audit
            .record(
                AuditKind::TokenCreated,
                Some(owner),
                Some(auth.user_id),
                None,
                Some(detail),
            )
            .await;
        Ok(CreatedToken { token, info })
    }

    /// Tokens the caller may see: their own and their bots' with
    /// `user_id` (a bot's), or all of theirs; an admin may name anyone.
    pub async fn tokens(
        &self,
        auth: &Authenticated,
        user_id: Option<Uuid>,
    ) -> Result<Vec<AccessTokenInfo>, ServiceError> {
        let caller = self.acting_user(auth).await?;
        let whose = match user_id {
            None => auth.user_id,
            Some(id) if id == auth.user_id => id,
            Some(id) if caller.is_admin => id,
            Some(bot_id) => self.managed_bot(&caller, bot_id).await?.id,
        };
        Ok(self.store.tokens(Some(whose), MAX_TOKEN_LIST).await?)
    }

    /// Every account's tokens, newest first (admins).
    pub async fn all_tokens(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<AccessTokenInfo>, ServiceError> {
        if !self.acting_user(auth).await?.is_admin {
            return Err(ServiceError::Forbidden(domain::messages::ADMINS_ONLY));
        }
        Ok(self.store.tokens(None, MAX_TOKEN_LIST).await?)
    }

    /// Revokes a token: its account's owner (or a bot's owner) or an admin
    /// may. A token may revoke itself; otherwise only a session may.
    #[instrument(skip_all, fields(user = %auth.user_id, token = %id))]
    pub async fn revoke_token(
        &self,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<AccessTokenInfo, ServiceError> {
        if auth.personal && auth.session_id != id {
            return Err(ServiceError::Forbidden(
                domain::messages::TOKEN_REVOKES_ITSELF_ONLY,
            ));
        }
        let not_found = ServiceError::NotFound("token");
        let info = self.store.token(id).await?.ok_or(not_found)?;
        if info.user_id != auth.user_id {
            let caller = self.acting_user(auth).await?;
            if !caller.is_admin {
                // Someone else's token is not there, unless it is a bot's
                // they own.
                self.managed_bot(&caller, info.user_id)
                    .await
                    .map_err(|_| ServiceError::NotFound("token"))?;
            }
        }
        let now = Utc::now();
        let revoked = self
            .store
            .revoke_token(id, now)
            .await?
            .ok_or(ServiceError::NotFound("token"))?;
        // Processes that looked it up recently refuse it from now on, and
        // its connections close.
        self.grants
            .invalidate_entries_if(move |_, grant| grant.id == id)
            .ok();
        // The revocation is committed: what follows only makes it felt
        // sooner (other processes' caches, open connections), so a failure
        // is logged, not returned.
        let until = now + Duration::from_std(GRANT_TTL).unwrap_or_default() * 2;
        if let Err(err) = self.deny(&format!("sid:{id}"), until, now).await {
            tracing::warn!(error = %err, "token revocation not put on the deny list");
        }
        self.announce(
            info.user_id,
            ServerFrame::SessionEnded {
                user_id: info.user_id,
                session_id: id,
            },
        )
        .await;
        self.audit
            .record(
                AuditKind::TokenRevoked,
                Some(info.user_id),
                Some(auth.user_id),
                None,
                Some(json!({ "token_id": id, "name": info.name })),
            )
            .await;
        Ok(revoked)
    }

    /// Creates a bot account owned by the caller: admins may, and every
    /// user when the server allows it ([`AuthService::set_user_bots`]).
    #[instrument(skip_all, fields(user = %auth.user_id))]
    pub async fn create_bot(
        &self,
        auth: &Authenticated,
        new: NewBot,
    ) -> Result<BotSummary, ServiceError> {
        self.session_only(auth)?;
        let caller = self.active_user(auth.user_id).await?;
        if !caller.is_admin && !self.users_may_create_bots() {
            return Err(ServiceError::Forbidden(domain::messages::BOTS_ADMINS_ONLY));
        }
        let bot = self
            .store
            .create_bot(
                new.username.as_str(),
                new.display_name.as_str(),
                caller.id,
                Utc::now(),
            )
            .await?;
        self.audit
            .record(
                AuditKind::BotCreated,
                Some(bot.id),
                Some(caller.id),
                None,
                Some(json!({ "bot_id": bot.id, "username": bot.username })),
            )
            .await;
        Ok(bot)
    }

    /// The bots the caller created (admins: every bot).
    pub async fn bots(&self, auth: &Authenticated) -> Result<Vec<BotSummary>, ServiceError> {
        let caller = self.acting_user(auth).await?;
        let owner = (!caller.is_admin).then_some(caller.id);
        Ok(self.store.bots(owner).await?)
    }

    /// Whether bots may be created by every user here.
    fn users_may_create_bots(&self) -> bool {
        self.user_bots.load(Ordering::Relaxed)
    }

    /// A bot `caller` may manage: one they created, or any bot for an
    /// admin. Anything else is not found.
    async fn managed_bot(
        &self,
        caller: &crate::store::User,
        bot_id: Uuid,
    ) -> Result<BotSummary, ServiceError> {
        match self.store.bot(bot_id).await? {
            Some(bot) if caller.is_admin || bot.owner_id == Some(caller.id) => Ok(bot),
            _ => Err(ServiceError::NotFound("bot")),
        }
    }

    /// The caller's account, enabled, with an admin's powers only where
    /// its credentials carry them (a token without the `admin` scope acts
    /// as a member).
    async fn acting_user(&self, auth: &Authenticated) -> Result<crate::store::User, ServiceError> {
        let mut user = self.active_user(auth.user_id).await?;
        user.is_admin &= auth.actor().admin_powers;
        Ok(user)
    }

    /// The caller's account, enabled.
    async fn active_user(&self, user_id: Uuid) -> Result<crate::store::User, ServiceError> {
        match self.store.user_by_id(user_id).await? {
            Some(user) if !user.is_disabled() => Ok(user),
            Some(_) => Err(ServiceError::AccountDisabled),
            None => Err(ServiceError::Unauthorized(BAD_TOKEN)),
        }
    }

    /// Refuses a token where only a signed-in session may act.
    fn session_only(&self, auth: &Authenticated) -> Result<(), ServiceError> {
        if auth.personal {
            return Err(ServiceError::Forbidden(TOKEN_NEEDS_SESSION));
        }
        Ok(())
    }
}
