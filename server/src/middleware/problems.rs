//! Every failure as `application/problem+json`: the request id is known to
//! every error built while the request runs ([`current_request_id`]), a
//! panicking handler answers 500 like any other internal error, and the
//! plain-text errors of lower layers (timeout, body too large …) on API
//! paths are rewritten as problems.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
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

/// Paths whose errors are always problems (pages keep their HTML errors).
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
    let api = is_api_path(request.uri().path());
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
    if api && is_bare_error(&response) {
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

/// The same status and headers (`Retry-After`, `Allow` …) with a problem body.
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
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    problem
}
