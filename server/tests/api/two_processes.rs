//! Two server processes sharing a fresh PostgreSQL database and Redis, for
//! the tests of what crosses processes (fan-out, caches, budgets), and what
//! those tests do on them: register through one, connect a WebSocket to one.

use std::future::Future;

use serde_json::{json, Value};

use crate::processes::{free_port, server_process, Backend, ServerProcess};
use crate::support::{create_pg_database, drop_pg_database, service_url, with_cleanup};
use crate::ws::{next_json, Socket};

/// Runs `body` with two processes (`a`, `b`) on one fresh PostgreSQL
/// database and Redis, both with the `extra` variables; the database is
/// dropped afterwards, even when `body` panics. Skipped without
/// `TEST_DATABASE_URL` and `TEST_REDIS_URL` (which CI requires).
pub async fn on_two_processes<F, Fut>(label: &str, extra: &[(&str, &str)], body: F)
where
    F: FnOnce(ServerProcess, ServerProcess) -> Fut,
    Fut: Future<Output = ()>,
{
    on_two_processes_with_url(label, extra, |a, b, _| body(a, b)).await;
}

/// [`on_two_processes`], telling `body` the database's URL too.
pub async fn on_two_processes_with_url<F, Fut>(label: &str, extra: &[(&str, &str)], body: F)
where
    F: FnOnce(ServerProcess, ServerProcess, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let (Some(admin), Some(redis)) = (
        service_url("TEST_DATABASE_URL"),
        service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = create_pg_database(&admin).await;
    let prefix = format!("chatsphere-{label}-test:{name}:");
    let data = tempfile::tempdir().unwrap();
    let run = async {
        let backend = Backend {
            database_url: Some(&database_url),
            redis: Some((&redis, &prefix)),
        };
        let a = server_process(free_port(), backend, data.path(), extra).await;
        let b = server_process(free_port(), backend, data.path(), extra).await;
        body(a, b, database_url.clone()).await;
    };
    with_cleanup(run, drop_pg_database(&admin, &name)).await;
}

/// Registers `name` through the process at `address`: (id, access token).
pub async fn register(client: &reqwest::Client, address: &str, name: &str) -> (String, String) {
    let body = json!({"username": name, "password": crate::helpers::GOOD_PASSWORD});
    let value: Value = client
        .post(format!("{address}/api/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        value["user"]["id"].as_str().unwrap().to_owned(),
        value["tokens"]["access_token"].as_str().unwrap().to_owned(),
    )
}

/// Creates a conversation as `token` through the process at `address`
/// (`kind`: `groups` or `direct`, with the API's `body`); its id.
pub async fn start_conversation(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    kind: &str,
    body: Value,
) -> String {
    let created: Value = client
        .post(format!("{address}/api/v1/conversations/{kind}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// A live connection to the process at `address`, ready.
pub async fn connect(address: &str, token: &str) -> Socket {
    connect_with(address, token, "").await
}

/// [`connect`], with more of the query string (`&resume=1`).
pub async fn connect_with(address: &str, token: &str, query: &str) -> Socket {
    let url = format!(
        "{}/ws?token={token}{query}",
        address.replacen("http://", "ws://", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "ready");
    socket
}
