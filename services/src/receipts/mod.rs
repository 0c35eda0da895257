//! [`ReceiptService`]: delivered and read receipts, unread positions and
//! typing notices.
//!
//! A receipt moves a member's "delivered up to" or "read up to" sequence
//! number forward (never back), so one receipt covers any number of
//! messages. Changes are published as `receipt` events: to the members of
//! direct and group conversations (ticks, "read by N"), and in rooms only to
//! the user's own devices (their unread counts) — a room's receipts would
//! otherwise reach every member for every member.

mod queue;

use std::sync::Arc;

use domain::{ChatMessage, ConversationKind, UserSummary};
use tracing::instrument;
use uuid::Uuid;

use crate::bus::Bus;
use crate::events::{conversation_topic, user_topic, Publish};
use crate::store::{MemberPositions, Positions, Store};
use crate::ServiceError;
use domain::protocol::ServerFrame;

/// Most members listed in a conversation's positions or a message's receipts.
pub const MAX_LISTED_MEMBERS: u32 = 500;

const NOT_FOUND: ServiceError = ServiceError::NotFound("conversation");

/// Who has received and read one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageReceipts {
    /// The message.
    pub message: ChatMessage,
    /// Recipients whose devices received it (at most [`MAX_LISTED_MEMBERS`]).
    pub delivered_to: Vec<UserSummary>,
    /// Those of them who have read it.
    pub read_by: Vec<UserSummary>,
}

/// Receipts, read positions and typing.
#[derive(Clone)]
pub struct ReceiptService {
    store: Arc<dyn Store>,
    members: crate::members::Members,
    profiles: crate::profiles::Profiles,
    bus: Arc<dyn Bus>,
    queue: Arc<queue::ReceiptQueue>,
    /// Told of every read that moved (to close pushed notifications).
    notices: crate::notify::Notices,
}

impl ReceiptService {
    /// The service over a store, its membership and profile lookups and a bus.
    pub fn new(
        store: Arc<dyn Store>,
        members: crate::members::Members,
        profiles: crate::profiles::Profiles,
        bus: Arc<dyn Bus>,
        notices: crate::notify::Notices,
    ) -> Self {
        Self {
            store,
            members,
            profiles,
            bus,
            queue: Arc::default(),
            notices,
        }
    }

    /// Like [`ReceiptService::delivered`] for a connection that does not
    /// wait: queued, coalesced with the member's other receipts of the
    /// conversation, and written with others in a batch. The caller knows
    /// the user is a member (the store ignores anyone else's).
    pub fn queue_delivered(&self, user_id: Uuid, conversation_id: Uuid, seq: i64) {
        self.queue.push(self, user_id, conversation_id, seq, 0);
    }

