//! Prometheus `/metrics`: the token, requests by route template, messages
//! stored and delivered, fan-out latency. The metrics recorder is one per
//! process, so the counting tests run a server process of their own (the
//! API tests share theirs): the counts are exact, not "at least".

use serde_json::json;

use crate::helpers::TestApp;
use crate::processes::{free_port, server_process, Backend, ServerProcess};
use crate::two_processes::{connect, register};

pub(crate) const METRICS_TOKEN: &str = "metrics-token-0123456789";

/// A server process of the test's own, SQLite, with the metrics token.
async fn own_process(data: &std::path::Path, extra: &[(&str, &str)]) -> ServerProcess {
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let mut vars = vec![("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN)];
    vars.extend_from_slice(extra);
    server_process(free_port(), backend, data, &vars).await
}

pub(crate) async fn scrape(client: &reqwest::Client, address: &str) -> String {
    let response = client
        .get(format!("{address}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels).
pub(crate) fn sample(text: &str, series: &str) -> f64 {
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
    let data = tempfile::tempdir().unwrap();
    let server = own_process(data.path(), &[("CHATSPHERE_RATE_LIMIT_API", "2/min")]).await;
    let client = reqwest::Client::new();
    let status = |path: &str| {
        let request = client.get(format!("{}{path}", server.address));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("/metrics").await, 401);
    let wrong = client
        .get(format!("{}/metrics", server.address))
        .bearer_auth("metrics-token-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let route = r#"chatsphere_http_requests_total{method="GET",route="/api/v1/users/{id}/presence",status="401"}"#;
    let limited = r#"chatsphere_rate_limited_total{budget="api"}"#;
    let before = scrape(&client, &server.address).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(status(&format!("/api/v1/users/{}/presence", uuid::Uuid::now_v7())).await);
    }
    assert_eq!(statuses, [401, 401, 429], "a budget of two a minute");
    let after = scrape(&client, &server.address).await;
    assert_eq!(
        sample(&after, route) - sample(&before, route),
        2.0,
        "{route}: {} -> {}",
        sample(&before, route),
        sample(&after, route)
    );
    assert_eq!(sample(&after, limited) - sample(&before, limited), 1.0);
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
    let data = tempfile::tempdir().unwrap();
    let server = own_process(data.path(), &[]).await;
    let client = reqwest::Client::new();
    let (_, ann) = register(&client, &server.address, "ann").await;
    let (ben_id, ben) = register(&client, &server.address, "ben").await;
    let dm: serde_json::Value = client
        .post(format!("{}/api/v1/conversations/direct", server.address))
        .bearer_auth(&ann)
        .json(&json!({"user_id": ben_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dm = dm["id"].as_str().unwrap().to_owned();
    let mut socket = connect(&server.address, &ben).await;
    let before = scrape(&client, &server.address).await;
    let sent = client
        .post(format!(
            "{}/api/v1/conversations/{dm}/messages",
            server.address
        ))
        .bearer_auth(&ann)
        .json(&json!({"client_msg_id": "m1", "body": "counted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    crate::ws::next_of(&mut socket, "message").await;
    let after = scrape(&client, &server.address).await;
    for series in [
        "chatsphere_messages_stored_total",
        "chatsphere_messages_delivered_total",
        "chatsphere_fanout_seconds_count",
    ] {
        assert_eq!(
            sample(&after, series) - sample(&before, series),
            1.0,
            "{series}: one message, one member connected: {} -> {}",
            sample(&before, series),
            sample(&after, series)
        );
    }
    assert_eq!(sample(&after, "chatsphere_ws_connections"), 1.0);
}
