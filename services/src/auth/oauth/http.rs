//! Calls to a provider's JSON endpoints, and what their statuses mean here.
//!
//! A provider refusing *the user's token* is [`OAuthError::Rejected`] (the
//! caller's fault: 401); a provider refusing *our client credentials* is
//! [`OAuthError::Misconfigured`]; anything else that is not a 2xx with JSON
//! is [`OAuthError::Unreachable`] (both 502).

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::OAuthError;

/// GETs JSON, with a bearer token if given: 401/403 mean the token was
/// refused.
pub(super) async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<T, OAuthError> {
    let mut request = http.get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    send_json(
        request,
        &format!("GET {url}"),
        &[StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN],
    )
    .await
}

/// Sends `request` (described by `what` in errors) and reads its JSON
/// answer. The statuses in `refusals` mean the user's token was refused;
/// 401/403 otherwise mean our client credentials were.
pub(super) async fn send_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    what: &str,
    refusals: &[StatusCode],
) -> Result<T, OAuthError> {
    let response = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| OAuthError::Unreachable(format!("{what}: {e}")))?;
    let status = response.status();
    if refusals.contains(&status) {
        return Err(OAuthError::Rejected(format!("{what}: {status}")));
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return Err(OAuthError::Misconfigured(format!(
            "{what}: {status}: the provider refused this server's client credentials"
        )));
    }
    if !status.is_success() {
        return Err(OAuthError::Unreachable(format!("{what}: {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| OAuthError::Unreachable(format!("{what}: unreadable answer: {e}")))
}
