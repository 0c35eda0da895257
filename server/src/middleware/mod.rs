//! The tower stack around every route, in one place. Outermost first (a
//! request passes down the list, its response back up):
//!
//! 1. **request id** — `X-Request-Id` taken from the request (when it is
//!    short and plain, [`observe::drop_unfit_request_id`]) or generated
//!    (UUID), so every log line of the request can carry it;
//! 2. **trace** — one span per request and one `request` line when it is
//!    answered, with the HTTP metrics ([`observe`]); never the query string;
//! 3. **request id echo** — the id returned in the response;
//! 4. **security headers** — on every response, pages, API, static files
//!    and errors alike (see [`security_headers`]; pages add their CSP with a
//!    nonce, [`page_policy`]);
//! 5. **cache control** — `private, no-store` on every response that is
//!    personal: the request carried credentials or the response sets the
//!    session cookies; static files excepted ([`cache`]);
//! 6. **problems** — the request id known to every error; a panic becomes a
//!    500 problem; plain-text errors of the layers below become problems on
//!    API paths, and on server functions' paths for callers other than a
//!    plain form ([`problems`]);
//! 7. **CORS** — the allowed origins only, with credentials ([`cors`]);
//! 8. **cross-site guard** — a state-changing server function call, or a
//!    state-changing request authenticated by the session cookie, must come
//!    from an allowed origin (`Origin`, else `Sec-Fetch-Site: same-origin`);
//!    403 otherwise, before anything runs ([`csrf`]);
//! 9. **client address** — the socket peer, or `X-Forwarded-For` from a
//!    trusted proxy ([`client`]);
//! 10. **rate limits** — per user or address, auth and API budgets, shared
//!     through Redis when configured ([`limits`]);
//! 11. **body limit** — requests larger than the limit are refused (413);
//! 12. **compression** — gzip/brotli for HTML, JS, CSS, WASM and JSON;
//! 13. **timeout** — 30 s per request (WebSocket upgrades return at once);
//! 14. **reactive owner** — a fresh root reactive owner per request, so a
//!     server function never inherits a concurrent page render's context
//!     ([`reactive`]);
//! 15. **server function statuses** — a failed server function answers
//!     with the REST API's status for the same refusal, not 500 ([`rpc`]).
//!
//! Route layers inside the router record the matched route template.

pub mod cache;
pub mod client;
pub mod csrf;
pub mod limits;
pub mod observe;
pub mod problems;
pub mod reactive;
pub mod rpc;

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::Router;
use tower::util::MapRequestLayer;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use client::{ClientIp, TrustedProxies};
pub use csrf::AllowedOrigins;
pub use limits::RateLimits;
pub use problems::current_request_id;

/// How long a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an upload may take (25 MiB over 1 Mbit/s takes 3.5 minutes).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Answers 408 when a request takes longer than [`REQUEST_TIMEOUT`] (an
/// upload: [`UPLOAD_TIMEOUT`]); the problems layer words it.
async fn time_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if crate::routes::files::is_upload(request.method(), request.uri().path()) {
        UPLOAD_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// What the stack needs to know.
#[derive(Clone)]
pub struct Edge {
    /// The public URL is https: browsers are told to stay on HTTPS (HSTS).
    pub https: bool,
    /// Origins (`scheme://host[:port]`) allowed to call with credentials.
    pub allowed_origins: AllowedOrigins,
    /// Whether the session cookies are the `__Host-` ones (HTTPS).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Request budgets; `None` turns rate limiting off.
    pub rate_limits: Option<RateLimits>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest upload body accepted, in bytes (the service refuses a file
    /// over its limit itself, with its own message: this is a backstop).
    pub max_upload_body_bytes: usize,
    /// `GET /metrics` (its token and the recorder).
    pub metrics: crate::metrics::MetricsEndpoint,
}

/// Wraps `router` in the stack above.
pub fn apply(router: Router, edge: Edge) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let outer = ServiceBuilder::new()
        .layer(MapRequestLayer::new(observe::drop_unfit_request_id))
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(observe::span)
                .on_request(())
                .on_response(observe::on_response)
                // The `request` line already carries the status.
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(request_id));
    let body_limits = (edge.max_body_bytes, edge.max_upload_body_bytes);
    let mut router = router
        .layer(axum::middleware::from_fn(rpc::statuses))
        .layer(axum::middleware::from_fn(reactive::isolate))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(move |request, next| {
            limit_body(body_limits, request, next)
        }));
    if let Some(limits) = edge.rate_limits {
        router = router.layer(axum::middleware::from_fn(move |request, next| {
            limits::limit(limits.clone(), request, next)
        }));
    }
    let trusted = edge.trusted_proxies;
    let guard = csrf::CrossSiteGuard {
        origins: edge.allowed_origins.clone(),
        secure_cookies: edge.secure_cookies,
    };
    let secure = edge.secure_cookies;
    router = router
        .layer(axum::middleware::from_fn(move |request, next| {
            client::resolve(trusted.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(move |request, next| {
            csrf::refuse_cross_site(guard.clone(), request, next)
        }))
        .layer(cors(&edge.allowed_origins))
        .layer(axum::middleware::from_fn(problems::problems))
        .layer(axum::middleware::from_fn(move |request, next| {
            cache::no_store_when_personal(secure, request, next)
        }));
    for (name, value) in security_headers(edge.https) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router.layer(outer)
}

/// CORS for the allowed origins: credentials (cookies) included, so only
/// exact origins from the configuration; every other origin gets no CORS
/// headers and the browser keeps the response from its script.
pub fn cors(allowed_origins: &AllowedOrigins) -> CorsLayer {
    let origins = allowed_origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origins.allows(origin)
        }))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Refuses a request body larger than allowed: `(default, uploads)` bytes,
