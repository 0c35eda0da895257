//! Sign-in with a token a client obtained from a provider itself (a mobile
//! app, `POST /api/v1/auth/oauth2/login`).
//!
//! A token is accepted only when the provider vouches that it was issued
//! to *this server's* client id — otherwise any application the user ever
//! signed into at the same provider could sign in here as them:
//! - an ID token (OIDC providers), verified exactly like the browser flow's
//!   ([`super::oidc::Discovery::verify_id_token`]);
//! - an access token, checked by introspection (RFC 7662), Google's
//!   token-info endpoint or GitHub's "check a token" API
//!   ([`super::provider::AudienceCheck`]); a provider with none of these
//!   has its access tokens refused.

use std::fmt;

use tracing::instrument;

use super::provider::{AudienceCheck, ProviderKind};
use super::{audience, github, log, ExternalProfile, OAuthError, OAuthService, Provider};
use crate::auth::service::{ClientInfo, TokenPair};
use crate::store::User;
use crate::ServiceError;

/// Longest `id_token` or `access_token` accepted, in characters.
pub const PROVIDER_TOKEN_MAX_CHARS: usize = 8192;
/// Longest `nonce` accepted, in characters.
pub const NONCE_MAX_CHARS: usize = 256;

/// Why an ID token cannot be accepted from a provider without them.
const ID_TOKEN_UNSUPPORTED: &str =
    "id_token: this provider issues no ID tokens; send the access_token of this server's app";

/// A token a client presents as proof of its sign-in at a provider,
/// bounded and of token characters (never printed).
#[derive(Clone)]
pub enum ProviderToken {
    /// An OIDC ID token, with the nonce the client sent to the provider.
    IdToken {
        /// The signed ID token.
        id_token: String,
        /// The nonce it must carry, if the client used one.
        nonce: Option<String>,
    },
    /// An access token.
    AccessToken(String),
}

impl ProviderToken {
    /// An ID token and its nonce, if they are 1 to
    /// [`PROVIDER_TOKEN_MAX_CHARS`] (resp. [`NONCE_MAX_CHARS`]) visible
    /// ASCII characters.
    pub fn id_token(id_token: String, nonce: Option<String>) -> Result<Self, ServiceError> {
        Ok(Self::IdToken {
            id_token: bounded("id_token", id_token, PROVIDER_TOKEN_MAX_CHARS)?,
            nonce: nonce
                .map(|n| bounded("nonce", n, NONCE_MAX_CHARS))
                .transpose()?,
        })
    }

    /// An access token, if it is 1 to [`PROVIDER_TOKEN_MAX_CHARS`] visible
    /// ASCII characters.
    pub fn access_token(access_token: String) -> Result<Self, ServiceError> {
        Ok(Self::AccessToken(bounded(
            "access_token",
            access_token,
            PROVIDER_TOKEN_MAX_CHARS,
        )?))
    }
}

impl fmt::Debug for ProviderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IdToken { .. } => "ProviderToken::IdToken(..)",
            Self::AccessToken(_) => "ProviderToken::AccessToken(..)",
        })
    }
}

/// `value` if it is 1 to `max` visible ASCII characters (what tokens are
/// made of; anything else could not even go into an HTTP header).
fn bounded(field: &str, value: String, max: usize) -> Result<String, ServiceError> {
    if value.is_empty() || value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::Invalid(format!(
            "{field}: must be 1 to {max} visible ASCII characters"
        )));
    }
    Ok(value)
}

impl OAuthService {
    /// Signs in with a token the client obtained from provider `id`
    /// itself, once the provider has confirmed it was issued to this
    /// server's client; finds, links (by a verified email) or creates the
    /// account.
    #[instrument(skip_all, fields(provider = self.log_id(id)))]
    pub async fn login_with_token(
        &self,
        id: &str,
        token: &ProviderToken,
        client: ClientInfo,
    ) -> Result<(User, TokenPair), ServiceError> {
        let profile = self.profile_from_token(id, token).await.inspect_err(log)?;
        let (user, tokens) = self.sign_in(id, &profile, client).await?;
        tracing::info!(user = %user.id, session = %tokens.session_id, "signed in with a provider token");
        Ok((user, tokens))
    }

    async fn profile_from_token(
        &self,
        id: &str,
        token: &ProviderToken,
    ) -> Result<ExternalProfile, OAuthError> {
        let provider = self.provider(id)?;
        match token {
            ProviderToken::IdToken { id_token, nonce } => {
                self.profile_from_id_token(provider, id_token, nonce.as_deref())
                    .await
            }
            ProviderToken::AccessToken(access_token) => {
                self.profile_from_access_token(provider, access_token).await
            }
        }
    }

