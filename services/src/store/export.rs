//! What data exports read that nothing else does: the [`ExportStore`] part
//! of a store.

use async_trait::async_trait;
use domain::ChatMessage;
use uuid::Uuid;

use super::StoreError;

/// Storage reads for exports.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Messages `sender_id` sent, in every conversation (also ones they
    /// left), oldest first: those after message `after` (from the first
    /// when `None`), at most `limit`.
    async fn messages_by(
        &self,
        sender_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;
}
