//! [`ConversationService`]: who may read, post to and manage which
//! conversation. Membership is checked on every call; a private
//! conversation someone is not in answers "not found", so nobody learns it
//! exists. Public rooms may be read by anyone signed in; posting needs
//! joining.

use std::sync::Arc;

use domain::{ConversationKind, ConversationSummary, MemberRole};
use uuid::Uuid;

use crate::bus::Bus;
use crate::events::{conversation_topic, user_topic, Publish};
use crate::kv::SharedKv;
use crate::members::Members;
use crate::store::{Conversation, Store};
use crate::ServiceError;
use domain::protocol::ServerFrame;

mod changes;
mod commit;
mod membership;
mod mentions;
mod messages;
mod people;
mod reactions;

pub use changes::ChangeAction;
pub use mentions::Mentioned;
pub use reactions::{find_emoji, reaction_emoji};

/// Most members a group can be created with.
pub const MAX_GROUP_MEMBERS: usize = 256;
/// Most members a group holds: its owner and `MAX_GROUP_MEMBERS` others
/// (people, and webhooks' bots).
pub(crate) const GROUP_CAPACITY: usize = MAX_GROUP_MEMBERS + 1;

/// The refusal of one more member for a full group.
pub(crate) fn group_full() -> ServiceError {
    ServiceError::Invalid(format!(
        "a group holds its owner and at most {MAX_GROUP_MEMBERS} members"
    ))
}
/// Most users a search returns.
pub const MAX_SEARCH_RESULTS: u32 = 20;
/// Longest search text, in characters (surrounding whitespace ignored).
pub const MAX_SEARCH_CHARS: usize = domain::DisplayName::MAX;

/// Who acts on a conversation: a user, and whether the server's admin
/// powers come with what they do (moderating public rooms, calling
/// everyone in a large one). A signed-in session carries them; a personal
/// access token only with the `admin` scope
/// ([`crate::auth::Authenticated::actor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: Uuid,
    /// Whether their server-admin powers (if they have any) count.
    pub admin_powers: bool,
}

impl Actor {
    /// A user acting with every power they have (a signed-in session).
    pub const fn session(user_id: Uuid) -> Self {
        Self {
            user_id,
            admin_powers: true,
        }
    }

    /// A user acting with none of a server admin's powers (a bot, a
    /// token without the `admin` scope).
    pub const fn member(user_id: Uuid) -> Self {
        Self {
            user_id,
            admin_powers: false,
        }
    }
}

/// Limits and defaults of conversations.
#[derive(Debug, Clone)]
pub struct ChatPolicy {
    /// Longest message body, in characters.
    pub max_message_chars: usize,
    /// Public rooms every new account joins (by name).
    pub default_rooms: Vec<String>,
    /// Messages one user may send per second, over every connection, the
    /// REST API and every server process together (edits count too).
    pub sends_per_second: u32,
    /// How long after sending a message its sender may edit it; `None`:
    /// always (deleting has no window).
    pub edit_window: Option<std::time::Duration>,
    /// Largest group or room whose members anyone may call all at once
    /// (`@all`, `@here`); in larger ones only its owners and admins (and
    /// the server's admins, in rooms) may.
    pub mention_all_max: usize,
}

impl Default for ChatPolicy {
    fn default() -> Self {
        Self {
            max_message_chars: domain::chat::DEFAULT_MAX_MESSAGE_CHARS,
            default_rooms: vec!["general".into()],
            sends_per_second: 10,
            edit_window: None,
            mention_all_max: 50,
        }
    }
}

/// A message to send, as the client gave it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Where.
    pub conversation_id: Uuid,
    /// The client's id for it (idempotency key).
    pub client_msg_id: String,
    /// The text.
    pub body: String,
    /// A message of the same conversation it answers.
    pub reply_to: Option<Uuid>,
    /// Files the sender uploaded to this conversation to send with it (at
    /// most `MAX_ATTACHMENTS`, distinct); the body may then be empty.
    pub attachments: Vec<Uuid>,
    /// The name an integration posts it under (a webhook's `username`,
    /// one line, bounded by the caller); `None` for people.
    pub label: Option<String>,
}

/// How `GET /messages/{type}/{id}` names a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationRef {
    /// A conversation by id (any kind).
    Id(Uuid),
    /// A public room by name.
    RoomName(String),
    /// The direct conversation with this user (or that direct conversation's own id).
    DirectWith(Uuid),
}

/// Conversations and messages.
#[derive(Clone)]
pub struct ConversationService {
    store: Arc<dyn Store>,
    members: Members,
    profiles: crate::profiles::Profiles,
    bus: Arc<dyn Bus>,
    kv: SharedKv,
    policy: Arc<ChatPolicy>,
    committer: commit::Committer,
    audit: crate::audit::AuditService,
}

const NOT_FOUND: ServiceError = ServiceError::NotFound("conversation");

