//! The middleware stack: security headers on every kind of response, the
//! page CSP with its nonce, CORS, problems for every failure, body limits
//! and readiness. Budgets are in [`crate::budgets`], metrics in
//! [`crate::metrics`].

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{media_type, TestApp};

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
async fn an_oversized_or_odd_request_id_is_replaced_before_it_is_logged_or_echoed() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(65);
    for sent in [
        long.as_str(),
        "two words",
        "quote\"d",
        "semi;colon",
        "tab\tin",
    ] {
        let response = app
            .client
            .get(format!("{}/health", app.address))
            .header("x-request-id", sent)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, sent);
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "a generated id, got {id:?}"
        );
    }
    let kept = "0123456789abcdef0123456789abcdef:span-1.2_x";
    let response = app
        .client
        .get(format!("{}/health", app.address))
        .header("x-request-id", kept)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        kept,
        "a plain id is kept"
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
