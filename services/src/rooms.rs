//! The public room directory.

use std::sync::Arc;

use domain::RoomSummary;
use tracing::instrument;

use crate::{ServiceError, Store};

/// Rules of the public room directory. Private groups and direct
/// conversations never appear here.
#[derive(Clone)]
pub struct RoomService {
    store: Arc<dyn Store>,
}

impl RoomService {
    /// A directory over the given store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Every public room, ordered by name, with its member count.
    #[instrument(skip_all)]
    pub async fn list_public_rooms(&self) -> Result<Vec<RoomSummary>, ServiceError> {
        Ok(self.store.list_public_rooms().await?)
    }
}
