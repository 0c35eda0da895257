//! Which identity providers an installation trusts: the Google and GitHub
//! presets and any OpenID Connect provider found by discovery.

use secrecy::SecretString;

/// How a provider is spoken to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect: endpoints and keys from
    /// `{issuer}/.well-known/openid-configuration`; the user is proven by a
    /// signed ID token.
    Oidc {
        /// The issuer URL, exactly as the provider's ID tokens carry it.
        issuer: String,
    },
    /// GitHub (OAuth 2.0 plus its REST API; not OIDC). The URLs differ for
    /// GitHub Enterprise Server.
    GitHub {
        /// The web site that signs users in (`https://github.com`).
        web_url: String,
        /// The REST API (`https://api.github.com`).
        api_url: String,
    },
}

/// How the server learns which client a provider access token was issued
/// to (a token of another application must never sign anyone in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceCheck {
    /// RFC 7662 introspection at the `introspection_endpoint` of discovery,
    /// authenticated with our client credentials; a provider that offers
    /// none has access tokens refused.
    Introspection,
    /// Google's token-info endpoint (`aud`/`azp`).
    GoogleTokenInfo,
    /// GitHub's "check a token" application API, which answers only for
    /// tokens of our own OAuth app.
    GitHubApplication,
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Short id used in URLs (`google`, `github`, `oidc`).
    pub id: String,
    /// Name on the sign-in button.
    pub name: String,
    /// How to talk to it.
    pub kind: ProviderKind,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret registered at the provider.
    pub client_secret: SecretString,
}

/// Google's OIDC issuer.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Google's token-info endpoint: which client an access token was issued to.
pub const GOOGLE_TOKENINFO_URL: &str = "https://oauth2.googleapis.com/tokeninfo";
/// GitHub's web site.
pub const GITHUB_WEB_URL: &str = "https://github.com";
/// GitHub's REST API.
pub const GITHUB_API_URL: &str = "https://api.github.com";

impl ProviderConfig {
    /// Google, as an OIDC provider.
    pub fn google(client_id: String, client_secret: SecretString) -> Self {
        Self {
            id: "google".into(),
            name: "Google".into(),
            kind: ProviderKind::Oidc {
                issuer: GOOGLE_ISSUER.into(),
            },
            client_id,
            client_secret,
        }
    }

    /// GitHub at `web_url`/`api_url` (github.com's when `None`).
    pub fn github(
        client_id: String,
        client_secret: SecretString,
        web_url: Option<String>,
        api_url: Option<String>,
    ) -> Self {
        Self {
            id: "github".into(),
            name: "GitHub".into(),
            kind: ProviderKind::GitHub {
                web_url: trim_slash(web_url.as_deref().unwrap_or(GITHUB_WEB_URL)),
                api_url: trim_slash(api_url.as_deref().unwrap_or(GITHUB_API_URL)),
            },
            client_id,
            client_secret,
        }
    }

    /// Any OpenID Connect provider (Keycloak, Okta, Azure AD, …) by issuer.
    pub fn oidc(
        name: String,
        issuer: String,
        client_id: String,
        client_secret: SecretString,
    ) -> Self {
        Self {
            id: "oidc".into(),
            name,
            kind: ProviderKind::Oidc { issuer },
            client_id,
            client_secret,
        }
    }

    /// The namespace of this provider's subject ids in `external_identities`:
    /// the issuer for OIDC (subjects are unique per issuer), the web URL for
    /// GitHub. Renaming a provider's id keeps its users linked.
    pub fn namespace(&self) -> &str {
        match &self.kind {
            ProviderKind::Oidc { issuer } => issuer,
            ProviderKind::GitHub { web_url, .. } => web_url,
        }
    }

    /// How access tokens of this provider are checked for their client.
    pub fn audience_check(&self) -> AudienceCheck {
        match &self.kind {
            ProviderKind::Oidc { issuer } if issuer == GOOGLE_ISSUER => {
                AudienceCheck::GoogleTokenInfo
            }
            ProviderKind::Oidc { .. } => AudienceCheck::Introspection,
            ProviderKind::GitHub { .. } => AudienceCheck::GitHubApplication,
        }
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &'static [&'static str] {
        match self.kind {
            ProviderKind::Oidc { .. } => &["openid", "email", "profile"],
            ProviderKind::GitHub { .. } => &["read:user", "user:email"],
        }
    }
}

fn trim_slash(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_point_at_the_real_providers() {
        let google = ProviderConfig::google("id".into(), "s".into());
        assert_eq!(google.namespace(), "https://accounts.google.com");
        assert!(google.scopes().contains(&"openid"));
        let github = ProviderConfig::github("id".into(), "s".into(), None, None);
        assert_eq!(
            github.kind,
            ProviderKind::GitHub {
                web_url: "https://github.com".into(),
                api_url: "https://api.github.com".into()
            }
        );
        let enterprise = ProviderConfig::github(
            "id".into(),
            "s".into(),
            Some("https://git.example.com/".into()),
            Some("https://git.example.com/api/v3/".into()),
        );
        assert_eq!(enterprise.namespace(), "https://git.example.com");
    }

    #[test]
    fn each_preset_has_a_way_to_check_whom_a_token_was_issued_to() {
        let secret = || SecretString::from("s");
        let google = ProviderConfig::google("id".into(), secret());
        assert_eq!(google.audience_check(), AudienceCheck::GoogleTokenInfo);
        let github = ProviderConfig::github("id".into(), secret(), None, None);
        assert_eq!(github.audience_check(), AudienceCheck::GitHubApplication);
        let oidc = ProviderConfig::oidc("SSO".into(), "https://sso".into(), "id".into(), secret());
        assert_eq!(oidc.audience_check(), AudienceCheck::Introspection);
    }
}
