//! The file store's contract, on a local directory and on a real
//! S3-compatible server (`s3s-fs`): what is written is read back byte for
//! byte, in ranges, streamed in parts; an abandoned upload leaves nothing;
//! a deleted file is gone.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use services::files::storage::{self, FileStore, FileStoreConfig, FileStoreError};
use support::s3::S3Server;

async fn read_all(
    store: &dyn FileStore,
    key: &str,
    range: Option<std::ops::Range<u64>>,
) -> (Vec<u8>, u64) {
    let read = store.read(key, range).await.unwrap();
    let chunks: Vec<Bytes> = read.body.try_collect().await.unwrap();
    (chunks.concat(), read.size)
}

/// Deterministic bytes that are not all alike (a wrong offset shows).
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn contract(store: Arc<dyn FileStore>) {
    // Larger than a part (S3: 5 MiB), written in uneven chunks.
    let data = content(12 * 1024 * 1024 + 123);
    let mut writer = store.create("files/one").await.unwrap();
    for chunk in data.chunks(700_001) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    writer.finish().await.unwrap();
    let (read, size) = read_all(&*store, "files/one", None).await;
    assert_eq!(size, data.len() as u64);
    assert!(read == data, "the bytes read back differ");
    let (part, size) = read_all(&*store, "files/one", Some(5_000_000..5_000_100)).await;
    assert_eq!(size, data.len() as u64);
    assert_eq!(part, &data[5_000_000..5_000_100]);

    // Small objects at once.
    store
        .put("thumbs/one", Bytes::from_static(b"tiny"))
        .await
        .unwrap();
    assert_eq!(read_all(&*store, "thumbs/one", None).await.0, b"tiny");

    // Abandoned: nothing under the key.
    let mut writer = store.create("files/two").await.unwrap();
    writer
        .write(Bytes::from(content(6 * 1024 * 1024)))
        .await
        .unwrap();
    writer.abort().await.unwrap();
    assert!(matches!(
        store.read("files/two", None).await.err(),
        Some(FileStoreError::NotFound)
    ));

    // Deleted: gone; deleting again is no error.
    store.delete("files/one").await.unwrap();
    store.delete("files/one").await.unwrap();
    assert!(matches!(
        store.read("files/one", None).await.err(),
        Some(FileStoreError::NotFound)
    ));
}

#[tokio::test]
async fn a_local_directory_keeps_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = storage::open(&FileStoreConfig::Local(dir.path().join("files"))).unwrap();
    assert_eq!(store.kind(), "local");
    contract(store).await;
}

#[tokio::test]
async fn an_s3_bucket_keeps_files() {
    let Some(server) = S3Server::start().await else {
        return;
    };
    let store = storage::open(&FileStoreConfig::S3(server.config())).unwrap();
    assert_eq!(store.kind(), "s3");
    contract(store).await;
    // Wrong credentials: refused, not written.
    let mut wrong = server.config();
    wrong.secret_access_key = "not-the-secret".to_owned().into();
    let store = storage::open(&FileStoreConfig::S3(wrong)).unwrap();
    assert!(store
        .put("files/x", Bytes::from_static(b"x"))
        .await
        .is_err());
}
