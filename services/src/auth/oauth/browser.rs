//! The browser's round trip through a provider: the authorization-code
//! flow with PKCE (S256), a one-time `state` bound to the browser by a
//! cookie, and for OIDC a `nonce` and a fully verified ID token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Duration, Utc};
use domain::LocalPath;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse as _,
    TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::instrument;

use super::{log, ExternalProfile, OAuthError, OAuthService, Provider, ProviderKind};
use crate::auth::service::{ClientInfo, TokenPair};
use crate::store::{PendingLogin, User};
use crate::ServiceError;

/// How long a browser has to come back from the provider.
const LOGIN_TTL_MINUTES: i64 = 10;

/// Where to send the browser, and the `state` to bind to it by cookie.
#[derive(Debug, Clone)]
pub struct BrowserLogin {
    /// The provider's authorization URL with every parameter.
    pub authorize_url: String,
    /// The one-time state (also in the URL).
    pub state: String,
}

/// What the provider sent the browser back with.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state, as returned.
    pub state: Option<String>,
    /// An error code instead of a code (`access_denied`, …).
    pub error: Option<String>,
    /// The state this browser started with (from its cookie).
    pub browser_state: Option<String>,
}

/// The token endpoint's answer, with the OIDC `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}
type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;
type CodeClient<HasAuth, HasToken> = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuth,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasToken,
>;

impl OAuthService {
    /// Starts a browser sign-in: records a one-time state, PKCE verifier and
    /// nonce, and returns where to send the browser; `next` is where the
    /// browser goes once signed in.
    #[instrument(skip_all, fields(provider = self.log_id(id)))]
    pub async fn begin(
        &self,
        id: &str,
        next: &LocalPath,
        login_hint: Option<&str>,
    ) -> Result<BrowserLogin, ServiceError> {
        Ok(self
            .begin_inner(id, next, login_hint)
            .await
            .inspect_err(log)?)
    }

