//! A connection's sends do not hold up what it delivers: they are posted by
//! a task of their own while the connection goes on, and acked when they
//! commit.

use std::time::Duration;

use serde_json::json;
use sqlx::Connection;

use crate::helpers::{user, TestApp};
use crate::ws::{connect, next_json, next_of, open_dm, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_waiting_on_the_database_does_not_hold_up_deliveries() {
    // SQLite whatever the backend chosen: the test holds its write lock.
    let app = TestApp::spawn_with(&[]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_socket = connect(&app, &ben).await;
    // Another writer holds the database: Ann's message cannot commit.
    let url = format!("sqlite://{}/chatsphere.db", app.data_dir().display());
    let mut holder = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("begin immediate")
        .execute(&mut holder)
        .await
        .unwrap();
    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "waits", "body": "soon"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Ben starts typing: Ann's connection hands it on at once, her send
    // still waiting.
    send(
        &mut ben_socket,
        json!({"type": "typing", "conversation_id": dm}),
    )
    .await;
    let typing = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let frame = next_json(&mut ann_socket).await;
            assert_ne!(
                frame["type"], "ack",
                "the send cannot have committed: {frame}"
            );
            if frame["type"] == "typing" {
                return frame;
            }
        }
    })
    .await
    .expect("typing is delivered while the send waits");
    assert_eq!(typing["user_id"], ben.id.as_str());
    // The database is free again: the send commits and is acknowledged.
    sqlx::query("commit").execute(&mut holder).await.unwrap();
    let ack = next_of(&mut ann_socket, "ack").await;
    assert_eq!(ack["client_msg_id"], "waits");
    assert!(ack["error"].is_null(), "{ack}");
    assert_eq!(
        next_of(&mut ben_socket, "message").await["message"]["body"],
        "soon"
    );
}
