//! Public rooms as admins manage them: the [`RoomStore`] part of a store.
//! (Listing rooms and joining them are in [`super::Store`] and
//! [`super::ConversationStore`].)

use async_trait::async_trait;
use domain::RoomSummary;
use uuid::Uuid;

use super::StoreError;

/// Creating, changing and deleting public rooms. Names and topics arrive
/// validated (`domain::RoomName`, `domain::RoomTopic`).
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Creates a public room with no members, recording `creator`;
    /// `Conflict("room name")` when a room has the name already (any case).
    async fn create_room(
        &self,
        creator: Uuid,
        name: &str,
        topic: &str,
    ) -> Result<RoomSummary, StoreError>;

    /// Replaces the topic of a public room; `NotFound("room")` when
    /// `room_id` is no public room.
    async fn set_room_topic(&self, room_id: Uuid, topic: &str) -> Result<RoomSummary, StoreError>;

    /// Deletes a public room with its members and messages, in one
    /// transaction; returns who were its members (so their connections can
    /// be told). `NotFound("room")` when `room_id` is no public room.
    async fn delete_room(&self, room_id: Uuid) -> Result<Vec<Uuid>, StoreError>;
}