    /// Like [`ReceiptService::read`] for a connection that does not wait:
    /// "not found" unless a member (answered at once, from the membership
    /// cache), then queued like [`ReceiptService::queue_delivered`].
    pub async fn queue_read(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<(), ServiceError> {
        self.require_member(user_id, conversation_id, NOT_FOUND)
            .await?;
        self.queue.push(self, user_id, conversation_id, 0, seq);
        Ok(())
    }

    /// Receipts queued and not written yet (for tests and diagnostics).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Writes queued positions: read (which moves delivered with it), then
    /// delivered when it is ahead; publishes what moved.
    async fn apply(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        delivered: i64,
        read: i64,
    ) -> Result<(), ServiceError> {
        if read > 0 {
            if let Some(positions) = self.store.mark_read(conversation_id, user_id, read).await? {
                self.publish(user_id, conversation_id, positions, true)
                    .await?;
            }
        }
        if delivered > read {
            if let Some(positions) = self
                .store
                .mark_delivered(conversation_id, user_id, delivered)
                .await?
            {
                self.publish(user_id, conversation_id, positions, false)
                    .await?;
            }
        }
        Ok(())
    }

    /// A device of the user received the conversation's messages up to
    /// `seq`. Does nothing for non-members or when nothing moved.
    #[instrument(skip_all, fields(user = %user_id, conversation = %conversation_id))]
    pub async fn delivered(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, ServiceError> {
        let moved = self
            .store
            .mark_delivered(conversation_id, user_id, seq)
            .await?;
        if let Some(positions) = moved {
            self.publish(user_id, conversation_id, positions, false)
                .await?;
        }
        Ok(moved)
    }

    /// The user has seen the conversation up to `seq` (the spec's
    /// mark-read). "Not found" unless a member. The new positions when
    /// they moved.
    #[instrument(skip_all, fields(user = %user_id, conversation = %conversation_id))]
    pub async fn read(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, ServiceError> {
        self.require_member(user_id, conversation_id, NOT_FOUND)
            .await?;
        let moved = self.store.mark_read(conversation_id, user_id, seq).await?;
        if let Some(positions) = moved {
            self.publish(user_id, conversation_id, positions, true)
                .await?;
        }
        Ok(moved)
    }

    /// Every member's positions (direct and group conversations, for ticks
    /// and "read by N"); empty for rooms. "Not found" unless a member.
    pub async fn positions(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
    ) -> Result<Vec<MemberPositions>, ServiceError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(NOT_FOUND)?;
        self.require_member(user_id, conversation_id, NOT_FOUND)
            .await?;
        if conversation.kind == ConversationKind::Room {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .member_positions(conversation_id, MAX_LISTED_MEMBERS)
            .await?)
    }

    /// Who received and read a message: for members of its conversation
    /// (any conversation kind; this is the on-demand list of rooms).
    pub async fn of_message(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> Result<MessageReceipts, ServiceError> {
        let not_found = ServiceError::NotFound("message");
        let message = self.store.message(message_id).await?.ok_or(not_found)?;
        self.require_member(
            user_id,
            message.conversation_id,
            ServiceError::NotFound("message"),
        )
        .await?;
        let recipients = self
            .store
            .recipients_of(
                message.conversation_id,
                message.seq,
                message.sender_id,
                MAX_LISTED_MEMBERS,
            )
            .await?;
        let read_by = recipients
            .iter()
            .filter(|m| m.positions.read_seq >= message.seq)
            .map(|m| m.user.clone())
            .collect();
        Ok(MessageReceipts {
            delivered_to: recipients.into_iter().map(|m| m.user).collect(),
            read_by,
            message,
        })
    }

    /// Tells the other members the user is typing (`active`) or stopped,
    /// under the user's current display name. The caller checked that the
    /// user is a member (a WebSocket connection follows only those) and
    /// paces the notices.
    pub async fn typing(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        active: bool,
    ) -> Result<(), ServiceError> {
        let name = self.profiles.display_name(user_id).await?;
        let event = ServerFrame::typing(conversation_id, user_id, &name, active);
        self.bus
            .publish(&conversation_topic(conversation_id), event.to_bytes())
            .await?;
        Ok(())
    }

    /// Succeeds for members; `otherwise` for everyone else (so nobody
    /// learns that a conversation they are not in exists).
    async fn require_member(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        otherwise: ServiceError,
    ) -> Result<(), ServiceError> {
        match self.members.role(conversation_id, user_id).await? {
            Some(_) => Ok(()),
            None => Err(otherwise),
        }
    }

    /// Publishes a receipt: to the conversation (direct and group), or in
    /// rooms to the user's own devices, and there only when the read
    /// position moved (their unread count; rooms show no ticks).
    async fn publish(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        positions: Positions,
        read_moved: bool,
    ) -> Result<(), ServiceError> {
        if read_moved {
            self.notices
                .read(user_id, conversation_id, positions.read_seq);
        }
        let event = ServerFrame::Receipt {
            conversation_id,
            user_id,
            delivered_seq: positions.delivered_seq,
            read_seq: positions.read_seq,
        };
        let kind = self
            .store
            .conversation(conversation_id)
            .await?
            .map(|c| c.kind);
        let topic = match kind {
            Some(ConversationKind::Room) if read_moved => user_topic(user_id),
            Some(ConversationKind::Room) => return Ok(()),
            _ => conversation_topic(conversation_id),
        };
        if let Err(err) = self.bus.publish(&topic, event.to_bytes()).await {
            // Stored, so not lost: clients re-read positions on reconnect.
            tracing::warn!(error = %err, "receipt stored but not published");
        }
        Ok(())
    }
}
