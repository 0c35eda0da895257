//! Request extractors shared by the REST handlers: the signed-in user, JSON
//! bodies with problem+json rejections, and the client's description.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum_extra::extract::cookie::CookieJar;
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

/// The browser's HttpOnly access cookie, if any.
pub fn access_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let (name, _) = app::auth::ssr::cookie_names(secure);
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_owned())
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
        Ok(Self(state.services.auth.authenticate(&token).await?))
    }
}

/// A JSON body; a malformed one is a 400/415/422 problem, never axum's plain text.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::bad_request(rejection.status(), rejection.body_text())
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
