//! [`ConversationService`]: who may read, post to and manage which
//! conversation. Membership is checked on every call; a private
//! conversation someone is not in answers "not found", so nobody learns it
//! exists. Public rooms may be read by anyone signed in; posting needs
//! joining.

use std::sync::Arc;

use domain::chat::{valid_client_msg_id, MAX_HISTORY_PAGE};
use domain::{ChatMessage, ConversationKind, ConversationSummary, DisplayName, MemberRole};
use domain::{MessageBody, UserSummary};
use tracing::instrument;
use uuid::Uuid;

use crate::bus::Bus;
use crate::events::{conversation_topic, user_topic, Event};
use crate::kv::SharedKv;
use crate::members::Members;
use crate::store::{Conversation, NewMessage, Posted, Store};
use crate::ServiceError;

/// Most members a group can be created with.
pub const MAX_GROUP_MEMBERS: usize = 256;
/// Most users a search returns.
pub const MAX_SEARCH_RESULTS: u32 = 20;

/// Limits and defaults of conversations.
#[derive(Debug, Clone)]
pub struct ChatPolicy {
    /// Longest message body, in characters.
    pub max_message_chars: usize,
    /// Public rooms every new account joins (by name).
    pub default_rooms: Vec<String>,
    /// Messages one user may send per second, over every connection, the
    /// REST API and every server process together.
    pub sends_per_second: u32,
}

