//! `GET /health`: whether this process and its services work, in the spec's
//! shape (status, version, database, redis, active connections).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use services::bus::BusKind;
use utoipa::ToSchema;

use app::state::AppState;

/// How long each dependency may take to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `healthy` when every configured dependency answers, else `unhealthy`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// `connected` or `disconnected`.
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub database_backend: &'static str,
    /// `connected`, `disconnected`, or `not_configured` (in-process fan-out).
    pub redis: &'static str,
    /// Live WebSocket connections on this process.
    pub active_connections: usize,
}

/// Reports health; 503 when a configured dependency does not answer.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers", body = Health),
        (status = 503, description = "A dependency does not answer", body = Health),
    )
)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let services = &state.services;
    let (database, bus) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, services.store.ping()),
        tokio::time::timeout(CHECK_TIMEOUT, services.bus.ping()),
    );
    let database_ok = matches!(database, Ok(Ok(())));
    let redis = match (services.bus.kind(), bus) {
        (BusKind::InProcess, _) => "not_configured",
        (BusKind::Redis, Ok(Ok(()))) => "connected",
        (BusKind::Redis, _) => "disconnected",
    };
    let healthy = database_ok && redis != "disconnected";
    let report = Health {
        status: if healthy { "healthy" } else { "unhealthy" },
        version: env!("CARGO_PKG_VERSION"),
        database: if database_ok {
            "connected"
        } else {
            "disconnected"
        },
        database_backend: services.store.backend().as_str(),
        redis,
        active_connections: services.connections.active(),
    };
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report))
}

/// The readiness report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or why not: `database_unreachable`, `shutting_down`.
    pub status: &'static str,
}

/// Whether this process should get traffic: 503 while the database does
/// not answer or once shutdown has begun (load balancers then move on).
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Readiness),
        (status = 503, description = "Not ready: database unreachable or shutting down", body = Readiness),
    )
)]
pub async fn ready(
    State(state): State<AppState>,
    axum::Extension(shutdown): axum::Extension<tokio_util::sync::CancellationToken>,
) -> (StatusCode, Json<Readiness>) {
    let status = if shutdown.is_cancelled() {
        "shutting_down"
    } else if !matches!(
        tokio::time::timeout(CHECK_TIMEOUT, state.services.store.ping()).await,
        Ok(Ok(()))
    ) {
        "database_unreachable"
    } else {
        "ready"
    };
    let code = if status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(Readiness { status }))
}
