//! A real S3-compatible server for the tests: `s3s-fs` (crates.io), which
//! `scripts/setup.sh --test` installs with cargo, started on a free
//! loopback port over a temporary directory with one bucket.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The credentials the server is started with.
pub const ACCESS_KEY: &str = "chatsphere-test";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "chatsphere-test-secret";
/// The bucket made for the tests.
pub const BUCKET: &str = "files";

/// A running server; stopped when dropped.
pub struct S3Server {
    /// Its URL (`http://127.0.0.1:<port>`).
    pub endpoint: String,
    /// Where it keeps objects (the bucket is a folder in it).
    pub root: tempfile::TempDir,
    _process: Child,
}

/// `S3S_FS`, else `s3s-fs` on the `PATH` (`scripts/setup.sh --test`
/// installs it with cargo).
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("S3S_FS") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("s3s-fs"))
        .find(|candidate| candidate.is_file())
}

impl S3Server {
    /// Starts the server, or returns `None` (outside CI only) when it is
    /// not installed.
    pub async fn start() -> Option<Self> {
        let Some(binary) = binary() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "s3s-fs is missing: CI runs scripts/setup.sh --test first"
            );
            eprintln!("skipping: s3s-fs is not installed (scripts/setup.sh --test)");
            return None;
        };
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start s3s-fs");
        let address = format!("127.0.0.1:{port}");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                return Some(Self {
                    endpoint: format!("http://{address}"),
                    root,
                    _process: process,
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("s3s-fs did not listen on {address}");
    }

    /// The file store configuration for this server.
    pub fn config(&self) -> services::files::storage::S3Config {
        services::files::storage::S3Config {
            endpoint: self.endpoint.clone(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.to_owned().into(),
        }
    }
}
