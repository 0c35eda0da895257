//! Server functions (`/rpc/*`) answer a refusal with the status the REST API
//! gives the same refusal (400, 401, 403, 404, 409, 422, 429, 502), not the
//! 500 Leptos gives every error: a caller, a proxy or a log can tell a bad
//! request from a server failure. The body stays the encoded [`AppError`],
//! which the browser decodes whatever the status.

use app::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// An encoded `AppError` is a short JSON document; anything longer is left alone.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Sets the status of a failed server function's response from its error.
pub async fn statuses(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status()).unwrap_or(parts.status);
        if let Some(seconds) = err.retry_after() {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
