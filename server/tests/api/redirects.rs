//! Open redirects: every place that takes a `next` — the sign-in form
//! posted without JavaScript, the language switch (no sign-in needed), the
//! sign-in page's links and the start of a provider sign-in — sends a
//! hostile one home (`/`), and keeps a local path.

use reqwest::header::{ACCEPT, LOCATION, ORIGIN};
use reqwest::Response;

use crate::helpers::{TestApp, GOOD_PASSWORD};

/// What browsers read as another site, in the forms that slip past naive checks.
const HOSTILE: [&str; 12] = [
    "/\t/evil.example",
    "/\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    " //evil.example",
    "/.//evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "//site@evil.example",
    "http:/evil.example",
    "data:text/html,hi",
];

fn location(response: &Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A form post as a browser without JavaScript sends it, from this site.
async fn form_post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header(ORIGIN, &app.address)
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_without_javascript_never_leaves_the_site() {
    let app = TestApp::spawn().await;
    app.register("ann").await;
    for next in HOSTILE {
        let response = form_post(
            &app,
            "/rpc/auth/sign_in",
            &[
                ("login", "ann"),
                ("password", GOOD_PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert!(response.status().is_redirection(), "{next:?}");
        assert_eq!(location(&response), "/", "next={next:?}");
    }
    let response = form_post(
        &app,
        "/rpc/auth/sign_in",
        &[
            ("login", "ann"),
            ("password", GOOD_PASSWORD),
            ("next", "/settings/profile?x=1"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/settings/profile?x=1");
    // A failed sign-in goes back to the form, carrying only the checked `next`.
    let response = form_post(
        &app,
        "/rpc/auth/sign_in",
        &[
            ("login", "ann"),
            ("password", "wrong-password-1"),
            ("next", "/\t/evil.example"),
        ],
    )
    .await;
    let back = location(&response);
    assert!(back.starts_with("/login?"), "{back}");
    assert!(back.ends_with("next=%2F"), "{back}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_never_leaves_the_site() {
    let app = TestApp::spawn().await;
    for next in HOSTILE {
        let response = form_post(
            &app,
            "/rpc/i18n/locale",
            &[("locale", "zh-CN"), ("next", next)],
        )
        .await;
        assert!(
            response.status().is_redirection(),
            "{next:?}: {}",
            response.status()
        );
        assert_eq!(location(&response), "/", "next={next:?}");
    }
    let response = form_post(
        &app,
        "/rpc/i18n/locale",
        &[("locale", "en"), ("next", "/rooms")],
    )
    .await;
    assert_eq!(location(&response), "/rooms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_sign_in_and_the_sign_in_pages_links_carry_only_a_local_next() {
    let app = TestApp::spawn().await;
    for next in HOSTILE {
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        // No provider is configured here: the start link goes straight back
        // to the sign-in page, with the `next` it would have kept.
        let response = app.get(&format!("/auth/oauth2/oidc/start?{query}")).await;
        let back = location(&response);
        assert!(back.starts_with("/login?"), "{back}");
        assert!(back.ends_with("next=%2F"), "next={next:?}: {back}");

        // The form's hidden field and the link to registration.
        let page = app
            .get(&format!("/login?{query}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(r#"<input type="hidden" name="next" value="/">"#),
            "next={next:?}"
        );
        assert!(
            page.contains(r#"href="/register?next=%2F""#),
            "next={next:?}"
        );
    }
    let page = app.get("/login?next=%2Frooms").await.text().await.unwrap();
    assert!(page.contains(r#"<input type="hidden" name="next" value="/rooms">"#));
    assert!(page.contains(r#"href="/register?next=%2Frooms""#));
    // The language switch comes back to this very page, query included.
    assert!(
        page.contains(r#"name="next" value="/login?next=%2Frooms""#),
        "{page}"
    );
}
