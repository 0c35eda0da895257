//! Every failure as `application/problem+json`: the request id is known to
//! every error built while the request runs ([`current_request_id`]), a
//! panicking handler answers 500 like any other internal error, and the
//! plain-text errors of lower layers (timeout, body too large …) on API
//! paths and server functions' paths are rewritten as problems.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::error::ApiError;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// Paths whose errors are always problems (pages keep their HTML errors;
/// server functions: see [`is_plain_rpc_error`]).
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || matches!(path, "/ws" | "/health" | "/ready" | "/metrics")
}

/// Runs the rest of the stack with the request id in scope and turns a
/// panic or a bare error into a problem.
pub async fn problems(request: Request, next: Next) -> Response {
    let id: Arc<str> = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .into();
    let path = request.uri().path();
    let api = is_api_path(path);
    let rpc = path.starts_with("/rpc/");
    // A plain form post is not answered with JSON to show as a page.
    let page = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let run = AssertUnwindSafe(next.run(request)).catch_unwind();
    let response = match REQUEST_ID.scope(id.clone(), run).await {
        Ok(response) => response,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(not a string)");
            // The panic's message is logged, never sent.
            let cause = format!("handler panicked: {message}");
            return REQUEST_ID.sync_scope(id, || ApiError::internal(&cause).into_response());
        }
    };
    if (api && is_bare_error(&response)) || (rpc && is_plain_rpc_error(&response) && !page) {
        return REQUEST_ID.sync_scope(id, || as_problem(response));
    }
    response
}

fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    // 101 (upgrade) and successes pass; errors that are already problems
    // or JSON pass too.
    (status.is_client_error() || status.is_server_error())
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/problem+json"))
}

/// A server function's failure from a lower layer (a wrong method, a body
/// too large): empty or plain text. Its own errors carry
/// their encoding, which its caller decodes (`middleware::rpc` gives them
/// their status), and the page a refused plain form gets is HTML: both
/// stay as they are.
fn is_plain_rpc_error(response: &Response) -> bool {
    let status = response.status();
    (status.is_client_error() || status.is_server_error())
        && !response
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.starts_with("text/plain"))
}

/// Headers that describe a response's body (its representation, RFC 9110
/// §8) rather than the response: they belong to the body they came with and
/// must never be carried onto another one. A compressed plain-text error with
/// its `Content-Encoding: gzip` replaced by an uncompressed problem would be
/// undecodable.
static REPRESENTATION_HEADERS: [header::HeaderName; 11] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
    header::CONTENT_RANGE,
    header::CONTENT_DISPOSITION,
    header::ETAG,
    header::LAST_MODIFIED,
    header::ACCEPT_RANGES,
    header::TRANSFER_ENCODING,
];

/// Whether `name` describes the body (see [`REPRESENTATION_HEADERS`]);
/// digests of the body (`Content-Digest`, `Repr-Digest`, `Digest`) too.
fn describes_the_body(name: &header::HeaderName) -> bool {
    REPRESENTATION_HEADERS.contains(name)
        || matches!(name.as_str(), "content-digest" | "repr-digest" | "digest")
}

/// The same status and headers about the response (`Retry-After`, `Allow`,
/// rate limits …) with a problem body; the old body's own headers are dropped.
fn as_problem(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let status = parts.status;
    let detail = match status {
        StatusCode::REQUEST_TIMEOUT => "the request took too long".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".to_owned(),
        other => other
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    };
    let mut problem = if status.is_server_error() {
        ApiError::internal(&format!("a lower layer answered {status}"))
    } else {
        ApiError::from_status(status, detail)
    }
    .into_response();
    let headers = problem.headers_mut();
    for name in parts
        .headers
        .keys()
        .filter(|name| !describes_the_body(name))
    {
        // Every value of the layer's header wins over the problem's own.
        headers.remove(name);
        for value in parts.headers.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_rewritten_error_keeps_the_response_headers_and_drops_the_old_body_headers() {
        let mut bare = (
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string",
        )
            .into_response();
        let headers = bare.headers_mut();
        for (name, value) in [
            ("content-encoding", "gzip"),
            ("content-length", "37"),
            ("etag", "\"abc\""),
            ("content-digest", "sha-256=:x:"),
            ("retry-after", "7"),
            ("vary", "accept-encoding"),
            ("ratelimit-remaining", "3"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers.append("vary", HeaderValue::from_static("origin"));
        let problem = as_problem(bare);
        let headers = problem.headers();
        assert_eq!(headers["content-type"], "application/problem+json");
        for gone in [
            "content-encoding",
            "content-length",
            "etag",
            "content-digest",
        ] {
            assert!(headers.get(gone).is_none(), "{gone} described the old body");
        }
        assert_eq!(headers["retry-after"], "7");
        assert_eq!(headers["ratelimit-remaining"], "3");
        let vary: Vec<_> = headers.get_all("vary").iter().collect();
        assert_eq!(vary, ["accept-encoding", "origin"]);
    }
}
