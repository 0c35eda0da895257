//! [`FileStore`]: where the bytes of uploaded files live — a directory on
//! the server's disk (the default: nothing to run) or an S3-compatible
//! object store (several server processes share it). Both through the
//! `object_store` crate; file names are ChatSphere's keys (`files/<uuid>`),
//! never a user's.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};

/// A failure of the file store.
#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    /// No object under that key.
    #[error("no such file")]
    NotFound,
    /// The store failed or could not be reached; details for the logs.
    #[error("file store: {0}")]
    Failed(String),
}

impl From<object_store::Error> for FileStoreError {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Failed(other.to_string()),
        }
    }
}

/// Bytes on their way into the store: written in parts, so an upload never
/// holds more than a part or two in memory.
#[async_trait]
pub trait FileWriter: Send {
    /// Appends `chunk`, waiting while earlier parts are still being sent.
    async fn write(&mut self, chunk: Bytes) -> Result<(), FileStoreError>;
    /// Completes the object: only now is it visible under its key.
    async fn finish(self: Box<Self>) -> Result<(), FileStoreError>;
    /// Abandons the object: nothing stays (parts already sent included).
    async fn abort(self: Box<Self>) -> Result<(), FileStoreError>;
}

/// A ranged read of an object.
pub struct Read {
    /// Its bytes in `range`, as they come.
    pub body: BoxStream<'static, Result<Bytes, FileStoreError>>,
    /// The range read.
    pub range: Range<u64>,
    /// The whole object's size.
    pub size: u64,
}

/// Where uploaded files are kept.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// `local` or `s3` (for logs and health).
    fn kind(&self) -> &'static str;
    /// Starts writing `key` (replaced when it exists).
    async fn create(&self, key: &str) -> Result<Box<dyn FileWriter>, FileStoreError>;
    /// Writes a small object at once.
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), FileStoreError>;
    /// Reads `key`, all of it or `range` (clamped to its size).
    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<Read, FileStoreError>;
    /// Removes `key`; a key that is not there is no error.
    async fn delete(&self, key: &str) -> Result<(), FileStoreError>;
}

/// Where files go, as configured.
#[derive(Debug, Clone)]
pub enum FileStoreConfig {
    /// A directory on this server.
    Local(std::path::PathBuf),
    /// An S3-compatible object store.
    S3(S3Config),
}

/// An S3 bucket (AWS, or any compatible server: MinIO, Garage, Ceph…).
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The server's URL (`https://s3.eu-west-1.amazonaws.com`,
    /// `http://127.0.0.1:9000`); path-style addressing.
    pub endpoint: String,
    /// The bucket (it must exist).
    pub bucket: String,
    /// The region (`us-east-1` when the server has none).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretString,
}

/// Opens the configured store (creating the local directory).
pub fn open(config: &FileStoreConfig) -> Result<Arc<dyn FileStore>, FileStoreError> {
    match config {
        FileStoreConfig::Local(dir) => Ok(Arc::new(ObjectFiles::local(dir)?)),
        FileStoreConfig::S3(s3) => Ok(Arc::new(ObjectFiles::s3(s3)?)),
    }
}

/// A [`FileStore`] over any `object_store` backend.
pub struct ObjectFiles {
    store: Arc<dyn ObjectStore>,
    kind: &'static str,
    /// Bytes buffered before a part is sent (S3 wants at least 5 MiB but
    /// for the last part).
    part: usize,
}

impl ObjectFiles {
    /// Files under `dir` (created if missing).
    pub fn local(dir: &FsPath) -> Result<Self, FileStoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| FileStoreError::Failed(format!("{}: {e}", dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            kind: "local",
            part: 1024 * 1024,
        })
    }

    /// Files in memory, gone with the process: what [`crate::Services`]
    /// starts with until the server gives it its configured store (and
    /// tests that need no other).
    pub fn memory() -> Self {
        Self {
            store: Arc::new(object_store::memory::InMemory::new()),
            kind: "memory",
            part: 1024 * 1024,
        }
    }

    /// Files in an S3 bucket.
    pub fn s3(config: &S3Config) -> Result<Self, FileStoreError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_allow_http(config.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_region(&config.region)
            .with_bucket_name(&config.bucket)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(config.secret_access_key.expose_secret())
            .build()?;
        Ok(Self {
            store: Arc::new(store),
            kind: "s3",
            part: 5 * 1024 * 1024,
        })
    }
}

struct ObjectWriter(WriteMultipart);

#[async_trait]
impl FileWriter for ObjectWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), FileStoreError> {
        // At most two parts on their way: memory stays bounded however
        // large the file.
        self.0.wait_for_capacity(2).await?;
        self.0.put(chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), FileStoreError> {
        self.0.finish().await?;
        Ok(())
    }

    async fn abort(self: Box<Self>) -> Result<(), FileStoreError> {
        self.0.abort().await?;
        Ok(())
    }
}

#[async_trait]
impl FileStore for ObjectFiles {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn create(&self, key: &str) -> Result<Box<dyn FileWriter>, FileStoreError> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        Ok(Box::new(ObjectWriter(WriteMultipart::new_with_chunk_size(
            upload, self.part,
        ))))
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), FileStoreError> {
        self.store.put(&Path::from(key), bytes.into()).await?;
        Ok(())
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<Read, FileStoreError> {
        let options = GetOptions {
            range: range.map(Into::into),
            ..GetOptions::default()
        };
        let got = self.store.get_opts(&Path::from(key), options).await?;
        let size = got.meta.size;
        let range = got.range.clone();
        let body = got.into_stream().map_err(FileStoreError::from).boxed();
        Ok(Read { body, range, size })
    }

    async fn delete(&self, key: &str) -> Result<(), FileStoreError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
