//! HTTP routes outside the Leptos pages: health, the public REST API, and
//! the browser's redirects to and from identity providers.

pub mod admin;
pub mod auth;
pub mod conversations;
pub mod export;
pub mod files;
pub mod health;
pub mod integrations;
pub mod message_changes;
pub mod messages;
pub mod notifications;
pub mod oauth_browser;
pub mod params;
pub mod pwa;
pub mod receipts;
pub mod rooms;
pub mod search;

use axum::routing::get;
use axum::Router;

use crate::error::{api_method_not_allowed, api_not_found};
use crate::openapi;
use app::state::AppState;

/// The public REST API, mounted at `/api/v1`, with its description.
pub fn api_v1(document: openapi::Document) -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(auth::router())
        .merge(rooms::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(message_changes::router())
        .merge(receipts::router())
        .merge(search::router())
        .merge(files::router())
        .merge(notifications::router())
        .merge(integrations::router())
        .merge(export::router())
        .route(
            "/openapi.json",
            get(openapi::serve).layer(axum::Extension(document)),
        )
        .route_layer(axum::middleware::from_fn(
            crate::middleware::observe::record_route,
        ))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
}
