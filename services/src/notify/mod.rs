//! [`NotifyService`]: notification settings, the devices subscribed to Web
//! Push, and the deliveries that reach people when ChatSphere is not in
//! front of them.
//!
//! - The process that commits a message hands it to its notifier
//!   ([`Notices`]); only that process acts on it, so with several
//!   processes each notification still goes out once.
//! - Push: after [`NotifyConfig::push_delay`], to the devices of members
//!   the rule ([`domain::notify`]) says it notifies, who are offline and
//!   have not read it meanwhile ([`push`]).
//! - A read that covers a pushed notification closes it on every device.
//! - Email: a notified member with an address has the message queued; once
//!   the first item is [`NotifyConfig::email_after`] old, one process
//!   claims the user and sends one email of everything still unread, unless
//!   they came online meanwhile ([`digest`]).

pub mod digest;
pub mod push;
mod worker;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use domain::notify::{
    mute_forever, ConversationNotify, NotifyPrefs, NotifySettings, PushSubscription, LOCALES,
};
use domain::{messages, ChatMessage};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::store::notify::StoredPush;
use crate::store::Store;
use crate::ServiceError;

pub use digest::Mailer;
pub use push::{PushConfig, VapidKey};

/// Most push subscriptions kept per user (their devices); a new one
/// beyond that replaces the oldest.
pub const MAX_DEVICES: u32 = 20;
/// Notices waiting for the notifier before new ones are dropped.
const QUEUE: usize = 4096;

/// How notifications are delivered.
#[derive(Clone)]
pub struct NotifyConfig {
    /// Web Push; `None`: off (no key).
    pub push: Option<PushConfig>,
    /// How long after a message its push waits, so a device that is
    /// reconnecting, or a read elsewhere, can make it unnecessary.
    pub push_delay: Duration,
    /// How old the first missed item is before the email goes; `None`:
    /// no email (no SMTP server).
    pub email_after: Option<Duration>,
    /// How often the email queue is looked at.
    pub email_every: Duration,
    /// "New message" in a language (`en`, `zh-CN`): what a notification
    /// says without previews.
    pub hidden_text: fn(&str) -> &'static str,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            push: None,
            push_delay: Duration::from_secs(5),
            email_after: None,
            email_every: Duration::from_secs(60),
            hidden_text: |_| "New message",
        }
    }
}

/// What the committing code tells the notifier.
#[derive(Debug)]
pub(crate) enum Notice {
    /// A message was stored.
    Message(Arc<ChatMessage>),
    /// A user's read position moved.
    Read {
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    },
}

/// The way to the notifier of this process, and to its outgoing webhooks'
/// dispatcher, cheap to clone. Until each starts ([`NotifyService::start`],
/// [`crate::integrations::WebhookService::start`]) what it would be told
/// is dropped.
#[derive(Clone, Default)]
pub struct Notices {
    to: Arc<OnceLock<mpsc::Sender<Notice>>>,
    hooks: Arc<OnceLock<mpsc::Sender<Arc<ChatMessage>>>>,
}

impl Notices {
    /// A stored message (new, not a retry).
    pub(crate) fn message(&self, message: &ChatMessage) {
        let to_notifier = self.to.get();
        let to_hooks = self.hooks.get();
        if to_notifier.is_none() && to_hooks.is_none() {
            return;
        }
        let message = Arc::new(message.clone());
        if let Some(to) = to_hooks {
            if to.try_send(message.clone()).is_err() {
                metrics::counter!("chatsphere_hook_messages_dropped_total").increment(1);
            }
        }
        self.send(Notice::Message(message));
    }

    /// Where the outgoing webhooks' dispatcher listens.
    pub(crate) fn hooks(&self) -> Arc<OnceLock<mpsc::Sender<Arc<ChatMessage>>>> {
        self.hooks.clone()
    }

    /// A read position that moved.
    pub(crate) fn read(&self, user_id: Uuid, conversation_id: Uuid, seq: i64) {
        self.send(Notice::Read {
            user_id,
            conversation_id,
            seq,
        });
    }

    fn send(&self, notice: Notice) {
        if let Some(to) = self.to.get() {
            if to.try_send(notice).is_err() {
                metrics::counter!("chatsphere_notices_dropped_total").increment(1);
            }
        }
    }
}

/// Notification settings and delivery.
#[derive(Clone)]
pub struct NotifyService {
    store: Arc<dyn Store>,
    presence: crate::presence::Presence,
    notices: Notices,
    config: Arc<NotifyConfig>,
}

impl NotifyService {
    /// The service; deliveries start with [`NotifyService::start`].
    pub fn new(
        store: Arc<dyn Store>,
        presence: crate::presence::Presence,
        notices: Notices,
        config: NotifyConfig,
    ) -> Self {
        Self {
            store,
            presence,
            notices,
            config: Arc::new(config),
        }
    }

