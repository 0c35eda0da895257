//! The request log, read from a real server process's standard output:
//! one JSON line per request with method, route template, status, latency,
//! request id and user id, and never a token, password or query string.

use std::time::Duration;

use serde_json::{json, Value};

use crate::processes::{free_port, server_process_logging_to, Backend};

const SECRET: &str = "sup3r-s3cret-t0ken-in-the-query";
const PASSWORD: &str = "correct horse battery staple 7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_line_per_request_without_secrets() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let port = free_port();
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let vars = [("CHATSPHERE_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let server = server_process_logging_to(port, backend, data.path(), &vars, Some(&log)).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);

    let registered: Value = client
        .post(url("/api/v1/auth/register"))
        .json(&json!({"username": "logan", "email": "logan@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = registered["user"]["id"].as_str().unwrap().to_owned();
    let conversation = uuid::Uuid::now_v7();
    let response = client
        .get(url(&format!(
            "/api/v1/conversations/{conversation}/receipts?token={SECRET}&password={SECRET}"
        )))
        .bearer_auth(&token)
        .header("x-request-id", "log-test-request-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The spec's WebSocket form puts the token in the query string.
    let _ = client
        .get(url(&format!("/ws?token={SECRET}")))
        .send()
        .await
        .unwrap();

    // The WebSocket attempt is the last request: wait for its line.
    let text = log_with(&log, |text| {
        text.lines()
            .any(|l| l.contains("\"route\":\"/ws\"") && l.contains("\"message\":\"request\""))
    })
    .await;
    assert!(
        !text.contains(SECRET),
        "a query-string secret reached the log"
    );
    assert!(!text.contains(PASSWORD), "a password reached the log");
    assert!(!text.contains(&token), "an access token reached the log");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let ours: Vec<&&Value> = requests
        .iter()
        .filter(|l| l["span"]["request_id"] == "log-test-request-1")
        .collect();
    assert_eq!(ours.len(), 1, "one line per request: {ours:?}");
    let line = ours[0];
    assert_eq!(line["status"], 404);
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(
        line["span"]["route"], "/api/v1/conversations/{id}/receipts",
        "the route template, not the path"
    );
    assert_eq!(line["span"]["user_id"], user_id.as_str());
    assert!(line["latency_ms"].as_f64().is_some());
    assert!(line["level"] == "INFO");
    let ws: Vec<&&Value> = requests
        .iter()
        .filter(|l| l["span"]["route"] == "/ws")
        .collect();
    assert_eq!(ws.len(), 1, "the WebSocket attempt is logged too");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readable_log_names_each_field_once() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let vars = [
        ("CHATSPHERE_LOG_FORMAT", "pretty"),
        ("RUST_LOG", "info"),
        ("NO_COLOR", "1"),
    ];
    let server =
        server_process_logging_to(free_port(), backend, data.path(), &vars, Some(&log)).await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/rooms", server.address))
        .header("x-request-id", "log-test-request-2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = log_with(&log, |text| {
        text.lines()
            .any(|l| l.contains("log-test-request-2") && l.contains("status="))
    })
    .await;
    let line = text
        .lines()
        .find(|l| l.contains("log-test-request-2") && l.contains("status="))
        .unwrap_or_else(|| panic!("no request line in {text}"));
    assert_eq!(
        line.matches("route=").count(),
        1,
        "the route once, not once per router layer: {line}"
    );
    assert!(line.contains("route=\"/api/v1/rooms\""), "{line}");
    drop(server);
}

/// The log file's text once `ready` says it has what the test waits for
/// (the server writes a request's line after answering it), within 5 s.
async fn log_with(log: &std::path::Path, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if ready(&text) || std::time::Instant::now() >= deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_inputs_never_reach_the_log() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let vars = [("CHATSPHERE_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let server =
        server_process_logging_to(free_port(), backend, data.path(), &vars, Some(&log)).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);
    let marker = |c: char| c.to_string().repeat(4000);
    // A request id, a provider id in the path and in a body, a login.
    let (request_id, path_provider, body_provider, login) =
        (marker('r'), marker('p'), marker('q'), marker('l'));
    let rooms = client
        .get(url("/api/v1/rooms"))
        .header("x-request-id", &request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(rooms.status(), 200);
    assert_ne!(rooms.headers()["x-request-id"], request_id.as_str());
    let start = client
        .get(url(&format!("/auth/oauth2/{path_provider}/start")))
        .send()
        .await
        .unwrap();
    assert!(!start.status().is_server_error(), "{}", start.status());
    let token_login = client
        .post(url("/api/v1/auth/oauth2/login"))
        .json(&json!({"provider": body_provider, "access_token": "some-token"}))
        .send()
        .await
        .unwrap();
    assert!(token_login.status().is_client_error());
    let password_login = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(password_login.status(), 422);

    // The password sign-in is the last request: wait for its line.
    let text = log_with(&log, |text| {
        text.lines()
            .any(|l| l.contains("/api/v1/auth/login") && l.contains("\"message\":\"request\""))
    })
    .await;
    for (what, input) in [
        ("request id", &request_id),
        ("provider id in the path", &path_provider),
        ("provider id in a body", &body_provider),
        ("login", &login),
    ] {
        assert!(!text.contains(&input[..100]), "the {what} reached the log");
    }
    drop(server);
}