/// uploads being what [`crate::routes::files::is_upload`] says. A declared
/// length over it is refused at once (413); a body that turns out larger is
/// cut off there (extractors answer 413).
async fn limit_body(
    (default, uploads): (usize, usize),
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if crate::routes::files::is_upload(request.method(), request.uri().path()) {
        uploads
    } else {
        default
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The Content-Security-Policy of a rendered page: scripts from this origin
/// and the inline hydration scripts carrying this response's `nonce`,
/// WebAssembly compilation (`'wasm-unsafe-eval'`), no inline script
/// otherwise, styles and images from this origin, connections (fetch and
/// WebSocket) to this origin, no plugins, no framing, forms to this origin.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page policy on the response being rendered, with the nonce
/// Leptos puts on its inline scripts. Called in the context of every page
/// render; server functions and static files have no nonce and keep the
/// strict default.
pub fn provide_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
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
            // Anything but a page (API, static files, errors) runs nothing.
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    fn edge() -> Edge {
        Edge {
            https: false,
            allowed_origins: AllowedOrigins::default(),
            secure_cookies: false,
            trusted_proxies: TrustedProxies::default(),
            rate_limits: None,
            max_body_bytes: 1024,
            max_upload_body_bytes: 1024,
            metrics: crate::metrics::MetricsEndpoint::new(None),
        }
    }

    async fn body_json(response: axum::response::Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_problem_with_the_request_id() {
        async fn boom() -> &'static str {
            panic!("secret internal state 42")
        }
        let router = apply(Router::new().route("/api/v1/boom", get(boom)), edge());
        let response = router
            .oneshot(
                Request::get("/api/v1/boom")
                    .header("x-request-id", "panic-req-1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["x-request-id"], "panic-req-1");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = body_json(response).await;
        assert_eq!(body["status"], 500);
        assert_eq!(body["request_id"], "panic-req-1");
        assert!(
            !body.to_string().contains("secret internal state"),
            "no internals in the answer: {body}"
        );
    }

    #[tokio::test]
    async fn bare_errors_of_lower_layers_become_problems_on_api_paths_only() {
        async fn teapot() -> StatusCode {
            StatusCode::IM_A_TEAPOT
        }
        let router = apply(
            Router::new()
                .route("/api/v1/teapot", get(teapot))
                .route("/teapot", get(teapot)),
            edge(),
        );
        let api = router
            .clone()
            .oneshot(Request::get("/api/v1/teapot").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(api.headers()["content-type"], "application/problem+json");
        let id = api.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(body_json(api).await["request_id"], id.as_str());
        let page = router
            .oneshot(Request::get("/teapot").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(page.headers().get("content-type").is_none());
    }

    #[tokio::test]
    async fn an_oversized_or_odd_client_request_id_is_replaced_by_a_fresh_one() {
        async fn ok() -> &'static str {
            "ok"
        }
        let router = apply(Router::new().route("/api/v1/ok", get(ok)), edge());
        for unfit in ["x".repeat(10_000), "two words".to_owned()] {
            let response = router
                .clone()
                .oneshot(
                    Request::get("/api/v1/ok")
                        .header("x-request-id", unfit.as_str())
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let id = response.headers()["x-request-id"].to_str().unwrap();
            assert_eq!(
                id.len(),
                36,
                "a fresh UUID, not the client's {} bytes",
                unfit.len()
            );
        }
    }
}
