//! What the database knows of uploaded files (their bytes are in the
//! [`crate::files::storage::FileStore`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::files::{Attachment, FileInfo};
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

    /// Deletes the records of at most `limit` files uploaded before
    /// `before` and never attached to a message; how many. Their bytes
    /// wait in [`Self::file_removals`].
    async fn delete_unattached(&self, before: DateTime<Utc>, limit: u32)
        -> Result<u64, StoreError>;

    /// Files whose records are gone (deleted with their message, their
    /// conversation, or never sent) and whose bytes are still to be
    /// removed, oldest first, at most `limit`.
    async fn file_removals(&self, limit: u32) -> Result<Vec<Uuid>, StoreError>;

    /// Moves the removals of `ids` to the back of the queue (removing
    /// their bytes failed).
    async fn postpone_removals(&self, ids: &[Uuid]) -> Result<(), StoreError>;

    /// Deletes the record of `uploader_id`'s file `id` unless it was sent
    /// with a message; whether it did.
    async fn discard_file(&self, id: Uuid, uploader_id: Uuid) -> Result<bool, StoreError>;

    /// Forgets the removals of `ids`: their bytes are gone.
    async fn forget_removals(&self, ids: &[Uuid]) -> Result<(), StoreError>;
}

/// The columns [`FileInfo`] is read from, in this order.
pub(crate) const FILE_COLUMNS: &str = "id, conversation_id, uploader_id, message_id, name, \
    content_type, size, sha256, width, height, inline, created_at";

/// `found`, the files a message's transaction attached, in the order the
/// sender gave (`ids`); `NotFound("file")` unless every one of them was
/// found: not the sender's, of another conversation, or sent already.
pub(crate) fn in_given_order(
    ids: &[Uuid],
    found: Vec<FileInfo>,
) -> Result<Vec<Attachment>, StoreError> {
    ids.iter()
        .map(|id| {
            found
                .iter()
                .find(|f| f.id == *id)
                .map(Attachment::from)
                .ok_or(StoreError::NotFound("file"))
        })
        .collect()
}
