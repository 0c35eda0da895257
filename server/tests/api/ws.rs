//! The WebSocket gateway with real sockets against the real server:
//! handshake refusals, live delivery to every connection of every member
//! and to nobody else, acks and idempotency, limits.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{user, TestApp, User};
use crate::two_processes::{self, on_two_processes, register};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) fn ws_url(app: &TestApp) -> String {
    app.address.replacen("http://", "ws://", 1) + "/ws"
}

/// Connects with `configure` applied to the handshake request.
pub(crate) async fn try_connect(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, WsError> {
    let mut request = format!("{}{query}", ws_url(app))
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(s, _)| s)
}

/// Connects as `who` with a bearer token and waits for `ready`.
pub(crate) async fn connect(app: &TestApp, who: &User) -> Socket {
    let auth = format!("Bearer {}", who.token);
    let mut socket = try_connect(app, "", &[("authorization", &auth)])
        .await
        .expect("connects");
    let ready = next_json(&mut socket).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    socket
}

/// The next text frame as JSON (pings skipped), within 5 s.
pub(crate) async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("no socket error");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Asserts no text frame arrives within `wait`.
pub(crate) async fn silent(socket: &mut Socket, wait: Duration) {
    if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(wait, socket.next()).await {
        panic!("unexpected frame {text}");
    }
}

/// Reads and discards whatever arrives within `wait` (presence changes
/// of people connecting, say).
pub(crate) async fn drain(socket: &mut Socket, wait: Duration) {
    while let Ok(Some(Ok(_))) = tokio::time::timeout(wait, socket.next()).await {}
}

