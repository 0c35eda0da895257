//! Conversations, their members and their messages: the
//! [`ConversationStore`] part of a store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ChatMessage, ConversationKind, ConversationSummary, MemberRole, UserSummary};
use uuid::Uuid;

use super::StoreError;

/// A conversation's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Id.
    pub id: Uuid,
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// Group or room name (`None` for direct conversations).
    pub name: Option<String>,
    /// Whether anyone signed in may find and join it (public rooms).
    pub is_public: bool,
    /// Sequence number of the newest message.
    pub last_seq: i64,
    /// Number of the newest change (edit, deletion) of its messages.
    pub last_change: i64,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Where.
    pub conversation_id: Uuid,
    /// Who (must be a member: the service checks).
    pub sender_id: Uuid,
    /// The sender's id for it, for idempotent retries.
    pub client_msg_id: &'a str,
    /// The validated body.
    pub body: &'a str,
    /// A message of the same conversation it answers.
    pub reply_to: Option<Uuid>,
    /// Members it mentions (checked by the service).
    pub mentions: &'a [Uuid],
    /// Whether it mentions everyone (`@all`, `@here`; allowed by the
    /// service).
    pub mentions_all: bool,
    /// Files to send with it, in this order, distinct: uploaded by the
    /// sender to this conversation and not sent yet. The store attaches
    /// them in the message's transaction, or stores nothing
    /// (`NotFound("file")`) if one is not so.
    pub attachments: &'a [Uuid],
    /// The name an integration posted it under, if any.
    pub label: Option<&'a str>,
}

/// What storing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Stored now, with the next sequence number.
    New(ChatMessage),
    /// The sender had already sent this client id: the original message.
    Duplicate(ChatMessage),
}

impl Posted {
    /// The message, new or original.
    pub fn message(&self) -> &ChatMessage {
        match self {
            Self::New(m) | Self::Duplicate(m) => m,
        }
    }
}

