//! The ChatSphere server: configuration, the axum router with the REST API,
//! the Leptos pages and server functions, and the middleware around them.
//!
//! # Layout
//! - [`config`] — every setting, from the environment.
//! - [`telemetry`] — logging.
//! - [`startup`] — [`Application`] builds the state and router, binds, serves.
//! - [`routes`] — `/health` and the REST API under `/api/v1`.
//! - [`extract`] — extractors: the signed-in user, JSON bodies, client info.
//! - [`error`] — `application/problem+json` errors.
//! - [`middleware`] — the tower stack: limits, headers, CORS, logs, errors.
//! - [`metrics`] — Prometheus metrics at `/metrics`.
//! - [`openapi`] — the API description at `/api/v1/openapi.json`.
//! - [`ws`] — the WebSocket gateway at `/ws`.

pub mod assets;
pub mod config;
pub mod error;
pub mod extract;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod migrate_db;
pub mod notify;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod ws;

pub use config::Config;
pub use startup::Application;
