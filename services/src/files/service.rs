//! [`FileService`]: the rules of files — who may read them, what the
//! operator allows, how long an upload may wait — over the file store and
//! the file records (uploads themselves: `upload.rs`).

use std::ops::Range;
use std::sync::Arc;

use chrono::Utc;
use domain::files::FileInfo;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::storage::{FileStore, FileStoreError, Read};
use crate::{ConversationService, ServiceError, Store};

/// What the operator allows.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// Largest file, in bytes.
    pub max_upload_bytes: u64,
    /// Types allowed (`image/png`, or `image/*` for a family); empty: any.
    pub allowed_types: Vec<String>,
    /// Most bytes one person may have uploaded in all; `None`: no quota.
    pub quota_bytes: Option<u64>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: domain::files::DEFAULT_MAX_UPLOAD_BYTES,
            allowed_types: Vec::new(),
            quota_bytes: None,
        }
    }
}

impl FilesConfig {
    /// Whether files of `content_type` may be uploaded.
    pub fn allows(&self, content_type: &str) -> bool {
        self.allowed_types.is_empty()
            || self.allowed_types.iter().any(|allowed| {
                allowed == content_type
                    || allowed
                        .strip_suffix("/*")
                        .is_some_and(|family| content_type.split('/').next() == Some(family))
            })
    }
}

/// Files whose bytes one step of a sweep removes.
const SWEEP_BATCH: u32 = 200;

/// Which bytes of a file to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// As uploaded (always a download).
    Original,
    /// An inline image's thumbnail.
    Thumbnail,
    /// An inline image as shown full size (encoded again: no metadata).
    View,
}

/// A file being served.
pub struct Download {
    /// The file.
    pub file: FileInfo,
    /// The bytes asked for.
    pub read: Read,
    /// Their type.
    pub content_type: String,
}

/// The storage key of `variant` of the file `id`.
pub(super) fn key(id: Uuid, variant: Variant) -> String {
    let folder = match variant {
        Variant::Original => "files",
        Variant::Thumbnail => "thumbs",
        Variant::View => "views",
    };
    format!("{folder}/{}", id.simple())
}

/// How long an upload may wait to be attached to a message before it is
/// removed.
pub const UNATTACHED_FOR: chrono::Duration = chrono::Duration::days(1);

/// Uploads and downloads.
#[derive(Clone)]
pub struct FileService {
    pub(super) store: Arc<dyn Store>,
    pub(super) files: Arc<dyn FileStore>,
    pub(super) chat: ConversationService,
    pub(super) config: Arc<FilesConfig>,
    /// Images are decoded one at a time (a large one takes hundreds of MB
    /// while it is).
    pub(super) images: Arc<Semaphore>,
}

impl FileService {
    /// The service over a store, a file store and the conversation rules.
    pub fn new(
        store: Arc<dyn Store>,
        files: Arc<dyn FileStore>,
        chat: ConversationService,
        config: FilesConfig,
    ) -> Self {
        Self {
            store,
            files,
            chat,
            config: Arc::new(config),
            images: Arc::new(Semaphore::new(1)),
        }
    }

    /// What the operator allows.
    pub fn config(&self) -> &FilesConfig {
        &self.config
    }