/// The unique key of the direct conversation of `a` and `b` (either order).
pub(crate) fn direct_key(a: Uuid, b: Uuid) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// Storage of conversations and messages. Rules (who may do what) are the
/// service's; the store keeps the data consistent (one direct conversation
/// per pair, dense sequence numbers, one message per client id).
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The direct conversation of `a` and `b`, created (with both as members)
    /// if it does not exist. `true` when it was created now.
    async fn open_direct(&self, a: Uuid, b: Uuid) -> Result<(Conversation, bool), StoreError>;

    /// The direct conversation of `a` and `b`, if it exists; never creates it.
    async fn direct_between(&self, a: Uuid, b: Uuid) -> Result<Option<Conversation>, StoreError>;

    /// Creates a private group owned by `owner` with `members` (unknown users
    /// are `NotFound("user")`, and nothing is created).
    async fn create_group(
        &self,
        owner: Uuid,
        name: &str,
        members: &[Uuid],
    ) -> Result<Conversation, StoreError>;

    /// Stores a message with the conversation's next sequence number, in one
    /// transaction; moves the sender's read and delivered positions to it.
    /// A client id the sender used before returns the original message.
    async fn post_message(&self, message: &NewMessage<'_>) -> Result<Posted, StoreError>;

    /// Stores messages of **one** conversation in one transaction (a group
    /// commit): the new ones get the next sequence numbers in slice order,
    /// and each sender's read and delivered positions move to their last.
    /// A client id its sender used before, in the store or earlier in the
    /// slice, gives the original. One result per message, in order; an
    /// error means nothing was stored.
    async fn post_messages(&self, messages: &[NewMessage<'_>]) -> Result<Vec<Posted>, StoreError>;

    /// A conversation by id.
    async fn conversation(&self, id: Uuid) -> Result<Option<Conversation>, StoreError>;

    /// The role of `user_id` in the conversation, if a member.
    async fn member_role(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<MemberRole>, StoreError>;

    /// The ids of every member.
    async fn member_ids(&self, conversation_id: Uuid) -> Result<Vec<Uuid>, StoreError>;

    /// The user's conversations, most recently active first, each with its
    /// newest message and unread count.
    async fn conversations_of(&self, user_id: Uuid)
        -> Result<Vec<ConversationSummary>, StoreError>;

    /// Messages before `before` (all when `None`), newest first, at most `limit`.
    async fn history(
        &self,
        conversation_id: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// Messages after `after`, oldest first, at most `limit` (catch-up).
    async fn messages_after(
        &self,
        conversation_id: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;

    /// A message by id.
    async fn message(&self, message_id: Uuid) -> Result<Option<ChatMessage>, StoreError>;

    /// How many messages (of every conversation) were stored at or after
    /// `since`, per clock minute (UTC): each minute's start with its count,
    /// oldest first; minutes without messages are left out.
    async fn message_counts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u32)>, StoreError>;

    /// Users whose username or display name contains `query` (any case),
    /// by username, at most `limit`.
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<UserSummary>, StoreError>;

    /// Those of `candidates` who share a direct or group conversation with
    /// `user_id` (the user included, if a candidate and in one), by
    /// username. Public rooms do not count: everyone shares `general`, and
    /// rooms show how many are online, not who.
    async fn contacts_among(
        &self,
        user_id: Uuid,
        candidates: &[Uuid],
    ) -> Result<Vec<UserSummary>, StoreError>;

    /// Removes a member; `false` if they were not one.
    async fn remove_member(&self, conversation_id: Uuid, user_id: Uuid)
        -> Result<bool, StoreError>;

    /// Gives a conversation without an owner one: its longest-standing
    /// admin, else its longest-standing member. Returns who became owner
    /// (`None` when it has an owner, or no members).
    async fn ensure_owner(&self, conversation_id: Uuid) -> Result<Option<Uuid>, StoreError>;
}

/// The one conversation of a batch; `None` when it is empty, an error when
/// it mixes conversations (a caller's bug: nothing is stored).
pub(crate) fn batch_conversation(messages: &[NewMessage<'_>]) -> Result<Option<Uuid>, StoreError> {
    let Some(first) = messages.first() else {
        return Ok(None);
    };
    if messages
        .iter()
        .any(|m| m.conversation_id != first.conversation_id)
    {
        return Err(StoreError::Corrupt(
            "a batch must hold one conversation's messages".into(),
        ));
    }
    Ok(Some(first.conversation_id))
}

/// What a group commit does with one message of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Stored now with this sequence number.
    New(i64),
    /// Its sender sent this client id earlier in the batch: the message
    /// stored with this sequence number.
    Repeat(i64),
    /// Its sender sent this client id before: the stored original.
    Stored,
}

/// Plans a batch after `last_seq`: new messages get the next numbers in
/// order; `stored(sender, client id)` says whether an original exists.
/// Returns the plan and the conversation's new last sequence number.
pub(crate) fn plan(
    messages: &[NewMessage<'_>],
    last_seq: i64,
    stored: impl Fn(Uuid, &str) -> bool,
) -> (Vec<Plan>, i64) {
    let mut fresh: std::collections::HashMap<(Uuid, &str), i64> =
        std::collections::HashMap::with_capacity(messages.len());
    let mut next = last_seq;
    let plan = messages
        .iter()
        .map(|m| {
            if stored(m.sender_id, m.client_msg_id) {
                Plan::Stored
            } else if let Some(&seq) = fresh.get(&(m.sender_id, m.client_msg_id)) {
                Plan::Repeat(seq)
            } else {
                next += 1;
                fresh.insert((m.sender_id, m.client_msg_id), next);
                Plan::New(next)
            }
        })
        .collect();
    (plan, next)
}

/// The result of each message of a committed batch: `new` are the messages
/// it stored (in any order), `originals` those stored before, by sender and
/// client id.
pub(crate) fn outcomes(
    messages: &[NewMessage<'_>],
    plan: Vec<Plan>,
    new: Vec<ChatMessage>,
    originals: &std::collections::HashMap<(Uuid, String), ChatMessage>,
) -> Result<Vec<Posted>, StoreError> {
    let by_seq: std::collections::HashMap<i64, ChatMessage> =
        new.into_iter().map(|m| (m.seq, m)).collect();
    plan.into_iter()
        .zip(messages)
        .map(|(step, m)| match step {
            Plan::New(seq) => by_seq.get(&seq).cloned().map(Posted::New),
            Plan::Repeat(seq) => by_seq.get(&seq).cloned().map(Posted::Duplicate),
            Plan::Stored => originals
                .get(&(m.sender_id, m.client_msg_id.to_owned()))
                .cloned()
                .map(Posted::Duplicate),
        })
        .map(|posted| posted.ok_or_else(|| StoreError::Corrupt("a batch lost a message".into())))
        .collect()
}
