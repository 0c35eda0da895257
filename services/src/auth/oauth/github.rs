//! GitHub: who the user is, from its REST API (`GET /user` and
//! `GET /user/emails`; GitHub is not an OIDC provider), and whether a
//! client's token belongs to our OAuth app ("check a token").

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::http::{get_json, send_json};
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

/// The answer of `POST /applications/{client_id}/token`, the fields used.
#[derive(Debug, Deserialize)]
pub struct CheckedToken {
    /// The OAuth app the token was issued to.
    pub app: CheckedApp,
    /// Whose token it is.
    pub user: Option<CheckedUser>,
    /// When it expires, for tokens that do.
    pub expires_at: Option<DateTime<Utc>>,
}

/// `app` of a [`CheckedToken`].
#[derive(Debug, Deserialize)]
pub struct CheckedApp {
    /// The app's client id.
    pub client_id: String,
}

/// `user` of a [`CheckedToken`].
#[derive(Debug, Deserialize)]
pub struct CheckedUser {
    /// The user's numeric id.
    pub id: u64,
}

/// Asks GitHub's "check a token" application API (`api_url`, so GitHub
/// Enterprise too) whether `access_token` belongs to our OAuth app, with
/// our client credentials; returns the id of the user it belongs to.
/// GitHub answers 404 for a token that is not our app's.
pub async fn check_token(
    http: &reqwest::Client,
    api_url: &str,
    client_id: &str,
    client_secret: &SecretString,
    access_token: &str,
) -> Result<u64, OAuthError> {
    let request = http
        .post(check_url(api_url, client_id)?)
        .basic_auth(client_id, Some(client_secret.expose_secret()))
        .header("X-GitHub-Api-Version", "2022-11-28")
        .json(&serde_json::json!({ "access_token": access_token }));
    let answer: CheckedToken = send_json(
        request,
        "POST /applications/{client_id}/token",
        &[StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY],
    )
    .await?;
    ours(&answer, client_id, Utc::now())
}

/// `{api_url}/applications/{client_id}/token`, the client id escaped.
fn check_url(api_url: &str, client_id: &str) -> Result<url::Url, OAuthError> {
    let mut url = url::Url::parse(api_url)
        .map_err(|e| OAuthError::Misconfigured(format!("GitHub API URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| OAuthError::Misconfigured("GitHub API URL cannot take a path".into()))?
        .pop_if_empty()
        .extend(["applications", client_id, "token"]);
    Ok(url)
}

/// The rules for a "check a token" answer: our app's, not expired, with a
/// user. Returns the user's id.
pub fn ours(answer: &CheckedToken, client_id: &str, now: DateTime<Utc>) -> Result<u64, OAuthError> {
    if answer.app.client_id != client_id {
        return Err(OAuthError::Rejected(format!(
            "issued to another app ({:?})",
            answer.app.client_id
        )));
    }
    if answer.expires_at.is_some_and(|at| at <= now) {
        return Err(OAuthError::Rejected("expired".into()));
    }
    answer
        .user
        .as_ref()
        .map(|u| u.id)
        .ok_or_else(|| OAuthError::Rejected("a token of no user".into()))
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

    // Shape as documented at docs.github.com/rest/apps/oauth-applications#check-a-token.
    const CHECKED: &str = r#"{
        "id": 1, "url": "https://api.github.com/authorizations/1",
        "scopes": ["read:user", "user:email"],
        "token": "ghu_16C7e42F292c6912E7710c838347Ae178B4a", "token_last_eight": "Ae178B4a",
        "hashed_token": "25f94a2a5c7fbaf499c665bc73d67c1c87e496da8985131633ee0a95819db2e8",
        "app": {"url": "http://my-github-app.com", "name": "my github app", "client_id": "Iv1.8a61f9b3a7aba766"},
        "note": "optional note", "note_url": "http://optional/note/url",
        "updated_at": "2011-09-06T20:39:23Z", "created_at": "2011-09-06T17:26:27Z",
        "fingerprint": "jklmnop12345678", "expires_at": EXPIRES,
        "user": {"login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false}
    }"#;

    #[test]
    fn the_check_goes_to_the_configured_api_github_enterprise_included() {
        let url = |api: &str, id: &str| check_url(api, id).unwrap().to_string();
        assert_eq!(
            url("https://api.github.com", "Iv1.8a61f9b3a7aba766"),
            "https://api.github.com/applications/Iv1.8a61f9b3a7aba766/token"
        );
        assert_eq!(
            url("https://git.example.com/api/v3", "Ov23li"),
            "https://git.example.com/api/v3/applications/Ov23li/token"
        );
        assert_eq!(
            url("https://git.example.com/api/v3/", "a/b?c"),
            "https://git.example.com/api/v3/applications/a%2Fb%3Fc/token"
        );
    }

    #[test]
    fn only_a_live_token_of_our_own_app_passes_the_check() {
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let answer = |expires: &str| -> CheckedToken {
            serde_json::from_str(&CHECKED.replace("EXPIRES", expires)).unwrap()
        };
        assert_eq!(
            ours(&answer("null"), "Iv1.8a61f9b3a7aba766", now).unwrap(),
            583231
        );
        assert_eq!(
            ours(
                &answer("\"2026-01-01T08:00:00Z\""),
                "Iv1.8a61f9b3a7aba766",
                now
            )
            .unwrap(),
            583231
        );
        assert!(matches!(
            ours(&answer("null"), "Iv1.our-own-app", now),
            Err(OAuthError::Rejected(_))
        ));
        assert!(matches!(
            ours(
                &answer("\"2025-12-31T23:59:59Z\""),
                "Iv1.8a61f9b3a7aba766",
                now
            ),
            Err(OAuthError::Rejected(_))
        ));
        let no_user: CheckedToken = serde_json::from_str(
            r#"{"app": {"client_id": "a"}, "user": null, "expires_at": null}"#,
        )
        .unwrap();
        assert!(ours(&no_user, "a", now).is_err());
    }
}
