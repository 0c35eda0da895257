//! Bot accounts, personal access tokens and incoming webhooks: the
//! [`IntegrationStore`] part of a store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::integrations::{AccessTokenInfo, BotSummary, Scopes, WebhookInfo};
use uuid::Uuid;

use super::StoreError;

/// A token to store (its secret only as a hash).
#[derive(Debug, Clone)]
pub struct NewTokenRow<'a> {
    /// The account it acts as.
    pub user_id: Uuid,
    /// What it is for.
    pub name: &'a str,
    /// SHA-256 of the secret.
    pub hash: [u8; 32],
    /// What it may do.
    pub scopes: Scopes,
    /// Who created it.
    pub created_by: Uuid,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What a presented token grants, as its hash finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token's id.
    pub id: Uuid,
    /// The account it acts as.
    pub user_id: Uuid,
    /// What it may do.
    pub scopes: Scopes,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// An incoming webhook to store, with the bot account it posts as.
#[derive(Debug, Clone)]
pub struct NewWebhookRow<'a> {
    /// Where it posts.
    pub conversation_id: Uuid,
    /// Who creates it.
    pub creator_id: Uuid,
    /// Its name (also its bot's display name).
    pub name: &'a str,
    /// Its bot's username (unique).
    pub bot_username: &'a str,
    /// SHA-256 of the secret in its address.
    pub secret_hash: [u8; 32],
    /// When.
    pub created_at: DateTime<Utc>,
    /// Outgoing: where it posts, its trigger word, and the key it signs
    /// with (kept as it is: it is needed to sign).
    pub outgoing: Option<OutgoingRow<'a>>,
    /// The most members the conversation may have with the bot among them
    /// (a group's limit), counted in the same transaction.
    pub member_cap: Option<usize>,
}

/// What makes a webhook outgoing.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingRow<'a> {
    /// Where it posts.
    pub url: &'a str,
    /// The word a message must start with, if any.
    pub trigger_word: Option<&'a str>,
    /// The HMAC key.
    pub signing_secret: &'a str,
}

/// A webhook as stored.
#[derive(Debug, Clone)]
pub struct StoredHook {
    /// What is listed.
    pub info: WebhookInfo,
    /// SHA-256 of the secret in an incoming hook's address.
    pub secret_hash: [u8; 32],
    /// An outgoing hook's HMAC key.
    pub signing_secret: Option<String>,
}

/// Storage of integrations.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    /// Creates a bot account owned by `owner`; `Conflict("username")` when
    /// the name is taken.
    async fn create_bot(
        &self,
        username: &str,
        display_name: &str,
        owner: Uuid,
        created_at: DateTime<Utc>,
    ) -> Result<BotSummary, StoreError>;

    /// Bot accounts (webhooks' own bots excluded), oldest first: those `owner`
    /// created, or all with `None`.
    async fn bots(&self, owner: Option<Uuid>) -> Result<Vec<BotSummary>, StoreError>;

    /// A bot account (not a webhook's own); `None` for a person, a
    /// webhook's bot or an unknown id.
    async fn bot(&self, id: Uuid) -> Result<Option<BotSummary>, StoreError>;

    /// Stores a token, unless its account already has `max_live` tokens
    /// neither revoked nor expired at `created_at` (`Conflict("token")`).
    async fn insert_token(
        &self,
        token: &NewTokenRow<'_>,
        max_live: u32,
    ) -> Result<AccessTokenInfo, StoreError>;

    /// Tokens, newest first: of `user_id`, or every account's with `None`;
    /// at most `limit`.
    async fn tokens(
        &self,
        user_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AccessTokenInfo>, StoreError>;

    /// One token.
    async fn token(&self, id: Uuid) -> Result<Option<AccessTokenInfo>, StoreError>;

    /// The token with this secret's hash.
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenGrant>, StoreError>;

    /// Notes that the token was used at `now`.
    async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Revokes the token at `now`; returns it as it then is (an earlier
    /// revocation time is kept), `None` for an unknown id.
    async fn revoke_token(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<AccessTokenInfo>, StoreError>;

    /// Creates the webhook, its bot account, and the bot's membership of
    /// the conversation, in one transaction, unless the conversation has
    /// `max` webhooks already (`Conflict("webhook")`) or the bot would take
    /// it past `member_cap` (`Full("conversation")`).
    async fn create_webhook(
        &self,
        hook: &NewWebhookRow<'_>,
        max: u32,
    ) -> Result<WebhookInfo, StoreError>;

    /// A conversation's webhooks, oldest first.
    async fn webhooks(&self, conversation_id: Uuid) -> Result<Vec<WebhookInfo>, StoreError>;

    /// One webhook with its secrets.
    async fn webhook(&self, id: Uuid) -> Result<Option<StoredHook>, StoreError>;

    /// Gives the webhook a new secret (and an outgoing one a new signing
    /// key); `None` for an unknown id.
    async fn rotate_webhook(
        &self,
        id: Uuid,
        secret_hash: &[u8; 32],
        signing_secret: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookInfo>, StoreError>;

    /// Deletes the webhook, takes its bot out of the conversation and
    /// disables it (its messages stay); `None` for an unknown id.
    async fn delete_webhook(&self, id: Uuid) -> Result<Option<WebhookInfo>, StoreError>;
}
