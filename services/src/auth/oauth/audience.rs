//! Which client an OIDC provider's access token was issued to: RFC 7662
//! introspection, or Google's token-info endpoint. (GitHub's "check a
//! token" is in [`super::github`].) The user-info endpoint alone cannot
//! tell: it answers for a token of any application, so a token another
//! app obtained from the same user would sign that app into their account
//! here. A token passes only when the provider names this server's client.

use oauth2::basic::BasicClient;
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, IntrospectionUrl, RequestTokenError,
    TokenIntrospectionResponse,
};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::http::send_json;
use super::oidc::Metadata;
use super::provider::{ProviderConfig, GOOGLE_TOKENINFO_URL};
use super::OAuthError;

/// Asks the provider's introspection endpoint about `access_token`,
/// authenticated as our client; returns the token's subject when the answer
/// names one. A provider without an introspection endpoint is
/// [`OAuthError::Unsupported`]: its access tokens are refused.
pub async fn introspect(
    http: &reqwest::Client,
    metadata: &Metadata,
    config: &ProviderConfig,
    access_token: &str,
) -> Result<Option<String>, OAuthError> {
    let url = metadata
        .introspection_endpoint
        .as_deref()
        .ok_or(OAuthError::Unsupported(ACCESS_TOKEN_UNCHECKABLE))?;
    let url = IntrospectionUrl::new(url.to_owned())
        .map_err(|e| OAuthError::Misconfigured(format!("introspection_endpoint: {e}")))?;
    let client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            config.client_secret.expose_secret().to_owned(),
        ))
        .set_introspection_url(url)
        .set_auth_type(if metadata.introspection_wants_secret_in_body() {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        });
    let token = AccessToken::new(access_token.to_owned());
    let answer = client
        .introspect(&token)
        .set_token_type_hint("access_token")
        .request_async(http)
        .await
        .map_err(|err| match err {
            RequestTokenError::Request(e) => OAuthError::Unreachable(format!("introspection: {e}")),
            // RFC 7662 answers 200 for any token, active or not: an error
            // status means the provider refused us (our credentials).
            RequestTokenError::ServerResponse(e) => {
                OAuthError::Misconfigured(format!("introspection refused us: {e}"))
            }
            RequestTokenError::Parse(e, _) => {
                OAuthError::Unreachable(format!("introspection: unreadable answer: {e}"))
            }
            RequestTokenError::Other(e) => OAuthError::Unreachable(format!("introspection: {e}")),
        })?;
    issued_to(
        &answer,
        &config.client_id,
        &metadata.issuer,
        chrono::Utc::now(),
    )
}

/// Why an access token cannot be accepted from a provider that offers no
/// way to ask whom it was issued to.
pub const ACCESS_TOKEN_UNCHECKABLE: &str = "access_token: this provider offers no way to check \
     which application an access token was issued to; sign in with an id_token instead";

