//! Server-side state handed to pages and server functions (`ssr` only).

use axum::extract::FromRef;
use leptos::prelude::*;
use services::Services;

use crate::AppError;

/// The client's address as the server's middleware resolved it (the socket
/// peer, or `X-Forwarded-For` from a trusted proxy), in each request's
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The router's state: Leptos' options and the service layer. leptos_axum
/// provides it as context to every page render and server function.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Site root, output name, address: what Leptos needs to render and serve.
    pub leptos_options: LeptosOptions,
    /// The service layer shared with the REST API and the WebSocket gateway.
    pub services: Services,
    /// Whether sign-in cookies are `Secure` and `__Host-` prefixed (HTTPS).
    pub secure_cookies: bool,
}

/// The services, from the context of the current request.
pub fn services() -> Result<Services, AppError> {
    use_context::<AppState>()
        .map(|state| state.services)
        .ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })
}

/// Whether this server's cookies are `Secure` and `__Host-` prefixed
/// (HTTPS), from the request's state.
pub fn secure_cookies() -> bool {
    use_context::<AppState>().is_some_and(|s| s.secure_cookies)
}

/// The value of the current request's cookie `name` (the first one).
pub fn request_cookie(name: &str) -> Option<String> {
    header_cookie(&use_context::<axum::http::request::Parts>()?.headers, name)
}

/// The raw value of cookie `name` (the first one) in these request headers.
pub fn header_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    use axum::http::header::COOKIE;
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_owned())
}
