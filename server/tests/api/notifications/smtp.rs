//! A real SMTP server for the tests: aiosmtpd (PyPI), which
//! `scripts/setup.sh --test` installs into `.tools/aiosmtpd`, started on a
//! free loopback port. Each message it takes is parsed by Python's own
//! `email` package (not by the crate that wrote it) into a JSON file.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

const SERVER: &str = r#"
import email, json, os, sys, time
from email import policy
from aiosmtpd.controller import Controller

port, out = int(sys.argv[1]), sys.argv[2]

class Keep:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_type()] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        name = os.path.join(out, "%d.json" % time.time_ns())
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 OK"

controller = Controller(Keep(), hostname="127.0.0.1", port=port)
controller.start()
sys.stdin.read()  # until the test ends
controller.stop()
"#;

/// A running SMTP server; stopped when dropped.
pub struct SmtpServer {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    inbox: tempfile::TempDir,
    _process: Child,
}

fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AIOSMTPD_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/aiosmtpd/bin/python");
    path.is_file().then_some(path)
}

impl SmtpServer {
    /// Starts the server, or returns `None` (outside CI only) when aiosmtpd
    /// is not installed.
    pub async fn start() -> Option<Self> {
        let Some(python) = python() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd is missing: CI runs scripts/setup.sh --test first"
            );
            eprintln!("skipping: aiosmtpd is not installed (scripts/setup.sh --test)");
            return None;
        };
        let inbox = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(python)
            .args(["-c", SERVER, &port.to_string()])
            .arg(inbox.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        let address = format!("127.0.0.1:{port}");
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                return Some(Self {
                    url: format!("smtp://{address}"),
                    inbox,
                    _process: process,
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("aiosmtpd did not listen on {address}");
    }

    /// The messages taken so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.inbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits until at least `count` messages came (15 s at most).
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..300 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} emails, got {}", self.messages().len());
    }
}