/// The next frame of type `kind`, skipping others.
pub(crate) async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_json(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

/// The code of the close frame the server sends within `seconds`.
pub(crate) async fn close_code(socket: &mut Socket, seconds: u64) -> Option<CloseCode> {
    tokio::time::timeout(Duration::from_secs(seconds), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the connection closes in time")
}

/// The sender's `ack` and the `message` frame of its own message, which
/// may come in either order (the connection delivers while the send
/// commits).
pub(crate) async fn ack_and_echo(socket: &mut Socket) -> (Value, Value) {
    let (mut ack, mut echo) = (None, None);
    while ack.is_none() || echo.is_none() {
        let frame = next_json(socket).await;
        match frame["type"].as_str() {
            Some("ack") => ack = Some(frame),
            Some("message") => echo = Some(frame),
            _ => panic!("an ack or the message, got {frame}"),
        }
    }
    (ack.unwrap(), echo.unwrap())
}

pub(crate) async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

pub(crate) fn status_of(err: WsError) -> u16 {
    match err {
        WsError::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

pub(crate) async fn open_dm(app: &TestApp, a: &User, b: &User) -> String {
    let response = app
        .send(
            Method::POST,
            "/api/v1/conversations/direct",
            Some(&json!({"user_id": b.id})),
            Some(&a.token),
        )
        .await;
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_without_valid_credentials_or_from_foreign_origins_are_refused() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    assert_eq!(
        status_of(try_connect(&app, "", &[]).await.unwrap_err()),
        401
    );
    let forged = [("authorization", "Bearer not.a.token")];
    assert_eq!(
        status_of(try_connect(&app, "", &forged).await.unwrap_err()),
        401
    );
    let bearer = format!("Bearer {}", ann.token);
    let evil = [
        ("authorization", bearer.as_str()),
        ("origin", "https://evil.example"),
    ];
    assert_eq!(
        status_of(try_connect(&app, "", &evil).await.unwrap_err()),
        403
    );
    // A cookie alone is not enough without an allowed Origin (cross-site pages).
    let cookie = format!("cs_access={}", ann.token);
    let no_origin = [("cookie", cookie.as_str())];
    assert_eq!(
        status_of(try_connect(&app, "", &no_origin).await.unwrap_err()),
        401
    );
    // The browser: cookie plus its own origin.
    let own_origin = app.address.clone();
    let browser = [("cookie", cookie.as_str()), ("origin", own_origin.as_str())];
    let mut socket = try_connect(&app, "", &browser)
        .await
        .expect("browser connects");
    assert_eq!(next_json(&mut socket).await["type"], "ready");
    // The spec's ?token= form.
    let mut socket = try_connect(&app, &format!("?token={}", ann.token), &[])
        .await
        .expect("token in query");
    assert_eq!(next_json(&mut socket).await["type"], "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_every_connection_of_every_member_and_nobody_else() {
    let app = TestApp::spawn().await;
    let (ann, ben, eve) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "eve").await,
    );
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_phone = connect(&app, &ben).await;
    let mut ben_laptop = connect(&app, &ben).await;
    let mut eve_socket = connect(&app, &eve).await;
    for socket in [
        &mut ann_socket,
        &mut ben_phone,
        &mut ben_laptop,
        &mut eve_socket,
    ] {
        drain(socket, Duration::from_millis(300)).await; // presence changes
    }

    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "m1", "body": "hi Ben"}),
    )
    .await;
    let (ack, echo) = ack_and_echo(&mut ann_socket).await;
    assert_eq!(ack["client_msg_id"], "m1");
    assert_eq!(ack["seq"], 1);
    assert_eq!(
        echo["message"]["id"], ack["message_id"],
        "the sender's other devices see it too"
    );
    for socket in [&mut ben_phone, &mut ben_laptop] {
        let event = next_json(socket).await;
        assert_eq!(event["type"], "message");
        assert_eq!(event["message"]["body"], "hi Ben");
        assert_eq!(event["message"]["id"], ack["message_id"]);
    }
    silent(&mut eve_socket, Duration::from_millis(500)).await;

    // A resend with the same client id: acknowledged as the original, not delivered again.
    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "m1", "body": "hi Ben"}),
    )
    .await;
    let ack = next_json(&mut ann_socket).await;
    assert_eq!(ack["duplicate"], true);
    assert_eq!(ack["seq"], 1);
    silent(&mut ben_phone, Duration::from_millis(300)).await;

    // Eve cannot post into it.
    send(
        &mut eve_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "x", "body": "hello?"}),
    )
    .await;
    let refused = next_json(&mut eve_socket).await;
    assert_eq!(refused["error"]["status"], 404, "{refused}");
    silent(&mut ben_phone, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_specs_chat_frame_posts_to_a_room_and_joining_starts_delivery() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_socket = connect(&app, &ben).await;
    send(
        &mut ann_socket,
        json!({"type": "chat", "content": "Hello everyone!", "room_id": "general"}),
    )
    .await;
    assert!(next_of(&mut ann_socket, "ack").await["seq"].is_i64());
    let event = next_json(&mut ben_socket).await;
    assert_eq!(event["message"]["body"], "Hello everyone!");

    // Ben joins tech over REST; his open connection follows it at once.
    send(
        &mut ann_socket,
        json!({"type": "chat", "content": "tech?", "room_id": "tech"}),
    )
    .await;
    assert_eq!(
        next_of(&mut ann_socket, "ack").await["error"]["status"],
        403,
        "not joined yet"
    );
    let joined = app
        .send(
            Method::POST,
            "/api/v1/rooms/tech/join",
            None,
            Some(&ben.token),
        )
        .await;
    assert_eq!(joined.status(), 200);
    let event = next_json(&mut ben_socket).await;
    assert_eq!(event["type"], "joined");
    app.send(
        Method::POST,
        "/api/v1/rooms/tech/join",
        None,
        Some(&ann.token),
    )
    .await;
    next_of(&mut ann_socket, "joined").await;
    send(
        &mut ann_socket,
        json!({"type": "chat", "content": "tech!", "room_id": "tech"}),
    )
    .await;
    assert!(next_of(&mut ann_socket, "ack").await["seq"].is_i64());
    assert_eq!(
        next_of(&mut ben_socket, "message").await["message"]["body"],
        "tech!"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_errors_and_an_oversized_frame_closes_the_connection() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let mut socket = connect(&app, &ann).await;
    socket.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "error");
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut socket).await["type"], "pong");
    let huge = "x".repeat(70 * 1024);
    let _ = socket.send(Message::Text(huge.into())).await;
    assert_eq!(close_code(&mut socket, 5).await, Some(CloseCode::Size));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_refused_past_the_burst() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let mut socket = connect(&app, &ann).await;
    let (_, general) = (
        0,
        app.send(
            Method::POST,
            "/api/v1/rooms/general/join",
            None,
            Some(&ann.token),
        )
        .await,
    );
    let general: Value = general.json().await.unwrap();
    for i in 0..30 {
        send(&mut socket, json!({"type": "send", "conversation_id": general["id"], "client_msg_id": format!("f{i}"), "body": "spam"})).await;
    }
    let mut accepted = 0;
    let mut limited = 0;
    while accepted + limited < 30 {
        let frame = next_json(&mut socket).await;
        if frame["type"] != "ack" {
            continue;
        }
        if frame["error"]["status"] == 429 {
            limited += 1;
        } else {
            accepted += 1;
        }
    }
    // The user's rate (10 a second, counted in fixed one-second windows:
    // up to twice that across a window's edge).
    assert!(
        (10..=20).contains(&accepted) && limited >= 10,
        "accepted {accepted}, limited {limited}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_send_rate_governs_websocket_sends_and_nothing_else_caps_them() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "200")]).await;
    let ann = user(&app, "ann").await;
    let general: Value = app
        .send(
            Method::POST,
            "/api/v1/rooms/general/join",
            None,
            Some(&ann.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut socket = connect(&app, &ann).await;
    // Far past what any per-connection cap (formerly a burst of 20, then
    // 10 a second) allowed, and within the configured rate.
    for i in 0..120 {
        send(&mut socket, json!({"type": "send", "conversation_id": general["id"], "client_msg_id": format!("r{i}"), "body": "quick"})).await;
    }
    let mut acks = 0;
    while acks < 120 {
        let frame = next_json(&mut socket).await;
        if frame["type"] == "ack" {
            assert!(frame["error"].is_null(), "refused: {frame}");
            acks += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_closes_its_connections_at_once_and_only_its_own() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    // A second session of hers, on another device.
    let login = json!({"login": "ann", "password": crate::helpers::GOOD_PASSWORD});
    let other: Value = app
        .post("/api/v1/auth/login", &login)
        .await
        .json()
        .await
        .unwrap();
    let phone = User {
        id: ann.id.clone(),
        token: other["tokens"]["access_token"].as_str().unwrap().to_owned(),
    };
    let mut socket = connect(&app, &ann).await;
    let mut phone_socket = connect(&app, &phone).await;

    // The phone's session is revoked from the laptop: the phone's
    // connection closes at once (announced, not found by polling), the
    // laptop's stays open and hears nothing of it.
    let session = other["tokens"]["session_id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{session}"),
            None,
            Some(&ann.token),
        )
        .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        close_code(&mut phone_socket, 5).await,
        Some(CloseCode::Policy)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed by the announcement: {:?}",
        started.elapsed()
    );
    silent(&mut socket, Duration::from_millis(300)).await;
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut socket).await["type"], "pong");

    // Signing out closes the laptop's own connection the same way.
    let started = std::time::Instant::now();
    let out = app
        .send(Method::POST, "/api/v1/auth/logout", None, Some(&ann.token))
        .await;
    assert_eq!(out.status(), 204);
    assert_eq!(close_code(&mut socket, 5).await, Some(CloseCode::Policy));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_and_others_carry_on() {
    // Thousands of messages as fast as possible: lift the per-user send rate.
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000000")]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    // The stalled client takes a small receive buffer and never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(app.address.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let mut request = ws_url(&app).into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", ben.token)).unwrap(),
    );
    let (stalled, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let mut reader = connect(&app, &ben).await;
    let body = "字".repeat(4000); // 12 KB
    let health = || async {
        let value: Value = app.get("/health").await.json().await.unwrap();
        value["active_connections"].as_u64().unwrap()
    };
    assert_eq!(health().await, 2);
    let mut sent = 0;
    while sent < 2000 && health().await == 2 {
        for _ in 0..20 {
            let posted = app
                .send(
                    Method::POST,
                    &format!("/api/v1/conversations/{dm}/messages"),
                    Some(&json!({"client_msg_id": format!("big{sent}"), "body": body})),
                    Some(&ann.token),
                )
                .await;
            assert!(posted.status().is_success());
            // The healthy reader keeps up with every message.
            assert_eq!(
                next_of(&mut reader, "message").await["message"]["seq"],
                sent + 1
            );
            sent += 1;
        }
    }
    assert_eq!(
        health().await,
        1,
        "the stalled connection was dropped after {sent} messages"
    );
    eprintln!("stalled connection dropped after {sent} messages of 12 KB");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_message_sent_to_one_server_process_arrives_on_another() {
    on_two_processes("ws", &[], |a, b| async move {
        let client = reqwest::Client::new();
        let (_, ann) = register(&client, &a.address, "ann").await;
        let (ben_id, ben) = register(&client, &b.address, "ben").await;
        // A direct conversation makes them contacts (presence below).
        let direct = client
            .post(format!("{}/api/v1/conversations/direct", a.address))
            .bearer_auth(&ann)
            .json(&json!({"user_id": ben_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 200);
        // Ben listens on process B.
        let mut ben_socket = two_processes::connect(&b.address, &ben).await;
        // Ann posts to general through process A's REST API.
        let general: Value = client
            .post(format!("{}/api/v1/rooms/general/join", a.address))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let posted = client
            .post(format!(
                "{}/api/v1/conversations/{}/messages",
                a.address,
                general["id"].as_str().unwrap()
            ))
            .bearer_auth(&ann)
            .json(&json!({"client_msg_id": "x1", "body": "across processes"}))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201);
        let event = next_of(&mut ben_socket, "message").await;
        assert_eq!(event["message"]["body"], "across processes");
        // Ben, connected to B, is online as seen by his contact on A.
        let online: Value = client
            .get(format!("{}/api/v1/users/online", a.address))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(online["users"][0]["username"], "ben", "{online}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_online_lists_connected_contacts_only_while_connected() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    open_dm(&app, &ann, &ben).await;
    let online = |who: &User| {
        let token = who.token.clone();
        let app = &app;
        async move {
            let value: Value = app
                .send(Method::GET, "/api/v1/users/online", None, Some(&token))
                .await
                .json()
                .await
                .unwrap();
            value["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(online(&ann).await.is_empty());
    let phone = connect(&app, &ben).await;
    let laptop = connect(&app, &ben).await;
    assert_eq!(
        online(&ann).await,
        ["ben"],
        "they share a direct conversation"
    );
    drop(phone);
    // Well past the grace period (0.3 s in tests): a user whose other
    // connection is still open stays online, not just for the grace.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(online(&ann).await, ["ben"], "still connected on the laptop");
    drop(laptop);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !online(&ann).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "ben never went offline"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Someone who shares only a public room (general) is not listed, even
    // when online: rooms show how many are online, not who.
    let app2 = &app;
    let roomie = user(app2, "roomie").await;
    let _roomie_socket = connect(&app, &roomie).await;
    assert_eq!(online(&roomie).await, ["roomie"]);
    assert!(!online(&ann).await.contains(&"roomie".to_owned()));
    for (viewer, subject) in [(&ann, &roomie), (&roomie, &ann)] {
        let response = app
            .send(
                Method::GET,
                &format!("/api/v1/users/{}/presence", subject.id),
                None,
                Some(&viewer.token),
            )
            .await;
        assert_eq!(
            response.status(),
            404,
            "a room-mate's presence is not shown"
        );
    }
    let response = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{}/presence", ben.id),
            None,
            Some(&ann.token),
        )
        .await;
    assert_eq!(response.status(), 200, "a contact's is");
}
