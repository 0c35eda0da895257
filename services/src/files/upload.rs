//! Uploads: streamed into the file store with their size, hash and type
//! found on the way, images made ready, the record written last (nothing is
//! left behind by an upload that ends any other way).

use bytes::Bytes;
use chrono::Utc;
use domain::files::{clean_file_name, is_inline_type, FileInfo};
use domain::messages as m;
use futures_util::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::content::{self, ImageError, SNIFF_BYTES};
use super::service::{key, storage_error, FileService, Variant};
use crate::ServiceError;

impl FileService {
    /// Stores a file `user_id` uploads to a conversation they are a member
    /// of, streamed from `body` (`length` when the client said it). Its
    /// type comes from its first bytes; an inline image gets its size, a
    /// thumbnail and a clean copy. Not attached to any message yet.
    pub async fn upload<S, E>(
        &self,
        user_id: Uuid,
        conversation_id: Uuid,
        name: &str,
        length: Option<u64>,
        body: S,
    ) -> Result<FileInfo, ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        if !self.chat.is_member(user_id, conversation_id).await? {
            return Err(ServiceError::NotFound("conversation"));
        }
        let (limit, over) = self.limit(user_id).await?;
        if length.is_some_and(|n| n > limit) {
            return Err(ServiceError::TooLarge(over));
        }
        let id = Uuid::now_v7();
        let key = key(id, Variant::Original);
        // Whatever ends this upload before its record is written (a
        // refusal, a failure, the client going away mid-request) removes
        // its bytes: none is left unknown to the database.
        let mut leftovers = Leftovers {
            service: Some(self.clone()),
            id,
        };
        let mut writer = self.files.create(&key).await.map_err(storage_error)?;
        let written = self.write(&mut *writer, body, limit, over).await;
        let (size, sha256, content_type) = match written {
            Ok(done) => done,
            Err(err) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "files: abandoning an upload failed");
                }
                return Err(err);
            }
        };
        writer.finish().await.map_err(storage_error)?;
        let mut file = FileInfo {
            id,
            conversation_id,
            name: clean_file_name(name),
            content_type: content_type.to_owned(),
            size,
            sha256,
            width: None,
            height: None,
            inline: false,
            uploader_id: user_id,
            created_at: Utc::now(),
            message_id: None,
        };
        if is_inline_type(content_type) {
            self.prepare_image(&mut file).await?;
        }
        if !self
            .store
            .insert_file(&file, self.config.quota_bytes)
            .await?
        {
            // Uploads in parallel passed the quota together: this one is over.
            return Err(ServiceError::TooLarge(m::FILE_QUOTA_EXCEEDED));
        }
        leftovers.service = None;
        Ok(file)
    }

    /// The most `user_id` may upload now, and the message if they go over.
    async fn limit(&self, user_id: Uuid) -> Result<(u64, &'static str), ServiceError> {
        let max = self.config.max_upload_bytes;
        let Some(quota) = self.config.quota_bytes else {
            return Ok((max, m::FILE_TOO_LARGE));
        };
        let left = quota.saturating_sub(self.store.uploaded_bytes(user_id).await?);
        if left == 0 {
            return Err(ServiceError::TooLarge(m::FILE_QUOTA_EXCEEDED));
        }
        Ok(if left < max {
            (left, m::FILE_QUOTA_EXCEEDED)
        } else {
            (max, m::FILE_TOO_LARGE)
        })
    }

    /// Streams `body` into `writer`, counting, hashing and finding its type
    /// on the way; refuses it once it passes `limit` or shows a type not
    /// allowed.
    async fn write<S, E>(
        &self,
        writer: &mut dyn super::storage::FileWriter,
        mut body: S,
        limit: u64,
        over: &'static str,
    ) -> Result<(u64, String, &'static str), ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let mut size = 0u64;
        let mut hash = Sha256::new();
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut content_type = None;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| {
                tracing::info!(error = %err, "files: an upload broke off");
                ServiceError::Invalid(m::UPLOAD_INTERRUPTED.into())
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(ServiceError::TooLarge(over));
            }
            hash.update(&chunk);
            if content_type.is_none() {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                if head.len() == SNIFF_BYTES {
                    content_type = Some(self.allowed(content::sniff(&head))?);
                }
            }
            writer.write(chunk).await.map_err(storage_error)?;
        }
        if size == 0 {
            return Err(ServiceError::Invalid(m::FILE_EMPTY.into()));
        }
        let content_type = match content_type {
            Some(found) => found,
            None => self.allowed(content::sniff(&head))?,
        };
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok((size, sha256, content_type))
    }

    fn allowed(&self, content_type: &'static str) -> Result<&'static str, ServiceError> {
        if self.config.allows(content_type) {
            Ok(content_type)
        } else {
            Err(ServiceError::UnsupportedType(m::FILE_TYPE_NOT_ALLOWED))
        }
    }

    /// Reads an inline image back, decodes it off the async runtime (one at
    /// a time), and stores its thumbnail and clean copy. An image that does
    /// not decode stays a file like any other; one too large is refused.
    async fn prepare_image(&self, file: &mut FileInfo) -> Result<(), ServiceError> {
        // Held by the decoding itself, which goes on if the request is
        // dropped: still one at a time.
        let permit = self
            .images
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let read = self
            .files
            .read(&key(file.id, Variant::Original), None)
            .await
            .map_err(storage_error)?;
        let chunks: Vec<Bytes> = read.body.try_collect().await.map_err(storage_error)?;
        let bytes = chunks.concat();
        let content_type = file.content_type.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            content::prepare(&content_type, &bytes)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        match prepared {
            Ok(Some(image)) => {
                self.files
                    .put(&key(file.id, Variant::Thumbnail), image.thumbnail.into())
                    .await
                    .map_err(storage_error)?;
                self.files
                    .put(&key(file.id, Variant::View), image.view.into())
                    .await
                    .map_err(storage_error)?;
                file.inline = true;
                file.width = Some(image.width);
                file.height = Some(image.height);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(ImageError::TooLarge(..)) => Err(ServiceError::Invalid(m::IMAGE_TOO_LARGE.into())),
            Err(ImageError::Invalid(why)) => {
                tracing::info!(file = %file.id, %why, "files: an image that does not decode is kept as a file");
                Ok(())
            }
        }
    }
}

/// Removes an upload's bytes when dropped, unless its record was written
/// (`service` taken). Removal is spawned: a drop cannot wait.
struct Leftovers {
    service: Option<FileService>,
    id: Uuid,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            let id = self.id;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { service.remove_bytes(id).await });
            }
        }
    }
}