    /// The file store's kind (`local`, `s3`).
    pub fn storage_kind(&self) -> &'static str {
        self.files.kind()
    }

    /// A file `user_id` may download: a member of its conversation, once it
    /// is sent with a message; before that, its uploader only. Anyone else
    /// is told it does not exist (so is anyone asking for the thumbnail of
    /// what has none).
    pub async fn readable(
        &self,
        user_id: Uuid,
        id: Uuid,
        variant: Variant,
    ) -> Result<FileInfo, ServiceError> {
        let missing = ServiceError::NotFound("file");
        let Some(file) = self.store.file(id).await? else {
            return Err(missing);
        };
        // Sent: whoever may read the conversation's history (as its
        // messages show the file); not yet: its uploader while a member.
        let readable = if file.message_id.is_some() {
            self.chat.may_read(user_id, file.conversation_id).await?
        } else {
            file.uploader_id == user_id
                && self.chat.is_member(user_id, file.conversation_id).await?
        };
        if !readable || (variant != Variant::Original && !file.inline) {
            return Err(missing);
        }
        Ok(file)
    }

    /// Opens `variant` of a file [`Self::readable`] allowed, all of it or
    /// `range` of the original.
    pub async fn open(
        &self,
        file: FileInfo,
        variant: Variant,
        range: Option<Range<u64>>,
    ) -> Result<Download, ServiceError> {
        let content_type = match variant {
            Variant::Original => domain::files::served_type(&file.content_type).to_owned(),
            Variant::Thumbnail | Variant::View => {
                super::content::encoded_type(&file.content_type).to_owned()
            }
        };
        let range = if variant == Variant::Original {
            range
        } else {
            None
        };
        let read = match self.files.read(&key(file.id, variant), range).await {
            Ok(read) => read,
            Err(FileStoreError::NotFound) => return Err(ServiceError::NotFound("file")),
            Err(err) => return Err(storage_error(err)),
        };
        Ok(Download {
            file,
            read,
            content_type,
        })
    }

    /// Deletes the uploads never sent with a message within a day of
    /// being uploaded, then removes the bytes of every deleted file
    /// ([`Self::sweep`]); how many uploads it deleted.
    pub async fn remove_unattached(&self) -> Result<u64, ServiceError> {
        let mut removed = 0;
        loop {
            let deleted = self
                .store
                .delete_unattached(Utc::now() - UNATTACHED_FOR, 500)
                .await?;
            removed += deleted;
            if deleted < 500 {
                break;
            }
        }
        self.sweep().await?;
        Ok(removed)
    }

    /// Deletes `user_id`'s upload `id` if it was not sent (a message that
    /// did not take it); its bytes go with the next sweep.
    pub async fn discard(&self, user_id: Uuid, id: Uuid) -> Result<(), ServiceError> {
        self.store.discard_file(id, user_id).await?;
        Ok(())
    }

    /// Removes from the file store the bytes of files whose records were
    /// deleted (with their message, their conversation, or unsent); how
    /// many files it removed. A file whose bytes could not all be removed
    /// stays queued for the next sweep.
    pub async fn sweep(&self) -> Result<u64, ServiceError> {
        let mut removed = 0;
        loop {
            let ids = self.store.file_removals(SWEEP_BATCH).await?;
            let mut done = Vec::with_capacity(ids.len());
            for id in &ids {
                if self.remove_bytes(*id).await {
                    done.push(*id);
                }
            }
            self.store.forget_removals(&done).await?;
            if done.len() < ids.len() {
                // To the back of the queue: one that always fails does not
                // hold up the others.
                let failed: Vec<Uuid> = ids
                    .iter()
                    .filter(|id| !done.contains(id))
                    .copied()
                    .collect();
                self.store.postpone_removals(&failed).await?;
            }
            removed += done.len() as u64;
            // A short batch was the last; a failure is retried next time.
            if ids.len() < SWEEP_BATCH as usize || done.len() < ids.len() {
                return Ok(removed);
            }
        }
    }

    /// Removes every stored form of a file's bytes (failures are logged: a
    /// leftover object is garbage, not a leak of anything readable).
    /// Whether all of them are gone.
    pub(super) async fn remove_bytes(&self, id: Uuid) -> bool {
        let mut gone = true;
        for variant in [Variant::Original, Variant::Thumbnail, Variant::View] {
            if let Err(err) = self.files.delete(&key(id, variant)).await {
                tracing::warn!(file = %id, error = %err, "files: removing bytes failed");
                gone = false;
            }
        }
        gone
    }
}

pub(super) fn storage_error(err: FileStoreError) -> ServiceError {
    ServiceError::Unavailable(err.to_string())
}
