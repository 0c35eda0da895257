//! Graceful shutdown of a real server process: on SIGTERM every WebSocket
//! client is told to reconnect elsewhere (close 1012), the process exits
//! cleanly within its grace period, and a client that resumes on the next
//! process receives what was sent meanwhile, once.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::processes::{free_port, server_process, Backend};
use crate::two_processes::{connect, connect_with, register, start_conversation};
use crate::ws::{close_code, next_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_with_1012_and_clients_resume_on_the_next_process() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let vars = [("CHATSPHERE_SHUTDOWN_GRACE", "5")];
    let mut first = server_process(port, backend, data.path(), &vars).await;
    let client = reqwest::Client::new();
    let (_, ann) = register(&client, &first.address, "ann").await;
    let (ben_id, ben) = register(&client, &first.address, "ben").await;
    let dm = start_conversation(
        &client,
        &first.address,
        &ann,
        "direct",
        json!({"user_id": ben_id}),
    )
    .await;
    let post = |address: String, body: &'static str, id: &'static str| {
        let (client, ann, dm) = (client.clone(), ann.clone(), dm.clone());
        async move {
            let response = client
                .post(format!("{address}/api/v1/conversations/{dm}/messages"))
                .bearer_auth(&ann)
                .json(&json!({"client_msg_id": id, "body": body}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
    };

    let mut ben_socket = connect(&first.address, &ben).await;
    post(first.address.clone(), "before the restart", "m1").await;
    let seen = next_of(&mut ben_socket, "message").await;
    let last_seq = seen["message"]["seq"].as_i64().unwrap();

    first.terminate();
    assert_eq!(
        close_code(&mut ben_socket, 5).await,
        Some(CloseCode::Restart),
        "told to reconnect elsewhere"
    );
    let status = first
        .exit_within(Duration::from_secs(8))
        .await
        .expect("exits within the grace period");
    assert!(status.success(), "a clean exit: {status:?}");

    // The next process (same port, same database) takes over; Ann writes
    // while Ben is away.
    let second = server_process(port, backend, data.path(), &vars).await;
    post(second.address.clone(), "while you were away", "m2").await;
    let mut ben_socket = connect_with(&second.address, &ben, "&resume=1").await;
    ben_socket
        .send(Message::text(
            json!({"type": "resume", "positions": {dm.clone(): last_seq}}).to_string(),
        ))
        .await
        .unwrap();
    let replayed = next_of(&mut ben_socket, "message").await;
    assert_eq!(replayed["message"]["body"], "while you were away");
    assert_eq!(replayed["message"]["seq"].as_i64(), Some(last_seq + 1));
    let resumed = next_of(&mut ben_socket, "resumed").await;
    assert_eq!(resumed["replayed"], 1, "{resumed}");
    drop(second);
}
