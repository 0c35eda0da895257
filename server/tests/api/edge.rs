//! The middleware stack: security headers on every kind of response.

use crate::helpers::TestApp;

const EVERYWHERE: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'"),
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
