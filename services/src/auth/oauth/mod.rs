//! [`OAuthService`]: signing in through an external identity provider.
//!
//! Browsers use the authorization-code flow with PKCE (S256), a one-time
//! `state` bound to the browser by a cookie, and for OIDC a `nonce` and a
//! fully verified ID token ([`browser`], [`oidc`]). Mobile and third-party
//! clients hand over a token they obtained from the provider themselves
//! (`POST /api/v1/auth/oauth2/login`, [`client_login`]): an ID token
//! verified the same way, or an access token the provider confirms was
//! issued to this server's client ([`audience`], [`github`]).
//!
//! A first sign-in creates an account. An identity is linked to an existing
//! account only through an email that both the provider and this server
//! consider verified; an email that a password account merely claims is
//! never enough (it would hand that account's owner the provider's user).

mod accounts;
pub mod audience;
mod browser;
pub mod claims;
pub mod client_login;
mod error;
pub mod github;
mod http;
pub mod oidc;
pub mod provider;

use std::sync::Arc;

use domain::AuditKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use accounts::Found;
pub use browser::{BrowserLogin, Callback};
pub use client_login::{ProviderToken, NONCE_MAX_CHARS, PROVIDER_TOKEN_MAX_CHARS};
pub use error::OAuthError;
pub use provider::{AudienceCheck, ProviderConfig, ProviderKind};

use super::service::{AuthService, ClientInfo, TokenPair};
use crate::store::{Store, User};
use crate::ServiceError;

/// A provider as a sign-in button shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Id used in URLs.
    pub id: String,
    /// Name to show.
    pub name: String,
}

/// Who the provider says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalProfile {
    /// The provider's namespace (issuer or GitHub URL).
    pub namespace: String,
    /// The user's stable id there.
    pub subject: String,
    /// Email, if shared.
    pub email: Option<String>,
    /// Whether the provider verified the email.
    pub email_verified: bool,
    /// A login name to start the username from.
    pub username_hint: Option<String>,
    /// Full name.
    pub name: Option<String>,
}

struct Provider {
    config: ProviderConfig,
    discovery: Option<oidc::Discovery>,
}

struct Inner {
    providers: Vec<Provider>,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    auth: AuthService,
    public_url: String,
}

/// External sign-in (none configured: every call answers "unknown provider").
#[derive(Clone)]
pub struct OAuthService {
    inner: Arc<Inner>,
}

impl OAuthService {
    /// The service for `providers`; redirect URIs are
    /// `{public_url}/auth/oauth2/{id}/callback`.
    pub fn new(
        providers: Vec<ProviderConfig>,
        public_url: &str,
        store: Arc<dyn Store>,
        auth: AuthService,
    ) -> Self {
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer point us anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("ChatSphere/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let providers = providers
            .into_iter()
            .map(|config| Provider {
                discovery: match &config.kind {
                    ProviderKind::Oidc { issuer } => Some(oidc::Discovery::new(issuer)),
                    ProviderKind::GitHub { .. } => None,
                },
                config,
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                providers,
                http,
                store,
                auth,
                public_url: public_url.trim_end_matches('/').to_owned(),
            }),
        }
    }

    /// The configured providers, in configuration order.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        self.inner
            .providers
            .iter()
            .map(|p| ProviderInfo {
                id: p.config.id.clone(),
                name: p.config.name.clone(),
            })
            .collect()
    }

    /// The exact redirect URI registered at the provider for `id`.
    pub fn redirect_uri(&self, id: &str) -> String {
        format!("{}/auth/oauth2/{id}/callback", self.inner.public_url)
    }

    /// `id` for log lines when it names a configured provider, else
    /// `"unknown"`: ids come from URLs and request bodies.
    fn log_id<'a>(&self, id: &'a str) -> &'a str {
        if self.provider(id).is_ok() {
            id
        } else {
            "unknown"
        }
    }

    fn provider(&self, id: &str) -> Result<&Provider, OAuthError> {
        self.inner
            .providers
            .iter()
            .find(|p| p.config.id == id)
            .ok_or(OAuthError::UnknownProvider)
    }

    /// Signs in the account of a verified external profile (unless it is
    /// disabled), recording in the audit log an identity newly linked to it.
    async fn sign_in(
        &self,
        id: &str,
        profile: &ExternalProfile,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), ServiceError> {
        let (user, found) = self.account_for(profile).await.inspect_err(log)?;
        if found != Found::Linked {
            let detail = json!({ "provider": id, "new_account": found == Found::Created });
            let audit = self.inner.auth.audit();
            audit
                .record(
                    AuditKind::OAuthLinked,
                    Some(user.id),
                    None,
                    Some(&client),
                    Some(detail),
                )
                .await;
        }
        let tokens = self
            .inner
            .auth
            .sign_in(&user, client, "oauth", Some(id))
            .await?;
        Ok((user, tokens))
    }

    /// Who a GitHub access token belongs to.
    async fn github_profile(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, OAuthError> {
        let ProviderKind::GitHub { api_url, .. } = &provider.config.kind else {
            return Err(OAuthError::Misconfigured("not a GitHub provider".into()));
        };
        github::profile(
            &self.inner.http,
            api_url,
            provider.config.namespace(),
            access_token,
        )
        .await
    }
}

fn log(err: &OAuthError) {
    match err {
        OAuthError::Unreachable(_) | OAuthError::Misconfigured(_) | OAuthError::Store(_) => {
            tracing::error!(error = %err, "external sign-in failed")
        }
        _ => tracing::warn!(error = %err, "external sign-in refused"),
    }
}
