//! Public rooms as admins manage them: create one, change its topic,
//! delete it (its members' connections stop following it at once). Each
//! action is checked ([`AdminService::require_admin`]) and audited.

use domain::{AuditKind, ConversationKind, RoomName, RoomSummary, RoomTopic};
use serde_json::json;
use tracing::instrument;
use uuid::Uuid;

use super::AdminService;
use crate::auth::ClientInfo;
use crate::events::{user_topic, Publish};
use crate::ServiceError;
use domain::protocol::ServerFrame;

impl AdminService {
    /// Creates a public room named `name` (see [`RoomName`]) with `topic`
    /// (see [`RoomTopic`]; may be empty). Nobody is a member yet: people
    /// join it from the directory. `Conflict("room name")` when the name is
    /// taken (any case). Audited as `RoomCreated`.
    #[instrument(skip_all, fields(admin = %admin))]
    pub async fn create_room(
        &self,
        admin: Uuid,
        name: &str,
        topic: &str,
        client: &ClientInfo,
    ) -> Result<RoomSummary, ServiceError> {
        self.require_admin(admin).await?;
        let name = RoomName::parse(name).map_err(ServiceError::InvalidName)?;
        let topic = RoomTopic::parse(topic).map_err(ServiceError::InvalidName)?;
        let room = self
            .store
            .create_room(admin, name.as_str(), topic.as_str())
            .await?;
        tracing::info!(room = %room.id, "public room created");
        let detail = json!({ "room_id": room.id, "name": room.name, "topic": room.topic });
        self.record_room(AuditKind::RoomCreated, admin, client, detail)
            .await;
        Ok(room)
    }

    /// Replaces the topic of a public room (`NotFound("room")` for any
    /// other id). Audited as `RoomChanged`.
    #[instrument(skip_all, fields(admin = %admin, room = %room_id))]
    pub async fn set_room_topic(
        &self,
        admin: Uuid,
        room_id: Uuid,
        topic: &str,
        client: &ClientInfo,
    ) -> Result<RoomSummary, ServiceError> {
        self.require_admin(admin).await?;
        let topic = RoomTopic::parse(topic).map_err(ServiceError::InvalidName)?;
        let room = self.store.set_room_topic(room_id, topic.as_str()).await?;
        let detail = json!({ "room_id": room.id, "name": room.name, "topic": room.topic });
        self.record_room(AuditKind::RoomChanged, admin, client, detail)
            .await;
        Ok(room)
    }

    /// Deletes a public room with its messages (`NotFound("room")` for any
    /// other id). Every member is told on their user topic, as when they
    /// leave: their connections stop following it and their lists drop it.
    /// Audited as `RoomDeleted`.
    #[instrument(skip_all, fields(admin = %admin, room = %room_id))]
    pub async fn delete_room(
        &self,
        admin: Uuid,
        room_id: Uuid,
        client: &ClientInfo,
    ) -> Result<(), ServiceError> {
        self.require_admin(admin).await?;
        let room = self
            .store
            .conversation(room_id)
            .await?
            .filter(|c| c.is_public && c.kind == ConversationKind::Room)
            .ok_or(ServiceError::NotFound("room"))?;
        let members = self.store.delete_room(room_id).await?;
        tracing::info!(members = members.len(), "public room deleted");
        self.members.changed(room_id, None).await;
        for member in &members {
            let event = ServerFrame::Left {
                conversation_id: room_id,
            };
            if let Err(err) = self
                .bus
                .publish(&user_topic(*member), event.to_bytes())
                .await
            {
                // Their connection finds nothing more to read there, and
                // drops the room on its next reconnect.
                tracing::warn!(error = %err, "room deletion not announced to a member");
            }
        }
        let detail = json!({ "room_id": room_id, "name": room.name, "members": members.len() });
        self.record_room(AuditKind::RoomDeleted, admin, client, detail)
            .await;
        Ok(())
    }

    /// Records a room action (about no account) with the admin as actor.
    async fn record_room(
        &self,
        kind: AuditKind,
        admin: Uuid,
        client: &ClientInfo,
        detail: serde_json::Value,
    ) {
        self.audit
            .record(kind, None, Some(admin), Some(client), Some(detail))
            .await;
    }
}
