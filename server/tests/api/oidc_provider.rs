//! A real, third-party OpenID Connect provider for the tests: npm's
//! `oauth2-mock-server`, started through `end2end/oidc-provider.mjs` (which
//! only configures its test users) on a free loopback port.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The client id and secret ChatSphere is registered with in the tests.
pub const CLIENT_ID: &str = "chatsphere-test";
/// See [`CLIENT_ID`].
pub const CLIENT_SECRET: &str = "chatsphere-test-secret";

/// A running provider; stopped when dropped.
pub struct OidcProvider {
    /// The issuer URL (`http://127.0.0.1:<port>`).
    pub issuer: String,
    _process: Child,
}

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end")
}

impl OidcProvider {
    /// Starts the provider, or returns `None` (outside CI only) when the
    /// end2end npm packages are not installed (`scripts/setup.sh --test`).
    pub async fn start() -> Option<Self> {
        let dir = script_dir();
        if !dir.join("node_modules/oauth2-mock-server").is_dir() {
            assert!(
                !crate::support::required(),
                "end2end/node_modules is missing: CI runs scripts/setup.sh --test first"
            );
            eprintln!("skipped: the OIDC provider's npm package is not installed (scripts/setup.sh --test)");
            return None;
        }
        let mut process = Command::new("node")
            .arg("oidc-provider.mjs")
            .arg("0")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdout = process.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the provider starts within 20 s")
            .expect("provider output")
            .expect("a ready line");
        let issuer = line
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("unexpected provider output {line:?}"))
            .to_owned();
        Some(Self {
            issuer,
            _process: process,
        })
    }

    /// The server variables that enable this provider as `oidc`.
    pub fn vars(&self) -> [(&'static str, &str); 4] {
        [
            ("OIDC_ISSUER", self.issuer.as_str()),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_NAME", "Test SSO"),
        ]
    }

    /// An access token for the test user `hint` (password grant), as a
    /// mobile app would hold after signing in at the provider.
    pub async fn access_token_for(&self, hint: &str) -> String {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", hint),
                ("password", "irrelevant"),
                ("scope", "openid email profile"),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token answer");
        answer["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}
