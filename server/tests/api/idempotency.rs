//! Idempotency is scoped to the conversation: a client message id reused in
//! another conversation is a new message there — never the first
//! conversation's message returned, published on the second one's topic, or
//! taken as its position by the members' connections. On REST and on the
//! socket.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{user, TestApp, User};
use crate::ws::{connect, drain, next_json, open_dm, send, silent, Socket};

async fn post(
    app: &TestApp,
    who: &User,
    conversation: &str,
    client_id: &str,
    body: &str,
) -> (u16, Value) {
    let response = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&json!({"client_msg_id": client_id, "body": body})),
            Some(&who.token),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The next `message` event on `socket`, whose body must be `body`.
async fn expect_message(socket: &mut Socket, conversation: &str, seq: i64, body: &str) {
    let event = next_json(socket).await;
    assert_eq!(event["type"], "message", "{event}");
    assert_eq!(event["message"]["conversation_id"], conversation, "{event}");
    assert_eq!(event["message"]["seq"], seq, "{event}");
    assert_eq!(event["message"]["body"], body, "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_reused_over_rest_in_another_conversation_posts_a_new_message_there() {
    let app = TestApp::spawn().await;
    let (ann, ben, cid) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cid").await,
    );
    let with_ben = open_dm(&app, &ann, &ben).await;
    let with_cid = open_dm(&app, &ann, &cid).await;
    let mut cid_socket = connect(&app, &cid).await;
    drain(&mut cid_socket, Duration::from_millis(300)).await;

    let (status, first) = post(&app, &ann, &with_ben, "reused", "only for Ben").await;
    assert_eq!(status, 201);
    let (status, second) = post(&app, &ann, &with_cid, "reused", "for Cid").await;
    assert_eq!(status, 201, "a new message in Cid's conversation: {second}");
    assert_eq!(second["message"]["conversation_id"], with_cid.as_str());
    assert_eq!(second["message"]["body"], "for Cid");
    assert_ne!(second["message"]["id"], first["message"]["id"]);
    expect_message(&mut cid_socket, &with_cid, 1, "for Cid").await;

    // Cid's connection kept the right position: the next message arrives live.
    let (status, _) = post(&app, &ann, &with_cid, "next", "and this").await;
    assert_eq!(status, 201);
    expect_message(&mut cid_socket, &with_cid, 2, "and this").await;
    silent(&mut cid_socket, Duration::from_millis(300)).await;

    // A retry in either conversation still returns that conversation's own message.
    let (status, again) = post(&app, &ann, &with_ben, "reused", "only for Ben").await;
    assert_eq!(status, 200);
    assert_eq!(again["message"]["id"], first["message"]["id"]);
    silent(&mut cid_socket, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_reused_over_the_socket_in_another_conversation_never_leaks_the_first() {
    let app = TestApp::spawn().await;
    let (ann, ben, cid) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cid").await,
    );
    let with_ben = open_dm(&app, &ann, &ben).await;
    let with_cid = open_dm(&app, &ann, &cid).await;
    // Some history in Cid's conversation first, so a position taken from
    // Ben's conversation (seq 1) would be behind and a later one skipped.
    for n in 1..=3 {
        post(&app, &cid, &with_cid, &format!("c{n}"), &format!("cid {n}")).await;
    }
    let mut ann_socket = connect(&app, &ann).await;
    let mut cid_socket = connect(&app, &cid).await;
    for socket in [&mut ann_socket, &mut cid_socket] {
        drain(socket, Duration::from_millis(300)).await;
    }

    for (conversation, body) in [(&with_ben, "secret for Ben"), (&with_cid, "hello Cid")] {
        send(
            &mut ann_socket,
            json!({"type": "send", "conversation_id": conversation, "client_msg_id": "same", "body": body}),
        )
        .await;
        let (ack, echo) = crate::ws::ack_and_echo(&mut ann_socket).await;
        assert_eq!(ack["conversation_id"], conversation.as_str(), "{ack}");
        assert_ne!(ack["duplicate"], true, "{ack}");
        assert_eq!(echo["message"]["body"], *body, "her own echo");
    }
    expect_message(&mut cid_socket, &with_cid, 4, "hello Cid").await;
    post(&app, &ann, &with_cid, "after", "still live").await;
    expect_message(&mut cid_socket, &with_cid, 5, "still live").await;
    silent(&mut cid_socket, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_on_another_conversations_topic_is_neither_forwarded_nor_a_position() {
    let app = TestApp::spawn().await;
    let (ann, ben, cid) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cid").await,
    );
    let with_ben = open_dm(&app, &ann, &ben).await;
    let with_cid = open_dm(&app, &ann, &cid).await;
    for n in 1..=3 {
        post(&app, &ann, &with_ben, &format!("b{n}"), &format!("ben {n}")).await;
    }
    let mut cid_socket = connect(&app, &cid).await;
    drain(&mut cid_socket, Duration::from_millis(300)).await;

    // A message of Ben's conversation (seq 3) published on Cid's topic, as
    // a faulty or older process could: Cid must not see it, and his
    // connection must not take seq 3 as its position in his conversation.
    let stored = app
        .services
        .store
        .history(with_ben.parse().unwrap(), None, 1)
        .await
        .unwrap();
    let payload =
        services::events::Publish::to_bytes(&domain::protocol::ServerFrame::message(&stored[0]));
    app.services
        .bus
        .publish(
            &services::events::conversation_topic(with_cid.parse().unwrap()),
            payload,
        )
        .await
        .unwrap();
    silent(&mut cid_socket, Duration::from_millis(300)).await;
    for n in 1..=3 {
        post(&app, &ann, &with_cid, &format!("c{n}"), &format!("cid {n}")).await;
        expect_message(&mut cid_socket, &with_cid, n, &format!("cid {n}")).await;
    }
}
