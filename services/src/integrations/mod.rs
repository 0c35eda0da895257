//! Webhooks. A conversation's owners and admins create them, each with a
//! bot account of its own that posts what it brings.
//!
//! - Incoming: a name, and a secret address shown once; whatever posts
//!   Slack's incoming-webhook JSON to that address appears in the
//!   conversation, under the payload's `username` if it gives one.
//! - Outgoing ([`outgoing`]): a URL, an optional trigger word, and a
//!   signing secret shown once; new messages are posted to the URL, and a
//!   reply is posted back.
//!
//! A webhook whose creator left the conversation posts nothing.

mod outgoing;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::integrations::outgoing::{HookDelivery, DELIVERY_LOG};
use domain::integrations::slack::{Payload, Refusal, HOOK_POSTS_PER_MINUTE};
use domain::integrations::{
    hook_path, CreatedWebhook, NewWebhook, WebhookInfo, MAX_HOOKS_PER_CONVERSATION, MAX_HOOK_SECRET,
};
use domain::{AuditKind, ChatMessage, ConversationKind, MessageBody};
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use crate::audit::AuditService;
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::bus::Bus;
use crate::conversations::{Actor, ConversationService, Outgoing};
use crate::kv::SharedKv;
use crate::members::Members;
use crate::store::{NewWebhookRow, OutgoingRow, Store};
use crate::ServiceError;

pub use outgoing::{sign, OutgoingConfig};

/// Incoming and outgoing webhooks.
#[derive(Clone)]
pub struct WebhookService {
    store: Arc<dyn Store>,
    members: Members,
    chat: ConversationService,
    kv: SharedKv,
    audit: AuditService,
    outbox: Arc<outgoing::Outbox>,
    targets: outgoing::TargetCache,
}

impl WebhookService {
    /// The service over its collaborators.
    pub fn new(
        store: Arc<dyn Store>,
        members: Members,
        chat: ConversationService,
        kv: SharedKv,
        bus: Arc<dyn Bus>,
        notices: &crate::notify::Notices,
    ) -> Self {
        Self {
            audit: AuditService::new(store.clone()),
            store,
            members,
            chat,
            kv,
            outbox: Arc::new(outgoing::Outbox::new(
                OutgoingConfig::default(),
                notices.hooks(),
            )),
            targets: outgoing::target_cache(bus),
        }
    }

    /// Sends outgoing webhooks as `config` says.
    pub fn with_outgoing(mut self, config: OutgoingConfig) -> Self {
        self.outbox = Arc::new(outgoing::Outbox::new(config, self.outbox.to.clone()));
        self
    }

