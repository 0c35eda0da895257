//! The middleware stack: security headers on every kind of response, the
//! page CSP with its nonce, CORS, request budgets (429), trusted proxies,
//! problems for every failure, body limits, readiness and metrics.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{media_type, user, TestApp};

const EVERYWHERE: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_api_answers_errors_and_files_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/api/v1/rooms",
        "/api/v1/no-such-thing",
        "/health",
        "/favicon.svg",
        "/no/such/page",
    ] {
        let response = app.get(path).await;
        let csp = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "CSP on {path}: {csp}"
        );
        for (name, value) in EVERYWHERE {
            assert_eq!(
                response.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name} on {path} ({})",
                response.status()
            );
        }
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "no HSTS over plain HTTP ({path})"
        );
        assert!(response.headers().get("x-request-id").is_some(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app =
        TestApp::spawn_configured(&[("CHATSPHERE_PUBLIC_URL", "https://chat.example.com")]).await;
    let response = app.get("/health").await;
    assert_eq!(
        response.headers().get("strict-transport-security").unwrap(),
        "max-age=31536000; includeSubDomains"
    );
}

/// The nonce of `script-src 'nonce-…'` in a page's policy.
fn policy_nonce(csp: &str) -> Option<String> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    Some(csp[start..start + len].to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_fresh_nonce_that_their_inline_scripts_use() {
    let app = TestApp::spawn().await;
    let mut nonces = Vec::new();
    for path in ["/", "/login", "/register", "/no/such/page"] {
        let response = app.get(path).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("'wasm-unsafe-eval'") && csp.contains("script-src 'self' 'nonce-"),
            "{path}: {csp}"
        );
        let nonce = policy_nonce(&csp).expect("a nonce in the page policy");
        assert!(nonce.len() >= 22, "at least 128 bits: {nonce}");
        let html = response.text().await.unwrap();
        let tags: Vec<&str> = html
            .split("<script")
            .skip(1)
            .map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())])
            .collect();
        assert!(!tags.is_empty(), "{path} has its hydration scripts");
        for tag in tags {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "a script of {path} without the response's nonce: <script{tag}>"
            );
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a new nonce per response");
    // Anything but a page runs nothing.
    let api = app.get("/api/v1/rooms").await;
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_allowed_origins_with_credentials_and_nobody_else() {
    let app =
        TestApp::spawn_configured(&[("CHATSPHERE_ALLOWED_ORIGINS", "https://app.example.com")])
            .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/v1/rooms", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success());
    let headers = allowed.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    // A simple request from a foreign origin gets no CORS headers either.
    let simple = app
        .client
        .get(format!("{}/api/v1/rooms", app.address))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(simple
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let simple = app
        .client
        .get(format!("{}/api/v1/rooms", app.address))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("retry-after"));
}

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
async fn every_api_failure_is_a_problem_with_the_request_id() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MAX_BODY_BYTES", "4096")]).await;
    // Unknown path, our id echoed in the body.
    let response = app
        .client
        .get(format!("{}/api/v1/nope", app.address))
        .header("x-request-id", "req-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "req-abc-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], "req-abc-123");
    // A body over the limit: 413, a problem, not plain text.
    let big = "x".repeat(10_000);
    let response = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("content-type", "application/json")
        .body(format!(r#"{{"username":"{big}","password":"p"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(media_type(&response), "application/problem+json");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 413);
    assert_eq!(
        body["request_id"],
        id.as_str(),
        "a generated id is in the body too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_while_the_database_does() {
    let app = TestApp::spawn().await;
    let response = app.get("/ready").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

const METRICS_TOKEN: &str = "metrics-token-0123456789";

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
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
    let app = TestApp::spawn_configured(&[
        ("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN),
        ("CHATSPHERE_RATE_LIMIT_API", "2/min"),
    ])
    .await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth("metrics-token-wrong-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let route = r#"chatsphere_http_requests_total{method="GET",route="/api/v1/users/{id}/presence",status="401"}"#;
    let limited = r#"chatsphere_rate_limited_total{budget="api"}"#;
    let before = scrape(&app).await;
    for _ in 0..3 {
        app.get(&format!("/api/v1/users/{}/presence", uuid::Uuid::now_v7()))
            .await;
    }
    let after = scrape(&app).await;
    // Other tests in this process count too: at least ours.
    assert!(
        sample(&after, route) - sample(&before, route) >= 2.0,
        "{route}: {} -> {}",
        sample(&before, route),
        sample(&after, route)
    );
    assert!(sample(&after, limited) - sample(&before, limited) >= 1.0);
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
async fn metrics_count_messages_stored_and_delivered_and_their_fan_out() {
    use crate::ws::{connect, next_of, open_dm};
    let app = TestApp::spawn_configured(&[("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN)]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut socket = connect(&app, &ben).await;
    let before = scrape(&app).await;
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/messages"),
            Some(&json!({"client_msg_id": "m1", "body": "counted"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    next_of(&mut socket, "message").await;
    let after = scrape(&app).await;
    for series in [
        "chatsphere_messages_stored_total",
        "chatsphere_messages_delivered_total",
        "chatsphere_fanout_seconds_count",
    ] {
        assert!(
            sample(&after, series) - sample(&before, series) >= 1.0,
            "{series}: {} -> {}",
            sample(&before, series),
            sample(&after, series)
        );
    }
    assert!(sample(&after, "chatsphere_ws_connections") >= 1.0);
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
async fn a_users_frame_budget_is_shared_by_their_connections_on_every_process() {
    use crate::processes::{free_port, server_process, Backend};
    use crate::ws::{next_json, next_of, send};
    let (Some(admin), Some(redis)) = (
        crate::support::service_url("TEST_DATABASE_URL"),
        crate::support::service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = crate::support::create_pg_database(&admin).await;
    let prefix = format!("chatsphere-edge-test:{name}:");
    let data = tempfile::tempdir().unwrap();
    let outcome = async {
        let backend = Backend {
            database_url: Some(&database_url),
            redis: Some((&redis, &prefix)),
        };
        let budget = [("CHATSPHERE_RATE_LIMIT_WS", "5/min")];
        let a = server_process(free_port(), backend, data.path(), &budget).await;
        let b = server_process(free_port(), backend, data.path(), &budget).await;
        let body = json!({"username": "ann", "password": crate::helpers::GOOD_PASSWORD});
        let registered: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/register", a.address))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = registered["tokens"]["access_token"].as_str().unwrap();
        let mut sockets = Vec::new();
        for address in [&a.address, &b.address] {
            let url = format!(
                "{}/ws?token={token}",
                address.replacen("http://", "ws://", 1)
            );
            let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            assert_eq!(next_json(&mut socket).await["type"], "ready");
            sockets.push(socket);
        }
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
    };
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    crate::support::drop_pg_database(&admin, &name).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
