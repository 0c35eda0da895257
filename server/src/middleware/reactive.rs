//! Each request under a fresh root reactive owner.
//!
//! Leptos gives a server function call a reactive owner made with
//! `Owner::new()`: a child of the thread's *current* owner. A page render
//! (`Owner::new_root`) leaves its own root current on the thread it started
//! on, so a server function starting there while that render is alive became
//! its child: it saw the page's contexts it did not provide itself (the
//! page's CSP nonce, which then went out on the function's response) and
//! shared its reactive arena. Under a root of its own it sees only its own.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use leptos::reactive::computed::ScopedFuture;
use leptos::reactive::owner::Owner;

/// Runs the rest of the stack with a new root owner as the current one
/// (dropped with the request).
pub async fn isolate(request: Request, next: Next) -> Response {
    let root = Owner::new_root(None);
    root.with(|| ScopedFuture::new_untracked(next.run(request)))
        .await
}