    /// Succeeds for a group or room `actor` manages (its owners and
    /// admins; in a public room also the server's admins, with their admin
    /// powers: those who moderate it). Someone who is neither a member nor
    /// a moderator finds no such conversation.
    async fn managed(
        &self,
        actor: Actor,
        conversation_id: Uuid,
    ) -> Result<crate::store::Conversation, ServiceError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let manages = self.chat.moderates(actor, &conversation).await?;
        if !manages
            && self
                .members
                .role(conversation_id, actor.user_id)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound("conversation"));
        }
        if conversation.kind == ConversationKind::Direct {
            return Err(ServiceError::Forbidden(
                domain::messages::HOOKS_NOT_IN_DIRECT,
            ));
        }
        if !manages {
            return Err(ServiceError::Forbidden(
                domain::messages::HOOKS_MANAGERS_ONLY,
            ));
        }
        Ok(conversation)
    }

    /// The webhook, if `actor` manages its conversation.
    async fn managed_hook(&self, actor: Actor, id: Uuid) -> Result<WebhookInfo, ServiceError> {
        let hook = self
            .store
            .webhook(id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?
            .info;
        self.managed(actor, hook.conversation_id)
            .await
            .map_err(|err| match err {
                ServiceError::Forbidden(_) | ServiceError::NotFound(_) => {
                    ServiceError::NotFound("webhook")
                }
                other => other,
            })?;
        Ok(hook)
    }

    /// Creates a webhook and its bot, which joins the conversation.
    #[instrument(skip_all, fields(user = %actor.user_id, conversation = %conversation_id))]
    pub async fn create(
        &self,
        actor: Actor,
        conversation_id: Uuid,
        new: NewWebhook,
    ) -> Result<CreatedWebhook, ServiceError> {
        let user_id = actor.user_id;
        let conversation = self.managed(actor, conversation_id).await?;
        if let Some(url) = &new.url {
            self.check_url(url)?;
        } else if new.trigger_word.is_some() {
            return Err(ServiceError::Invalid(
                domain::messages::TRIGGER_NEEDS_URL.to_owned(),
            ));
        }
        let (secret, secret_hash) = new_refresh_token();
        let signing_secret = new.url.is_some().then(|| new_refresh_token().0);
        let simple = Uuid::now_v7().simple().to_string();
        // The time part and some of the random part: unique, and short
        // enough for a username.
        let bot_username = format!("hook-{}{}", &simple[..12], &simple[20..32]);
        let row = NewWebhookRow {
            conversation_id,
            creator_id: user_id,
            name: new.name.as_str(),
            bot_username: &bot_username,
            secret_hash,
            created_at: Utc::now(),
            outgoing: new.url.as_ref().zip(signing_secret.as_deref()).map(
                |(url, signing_secret)| OutgoingRow {
                    url: url.as_str(),
                    trigger_word: new.trigger_word.as_ref().map(|w| w.as_str()),
                    signing_secret,
                },
            ),
            // Its bot is a member like any other.
            member_cap: (conversation.kind == ConversationKind::Group)
                .then_some(crate::conversations::GROUP_CAPACITY),
        };
        let hook = match self
            .store
            .create_webhook(&row, MAX_HOOKS_PER_CONVERSATION)
            .await
        {
            Err(crate::StoreError::Conflict("webhook")) => {
                return Err(ServiceError::Invalid(
                    domain::messages::TOO_MANY_HOOKS.to_owned(),
                ))
            }
            Err(crate::StoreError::Full(_)) => return Err(crate::conversations::group_full()),
            other => other?,
        };
        self.hooks_changed(conversation_id).await;
        self.chat
            .bot_membership_changed(conversation_id, hook.bot_id, true)
            .await;
        self.record(AuditKind::WebhookCreated, user_id, &hook).await;
        Ok(created(hook, &secret, signing_secret))
    }

    /// A conversation's webhooks (for those who manage it).
    pub async fn list(
        &self,
        actor: Actor,
        conversation_id: Uuid,
    ) -> Result<Vec<WebhookInfo>, ServiceError> {
        self.managed(actor, conversation_id).await?;
        Ok(self.store.webhooks(conversation_id).await?)
    }

    /// Gives a webhook a new address; the old one stops working.
    #[instrument(skip_all, fields(user = %actor.user_id, hook = %id))]
    pub async fn rotate(&self, actor: Actor, id: Uuid) -> Result<CreatedWebhook, ServiceError> {
        let hook = self.managed_hook(actor, id).await?;
        let (secret, secret_hash) = new_refresh_token();
        let signing_secret = hook.url.is_some().then(|| new_refresh_token().0);
        let hook = self
            .store
            .rotate_webhook(id, &secret_hash, signing_secret.as_deref(), Utc::now())
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        self.record(AuditKind::WebhookRotated, actor.user_id, &hook)
            .await;
        Ok(created(hook, &secret, signing_secret))
    }

    /// Deletes a webhook; its bot leaves the conversation, its messages stay.
    #[instrument(skip_all, fields(user = %actor.user_id, hook = %id))]
    pub async fn delete(&self, actor: Actor, id: Uuid) -> Result<WebhookInfo, ServiceError> {
        self.managed_hook(actor, id).await?;
        let hook = self
            .store
            .delete_webhook(id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        self.hooks_changed(hook.conversation_id).await;
        self.chat
            .bot_membership_changed(hook.conversation_id, hook.bot_id, false)
            .await;
        self.record(AuditKind::WebhookDeleted, actor.user_id, &hook)
            .await;
        Ok(hook)
    }

    /// An outgoing webhook's deliveries, newest first (for those who
    /// manage its conversation).
    pub async fn deliveries(
        &self,
        actor: Actor,
        id: Uuid,
    ) -> Result<Vec<HookDelivery>, ServiceError> {
        let hook = self.managed_hook(actor, id).await?;
        if hook.url.is_none() {
            return Err(ServiceError::Invalid(
                domain::messages::NOT_AN_OUTGOING_HOOK.to_owned(),
            ));
        }
        Ok(self.store.deliveries(id, DELIVERY_LOG).await?)
    }

    /// Refuses an outgoing webhook's URL this server may not request.
    fn check_url(&self, url: &domain::integrations::outgoing::HookUrl) -> Result<(), ServiceError> {
        url::Url::parse(url.as_str())
            .ok()
            .filter(|parsed| self.outbox.config.egress.check(parsed).is_ok())
            .map(|_| ())
            .ok_or_else(|| ServiceError::Invalid(domain::messages::HOOK_URL_NOT_ALLOWED.to_owned()))
    }

    async fn record(&self, kind: AuditKind, user_id: Uuid, hook: &WebhookInfo) {
        let detail = json!({
            "webhook_id": hook.id, "conversation_id": hook.conversation_id, "name": hook.name,
        });
        self.audit
            .record(kind, Some(user_id), Some(user_id), None, Some(detail))
            .await;
    }

    /// The webhook at `id` if `secret` is its secret, and it may post:
    /// checked before its payload is read, so a stranger's request costs
    /// one lookup.
    #[instrument(skip_all, fields(hook = %id))]
    pub async fn check(&self, id: Uuid, secret: &str) -> Result<WebhookInfo, HookError> {
        let stored = self.store.webhook(id).await?.ok_or(Refusal::NoService)?;
        // Hashes are compared: how long a comparison takes tells nothing
        // of the secret. An outgoing hook has no address to post to.
        if secret.len() > MAX_HOOK_SECRET
            || hash_refresh_token(secret) != stored.secret_hash
            || stored.info.url.is_some()
        {
            return Err(Refusal::InvalidToken.into());
        }
        let hook = stored.info;
        self.may_post(&hook).await?;
        self.within_budget(id).await?;
        Ok(hook)
    }

    /// Counts a post of the webhook's against its budget
    /// ([`HOOK_POSTS_PER_MINUTE`]); refused past it.
    async fn within_budget(&self, id: Uuid) -> Result<(), HookError> {
        let (posts, window_left) = self
            .kv
            .increment(&format!("hook:{id}"), Duration::from_secs(60))
            .await
            .map_err(ServiceError::from)?;
        if posts > HOOK_POSTS_PER_MINUTE {
            return Err(Refusal::RateLimited {
                retry_after: window_left.as_secs().max(1),
            }
            .into());
        }
        Ok(())
    }

    /// Whether a webhook may post (or send): its creator is still in the
    /// conversation and able to sign in, and its bot still in it and
    /// enabled.
    async fn may_post(&self, hook: &WebhookInfo) -> Result<(), HookError> {
        let member = |id| self.members.role(hook.conversation_id, id);
        let both_in =
            member(hook.creator_id).await?.is_some() && member(hook.bot_id).await?.is_some();
        let active = |id| async move {
            Ok::<_, ServiceError>(
                self.store
                    .user_by_id(id)
                    .await?
                    .is_some_and(|u| !u.is_disabled()),
            )
        };
        if !both_in || !active(hook.creator_id).await? || !active(hook.bot_id).await? {
            return Err(Refusal::ActionProhibited.into());
        }
        Ok(())
    }

    /// Posts what a webhook ([`WebhookService::check`]ed) was sent,
    /// answering as Slack does.
    #[instrument(skip_all, fields(hook = %hook.id))]
    pub async fn post(
        &self,
        hook: &WebhookInfo,
        payload: &Payload,
    ) -> Result<ChatMessage, HookError> {
        let max = self.chat.max_message_chars();
        // Bounded before it is converted: the conversion is linear, and a
        // text this long could never be a message anyway.
        if payload.raw_len() > max.saturating_mul(4) {
            return Err(Refusal::MsgTooLong.into());
        }
        let body = payload.to_markdown();
        if body.trim().is_empty() {
            return Err(Refusal::NoText.into());
        }
        if let Err(err) = MessageBody::parse(&body, max) {
            return Err(match err.rule {
                domain::Rule::Length { .. } | domain::Rule::AtMost(_) => Refusal::MsgTooLong,
                _ => Refusal::InvalidPayload,
            }
            .into());
        }
        let outgoing = Outgoing {
            conversation_id: hook.conversation_id,
            client_msg_id: Uuid::now_v7().to_string(),
            body,
            reply_to: None,
            attachments: Vec::new(),
            label: payload.label(),
        };
        match self.chat.post(Actor::member(hook.bot_id), outgoing).await {
            Ok(posted) => Ok(posted.message().clone()),
            Err(ServiceError::TooManyRequests { retry_after }) => {
                Err(Refusal::RateLimited { retry_after }.into())
            }
            // Its bot was taken out of the conversation, or the webhook
            // deleted meanwhile.
            Err(ServiceError::NotFound(_) | ServiceError::Forbidden(_)) => {
                Err(Refusal::ActionProhibited.into())
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// What creating or rotating a webhook shows once: an incoming one's
/// address, an outgoing one's signing secret.
fn created(hook: WebhookInfo, secret: &str, signing_secret: Option<String>) -> CreatedWebhook {
    CreatedWebhook {
        path: hook.url.is_none().then(|| hook_path(hook.id, secret)),
        signing_secret,
        hook,
    }
}

/// Why a post to a webhook failed: a refusal Slack's clients understand, or
/// a failure of this server.
#[derive(Debug)]
pub enum HookError {
    /// Refused, with Slack's code.
    Refused(Refusal),
    /// Something else went wrong (a database outage, …).
    Service(ServiceError),
}

impl From<Refusal> for HookError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<ServiceError> for HookError {
    fn from(err: ServiceError) -> Self {
        Self::Service(err)
    }
}

impl From<crate::StoreError> for HookError {
    fn from(err: crate::StoreError) -> Self {
        Self::Service(err.into())
    }
}
