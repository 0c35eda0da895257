//! Request budgets: 429 with `Retry-After` per user and per address, the
//! stricter sign-in budget, trusted proxies, budgets shared by processes
//! through Redis, and the WebSocket frame budget.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{media_type, user, TestApp};

/// Asserts a 429 problem with `Retry-After` and the `RateLimit-*` headers.
async fn assert_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    assert_eq!(media_type(&response), "application/problem+json");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    assert!(response.headers().contains_key("ratelimit-limit"));
    assert!(response.headers().contains_key("ratelimit-reset"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_budget_is_per_user_and_answers_429_with_retry_after() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_RATE_LIMIT_API", "3/min")]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    for left in ["2", "1", "0"] {
        let response = app
            .send(Method::GET, "/api/v1/rooms", None, Some(&ann.token))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(response.headers()["ratelimit-remaining"], left);
    }
    assert_limited(
        app.send(Method::GET, "/api/v1/rooms", None, Some(&ann.token))
            .await,
    )
    .await;
    // Another user (same address) has a budget of their own.
    assert_eq!(
        app.send(Method::GET, "/api/v1/rooms", None, Some(&ben.token))
            .await
            .status(),
        200
    );
    // Pages and health checks are not limited.
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/login").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_has_a_stricter_budget_of_its_own() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_RATE_LIMIT_AUTH", "2/min")]).await;
    let ann = user(&app, "ann").await; // registering spent one
    let wrong = json!({"username": "ann", "password": "not the password at all"});
    let first = app.post("/api/v1/auth/login", &wrong).await;
    assert_eq!(first.status(), 401);
    assert_limited(app.post("/api/v1/auth/login", &wrong).await).await;
    // The REST API's budget is untouched.
    let rooms = app
        .send(Method::GET, "/api/v1/rooms", None, Some(&ann.token))
        .await;
    assert_eq!(rooms.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let anonymous = |app: &TestApp, forwarded: &'static str| {
        app.client
            .get(format!("{}/api/v1/openapi-missing", app.address))
            .header("x-forwarded-for", forwarded)
            .send()
    };
    // Behind a trusted proxy: each forwarded client has its own budget.
    let proxied = TestApp::spawn_configured(&[
        ("CHATSPHERE_RATE_LIMIT_API", "2/min"),
        ("CHATSPHERE_TRUSTED_PROXIES", "127.0.0.0/8"),
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(
            anonymous(&proxied, "198.51.100.1").await.unwrap().status(),
            404
        );
    }
    assert_limited(anonymous(&proxied, "198.51.100.1").await.unwrap()).await;
    assert_eq!(
        anonymous(&proxied, "198.51.100.2").await.unwrap().status(),
        404
    );
    // Without one, the header is the client's own claim and is ignored.
    let direct = TestApp::spawn_configured(&[("CHATSPHERE_RATE_LIMIT_API", "2/min")]).await;
    assert_eq!(
        anonymous(&direct, "198.51.100.1").await.unwrap().status(),
        404
    );
    assert_eq!(
        anonymous(&direct, "198.51.100.2").await.unwrap().status(),
        404
    );
    assert_limited(anonymous(&direct, "198.51.100.3").await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
async fn two_processes_share_one_budget_through_redis() {
    let Some(redis) = crate::support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-edge-test:{}:", uuid::Uuid::now_v7().simple());
    let vars = [
        ("REDIS_URL", redis.as_str()),
        ("CHATSPHERE_REDIS_PREFIX", prefix.as_str()),
        ("CHATSPHERE_RATE_LIMIT_API", "4/min"),
    ];
    // SQLite each, one Redis: the budget lives in Redis.
    let (a, b) = (
        TestApp::spawn_with(&vars).await,
        TestApp::spawn_with(&vars).await,
    );
    for app in [&a, &b, &a, &b] {
        assert_ne!(app.get("/api/v1/rooms").await.status(), 429);
    }
    assert_limited(a.get("/api/v1/rooms").await).await;
    assert_limited(b.get("/api/v1/rooms").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_frames_over_their_budget_get_an_error_then_a_close() {
    use crate::ws::{close_code, connect, next_of, send};
    let app = TestApp::spawn_configured(&[("CHATSPHERE_RATE_LIMIT_WS", "5/min")]).await;
    let ann = user(&app, "ann").await;
    let mut socket = connect(&app, &ann).await;
    for _ in 0..5 {
        send(&mut socket, json!({"type": "ping"})).await;
        next_of(&mut socket, "pong").await;
    }
    send(&mut socket, json!({"type": "ping"})).await;
    let error = next_of(&mut socket, "error").await;
    assert!(error["detail"].as_str().unwrap().contains("too many"));
    // A client that keeps going is cut off (1008).
    for _ in 0..60 {
        send(&mut socket, json!({"type": "ping"})).await;
    }
    assert_eq!(
        close_code(&mut socket, 5).await,
        Some(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Policy)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_client_is_recorded_for_api_and_browser_sign_ins() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    let root = user(&app, "root").await; // the first account: an admin
    user(&app, "ann").await;
    // The browser's form post (a server function) and the REST API.
    let form = app
        .client
        .post(format!("{}/rpc/auth/sign_in", app.address))
        .header("origin", &app.address)
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[
            ("login", "ann"),
            ("password", crate::helpers::GOOD_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        form.status().is_redirection() || form.status().is_success(),
        "{}",
        form.status()
    );
    let api = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("x-forwarded-for", "198.51.100.9")
        .json(&json!({"login": "ann", "password": crate::helpers::GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let page: Value = app
        .send(
            Method::GET,
            "/api/v1/admin/audit?kind=sign_in",
            None,
            Some(&root.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let addresses: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["ip"].as_str())
        .collect();
    assert!(addresses.contains(&"203.0.113.7"), "{addresses:?}");
    assert!(addresses.contains(&"198.51.100.9"), "{addresses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_users_frame_budget_is_shared_by_their_connections_on_every_process() {
    use crate::two_processes::{connect, on_two_processes, register};
    use crate::ws::{next_json, next_of, send};
    let budget = [("CHATSPHERE_RATE_LIMIT_WS", "5/min")];
    on_two_processes("edge", &budget, |a, b| async move {
        let (_, token) = register(&reqwest::Client::new(), &a.address, "ann").await;
        let mut sockets = [
            connect(&a.address, &token).await,
            connect(&b.address, &token).await,
        ];
        // Five frames in all, spread over both processes: all answered.
        for i in 0..5 {
            let socket = &mut sockets[i % 2];
            send(socket, json!({"type": "ping"})).await;
            next_of(socket, "pong").await;
        }
        // The sixth is over the user's budget, whichever process gets it.
        let on_b = &mut sockets[1];
        send(on_b, json!({"type": "ping"})).await;
        let refused = next_json(on_b).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("too many"));
    })
    .await;
}