    async fn profile_from_id_token(
        &self,
        provider: &Provider,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<ExternalProfile, OAuthError> {
        let discovery = provider
            .discovery
            .as_ref()
            .ok_or(OAuthError::Unsupported(ID_TOKEN_UNSUPPORTED))?;
        let claims = discovery
            .verify_id_token(
                &self.inner.http,
                id_token,
                &provider.config.client_id,
                nonce,
            )
            .await
            .map_err(|err| match err {
                // The client's token, not the provider's answer, failed.
                OAuthError::BadIdToken(why) => OAuthError::Rejected(format!("ID token: {why}")),
                other => other,
            })?;
        Ok(claims
            .profile
            .into_profile(provider.config.namespace(), claims.sub))
    }

    async fn profile_from_access_token(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, OAuthError> {
        let http = &self.inner.http;
        let config = &provider.config;
        let discovery = || {
            provider
                .discovery
                .as_ref()
                .ok_or_else(|| OAuthError::Misconfigured("OIDC provider without discovery".into()))
        };
        let subject = match config.audience_check() {
            AudienceCheck::GitHubApplication => {
                return self.github_app_profile(provider, access_token).await
            }
            AudienceCheck::GoogleTokenInfo => {
                Some(audience::google_token_info(http, &config.client_id, access_token).await?)
            }
            AudienceCheck::Introspection => {
                let metadata = discovery()?.metadata(http).await?;
                audience::introspect(http, &metadata, config, access_token).await?
            }
        };
        let info = discovery()?.userinfo(http, access_token).await?;
        let sub = info
            .sub
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| OAuthError::Rejected("user-info answer without sub".into()))?;
        let profile = info.into_profile(config.namespace(), sub);
        match subject {
            Some(subject) => same_subject(profile, &subject),
            None => Ok(profile),
        }
    }

    /// The profile behind a GitHub access token of our own OAuth app.
    async fn github_app_profile(
        &self,
        provider: &Provider,
        access_token: &str,
    ) -> Result<ExternalProfile, OAuthError> {
        let config = &provider.config;
        let ProviderKind::GitHub { api_url, .. } = &config.kind else {
            return Err(OAuthError::Misconfigured("not a GitHub provider".into()));
        };
        let owner = github::check_token(
            &self.inner.http,
            api_url,
            &config.client_id,
            &config.client_secret,
            access_token,
        )
        .await?;
        let profile = self.github_profile(provider, access_token).await?;
        same_subject(profile, &owner.to_string())
    }
}

/// `profile`, if it is the user the audience check named.
fn same_subject(profile: ExternalProfile, subject: &str) -> Result<ExternalProfile, OAuthError> {
    if profile.subject != subject {
        return Err(OAuthError::Rejected(
            "the provider named different users for the same token".into(),
        ));
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<ProviderToken, ServiceError>) -> bool {
        matches!(result, Err(ServiceError::Invalid(ref why)) if why.contains("visible ASCII"))
    }

    #[test]
    fn tokens_are_bounded_visible_ascii() {
        let at_most = "a".repeat(PROVIDER_TOKEN_MAX_CHARS);
        assert!(ProviderToken::access_token(at_most.clone()).is_ok());
        assert!(
            ProviderToken::id_token(at_most.clone(), Some("n".repeat(NONCE_MAX_CHARS))).is_ok()
        );
        assert!(refused(ProviderToken::access_token(format!("{at_most}a"))));
        assert!(refused(ProviderToken::id_token(
            format!("{at_most}a"),
            None
        )));
        assert!(refused(ProviderToken::id_token(
            "a.b.c".into(),
            Some("n".repeat(NONCE_MAX_CHARS + 1))
        )));
        for bad in ["", " token", "tok en", "token\n", "tok\u{7f}", "tökén"] {
            assert!(refused(ProviderToken::access_token(bad.into())), "{bad:?}");
            assert!(
                refused(ProviderToken::id_token("a.b.c".into(), Some(bad.into()))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = ProviderToken::id_token("secret.jwt.value".into(), Some("nonce-1".into()));
        let shown = format!("{:?}", token.unwrap());
        assert!(
            !shown.contains("secret") && !shown.contains("nonce-1"),
            "{shown}"
        );
    }
}
