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
/// Another application registered at the same provider (the attacker's).
pub const EVIL_CLIENT: (&str, &str) = ("evil-third-party-app", "evil-third-party-secret");
/// ChatSphere's own registration, as a `(client_id, secret)` pair.
pub const OUR_CLIENT: (&str, &str) = (CLIENT_ID, CLIENT_SECRET);

/// What the provider's token endpoint answered a client.
pub struct Issued {
    /// The access token.
    pub access_token: String,
    /// The ID token (its `aud` is the client that asked).
    pub id_token: String,
}

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
        Self::start_with(&[]).await
    }

    /// [`Self::start`] with the script's flags (`--no-introspection`).
    pub async fn start_with(flags: &[&str]) -> Option<Self> {
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
            .args(flags)
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

    /// An access token for the test user `hint` (password grant), as
    /// ChatSphere's own mobile app would hold after signing in at the
    /// provider.
    pub async fn access_token_for(&self, hint: &str) -> String {
        self.issue(hint, OUR_CLIENT, None).await.access_token
    }

    /// The tokens the provider issues `client` for the test user `hint`
    /// (password grant), with `nonce` in the ID token if given.
    pub async fn issue(&self, hint: &str, client: (&str, &str), nonce: Option<&str>) -> Issued {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", hint),
            ("password", "irrelevant"),
            ("scope", "openid email profile"),
        ];
        form.extend(nonce.map(|n| ("nonce", n)));
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client.0, Some(client.1))
            .form(&form)
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token answer");
        let field = |name: &str| {
            answer[name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in {answer}"))
                .to_owned()
        };
        Issued {
            access_token: field("access_token"),
            id_token: field("id_token"),
        }
    }
}
