//! `/health`, request ids and graceful shutdown.

use serde_json::Value;

use crate::helpers::{media_type, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_configured_database_and_redis() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(media_type(&response), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"], "connected");
    if crate::helpers::on_postgres_and_redis() {
        assert_eq!(body["database_backend"], "postgres");
        assert_eq!(body["redis"], "connected");
    } else {
        assert_eq!(body["database_backend"], "sqlite");
        assert_eq!(body["redis"], "not_configured");
    }
    assert_eq!(body["active_connections"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_and_keeps_a_given_one() {
    let app = TestApp::spawn().await;
    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    let echoed = app
        .client
        .get(format!("{}/api/v1/rooms", app.address))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_stops_the_server_and_frees_the_port() {
    let app = TestApp::spawn().await;
    let address = app.address.clone();
    assert_eq!(app.get("/health").await.status(), 200);
    app.shutdown().await.expect("clean stop");
    let after = reqwest::Client::new()
        .get(format!("{address}/health"))
        .send()
        .await;
    assert!(after.is_err(), "nothing listens after shutdown");
}
