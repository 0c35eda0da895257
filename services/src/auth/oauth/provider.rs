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
}