    async fn begin_inner(
        &self,
        id: &str,
        next: &LocalPath,
        login_hint: Option<&str>,
    ) -> Result<BrowserLogin, OAuthError> {
        let provider = self.provider(id)?;
        let (auth_url, _) = self.endpoints(provider).await?;
        let client: CodeClient<EndpointSet, EndpointNotSet> =
            oauth2::Client::new(ClientId::new(provider.config.client_id.clone()))
                .set_auth_uri(parse_url(AuthUrl::new(auth_url))?)
                .set_redirect_uri(parse_url(RedirectUrl::new(self.redirect_uri(id)))?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_secret();
        let nonce = random_secret();
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .set_pkce_challenge(challenge);
        for scope in provider.config.scopes() {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        if provider.discovery.is_some() {
            request = request.add_extra_param("nonce", nonce.clone());
        }
        if let Some(hint) = login_hint.filter(|h| !h.is_empty() && h.len() <= 256) {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, _) = request.url();
        self.inner
            .store
            .save_pending_login(&PendingLogin {
                state_hash: digest(&state),
                provider: id.to_owned(),
                pkce_verifier: verifier.secret().clone(),
                nonce,
                next: next.as_str().to_owned(),
                expires_at: Utc::now() + Duration::minutes(LOGIN_TTL_MINUTES),
            })
            .await?;
        Ok(BrowserLogin {
            authorize_url: url.to_string(),
            state,
        })
    }

    /// Finishes a browser sign-in: checks the state (once, this browser's,
    /// this provider's), exchanges the code with the PKCE verifier, verifies
    /// who the user is, finds or creates the account and starts a session.
    /// Returns the local path to go to.
    #[instrument(skip_all, fields(provider = self.log_id(id)))]
    pub async fn complete(
        &self,
        id: &str,
        callback: Callback,
        client: ClientInfo,
    ) -> Result<(User, TokenPair, LocalPath), ServiceError> {
        let (profile, next) = self.complete_inner(id, callback).await.inspect_err(log)?;
        let (user, tokens) = self.sign_in(id, &profile, client).await?;
        tracing::info!(user = %user.id, session = %tokens.session_id, "signed in through a provider");
        Ok((user, tokens, next))
    }

    async fn complete_inner(
        &self,
        id: &str,
        callback: Callback,
    ) -> Result<(ExternalProfile, LocalPath), OAuthError> {
        let provider = self.provider(id)?;
        let state = callback.state.ok_or(OAuthError::BadState("missing"))?;
        let browser_state = callback
            .browser_state
            .ok_or(OAuthError::BadState("no state cookie"))?;
        // Compare digests: equal-length inputs, no early exit on the secret.
        if digest(&state) != digest(&browser_state) {
            return Err(OAuthError::BadState("not this browser's"));
        }
        let pending = self
            .inner
            .store
            .take_pending_login(&digest(&state), Utc::now())
            .await?
            .ok_or(OAuthError::BadState("unknown, expired or used"))?;
        if pending.provider != id {
            return Err(OAuthError::BadState("started with another provider"));
        }
        if let Some(error) = callback.error {
            return Err(OAuthError::Denied(error.chars().take(64).collect()));
        }
        let code = callback.code.ok_or(OAuthError::BadState("no code"))?;
        let answer = self.exchange(provider, code, pending.pkce_verifier).await?;
        let access_token = answer.access_token().secret();
        let profile = match (&provider.config.kind, &provider.discovery) {
            (ProviderKind::Oidc { .. }, Some(discovery)) => {
                let id_token =
                    answer.extra_fields().id_token.as_deref().ok_or_else(|| {
                        OAuthError::BadIdToken("no id_token in the answer".into())
                    })?;
                let claims = discovery
                    .verify_id_token(
                        &self.inner.http,
                        id_token,
                        &provider.config.client_id,
                        Some(&pending.nonce),
                    )
                    .await?;
                let mut info = claims.profile;
                if info.email.is_none() {
                    // Some providers keep profile claims for the user-info endpoint.
                    let extra = discovery.userinfo(&self.inner.http, access_token).await?;
                    if extra.sub.as_deref() == Some(claims.sub.as_str()) {
                        info = extra;
                    }
                }
                info.into_profile(provider.config.namespace(), claims.sub)
            }
            (ProviderKind::GitHub { .. }, _) => self.github_profile(provider, access_token).await?,
            (ProviderKind::Oidc { .. }, None) => {
                return Err(OAuthError::Misconfigured(
                    "OIDC provider without discovery".into(),
                ))
            }
        };
        // Checked again: the stored row is only as safe as what wrote it.
        Ok((profile, LocalPath::from_next(Some(&pending.next))))
    }

    /// Authorization and token endpoints of a provider.
    async fn endpoints(&self, provider: &Provider) -> Result<(String, String), OAuthError> {
        match (&provider.config.kind, &provider.discovery) {
            (_, Some(discovery)) => {
                let meta = discovery.metadata(&self.inner.http).await?;
                Ok((meta.authorization_endpoint, meta.token_endpoint))
            }
            (ProviderKind::GitHub { web_url, .. }, None) => Ok((
                format!("{web_url}/login/oauth/authorize"),
                format!("{web_url}/login/oauth/access_token"),
            )),
            (ProviderKind::Oidc { .. }, None) => Err(OAuthError::Misconfigured(
                "OIDC provider without discovery".into(),
            )),
        }
    }

    /// Exchanges the code at the token endpoint, with the PKCE verifier and
    /// the same redirect URI.
    async fn exchange(
        &self,
        provider: &Provider,
        code: String,
        verifier: String,
    ) -> Result<TokenAnswer, OAuthError> {
        let (_, token_url) = self.endpoints(provider).await?;
        let secret_in_body = match &provider.discovery {
            Some(discovery) => discovery
                .metadata(&self.inner.http)
                .await?
                .wants_secret_in_body(),
            // GitHub takes the client credentials in the form.
            None => true,
        };
        let client: CodeClient<EndpointNotSet, EndpointSet> =
            oauth2::Client::new(ClientId::new(provider.config.client_id.clone()))
                .set_client_secret(ClientSecret::new(
                    provider.config.client_secret.expose_secret().to_owned(),
                ))
                .set_token_uri(parse_url(TokenUrl::new(token_url))?)
                .set_redirect_uri(parse_url(RedirectUrl::new(
                    self.redirect_uri(&provider.config.id),
                ))?)
                .set_auth_type(if secret_in_body {
                    AuthType::RequestBody
                } else {
                    AuthType::BasicAuth
                });
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.inner.http)
            .await
            .map_err(|err| match err {
                RequestTokenError::Request(e) => OAuthError::Unreachable(e.to_string()),
                RequestTokenError::ServerResponse(e) => OAuthError::CodeRejected(e.to_string()),
                RequestTokenError::Parse(e, body) => OAuthError::CodeRejected(format!(
                    "{e}; answer: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                )),
                RequestTokenError::Other(e) => OAuthError::CodeRejected(e),
            })
    }
}

fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

fn parse_url<T>(parsed: Result<T, url::ParseError>) -> Result<T, OAuthError> {
    parsed.map_err(|e| OAuthError::Misconfigured(format!("bad URL: {e}")))
}
