//! Prometheus `/metrics`: the token, requests by route template, messages
//! stored and delivered, fan-out latency.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{user, TestApp};

const METRICS_TOKEN: &str = "metrics-token-0123456789";

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_count_requests_by_route() {
    let closed = TestApp::spawn().await;
    assert_eq!(
        closed.get("/metrics").await.status(),
        404,
        "off without a token"
    );
    let app = TestApp::spawn_configured(&[
        ("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN),
        ("CHATSPHERE_RATE_LIMIT_API", "2/min"),
    ])
    .await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth("metrics-token-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let route = r#"chatsphere_http_requests_total{method="GET",route="/api/v1/users/{id}/presence",status="401"}"#;
    let limited = r#"chatsphere_rate_limited_total{budget="api"}"#;
    let before = scrape(&app).await;
    for _ in 0..3 {
        app.get(&format!("/api/v1/users/{}/presence", uuid::Uuid::now_v7()))
            .await;
    }
    let after = scrape(&app).await;
    // Other tests in this process count too: at least ours.
    assert!(
        sample(&after, route) - sample(&before, route) >= 2.0,
        "{route}: {} -> {}",
        sample(&before, route),
        sample(&after, route)
    );
    assert!(sample(&after, limited) - sample(&before, limited) >= 1.0);
    for family in [
        "chatsphere_http_request_duration_seconds_bucket",
        "chatsphere_ws_connections",
        "chatsphere_database_up 1",
        "chatsphere_database_pool_connections",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
    ] {
        assert!(after.contains(family), "{family} missing");
    }
    assert!(
        !after.contains("/api/v1/users/0"),
        "labels are templates, not paths"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_messages_stored_and_delivered_and_their_fan_out() {
    use crate::ws::{connect, next_of, open_dm};
    let app = TestApp::spawn_configured(&[("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN)]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut socket = connect(&app, &ben).await;
    let before = scrape(&app).await;
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/messages"),
            Some(&json!({"client_msg_id": "m1", "body": "counted"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    next_of(&mut socket, "message").await;
    let after = scrape(&app).await;
    for series in [
        "chatsphere_messages_stored_total",
        "chatsphere_messages_delivered_total",
        "chatsphere_fanout_seconds_count",
    ] {
        assert!(
            sample(&after, series) - sample(&before, series) >= 1.0,
            "{series}: {} -> {}",
            sample(&before, series),
            sample(&after, series)
        );
    }
    assert!(sample(&after, "chatsphere_ws_connections") >= 1.0);
}