/// The rules for an introspection answer: active, not expired, from our
/// issuer when it says, and issued to `client_id` — its `client_id`, or
/// when it names none, an `aud` that contains ours. Returns `sub`.
pub fn issued_to<T: TokenIntrospectionResponse>(
    answer: &T,
    client_id: &str,
    issuer: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, OAuthError> {
    if !answer.active() {
        return Err(OAuthError::Rejected("introspection: not active".into()));
    }
    if answer.exp().is_some_and(|exp| exp <= now) {
        return Err(OAuthError::Rejected("introspection: expired".into()));
    }
    if answer.iss().is_some_and(|iss| iss != issuer) {
        return Err(OAuthError::Rejected(format!(
            "introspection: issued by {:?}",
            answer.iss()
        )));
    }
    let ours = match answer.client_id() {
        Some(issued_to) => issued_to.as_str() == client_id,
        None => answer
            .aud()
            .is_some_and(|aud| aud.iter().any(|a| a == client_id)),
    };
    if !ours {
        return Err(OAuthError::Rejected(format!(
            "issued to another client ({:?}, aud {:?})",
            answer.client_id().map(|c| c.as_str()),
            answer.aud()
        )));
    }
    Ok(answer.sub().filter(|s| !s.is_empty()).map(str::to_owned))
}

/// The answer of Google's token-info endpoint, the fields used.
#[derive(Debug, Deserialize)]
pub struct GoogleTokenInfo {
    /// The client the token was issued to.
    pub aud: Option<String>,
    /// The authorized party (the same client for access tokens).
    pub azp: Option<String>,
    /// The user's Google id.
    pub sub: Option<String>,
}

/// Asks Google's token-info endpoint about `access_token` (in the form
/// body, not the URL, so that it appears in no log) and returns its
/// subject if it was issued to `client_id`.
pub async fn google_token_info(
    http: &reqwest::Client,
    client_id: &str,
    access_token: &str,
) -> Result<String, OAuthError> {
    let request = http
        .post(GOOGLE_TOKENINFO_URL)
        .form(&[("access_token", access_token)]);
    // Google answers 400 `invalid_token` for tokens it does not know.
    let info: GoogleTokenInfo = send_json(
        request,
        "POST tokeninfo",
        &[StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED],
    )
    .await?;
    google_issued_to(&info, client_id)
}

/// The rules for a token-info answer: `aud` (and `azp` when present) are
/// `client_id`, and a subject is named.
pub fn google_issued_to(info: &GoogleTokenInfo, client_id: &str) -> Result<String, OAuthError> {
    let ours = info.aud.as_deref() == Some(client_id)
        && info.azp.as_deref().is_none_or(|azp| azp == client_id);
    if !ours {
        return Err(OAuthError::Rejected(format!(
            "issued to another client (aud {:?}, azp {:?})",
            info.aud, info.azp
        )));
    }
    info.sub
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::Rejected("token-info answer without sub".into()))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use oauth2::basic::BasicTokenIntrospectionResponse;

    use super::*;

    const US: &str = "chatsphere";
    const ISSUER: &str = "https://sso.example.com";

    fn check(answer: serde_json::Value) -> Result<Option<String>, OAuthError> {
        let answer: BasicTokenIntrospectionResponse = serde_json::from_value(answer).unwrap();
        let now = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        issued_to(&answer, US, ISSUER, now)
    }

    fn refused(result: Result<Option<String>, OAuthError>) -> bool {
        matches!(result, Err(OAuthError::Rejected(_)))
    }

    // Shapes as in RFC 7662 section 2.2 and the answers of Keycloak and Okta.
    #[test]
    fn an_introspected_token_must_be_active_and_issued_to_us() {
        let ours = check(serde_json::json!({
            "active": true, "client_id": US, "sub": "u1", "scope": "openid email",
            "token_type": "Bearer", "exp": 1_800_000_600, "iss": ISSUER, "aud": "account"
        }));
        assert_eq!(ours.unwrap().as_deref(), Some("u1"));
        let aud_only = check(serde_json::json!({"active": true, "aud": ["api", US], "sub": "u1"}));
        assert_eq!(aud_only.unwrap().as_deref(), Some("u1"));

        assert!(refused(check(serde_json::json!({"active": false}))));
        assert!(
            refused(check(serde_json::json!({"active": true}))),
            "names no client"
        );
        assert!(refused(check(
            serde_json::json!({"active": true, "client_id": "evil-third-party-app", "aud": US})
        )));
        assert!(refused(check(
            serde_json::json!({"active": true, "aud": "other"})
        )));
        assert!(refused(check(
            serde_json::json!({"active": true, "client_id": US, "exp": 1_799_999_999})
        )));
        assert!(refused(check(
            serde_json::json!({"active": true, "client_id": US, "iss": "https://evil"})
        )));
    }

    // Shape as documented for https://oauth2.googleapis.com/tokeninfo.
    #[test]
    fn a_google_token_must_have_been_issued_to_our_client() {
        let info = |aud: &str, azp: &str| -> GoogleTokenInfo {
            serde_json::from_value(serde_json::json!({
                "azp": azp, "aud": aud, "sub": "110169484474386276334",
                "scope": "openid https://www.googleapis.com/auth/userinfo.email",
                "exp": "1650056632", "expires_in": "3488",
                "email": "user@example.com", "email_verified": "true", "access_type": "online"
            }))
            .unwrap()
        };
        assert_eq!(
            google_issued_to(&info(US, US), US).unwrap(),
            "110169484474386276334"
        );
        assert!(google_issued_to(&info("other.apps.googleusercontent.com", US), US).is_err());
        assert!(google_issued_to(&info(US, "other.apps.googleusercontent.com"), US).is_err());
        let no_sub: GoogleTokenInfo =
            serde_json::from_value(serde_json::json!({"aud": US})).unwrap();
        assert!(google_issued_to(&no_sub, US).is_err());
    }
}
