//! How far each member has received and read each conversation, and when
//! users were last seen: the [`ReceiptStore`] part of a store.
//!
//! A receipt is two numbers per member ("delivered up to", "read up to"),
//! so acknowledging any number of messages is one row update, and the
//! numbers only ever move forward.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::UserSummary;
use uuid::Uuid;

use super::StoreError;

/// A member's positions in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    /// Messages up to this sequence number reached one of the member's devices.
    pub delivered_seq: i64,
    /// Messages up to this sequence number were seen by the member.
    pub read_seq: i64,
}

/// One member's positions, with who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPositions {
    /// The member.
    pub user: UserSummary,
    /// How far they have received and read.
    pub positions: Positions,
    /// Their role in the conversation.
    pub role: domain::MemberRole,
}

/// Storage of receipt positions and last-seen times.
#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// Moves the member's delivered position up to `seq` (capped at the
    /// conversation's newest message). The new positions when it moved;
    /// `None` when it did not (already there, or not a member).
    async fn mark_delivered(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, StoreError>;

    /// Moves the member's read position up to `seq` (capped at the newest
    /// message), and the delivered position with it: what was read was
    /// received. The new positions when it moved, `None` otherwise.
    async fn mark_read(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
        seq: i64,
    ) -> Result<Option<Positions>, StoreError>;

    /// Every member's positions, by username, at most `limit`.
    async fn member_positions(
        &self,
        conversation_id: Uuid,
        limit: u32,
    ) -> Result<Vec<MemberPositions>, StoreError>;

    /// Members other than `except` whose delivered position reached `seq`
    /// (a message's recipients), by username, at most `limit`.
    async fn recipients_of(
        &self,
        conversation_id: Uuid,
        seq: i64,
        except: Uuid,
        limit: u32,
    ) -> Result<Vec<MemberPositions>, StoreError>;

    /// The direct and group conversations of a user: whose members hear
    /// about the user's presence (rooms do not: they are public and large).
    async fn presence_audience(&self, user_id: Uuid) -> Result<Vec<Uuid>, StoreError>;

    /// How many of `users` are members of each of `conversations`.
    async fn members_among(
        &self,
        conversations: &[Uuid],
        users: &[Uuid],
    ) -> Result<HashMap<Uuid, u32>, StoreError>;

    /// Records when a user was last seen (a connection opened or the last one closed).
    async fn set_last_seen(&self, user_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// When each of `users` was last seen (users never seen are absent).
    async fn last_seen(&self, users: &[Uuid]) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError>;
}