impl Default for ChatPolicy {
    fn default() -> Self {
        Self {
            max_message_chars: domain::chat::DEFAULT_MAX_MESSAGE_CHARS,
            default_rooms: vec!["general".into()],
            sends_per_second: 10,
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
}

const NOT_FOUND: ServiceError = ServiceError::NotFound("conversation");

impl ConversationService {
    /// The service over a store, a bus, and shared counters (the send rate).
    pub fn new(
        store: Arc<dyn Store>,
        members: Members,
        profiles: crate::profiles::Profiles,
        bus: Arc<dyn Bus>,
        kv: SharedKv,
        policy: ChatPolicy,
    ) -> Self {
        Self {
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

    /// Puts a new account in the default rooms (missing rooms are skipped).
    pub async fn join_default_rooms(&self, user_id: Uuid) -> Result<(), ServiceError> {
        for name in &self.policy.default_rooms {
            if let Some(room) = self.store.public_room_by_name(name).await? {
                self.store
                    .add_member(room.id, user_id, MemberRole::Member)
                    .await?;
            }
        }
        Ok(())
    }

    /// The user's conversations, most recently active first.
    pub async fn list(&self, user_id: Uuid) -> Result<Vec<ConversationSummary>, ServiceError> {
        Ok(self.store.conversations_of(user_id).await?)
    }

    /// The direct conversation with `other`, opened if needed.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn open_direct(&self, user_id: Uuid, other: Uuid) -> Result<Uuid, ServiceError> {
        if self.profiles.get(other).await?.is_none() {
            return Err(ServiceError::NotFound("user"));
        }
        let (conversation, created) = self.store.open_direct(user_id, other).await?;
        if created {
            for user in [user_id, other] {
                self.notify(
                    user,
                    Event::Joined {
                        conversation_id: conversation.id,
                    },
                )
                .await;
            }
        }
        Ok(conversation.id)
    }

    /// Creates a private group owned by the user.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn create_group(
        &self,
        user_id: Uuid,
        name: &str,
        members: &[Uuid],
    ) -> Result<Uuid, ServiceError> {
        let name = DisplayName::parse(name).map_err(|e| {
            ServiceError::InvalidName(domain::NameError {
                field: "name",
                rule: e.rule,
            })
        })?;
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(ServiceError::Invalid(format!(
                "member_ids: at most {MAX_GROUP_MEMBERS} members"
            )));
        }
        let group = self
            .store
            .create_group(user_id, name.as_str(), members)
            .await?;
        for user in std::iter::once(&user_id).chain(members) {
            self.notify(
                *user,
                Event::Joined {
                    conversation_id: group.id,
                },
            )
            .await;
        }
        Ok(group.id)
    }

    /// Adds a member to a group: owners and admins only.
    #[instrument(skip_all, fields(user = %actor))]
    pub async fn add_member(
        &self,
        actor: Uuid,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, ServiceError> {
        let (group, role) = self.membership(actor, conversation_id).await?;
        if group.kind != ConversationKind::Group {
            return Err(ServiceError::Invalid(
                "members are added to groups only; rooms are joined".into(),
            ));
        }
        if !matches!(role, MemberRole::Owner | MemberRole::Admin) {
            return Err(ServiceError::Forbidden(
                "only the group's owners and admins may add members",
            ));
        }
        let added = self
            .store
            .add_member(conversation_id, user_id, MemberRole::Member)
            .await?;
        if added {
            self.notify(user_id, Event::Joined { conversation_id })
                .await;
        }
        Ok(added)
    }

    /// Removes a member from a group: owners and admins remove others (an
    /// admin cannot remove an owner); anyone may remove themselves (leave).
    #[instrument(skip_all, fields(user = %actor))]
    pub async fn remove_member(
        &self,
        actor: Uuid,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), ServiceError> {
        let (group, role) = self.membership(actor, conversation_id).await?;
        if group.kind == ConversationKind::Direct {
            return Err(ServiceError::Invalid(
                "a direct conversation has no members to remove".into(),
            ));
        }
        if actor != user_id {
            let target = self
                .members
                .role(conversation_id, user_id)
                .await?
                .ok_or(ServiceError::NotFound("member"))?;
            let allowed = match role {
                MemberRole::Owner => true,
                MemberRole::Admin => target != MemberRole::Owner,
                MemberRole::Member => false,
            };
            if !allowed || group.kind != ConversationKind::Group {
                return Err(ServiceError::Forbidden(
                    "only the group's owners and admins may remove members",
                ));
            }
        }
        if !self.store.remove_member(conversation_id, user_id).await? {
            return Err(ServiceError::NotFound("member"));
        }
        self.notify(user_id, Event::Left { conversation_id }).await;
        Ok(())
    }

    /// Joins a public room by name or id.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn join_room(&self, user_id: Uuid, room: &str) -> Result<Uuid, ServiceError> {
        let room_id = self.public_room(room).await?;
        if self
            .store
            .add_member(room_id, user_id, MemberRole::Member)
            .await?
        {
            self.notify(
                user_id,
                Event::Joined {
                    conversation_id: room_id,
                },
            )
            .await;
        }
        Ok(room_id)
    }

    /// Leaves a public room by name or id.
    #[instrument(skip_all, fields(user = %user_id))]
    pub async fn leave_room(&self, user_id: Uuid, room: &str) -> Result<Uuid, ServiceError> {
        let room_id = self.public_room(room).await?;
        if self.store.remove_member(room_id, user_id).await? {
            self.notify(
                user_id,
                Event::Left {
                    conversation_id: room_id,
                },
            )
            .await;
        }
        Ok(room_id)
    }

    /// Finds which conversation a reference names, for this user.
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
                _ => self.open_direct(user_id, *id).await,
            },
        }
    }

    /// A page of history, newest first: messages before `before` (the newest
    /// when `None`), at most `limit` (≤ 100).
    pub async fn history(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        self.readable(user_id, conversation_id).await?;
        let limit = limit.clamp(1, MAX_HISTORY_PAGE);
        Ok(self.store.history(conversation_id, before, limit).await?)
    }

    /// Messages after `after`, oldest first (catch-up after a reconnect).
    pub async fn since(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, ServiceError> {
        self.readable(user_id, conversation_id).await?;
        let limit = limit.clamp(1, MAX_HISTORY_PAGE);
        Ok(self
            .store
            .messages_after(conversation_id, after, limit)
            .await?)
    }

    /// Sends a message: the user must be a member. A retry with the same
    /// client id returns the original. The message is published to the
    /// conversation's topic, serialized once (a retry publishes the
    /// original again: connections skip what they already sent).
    #[instrument(skip_all, fields(user = %user_id, conversation = %outgoing.conversation_id))]
    pub async fn post(&self, user_id: Uuid, outgoing: Outgoing) -> Result<Posted, ServiceError> {
        let conversation = self
            .store
            .conversation(outgoing.conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        if self.members.role(conversation.id, user_id).await?.is_none() {
            return Err(if conversation.is_public {
                ServiceError::Forbidden("join the room to post in it")
            } else {
                NOT_FOUND
            });
        }
        let (sent, window_left) = self
            .kv
            .increment(
                &format!("send:{user_id}"),
                std::time::Duration::from_secs(1),
            )
            .await?;
        if sent > u64::from(self.policy.sends_per_second) {
            return Err(ServiceError::TooManyRequests {
                retry_after: window_left.as_secs().max(1),
            });
        }
        if !valid_client_msg_id(&outgoing.client_msg_id) {
            return Err(ServiceError::Invalid(
                "client_msg_id: 1 to 64 visible ASCII characters".into(),
            ));
        }
        let body = MessageBody::parse(&outgoing.body, self.policy.max_message_chars)
            .map_err(ServiceError::InvalidName)?;
        if let Some(reply_to) = outgoing.reply_to {
            let replied = self.store.message(reply_to).await?;
            if replied.map(|m| m.conversation_id) != Some(conversation.id) {
                return Err(ServiceError::Invalid(
                    "reply_to: not a message of this conversation".into(),
                ));
            }
        }
        let posted = self
            .store
            .post_message(&NewMessage {
                conversation_id: conversation.id,
                sender_id: user_id,
                client_msg_id: &outgoing.client_msg_id,
                body: body.as_str(),
                reply_to: outgoing.reply_to,
            })
            .await?;
        if matches!(posted, Posted::New(_)) {
            metrics::counter!("chatsphere_messages_stored_total").increment(1);
        }
        // A duplicate is published again: its first attempt may have been
        // stored by a process that died before publishing it. Connections
        // skip messages they have already sent, by sequence number.
        {
            let message = posted.message();
            let payload = Event::Message { message }.to_bytes();
            if let Err(err) = self
                .bus
                .publish(&conversation_topic(conversation.id), payload)
                .await
            {
                // Stored, so not lost: readers catch up from history.
                tracing::warn!(error = %err, "message stored but not published");
            }
        }
        Ok(posted)
    }

    /// The online users among the people the user shares a conversation
    /// with (the user included), by username.
    pub async fn online_contacts(
        &self,
        user_id: Uuid,
        online: &std::collections::HashSet<Uuid>,
    ) -> Result<Vec<UserSummary>, ServiceError> {
        let candidates: Vec<Uuid> = online.iter().copied().collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.store.contacts_among(user_id, &candidates).await?;
        // Oneself, even with no conversation yet.
        if online.contains(&user_id) && !found.iter().any(|u| u.id == user_id) {
            if let Some(me) = self.profiles.get(user_id).await? {
                found.push(me);
                found.sort_by_key(|u| u.username.to_lowercase());
            }
        }
        Ok(found)
    }

    /// How the user sees a conversation they may read, and whether they are
    /// a member of it ("not found" for a private one they are not in).
    pub async fn describe(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<(ConversationSummary, bool), ServiceError> {
        if let Some(summary) = self
            .store
            .conversations_of(user_id)
            .await?
            .into_iter()
            .find(|c| c.id == conversation_id)
        {
            return Ok((summary, true));
        }
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .filter(|c| c.is_public)
            .ok_or(NOT_FOUND)?;
        let room = self
            .store
            .public_room_by_name(conversation.name.as_deref().unwrap_or_default())
            .await?
            .ok_or(NOT_FOUND)?;
        let summary = ConversationSummary {
            id: conversation.id,
            kind: ConversationKind::Room,
            name: room.name,
            topic: room.topic,
            member_count: room.member_count,
            last_seq: conversation.last_seq,
            unread: 0,
            last_message: None,
        };
        Ok((summary, false))
    }

    /// The user with exactly this username (any case), if there is one.
    pub async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserSummary>, ServiceError> {
        let username = username.trim().trim_start_matches('@');
        if username.is_empty() || username.contains('@') {
            return Ok(None);
        }
        Ok(self
            .store
            .credentials_by_login(username)
            .await?
            .map(|(user, _)| UserSummary {
                id: user.id,
                username: user.username,
                display_name: user.display_name,
            }))
    }

    /// Users matching `query` by username or display name.
    pub async fn search_users(&self, query: &str) -> Result<Vec<UserSummary>, ServiceError> {
        let query = query.trim();
        if query.is_empty() || query.chars().count() > 64 {
            return Err(ServiceError::Invalid("q: 1 to 64 characters".into()));
        }
        Ok(self.store.search_users(query, MAX_SEARCH_RESULTS).await?)
    }

    /// Tells the user's connections about a membership change. Best effort:
    /// a connection that misses it picks the change up when it reconnects.
    async fn notify(&self, user_id: Uuid, event: Event<'_>) {
        // Every membership change passes here, after its commit.
        if let Event::Joined { conversation_id } | Event::Left { conversation_id } = event {
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
    async fn readable(&self, user_id: Uuid, conversation_id: Uuid) -> Result<(), ServiceError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        if conversation.is_public || self.members.role(conversation_id, user_id).await?.is_some() {
            Ok(())
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
