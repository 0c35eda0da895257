//! Notification settings, push subscriptions, and what waits for the email
//! of what was missed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::notify::{ConversationNotify, NotifyLevel, NotifyPrefs};
use domain::ConversationKind;
use uuid::Uuid;

use super::StoreError;

/// A member a new message may notify, with everything the rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    /// Who.
    pub user_id: Uuid,
    /// Their defaults.
    pub prefs: NotifyPrefs,
    /// Their setting for this conversation.
    pub conversation: ConversationNotify,
    /// Whether they have a verified email address.
    pub has_email: bool,
    /// Whether any of their devices, in a session still open, subscribed
    /// to push.
    pub has_push: bool,
}

/// What a new message's notifications need to know of its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyScope {
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// The group's or room's name (empty for direct conversations).
    pub name: String,
    /// Members who may be notified: those the message mentions, everyone
    /// for `@all`, a direct message or members whose level is "all"; never
    /// the sender.
    pub targets: Vec<NotifyTarget>,
}

/// A device's push subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPush {
    /// Row id.
    pub id: Uuid,
    /// Whose device.
    pub user_id: Uuid,
    /// The session that subscribed it: pushes stop when it ends.
    pub session_id: Uuid,
    /// The push service URL.
    pub endpoint: String,
    /// The device's public key (base64url).
    pub p256dh: String,
    /// The authentication secret (base64url).
    pub auth: String,
    /// When it was subscribed.
    pub created_at: DateTime<Utc>,
}

/// One item of an email digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    /// The conversation.
    pub conversation_id: Uuid,
    /// Its kind.
    pub kind: ConversationKind,
    /// Whether it is a public room (its text is no secret).
    pub public: bool,
    /// Its name (empty for direct conversations).
    pub conversation_name: String,
    /// The message's position.
    pub seq: i64,
    /// Who wrote it.
    pub sender_name: String,
    /// What it says.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Until when the reader muted its conversation, if they did.
    pub muted_until: Option<DateTime<Utc>>,
}

/// A user's waiting items, taken for one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Whose.
    pub user_id: Uuid,
    /// Their address.
    pub email: String,
    /// Their display name.
    pub display_name: String,
    /// Their settings (language, previews).
    pub prefs: NotifyPrefs,
    /// When they were last online (`None`: never, or online now).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The items that are still unread by them, not deleted and in
    /// conversations they are still in, oldest first.
    pub items: Vec<DigestItem>,
}

/// Notification settings and deliveries.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// The user's settings (the defaults when never saved).
    async fn notify_prefs(&self, user_id: Uuid) -> Result<NotifyPrefs, StoreError>;

    /// Replaces the user's settings.
    async fn set_notify_prefs(&self, user_id: Uuid, prefs: &NotifyPrefs) -> Result<(), StoreError>;

    /// Whether the user has an email address verified (by their sign-in
    /// provider): the only kind emails are sent to.
    async fn has_verified_email(&self, user_id: Uuid) -> Result<bool, StoreError>;

    /// The member's setting for a conversation; `None` unless a member.
    async fn conversation_notify(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<ConversationNotify>, StoreError>;

    /// Replaces the member's setting for a conversation; false unless a member.
    async fn set_conversation_notify(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        setting: ConversationNotify,
    ) -> Result<bool, StoreError>;

    /// Who a new message in a conversation may notify (see
    /// [`NotifyScope::targets`]). `None` when the conversation is gone.
    async fn notify_scope(
        &self,
        conversation_id: Uuid,
        sender_id: Uuid,
        mentioned: &[Uuid],
        mentions_all: bool,
    ) -> Result<Option<NotifyScope>, StoreError>;

    /// Keeps a device's subscription for the user (a known endpoint moves
    /// to them with its new keys); beyond `keep` per user the oldest go.
    async fn save_push(&self, push: &StoredPush, keep: u32) -> Result<(), StoreError>;

    /// Forgets the user's subscription at `endpoint`; false when none.
    async fn remove_push(&self, user_id: Uuid, endpoint: &str) -> Result<bool, StoreError>;

    /// Forgets a subscription the push service no longer knows.
    async fn drop_push(&self, id: Uuid) -> Result<(), StoreError>;

    /// The subscriptions of these users whose sessions are still open.
    async fn pushes_of(&self, users: &[Uuid]) -> Result<Vec<StoredPush>, StoreError>;

    /// The user's read position in a conversation per user (members only).
    async fn read_positions(
        &self,
        conversation_id: Uuid,
        users: &[Uuid],
    ) -> Result<Vec<(Uuid, i64)>, StoreError>;

    /// A notification up to `seq` was pushed to the user's devices.
    async fn note_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<(), StoreError>;

    /// The user read up to `seq`: forgets the pushed notification it
    /// covers and says whether there was one (to close it elsewhere).
    async fn clear_pushed(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<bool, StoreError>;

    /// Queues a message for the email of these users, each due at `due`
    /// unless something of theirs is waiting already.
    async fn queue_email(
        &self,
        message_id: Uuid,
        users: &[Uuid],
        due: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Makes a waiting item whose user has nothing due (their claim was
    /// taken by a process that stopped, or raced with the item's arrival)
    /// due at `now`; how many users.
    async fn requeue_orphans(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Claims up to `limit` users whose email is due at `now`: each is
    /// claimed by one caller only, whatever the number of processes.
    async fn claim_email(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StoreError>;

    /// Takes (removes) what waits for a claimed user's email. `None` when
    /// the user has no verified address any more, or is disabled.
    async fn take_digest(&self, user_id: Uuid) -> Result<Option<Digest>, StoreError>;
}

/// The level stored in a nullable column.
pub(crate) fn level_from_column(text: Option<String>) -> Result<Option<NotifyLevel>, StoreError> {
    text.map(|t| {
        NotifyLevel::from_stored(&t)
            .ok_or_else(|| StoreError::Corrupt(format!("notify level {t:?}")))
    })
    .transpose()
}