    /// The same service with other presence (shared through Redis).
    pub(crate) fn with_presence(self, presence: crate::presence::Presence) -> Self {
        Self { presence, ..self }
    }

    /// The same service with other delivery settings.
    pub(crate) fn with_config(self, config: NotifyConfig) -> Self {
        Self {
            config: Arc::new(config),
            ..self
        }
    }

    /// The delivery settings.
    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// Starts this process's notifier and, when email is on, its email
    /// sweep (sending through `mailer`); nothing when there is neither push
    /// nor email to deliver. Call once.
    pub fn start(&self, mailer: Option<Arc<dyn Mailer>>) {
        let mailer = mailer.filter(|_| self.config.email_after.is_some());
        if self.config.push.is_none() && mailer.is_none() {
            // Nothing to deliver: no notice is made, copied or looked up
            // per message.
            tracing::info!("no Web Push and no email: notifications only reach open tabs");
            return;
        }
        let (to, from) = mpsc::channel(QUEUE);
        if self.notices.to.set(to).is_err() {
            tracing::warn!("the notifier was started twice; keeping the first");
            return;
        }
        tokio::spawn(worker::run(self.clone(), from));
        if let Some(mailer) = mailer {
            tokio::spawn(digest::run(self.clone(), mailer));
        }
    }

    /// The public VAPID key browsers subscribe with (base64url), when push is on.
    pub fn push_key(&self) -> Option<&str> {
        self.config.push.as_ref().map(|p| p.key.public())
    }

    /// Whether missed items are emailed here.
    pub fn email_available(&self) -> bool {
        self.config.email_after.is_some()
    }

    /// The user's settings, with what the server and their account allow.
    pub async fn settings(&self, user_id: Uuid) -> Result<NotifySettings, ServiceError> {
        let prefs = self.store.notify_prefs(user_id).await?;
        let has_email = self.store.has_verified_email(user_id).await?;
        Ok(NotifySettings {
            prefs,
            push_key: self.push_key().map(str::to_owned),
            email_available: self.email_available(),
            has_email,
        })
    }

    /// Replaces the user's settings (the language must be one notifications
    /// are written in).
    pub async fn set_prefs(&self, user_id: Uuid, prefs: &NotifyPrefs) -> Result<(), ServiceError> {
        if !LOCALES.contains(&prefs.locale.as_str()) {
            return Err(ServiceError::Invalid(messages::BAD_NOTIFY_LOCALE.into()));
        }
        Ok(self.store.set_notify_prefs(user_id, prefs).await?)
    }

    /// The member's setting for a conversation ("not found" unless a member).
    pub async fn conversation(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<ConversationNotify, ServiceError> {
        self.store
            .conversation_notify(conversation_id, user_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))
    }

    /// Replaces the member's setting for a conversation ("not found"
    /// unless a member). A mute that has already ended is no mute.
    pub async fn set_conversation(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        mut setting: ConversationNotify,
    ) -> Result<ConversationNotify, ServiceError> {
        if setting.muted_until.is_some_and(|until| until <= Utc::now()) {
            setting.muted_until = None;
        }
        // Later than "until unmuted" is until unmuted (and stays a time
        // every client can read).
        setting.muted_until = setting.muted_until.map(|until| until.min(mute_forever()));
        if self
            .store
            .set_conversation_notify(conversation_id, user_id, setting)
            .await?
        {
            Ok(setting)
        } else {
            Err(ServiceError::NotFound("conversation"))
        }
    }

    /// Keeps a device's push subscription for the signed-in user, for as
    /// long as this session lasts. Refused when push
    /// is off, or the endpoint or keys are unusable (the endpoint must be
    /// a public `https:` URL: the server will send requests to it).
    pub async fn subscribe(
        &self,
        auth: &crate::auth::Authenticated,
        subscription: &PushSubscription,
    ) -> Result<(), ServiceError> {
        let Some(push) = &self.config.push else {
            return Err(ServiceError::Invalid(messages::PUSH_OFF.into()));
        };
        push.check(subscription)?;
        let stored = StoredPush {
            id: Uuid::now_v7(),
            user_id: auth.user_id,
            session_id: auth.session_id,
            endpoint: subscription.endpoint.clone(),
            p256dh: subscription.keys.p256dh.clone(),
            auth: subscription.keys.auth.clone(),
            created_at: Utc::now(),
        };
        Ok(self.store.save_push(&stored, MAX_DEVICES).await?)
    }

    /// Forgets the user's device at `endpoint` ("not found" when it is not theirs).
    pub async fn unsubscribe(&self, user_id: Uuid, endpoint: &str) -> Result<(), ServiceError> {
        if endpoint.len() > domain::notify::MAX_PUSH_ENDPOINT {
            return Err(ServiceError::NotFound("push subscription"));
        }
        if self.store.remove_push(user_id, endpoint).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("push subscription"))
        }
    }
}
