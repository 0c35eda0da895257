//! The service worker at `/sw.js`. Its own response's policy governs what
//! the worker may do, so it gets one that lets it fetch this origin (and
//! nothing else) instead of the "runs nothing" default of other files; it
//! is revalidated on every use, so a new version takes over at once.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use app::state::AppState;

/// The worker's source (`public/sw.js`, also copied into the site).
const SCRIPT: &str = include_str!("../../../public/sw.js");

/// What the worker may reach.
pub const WORKER_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `/sw.js`.
pub fn router() -> Router<AppState> {
    Router::new().route("/sw.js", get(service_worker))
}

async fn service_worker() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, WORKER_POLICY),
        ],
        SCRIPT,
    )
}
