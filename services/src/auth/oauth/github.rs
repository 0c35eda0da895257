//! GitHub: who the user is, from its REST API (`GET /user` and
//! `GET /user/emails`; GitHub is not an OIDC provider).

use serde::Deserialize;

use super::oidc::get_json;
use super::{ExternalProfile, OAuthError};

/// `GET /user`, the fields used.
#[derive(Debug, Deserialize)]
pub struct GitHubUser {
    /// Numeric id: stable, unlike the login.
    pub id: u64,
    /// The login name.
    pub login: String,
    /// Display name, if set.
    pub name: Option<String>,
}

/// One entry of `GET /user/emails`.
#[derive(Debug, Deserialize)]
pub struct GitHubEmail {
    /// The address.
    pub email: String,
    /// Whether it is the primary address.
    pub primary: bool,
    /// Whether GitHub verified it.
    pub verified: bool,
}

/// The signed-in GitHub user behind `access_token`.
pub async fn profile(
    http: &reqwest::Client,
    api_url: &str,
    namespace: &str,
    access_token: &str,
) -> Result<ExternalProfile, OAuthError> {
    let user: GitHubUser = get_json(http, &format!("{api_url}/user"), Some(access_token)).await?;
    // Without the user:email scope this is refused; the account then has no email.
    let emails: Vec<GitHubEmail> =
        match get_json(http, &format!("{api_url}/user/emails"), Some(access_token)).await {
            Ok(emails) => emails,
            Err(OAuthError::Rejected(_)) => Vec::new(),
            Err(other) => return Err(other),
        };
    Ok(to_profile(user, &emails, namespace))
}

/// The profile: the primary email if verified, else none.
pub fn to_profile(user: GitHubUser, emails: &[GitHubEmail], namespace: &str) -> ExternalProfile {
    let email = emails.iter().find(|e| e.primary && e.verified);
    ExternalProfile {
        namespace: namespace.to_owned(),
        subject: user.id.to_string(),
        email: email.map(|e| e.email.clone()),
        email_verified: email.is_some(),
        username_hint: Some(user.login),
        name: user.name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes as documented at docs.github.com/rest/users.
    #[test]
    fn only_a_verified_primary_email_is_taken() {
        let user = || GitHubUser {
            id: 583231,
            login: "octocat".into(),
            name: Some("The Octocat".into()),
        };
        let emails: Vec<GitHubEmail> = serde_json::from_str(
            r#"[{"email":"old@example.com","primary":false,"verified":true,"visibility":null},
                {"email":"octocat@github.com","primary":true,"verified":true,"visibility":"public"}]"#,
        )
        .unwrap();
        let profile = to_profile(user(), &emails, "https://github.com");
        assert_eq!(profile.subject, "583231");
        assert_eq!(profile.email.as_deref(), Some("octocat@github.com"));
        assert!(profile.email_verified);
        assert_eq!(profile.username_hint.as_deref(), Some("octocat"));

        let unverified: Vec<GitHubEmail> = serde_json::from_str(
            r#"[{"email":"octocat@github.com","primary":true,"verified":false}]"#,
        )
        .unwrap();
        let profile = to_profile(user(), &unverified, "https://github.com");
        assert_eq!(profile.email, None);
        assert!(!profile.email_verified);
    }
}
