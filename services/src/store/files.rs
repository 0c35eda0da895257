//! What the database knows of uploaded files (their bytes are in the
//! [`crate::files::storage::FileStore`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::files::FileInfo;
use uuid::Uuid;

use super::StoreError;

/// File records.
#[async_trait]
pub trait FileRecordStore: Send + Sync {
    /// Records an uploaded file (not yet attached to a message), unless
    /// its uploader's files would then take more than `quota` bytes: false
    /// then. Checked and written at once, so uploads in parallel cannot pass
    /// the quota together.
    async fn insert_file(&self, file: &FileInfo, quota: Option<u64>) -> Result<bool, StoreError>;

    /// A file by id.
    async fn file(&self, id: Uuid) -> Result<Option<FileInfo>, StoreError>;

    /// The bytes of every file `user_id` uploaded (for a quota).
    async fn uploaded_bytes(&self, user_id: Uuid) -> Result<u64, StoreError>;

    /// Files uploaded before `before` and never attached to a message, at
    /// most `limit`.
    async fn unattached_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;

    /// Removes the records of `ids` (their bytes are removed first).
    async fn delete_files(&self, ids: &[Uuid]) -> Result<(), StoreError>;
}

/// The columns [`FileInfo`] is read from, in this order.
pub(crate) const FILE_COLUMNS: &str = "id, conversation_id, uploader_id, message_id, name, \
    content_type, size, sha256, width, height, inline, created_at";
