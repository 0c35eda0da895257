//! Receipts, presence, typing and resume over real sockets: who hears what,
//! and when.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{user, TestApp, User};
use crate::ws::{connect, next_json, next_of, open_dm, send, silent, try_connect, Socket};

/// The next frame of type `kind` within `wait` (others are skipped).
async fn next_of_within(socket: &mut Socket, kind: &str, wait: Duration) -> Value {
    tokio::time::timeout(wait, async {
        loop {
            // A closed socket or an error ends the wait at once (a loop
            // over `None` would never yield to the timer).
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == kind {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("socket error while waiting for {kind}: {err}"),
                None => panic!("the socket closed while waiting for {kind}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame within {wait:?}"))
}

/// Asserts no frame of type `kind` arrives within `wait` (others are skipped).
async fn none_of(socket: &mut Socket, kind: &str, wait: Duration) {
    let _ = tokio::time::timeout(wait, async {
        loop {
            let frame = next_json(socket).await;
            assert_ne!(frame["type"], kind, "unexpected {frame}");
        }
    })
    .await;
}

async fn post(app: &TestApp, who: &User, conversation: &str, id: &str, body: &str) -> Value {
    let response = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&json!({"client_msg_id": id, "body": body})),
            Some(&who.token),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn get_json(app: &TestApp, who: &User, path: &str) -> (u16, Value) {
    let response = app.send(Method::GET, path, None, Some(&who.token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_reach_the_members_of_a_conversation_and_nobody_else() {
    let app = TestApp::spawn().await;
    let (ann, ben, eve) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "eve").await,
    );
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_socket = connect(&app, &ben).await;
    let mut eve_socket = connect(&app, &eve).await;

    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "m1", "body": "hi"}),
    )
    .await;
    let ack = next_of(&mut ann_socket, "ack").await;
    let message_id = ack["message_id"].as_str().unwrap().to_owned();
    let seq = ack["seq"].as_i64().unwrap();
    let event = next_of(&mut ben_socket, "message").await;
    assert_eq!(event["message"]["seq"], seq);

    // Ben's device confirms receipt: Ann sees "delivered".
    send(
        &mut ben_socket,
        json!({"type": "delivered", "conversation_id": dm, "seq": seq}),
    )
    .await;
    let receipt = next_of(&mut ann_socket, "receipt").await;
    assert_eq!(receipt["user_id"], ben.id.as_str());
    assert_eq!(receipt["conversation_id"], dm.as_str());
    assert_eq!(
        (
            receipt["delivered_seq"].as_i64(),
            receipt["read_seq"].as_i64()
        ),
        (Some(seq), Some(0))
    );
    // Ben opens the conversation: Ann sees "read".
    send(
        &mut ben_socket,
        json!({"type": "read", "conversation_id": dm, "seq": seq}),
    )
    .await;
    let receipt = next_of(&mut ann_socket, "receipt").await;
    assert_eq!(receipt["read_seq"], seq);
    none_of(&mut eve_socket, "receipt", Duration::from_millis(500)).await;
    // Several receipts in one frame (what a browser sends after a reconnect).
    post(&app, &ann, &dm, "m2", "and this?").await;
    send(
        &mut ben_socket,
        json!({"type": "receipts", "delivered": {dm.clone(): 2}, "read": {dm.clone(): 2}}),
    )
    .await;
    // Receipts are coalesced: one event may carry both.
    let receipt = loop {
        let receipt = next_of(&mut ann_socket, "receipt").await;
        if receipt["read_seq"] == 2 {
            break receipt;
        }
    };
    assert_eq!(receipt["delivered_seq"], 2);

    let path = format!("/api/v1/conversations/{dm}/messages/{message_id}/receipts");
    let (status, receipts) = get_json(&app, &ann, &path).await;
    assert_eq!(status, 200);
    assert_eq!(receipts["delivered_to"][0]["username"], "ben");
    assert_eq!(receipts["read_by"][0]["username"], "ben");
    assert_eq!(get_json(&app, &eve, &path).await.0, 404);
    let (status, positions) =
        get_json(&app, &ann, &format!("/api/v1/conversations/{dm}/receipts")).await;
    assert_eq!(status, 200);
    assert_eq!(positions["members"].as_array().unwrap().len(), 2);
    let read_by_eve = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/read"),
            None,
            Some(&eve.token),
        )
        .await;
    assert_eq!(read_by_eve.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_follow_reading_on_another_device_and_room_receipts_stay_private() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let (_, rooms) = get_json(&app, &ann, "/api/v1/rooms").await;
    let general = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_phone = connect(&app, &ben).await;
    for i in 0..3 {
        post(&app, &ann, &general, &format!("g{i}"), "news").await;
    }
    let unread = || async {
        let (_, list) = get_json(&app, &ben, "/api/v1/conversations").await;
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == general.as_str())
            .unwrap()["unread"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(unread().await, 3);
    // Ben reads on his laptop (REST, the spec's mark-read) up to message 2.
    let read = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{general}/read"),
            Some(&json!({"seq": 2})),
            Some(&ben.token),
        )
        .await;
    assert_eq!(read.status(), 204);
    assert_eq!(unread().await, 1);
    // His phone hears of it at once, so its badge updates too.
    let receipt = next_of(&mut ben_phone, "receipt").await;
    assert_eq!(receipt["read_seq"], 2);
    // A room's receipts are the reader's own business.
    none_of(&mut ann_socket, "receipt", Duration::from_millis(500)).await;
    // Without a body: everything is read. Positions never move back.
    app.send(
        Method::POST,
        &format!("/api/v1/conversations/{general}/read"),
        None,
        Some(&ben.token),
    )
    .await;
    assert_eq!(unread().await, 0);
    app.send(
        Method::POST,
        &format!("/api/v1/conversations/{general}/read"),
        Some(&json!({"seq": 1})),
        Some(&ben.token),
    )
    .await;
    assert_eq!(unread().await, 0);
    let bad = app
        .client
        .post(format!(
            "{}/api/v1/conversations/{general}/read",
            app.address
        ))
        .bearer_auth(&ben.token)
        .header("content-type", "application/json")
        .body("{\"seq\": \"two\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(crate::helpers::media_type(&bad), "application/problem+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_changes_reach_contacts_and_go_offline_after_the_grace_period() {
    let app = TestApp::spawn().await;
    let (ann, ben, eve) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "eve").await,
    );
    let _dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut eve_socket = connect(&app, &eve).await;

    let ben_socket = connect(&app, &ben).await;
    let online = next_of(&mut ann_socket, "presence").await;
    assert_eq!(
        (online["user_id"].as_str(), online["online"].as_bool()),
        (Some(ben.id.as_str()), Some(true))
    );
    let (_, rooms) = get_json(&app, &ann, "/api/v1/rooms").await;
    assert_eq!(rooms["rooms"][0]["online_count"], 3, "{rooms}");

    drop(ben_socket);
    // Within the grace period (0.3 s in tests) nothing changes.
    none_of(&mut ann_socket, "presence", Duration::from_millis(100)).await;
    let offline = next_of(&mut ann_socket, "presence").await;
    assert_eq!(offline["online"], false);
    assert!(offline["last_seen_at"].is_string());
    // Eve shares only a public room with Ben: no presence events for her.
    none_of(&mut eve_socket, "presence", Duration::from_millis(300)).await;

    let (status, presence) =
        get_json(&app, &ann, &format!("/api/v1/users/{}/presence", ben.id)).await;
    assert_eq!(status, 200);
    assert_eq!(presence["online"], false);
    assert!(presence["last_seen_at"].is_string());
    let (_, rooms) = get_json(&app, &ann, "/api/v1/rooms").await;
    assert_eq!(rooms["rooms"][0]["online_count"], 2);
    let loner = user(&app, "loner").await;
    app.send(
        Method::POST,
        "/api/v1/rooms/general/leave",
        None,
        Some(&loner.token),
    )
    .await;
    let (status, _) = get_json(&app, &loner, &format!("/api/v1/users/{}/presence", ben.id)).await;
    assert_eq!(status, 404, "presence is for contacts only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_other_members_and_expires_by_itself() {
    let app = TestApp::spawn().await;
    let (ann, ben, eve) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "eve").await,
    );
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_socket = connect(&app, &ben).await;
    let mut eve_socket = connect(&app, &eve).await;

    send(
        &mut ann_socket,
        json!({"type": "typing", "conversation_id": dm}),
    )
    .await;
    let typing = next_of(&mut ben_socket, "typing").await;
    assert_eq!(typing["user_id"], ann.id.as_str());
    assert_eq!(typing["name"], "ann");
    assert_eq!(typing["active"], true);
    let started = std::time::Instant::now();
    // Keystrokes right after are paced: no second notice.
    send(
        &mut ann_socket,
        json!({"type": "typing", "conversation_id": dm}),
    )
    .await;
    // No more keystrokes: it ends by itself about 5 s later.
    let stopped = next_of_within(&mut ben_socket, "typing", Duration::from_secs(8)).await;
    assert_eq!(stopped["active"], false);
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    none_of(&mut eve_socket, "typing", Duration::from_millis(200)).await;

    // Sending the message ends it at once.
    send(
        &mut ann_socket,
        json!({"type": "typing", "conversation_id": dm}),
    )
    .await;
    assert_eq!(next_of(&mut ben_socket, "typing").await["active"], true);
    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "t1", "body": "done"}),
    )
    .await;
    let stopped = next_of_within(&mut ben_socket, "typing", Duration::from_secs(2)).await;
    assert_eq!(stopped["active"], false);
    // Typing where one is not a member is refused.
    send(
        &mut eve_socket,
        json!({"type": "typing", "conversation_id": dm}),
    )
    .await;
    let error = next_of(&mut eve_socket, "error").await;
    assert!(error["detail"].as_str().unwrap().contains("not a member"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_what_was_missed_once_and_then_goes_live() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    for i in 1..=3 {
        post(&app, &ann, &dm, &format!("r{i}"), &format!("missed {i}")).await;
    }
    let auth = format!("Bearer {}", ben.token);
    let mut ben_socket = try_connect(&app, "?resume=1", &[("authorization", &auth)])
        .await
        .unwrap();
    assert_eq!(next_json(&mut ben_socket).await["type"], "ready");
    // Posted after Ben connected but before he said where he was: held.
    post(&app, &ann, &dm, "r4", "missed 4").await;
    silent(&mut ben_socket, Duration::from_millis(300)).await;
    send(
        &mut ben_socket,
        json!({"type": "resume", "positions": {dm.clone(): 1}}),
    )
    .await;
    let mut seqs = Vec::new();
    let resumed = loop {
        let frame = next_json(&mut ben_socket).await;
        match frame["type"].as_str() {
            Some("message") => seqs.push(frame["message"]["seq"].as_i64().unwrap()),
            Some("resumed") => break frame,
            _ => {}
        }
    };
    assert_eq!(seqs, [2, 3, 4], "everything after 1, in order");
    assert_eq!(resumed["replayed"], 3);
    // The live copy of message 4 is not sent again; new messages are live.
    post(&app, &ann, &dm, "r5", "live 5").await;
    let next = next_of(&mut ben_socket, "message").await;
    assert_eq!(next["message"]["seq"], 5, "no duplicate of 4: {next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_stored_but_never_published_is_sent_before_the_next_one() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ben_socket = connect(&app, &ben).await;
    post(&app, &ann, &dm, "g1", "one").await;
    assert_eq!(
        next_of(&mut ben_socket, "message").await["message"]["seq"],
        1
    );
    // A process that stored a message and died before publishing it.
    app.services
        .store
        .post_message(&services::store::NewMessage {
            conversation_id: dm.parse().unwrap(),
            sender_id: ann.id.parse().unwrap(),
            client_msg_id: "g2",
            body: "two",
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap();
    silent(&mut ben_socket, Duration::from_millis(200)).await;
    post(&app, &ann, &dm, "g3", "three").await;
    let mut seqs = Vec::new();
    for _ in 0..2 {
        seqs.push(
            next_of(&mut ben_socket, "message").await["message"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(seqs, [2, 3], "the gap is filled from the store, in order");
    // Ann's retry of the lost message publishes it again; Ben has it already.
    let retry = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/messages"),
            Some(&json!({"client_msg_id": "g2", "body": "two"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(retry.status(), 200);
    none_of(&mut ben_socket, "message", Duration::from_millis(300)).await;
}
