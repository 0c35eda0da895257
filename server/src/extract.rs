//! Request extractors shared by the REST handlers: the signed-in user, JSON
//! bodies with problem+json rejections, and the client's description.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum_extra::extract::cookie::CookieJar;
use domain::integrations::{Scopes, TokenScope};
use services::auth::{Authenticated, ClientInfo};

use crate::error::ApiError;
use app::state::AppState;

/// The token of an `Authorization: Bearer …` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The browser's HttpOnly access cookie, if any. It carries a session's
/// token only: a personal access token put there counts as none (it goes
/// in `Authorization: Bearer`), for the REST API, the socket and the
/// request budgets alike.
pub fn access_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let (name, _) = app::auth::ssr::cookie_names(secure);
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_owned())
        .filter(|token| !services::auth::service::is_personal(token))
}

/// The user of a valid, non-revoked access token, from `Authorization:
/// Bearer` (API clients) or the HttpOnly access cookie (the browser).
/// Anything else is a 401 problem.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Authenticated);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .or_else(|| access_cookie(&parts.headers, state.secure_cookies))
            .ok_or_else(|| {
                ApiError::unauthorized("an access token is required (Authorization: Bearer …)")
            })?;
        let auth = state.services.auth.authenticate(&token).await?;
        if auth.personal {
            let path = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| parts.uri.path(), |uri| uri.0.path());
            token_may(&parts.method, path, auth.scopes).map_err(ApiError::forbidden)?;
        }
        Ok(Self(auth))
    }
}

/// Whether a personal access token with `scopes` may make this request:
/// the one rule of what each scope allows. Reading (`GET`, `HEAD`) needs
/// `read`; anything else `post`; the admin routes need `admin`. Sessions,
/// password, sign-out, push devices and making or changing webhooks belong
/// to a signed-in session: no token may use them (nor create tokens or
/// bots: the services refuse).
pub fn token_may(method: &Method, path: &str, scopes: Scopes) -> Result<(), &'static str> {
    use domain::messages::{
        TOKEN_LACKS_ADMIN, TOKEN_NEEDS_SESSION, TOKEN_READ_ONLY, TOKEN_WRITE_ONLY,
    };
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let reading = matches!(*method, Method::GET | Method::HEAD);
    // Webhook addresses outlive any token: only people signed in make,
    // rotate or delete them.
    let webhooks = !reading && (path.starts_with("/webhooks/") || path.ends_with("/webhooks"));
    let session_only = (path.starts_with("/auth/") && !(reading && path == "/auth/me"))
        || path.starts_with("/notifications/devices")
        || webhooks;
    if session_only {
        return Err(TOKEN_NEEDS_SESSION);
    }
    if path.starts_with("/admin/") {
        return if scopes.allows(TokenScope::Admin) {
            Ok(())
        } else {
            Err(TOKEN_LACKS_ADMIN)
        };
    }
    match (
        reading,
        scopes.allows(TokenScope::Read),
        scopes.allows(TokenScope::Post),
    ) {
        (true, true, _) | (false, _, true) => Ok(()),
        (true, false, _) => Err(TOKEN_WRITE_ONLY),
        (false, _, false) => Err(TOKEN_READ_ONLY),
    }
}

/// A JSON body; a malformed one is a 400/415/422 problem, never axum's plain text.
/// Every body of this API is an object (or `null` where optional): an array
/// is refused with 422, though serde would read one as a struct's fields in
/// order.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| from_rejection(rejection.status(), rejection.body_text()))?;
        let mut rebuilt = Request::new(axum::body::Body::from(bytes.clone()));
        *rebuilt.headers_mut() = headers;
        // Content type and syntax first (415, 400), as axum checks them.
        let axum::Json(value) = axum::Json::<T>::from_request(rebuilt, state).await?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::bad_request(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "Failed to deserialize the JSON body into the target type: expected a JSON object, not an array",
            ));
        }
        Ok(Self(value))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        from_rejection(rejection.status(), rejection.body_text())
    }
}

/// An optional JSON body: none at all (or only whitespace, or `null`) is
/// `T::default()`; anything else must be JSON like [`ApiJson`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| from_rejection(rejection.status(), rejection.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        let mut request = Request::new(axum::body::Body::from(bytes));
        *request.headers_mut() = headers;
        let ApiJson(value) = ApiJson::<Option<T>>::from_request(request, state).await?;
        Ok(Self(value.unwrap_or_default()))
    }
}

/// The largest integer every JSON reader holds exactly (2^53 − 1, I-JSON).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Reads an optional position (a sequence number) of a JSON body:
/// `0..=`[`MAX_SAFE_INTEGER`], counted as JSON Schema counts integers, so
/// `3` and `3.0` are the same number (serde alone refuses the second).
pub fn json_position<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    use serde::Deserialize;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    // Every float of magnitude up to 2^53 that has no fraction is exact.
    let exact = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64)
            .map(|f| f as i64)
    });
    match exact {
        Some(n) if (0..=MAX_SAFE_INTEGER).contains(&n) => Ok(Some(n)),
        _ => Err(D::Error::custom(format_args!(
            "{number}: expected an integer from 0 to {MAX_SAFE_INTEGER}"
        ))),
    }
}

/// Path parameters; one that does not parse (a malformed id) is a 400
/// problem saying which, never axum's plain text.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        from_rejection(rejection.status(), rejection.body_text())
    }
}

/// A query string; a parameter that does not parse or breaks its type's
/// rule (a limit out of range) is a 400 problem saying which.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        from_rejection(rejection.status(), rejection.body_text())
    }
}

/// A client error of an extractor as a problem with axum's explanation; a
/// server error (a route without the parameter it reads) stays internal.
fn from_rejection(status: axum::http::StatusCode, text: String) -> ApiError {
    if status.is_server_error() {
        ApiError::internal(&text)
    } else {
        ApiError::bad_request(status, text)
    }
}

/// What the client says about itself, for the session list.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_info(parts)))
    }
}

/// The client's user agent and address (from a trusted proxy's
/// `X-Forwarded-For` when there is one, see [`crate::middleware::client`]).
pub fn client_info(parts: &Parts) -> ClientInfo {
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip_address = parts
        .extensions
        .get::<crate::middleware::ClientIp>()
        .map(|ip| ip.0)
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        })
        .map(|ip| ip.to_string());
    ClientInfo {
        user_agent,
        ip_address,
        // Only sign-in reads the known-device cookie (routes::auth).
        device_token: None,
    }
}
