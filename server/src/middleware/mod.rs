//! The tower stack around every route, in one place. Outermost first (a
//! request passes down the list, its response back up):
//!
//! 1. **request id** — `X-Request-Id` taken from the request or generated
//!    (UUID), so every log line of the request can carry it;
//! 2. **trace** — one span per request: method, path (never the query
//!    string, which may carry a token) and request id;
//! 3. **request id echo** — the id returned in the response;
//! 4. **security headers** — on every response, pages, API, static files
//!    and errors alike (see [`security_headers`]);
//! 5. **compression** — gzip/brotli for HTML, JS, CSS, WASM and JSON;
//! 6. **timeout** — 30 s per request (WebSocket upgrades return at once).
//!
//! Still to come (issue 7): rate limits, a full Content-Security-Policy
//! with per-response nonces, CORS, metrics.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How long a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Wraps `router` in the stack above. `https`: the public URL is https, so
/// browsers are told to stay on HTTPS (HSTS).
pub fn apply(router: Router, https: bool) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings may carry tokens and never reach the logs.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id));
    let mut router = router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CompressionLayer::new());
    for (name, value) in security_headers(https) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router.layer(stack)
}

/// The headers every response carries (a handler may set its own instead):
/// no MIME sniffing, no framing by other sites, referrers only to this
/// origin in full, no camera/microphone/location/payment APIs, a browsing
/// context of our own (COOP), and HSTS over HTTPS.
pub fn security_headers(https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ),
        (
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ),
        (
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("frame-ancestors 'none'"),
        ),
        (
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if https {
        headers.push((
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}
