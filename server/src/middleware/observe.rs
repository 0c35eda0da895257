//! One structured log line and the HTTP metrics per request.
//!
//! The trace layer opens a span per request (method, request id, and the
//! route template and user id once known); when the response is ready it
//! writes one `request` event inside that span (status, latency) and counts
//! the request. Route templates (`/api/v1/conversations/{id}`), never raw
//! paths or query strings, so neither logs nor metric labels carry ids or
//! tokens, and metric labels stay few.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

/// What the router knew about a request, left on its response for the log
/// line and the metrics.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// The template that matched; `None` for the static-file fallback.
    pub route: Option<MatchedPath>,
    /// The request's method.
    pub method: Method,
}

/// The route template already recorded in the request's span.
#[derive(Clone)]
struct RecordedRoute(MatchedPath);

/// The request id header.
const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a client (ours are 36-character UUIDs).
pub const MAX_CLIENT_REQUEST_ID: usize = 64;

/// Removes a client's `X-Request-Id` that is longer than
/// [`MAX_CLIENT_REQUEST_ID`] or holds anything but ASCII letters, digits,
/// `-`, `_`, `.` and `:` (UUIDs, nginx's hex ids, trace ids): it would be on
/// every log line of the request and in every problem. The next layer then
/// generates one.
pub fn drop_unfit_request_id<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let fit = |value: &axum::http::HeaderValue| {
        value.len() <= MAX_CLIENT_REQUEST_ID
            && value
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    let headers = request.headers_mut();
    if !headers
        .get_all(REQUEST_ID)
        .iter()
        .all(|v| !v.is_empty() && fit(v))
    {
        headers.remove(REQUEST_ID);
    }
    request
}

/// The span of a request: its fields are on every line logged within it.
pub fn span(request: &Request) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = method_label(request.method()),
        route = tracing::field::Empty,
        request_id = %id,
        user_id = tracing::field::Empty,
    )
}

/// A route layer: records the matched template. Nested routers run it
/// again with the complete template, which then wins.
pub async fn record_route(
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    if let Some(route) = &matched {
        // The text formatter appends a field recorded twice (`route=… route=…`):
        // record a template only when it differs from the one recorded.
        let recorded = request.extensions().get::<RecordedRoute>();
        if recorded.is_none_or(|r| r.0.as_str() != route.as_str()) {
            Span::current().record("route", route.as_str());
            request
                .extensions_mut()
                .insert(RecordedRoute(route.clone()));
        }
    }
    let mut response = next.run(request).await;
    let inner_knew = response
        .extensions()
        .get::<RouteInfo>()
        .is_some_and(|info| info.route.is_some());
    if !inner_knew {
        response.extensions_mut().insert(RouteInfo {
            route: matched,
            method,
        });
    }
    response
}

/// The request's line and metrics, when its response is ready.
pub fn on_response(response: &Response, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let info = response.extensions().get::<RouteInfo>();
    let route = info
        .and_then(|i| i.route.as_ref())
        .map_or("static", MatchedPath::as_str);
    tracing::info!(
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    let method = info.map_or("OTHER", |i| method_label(&i.method));
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("chatsphere_http_requests_total", &labels).increment(1);
    metrics::histogram!("chatsphere_http_request_duration_seconds", &labels[..2])
        .record(latency.as_secs_f64());
}

/// A bounded set of method labels.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(id: &str) -> axum::http::Request<()> {
        axum::http::Request::builder()
            .header(REQUEST_ID, id)
            .body(())
            .unwrap()
    }

    #[test]
    fn only_short_plain_client_request_ids_are_kept() {
        for kept in [
            "panic-req-1",
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "a.b_c",
        ] {
            let request = drop_unfit_request_id(with_id(kept));
            assert_eq!(request.headers()[REQUEST_ID], kept);
        }
        for dropped in [
            "x".repeat(MAX_CLIENT_REQUEST_ID + 1),
            "id with spaces".to_owned(),
            "id\ttab".to_owned(),
            "quote\"d".to_owned(),
        ] {
            let request = drop_unfit_request_id(with_id(&dropped));
            assert!(request.headers().get(REQUEST_ID).is_none(), "{dropped:?}");
        }
        let mut two = with_id("fine");
        two.headers_mut()
            .append(REQUEST_ID, "not fine".parse().unwrap());
        assert!(drop_unfit_request_id(two)
            .headers()
            .get(REQUEST_ID)
            .is_none());
    }
}
