//! How long a WebSocket connection lives: a client that vanishes without
//! closing is dropped by the heartbeat (and goes offline after the grace);
//! a connection ends with its access token (1008), and the client, with a
//! renewed token, resumes without losing a message.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{user, TestApp, User};
use crate::ws::{connect, next_json, next_of, open_dm, send, try_connect, Socket};

/// Heartbeat of these tests' servers: a silent client is closed after three.
const HEARTBEAT: &str = "0.3";

/// The next `presence` event about `who` (others skipped), within `bound`.
async fn presence_of(socket: &mut Socket, who: &User, bound: Duration) -> Value {
    tokio::time::timeout(bound, async {
        loop {
            let event = next_of(socket, "presence").await;
            if event["user_id"] == who.id.as_str() {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a presence event about {} within {bound:?}", who.id))
}

/// The close frame's code and reason, reading past pings and whatever the
/// server sent before it, within `bound`.
async fn close_frame(socket: &mut Socket, bound: Duration) -> (CloseCode, String) {
    tokio::time::timeout(bound, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code, frame.reason.to_string())
                }
                Some(Ok(Message::Close(None))) => panic!("a close frame without a code"),
                Some(Ok(_)) => continue,
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the server closes the connection in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_without_closing_is_dropped_by_the_heartbeat_and_goes_offline() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_WS_HEARTBEAT", HEARTBEAT)]).await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    // Direct conversations make Ben and Cat Ann's contacts: she hears their presence.
    open_dm(&app, &ann, &ben).await;
    open_dm(&app, &ann, &cat).await;
    let mut watcher = connect(&app, &ann).await;

    // Ben's client vanishes: the socket stays open, but nothing reads it,
    // so nothing answers the server's pings (no close frame, no FIN).
    let mut vanished = connect(&app, &ben).await;
    let online = presence_of(&mut watcher, &ben, Duration::from_secs(5)).await;
    assert_eq!(online["online"], true, "{online}");
    // Cat's client is alive: it reads, so its library answers every ping.
    let mut alive = connect(&app, &cat).await;
    let cat_online = presence_of(&mut watcher, &cat, Duration::from_secs(5)).await;
    assert_eq!(cat_online["online"], true, "{cat_online}");
    let vanished_at = Instant::now();

    let keep_reading = tokio::spawn(async move {
        // Reading is what answers the pings (the library does it).
        let until = tokio::time::Instant::now() + Duration::from_secs(4);
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(until, alive.next()).await {}
        alive
    });
    // Three silent heartbeats (0.9 s) plus a tick, then the grace (0.3 s).
    let offline = presence_of(&mut watcher, &ben, Duration::from_secs(8)).await;
    assert_eq!(offline["online"], false, "{offline}");
    assert!(
        vanished_at.elapsed() >= Duration::from_millis(900),
        "not before three heartbeats went unanswered: {:?}",
        vanished_at.elapsed()
    );
    // The server closed Ben's connection, saying why: 1001 in the audit
    // log (Ann is the installation's first account: an admin), and the
    // socket is closed (its library, answering the queued pings first,
    // may find the pipe broken before it reads the close frame).
    let closed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match vanished.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("Ben's socket is closed");
    assert!(matches!(closed, None | Some(CloseCode::Away)), "{closed:?}");
    let query = format!("/api/v1/admin/audit?kind=disconnected&user_id={}", ben.id);
    let deadline = Instant::now() + Duration::from_secs(5);
    let events = loop {
        // Written in the background: wait for it.
        let events: Value = app
            .send(Method::GET, &query, None, Some(&ann.token))
            .await
            .json()
            .await
            .unwrap();
        if events["events"][0].is_object() {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "no disconnection recorded: {events}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let detail: Value =
        serde_json::from_str(events["events"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["code"], 1001, "{events}");
    assert_eq!(detail["closed_by"], "server", "{events}");

    // Cat answered every ping: still connected and online, well past
    // the time Ben was dropped in.
    let mut alive = keep_reading.await.unwrap();
    assert!(vanished_at.elapsed() >= Duration::from_secs(4));
    let status = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{}/presence", cat.id),
            None,
            Some(&ann.token),
        )
        .await;
    let presence: Value = status.json().await.unwrap();
    assert_eq!(presence["online"], true, "{presence}");
    send(&mut alive, json!({"type": "ping"})).await;
    assert_eq!(next_of(&mut alive, "pong").await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_ends_with_its_access_token_and_a_renewed_one_resumes_without_loss() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_ACCESS_TTL", "3")]).await;
    let signed_in = app.register("ann").await;
    let ann = User {
        id: signed_in["user"]["id"].as_str().unwrap().to_owned(),
        token: signed_in["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let refresh_token = signed_in["tokens"]["refresh_token"].as_str().unwrap();
    let ben = user(&app, "ben").await;
    let dm = open_dm(&app, &ben, &ann).await;
    let post = |body: &'static str| {
        let (app, dm, token) = (&app, dm.clone(), ben.token.clone());
        async move {
            let response = app
                .send(
                    Method::POST,
                    &format!("/api/v1/conversations/{dm}/messages"),
                    Some(&json!({"client_msg_id": body, "body": body})),
                    Some(&token),
                )
                .await;
            assert_eq!(response.status(), 201, "{body}");
        }
    };

    let mut socket = connect(&app, &ann).await;
    post("while-connected").await;
    let live = next_of(&mut socket, "message").await;
    assert_eq!(live["message"]["body"], "while-connected");
    let held = live["message"]["seq"].as_i64().unwrap();

    // The token lapses: the server ends the connection, saying so (a
    // client tells this from "signed out" by the reason).
    let (code, reason) = close_frame(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(reason, domain::close::ACCESS_EXPIRED);
    assert!(!domain::close::SIGN_IN_ENDED.contains(&reason.as_str()));
    // The expired token opens nothing; messages arrive meanwhile.
    let auth = format!("Bearer {}", ann.token);
    assert!(try_connect(&app, "", &[("authorization", &auth)])
        .await
        .is_err());
    post("while-away-1").await;
    post("while-away-2").await;

    // Renewed through the refresh token, the client resumes from what it holds.
    let renewed: Value = app
        .post(
            "/api/v1/auth/token/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await
        .json()
        .await
        .unwrap();
    let auth = format!("Bearer {}", renewed["access_token"].as_str().unwrap());
    let mut socket = try_connect(&app, "?resume=1", &[("authorization", &auth)])
        .await
        .expect("a renewed token connects");
    assert_eq!(next_json(&mut socket).await["type"], "ready");
    send(
        &mut socket,
        json!({"type": "resume", "positions": {dm.clone(): held}}),
    )
    .await;
    let mut replayed = Vec::new();
    let resumed = loop {
        let frame = next_json(&mut socket).await;
        match frame["type"].as_str() {
            Some("message") => replayed.push(frame["message"]["body"].as_str().unwrap().to_owned()),
            Some("resumed") => break frame,
            _ => {}
        }
    };
    assert_eq!(replayed, ["while-away-1", "while-away-2"], "{resumed}");
    assert_eq!(resumed["replayed"], 2);
    post("live-again").await;
    assert_eq!(
        next_of(&mut socket, "message").await["message"]["body"],
        "live-again"
    );
}
