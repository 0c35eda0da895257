//! The public room directory.

use std::sync::Arc;

use domain::RoomSummary;
use tracing::instrument;

use crate::presence::Presence;
use crate::{ServiceError, Store};

/// Rules of the public room directory. Private groups and direct
/// conversations never appear here.
#[derive(Clone)]
pub struct RoomService {
    store: Arc<dyn Store>,
    presence: Presence,
}

impl RoomService {
    /// A directory over the given store; online counts come from `presence`.
    pub fn new(store: Arc<dyn Store>, presence: Presence) -> Self {
        Self { store, presence }
    }

    /// Every public room, ordered by name, with its member and online counts.
    #[instrument(skip_all)]
    pub async fn list_public_rooms(&self) -> Result<Vec<RoomSummary>, ServiceError> {
        let mut rooms = self.store.list_public_rooms().await?;
        let online: Vec<_> = self.presence.online().await?.into_iter().collect();
        let ids: Vec<_> = rooms.iter().map(|r| r.id).collect();
        let counts = self.store.members_among(&ids, &online).await?;
        for room in &mut rooms {
            room.online_count = counts.get(&room.id).copied().unwrap_or(0);
        }
        Ok(rooms)
    }
}
