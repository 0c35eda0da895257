//! Prometheus metrics at `GET /metrics`, behind a bearer token
//! (`CHATSPHERE_METRICS_TOKEN`; without one the endpoint does not exist).
//!
//! Counters and histograms are recorded where things happen, through the
//! `metrics` facade (requests in [`crate::middleware::observe`], messages in
//! the services, WebSocket events in the gateway); gauges that are cheaper
//! to read than to track (connections, online users, dependencies' health,
//! process memory and CPU) are read when Prometheus scrapes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use app::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::bearer_token;

/// Latency buckets in seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How long a dependency may take to answer a scrape's health probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Installs the process-wide recorder (once; later calls return the same
/// handle). `None` if another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            metrics_process::Collector::default().describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "chatsphere_http_requests_total",
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        "chatsphere_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    describe_gauge!(
        "chatsphere_ws_connections",
        "Open WebSocket connections on this process"
    );
    describe_gauge!(
        "chatsphere_online_users",
        "Users with at least one connection on any process"
    );
    describe_counter!(
        "chatsphere_messages_stored_total",
        "Messages stored (rate() gives messages per second)"
    );
    describe_counter!(
        "chatsphere_messages_delivered_total",
        "Messages written to WebSocket connections on this process"
    );
    describe_histogram!(
        "chatsphere_fanout_seconds",
        Unit::Seconds,
        "From a message's publication to its write on a connection"
    );
    describe_counter!(
        "chatsphere_ws_queue_drops_total",
        "Frames dropped because a connection's outgoing queue was full"
    );
    describe_counter!(
        "chatsphere_ws_disconnects_total",
        "WebSocket connections closed by the server, by reason"
    );
    describe_counter!(
        "chatsphere_rate_limited_total",
        "Requests refused with 429, by budget"
    );
    describe_counter!(
        "chatsphere_rate_limiter_errors_total",
        "Requests let through because the rate limiter's store did not answer"
    );
    describe_gauge!(
        "chatsphere_database_up",
        "1 when the database answered the scrape's probe"
    );
    describe_gauge!(
        "chatsphere_redis_up",
        "1 when Redis answered the scrape's probe (absent without Redis)"
    );
    describe_gauge!(
        "chatsphere_database_pool_connections",
        "Database pool connections, by state (idle, in use)"
    );
}

/// What `GET /metrics` needs: the recorder's handle and the token.
#[derive(Clone)]
pub struct MetricsEndpoint {
    handle: Option<PrometheusHandle>,
    token_hash: Option<[u8; 32]>,
    process: Arc<metrics_process::Collector>,
}

impl MetricsEndpoint {
    /// The endpoint, open to holders of `token` (closed without one).
    pub fn new(token: Option<&SecretString>) -> Self {
        Self {
            handle: install(),
            token_hash: token.map(|t| hash(t.expose_secret())),
            process: Arc::new(metrics_process::Collector::default()),
        }
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `GET /metrics`: the Prometheus text format.
pub async fn serve(
    State(state): State<AppState>,
    Extension(endpoint): Extension<MetricsEndpoint>,
    headers: HeaderMap,
) -> Response {
    let (Some(expected), Some(handle)) = (endpoint.token_hash, &endpoint.handle) else {
        return ApiError::not_found("metrics are off: set CHATSPHERE_METRICS_TOKEN")
            .into_response();
    };
    // Hashes of equal length compared: no early exit that leaks the token.
    let given = bearer_token(&headers).map(|t| hash(&t));
    if given != Some(expected) {
        return ApiError::unauthorized(
            "a valid metrics token is required (Authorization: Bearer …)",
        )
        .into_response();
    }
    let services = &state.services;
    metrics::gauge!("chatsphere_ws_connections").set(services.connections.active() as f64);
    let (database, bus, online) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, services.store.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, services.bus.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, services.presence.online()),
    );
    metrics::gauge!("chatsphere_database_up")
        .set(f64::from(u8::from(matches!(database, Ok(Ok(()))))));
    if services.bus.kind() == services::bus::BusKind::Redis {
        metrics::gauge!("chatsphere_redis_up").set(f64::from(u8::from(matches!(bus, Ok(Ok(()))))));
    }
    if let Ok(Ok(online)) = online {
        metrics::gauge!("chatsphere_online_users").set(online.len() as f64);
    }
    let (size, idle) = services.store.pool_status();
    metrics::gauge!("chatsphere_database_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("chatsphere_database_pool_connections", "state" => "in_use")
        .set((size as usize).saturating_sub(idle) as f64);
    endpoint.process.collect();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