impl ConversationService {
    /// The service over a store, a bus, and shared counters (the send rate);
    /// stored messages are told to the notifier through `notices`.
    pub fn new(
        store: Arc<dyn Store>,
        members: Members,
        profiles: crate::profiles::Profiles,
        bus: Arc<dyn Bus>,
        kv: SharedKv,
        policy: ChatPolicy,
        notices: crate::notify::Notices,
    ) -> Self {
        Self {
            committer: commit::Committer::new(store.clone(), bus.clone(), notices),
            audit: crate::audit::AuditService::new(store.clone()),
            store,
            members,
            profiles,
            bus,
            kv,
            policy: Arc::new(policy),
        }
    }

    /// The limits in force.
    pub fn policy(&self) -> &ChatPolicy {
        &self.policy
    }

    /// The user's conversations, most recently active first.
    pub async fn list(&self, user_id: Uuid) -> Result<Vec<ConversationSummary>, ServiceError> {
        Ok(self.store.conversations_of(user_id).await?)
    }

    /// Finds which conversation a reference names, for this user. Only
    /// finds: a direct conversation that does not exist yet is not found
    /// (it is opened with [`ConversationService::open_direct`]).
    pub async fn resolve(
        &self,
        user_id: Uuid,
        reference: &ConversationRef,
    ) -> Result<Uuid, ServiceError> {
        match reference {
            ConversationRef::Id(id) => Ok(*id),
            ConversationRef::RoomName(name) => self.public_room(name).await,
            ConversationRef::DirectWith(id) => match self.store.conversation(*id).await? {
                // Clients may also name the direct conversation itself.
                Some(c) if c.kind == ConversationKind::Direct => Ok(c.id),
                // Naming one never opens it: that is `open_direct` (a POST).
                _ => self
                    .store
                    .direct_between(user_id, *id)
                    .await?
                    .map(|c| c.id)
                    .ok_or(NOT_FOUND),
            },
        }
    }

    /// Tells the user's connections about a membership change. Best effort:
    /// a connection that misses it picks the change up when it reconnects.
    async fn notify(&self, user_id: Uuid, event: ServerFrame<'_>) {
        // Every membership change passes here, after its commit.
        if let ServerFrame::Joined { conversation_id } | ServerFrame::Left { conversation_id } =
            event
        {
            self.members.changed(conversation_id, Some(user_id)).await;
        }
        if let Err(err) = self
            .bus
            .publish(&user_topic(user_id), event.to_bytes())
            .await
        {
            tracing::warn!(error = %err, "membership change not published");
        }
    }

    /// Tells a group's members that its member list changed (after the
    /// change's commit).
    async fn announce_members(&self, conversation_id: Uuid) {
        let event = ServerFrame::Members { conversation_id };
        if let Err(err) = self
            .bus
            .publish(&conversation_topic(conversation_id), event.to_bytes())
            .await
        {
            tracing::warn!(error = %err, "member list change not published");
        }
    }

    /// The longest message body this server accepts, in characters.
    pub fn max_message_chars(&self) -> usize {
        self.policy.max_message_chars
    }

    /// The IDs of the user's conversations (for a new connection to follow).
    pub async fn conversation_ids(&self, user_id: Uuid) -> Result<Vec<Uuid>, ServiceError> {
        Ok(self
            .store
            .conversations_of(user_id)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    /// Whether the user is a member of the conversation now.
    pub async fn is_member(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<bool, ServiceError> {
        Ok(self.members.role(conversation_id, user_id).await?.is_some())
    }

    /// Whether `user_id` may read the conversation's history (and so the
    /// files sent in it): its members, and anyone signed in for a public
    /// room.
    pub async fn may_read(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<bool, ServiceError> {
        match self.readable(user_id, conversation_id).await {
            Ok(_) => Ok(true),
            Err(ServiceError::NotFound(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The conversation and the user's role in it; "not found" for anyone
    /// who is not a member.
    async fn membership(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<(Conversation, MemberRole), ServiceError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        let role = self
            .members
            .role(conversation_id, user_id)
            .await?
            .ok_or(NOT_FOUND)?;
        Ok((conversation, role))
    }

    /// Succeeds when the user may read the conversation: a member, or
    /// anyone for a public room.
    async fn readable(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<Conversation, ServiceError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        if conversation.is_public || self.members.role(conversation_id, user_id).await?.is_some() {
            Ok(conversation)
        } else {
            Err(NOT_FOUND)
        }
    }

    /// A public room by name or id.
    async fn public_room(&self, room: &str) -> Result<Uuid, ServiceError> {
        if let Ok(id) = room.parse::<Uuid>() {
            return match self.store.conversation(id).await? {
                Some(c) if c.is_public && c.kind == ConversationKind::Room => Ok(c.id),
                _ => Err(ServiceError::NotFound("room")),
            };
        }
        self.store
            .public_room_by_name(room)
            .await?
            .map(|r| r.id)
            .ok_or(ServiceError::NotFound("room"))
    }
}
