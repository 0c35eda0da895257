//! Sign-in through an OpenID Connect provider — a real third-party one
//! (oauth2-mock-server) on loopback: the browser redirect flow with PKCE,
//! state and nonce, every way it must refuse, and account linking. Clients
//! holding a provider token (`POST /api/v1/auth/oauth2/login`) are in
//! `oauth_tokens`.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{media_type, TestApp};
use crate::oidc_provider::{OidcProvider, CLIENT_ID};

/// The server with the provider enabled as `oidc`.
pub(crate) async fn spawn() -> Option<(TestApp, OidcProvider)> {
    let provider = OidcProvider::start().await?;
    let app = TestApp::spawn_configured(&provider.vars()).await;
    Some((app, provider))
}

/// Value of cookie `name` set by `response`, if any (`Some("")` = cleared).
pub(crate) fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let found = parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    found
}

/// A browser sign-in taken step by step.
struct Started {
    authorize_url: String,
    state_cookie: String,
}

async fn start(app: &TestApp, query: &str) -> Started {
    let response = app.get(&format!("/auth/oauth2/oidc/start?{query}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "start redirects");
    Started {
        authorize_url: location(&response),
        state_cookie: set_cookie(&response, "cs_oauth_state").expect("a state cookie"),
    }
}

/// Lets the provider "sign the user in": its authorize endpoint answers with
/// a redirect to our callback carrying the code and state.
async fn authorize(app: &TestApp, started: &Started) -> String {
    let response = app.client.get(&started.authorize_url).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    location(&response)
}

async fn callback(app: &TestApp, url: &str, state_cookie: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(url);
    if let Some(value) = state_cookie {
        request = request.header(COOKIE, format!("cs_oauth_state={value}"));
    }
    request.send().await.unwrap()
}

/// The whole flow for `hint`; returns the callback's response.
pub(crate) async fn sign_in(app: &TestApp, hint: &str, next: &str) -> reqwest::Response {
    let query = serde_urlencoded::to_string([("login_hint", hint), ("next", next)]).unwrap();
    let started = start(app, &query).await;
    let back = authorize(app, &started).await;
    callback(app, &back, Some(&started.state_cookie)).await
}

/// Asserts a refused sign-in: back to /login with a message, no session.
fn assert_refused(response: &reqwest::Response, why: &str) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{why}");
    let to = location(response);
    assert!(to.starts_with("/login?"), "{why}: went to {to}");
    assert!(
        set_cookie(response, "cs_access").is_none(),
        "{why}: no session"
    );
    assert_eq!(
        query_param(&format!("http://x{to}"), "error"),
        None,
        "{why}: the message is not in the address"
    );
    let flash = crate::helpers::flash(response).unwrap_or_else(|| panic!("{why}: no flash"));
    assert_eq!(flash.form, "/login", "{why}");
    assert!(!flash.text.is_empty(), "{why}: a message is shown");
    flash.text
}

async fn me(app: &TestApp, access_cookie: &str) -> serde_json::Value {
    let response = app
        .client
        .get(format!("{}/api/v1/auth/me", app.address))
        .header(COOKIE, format!("cs_access={access_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_oidc_sign_in_creates_the_account_and_the_next_one_finds_it() {
    let Some((app, provider)) = spawn().await else {
        return;
    };
    let started = start(
        &app,
        "next=%2Fsettings%2Fprofile&login_hint=lin%40example.com",
    )
    .await;
    // The authorization request: code flow, PKCE S256, state, nonce, exact redirect URI.
    let url = &started.authorize_url;
    assert!(
        url.starts_with(&format!("{}/authorize?", provider.issuer)),
        "{url}"
    );
    assert_eq!(query_param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query_param(url, "redirect_uri"),
        Some(format!("{}/auth/oauth2/oidc/callback", app.address))
    );
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(url, "code_challenge").map(|c| c.len()),
        Some(43)
    );
    assert_eq!(
        query_param(url, "state"),
        Some(started.state_cookie.clone())
    );
    assert!(query_param(url, "nonce").is_some_and(|n| n.len() >= 43));
    assert!(query_param(url, "scope").is_some_and(|s| s.split(' ').any(|x| x == "openid")));

    let back = authorize(&app, &started).await;
    let response = callback(&app, &back, Some(&started.state_cookie)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&response),
        "/settings/profile",
        "back where the user was going"
    );
    assert_eq!(
        set_cookie(&response, "cs_oauth_state").as_deref(),
        Some(""),
        "state cookie cleared"
    );
    let access = set_cookie(&response, "cs_access").expect("signed in");
    assert!(set_cookie(&response, "cs_refresh").is_some_and(|r| !r.is_empty()));
    let user = me(&app, &access).await;
    assert_eq!(user["username"], "lin");
    assert_eq!(user["email"], "lin@example.com");
    assert_eq!(user["display_name"], "Lin Tester");

    let again = sign_in(&app, "lin@example.com", "/").await;
    let second = me(
        &app,
        &set_cookie(&again, "cs_access").expect("signed in again"),
    )
    .await;
    assert_eq!(
        second["id"], user["id"],
        "the same account, not a second one"
    );
    // The audit log has the identity linked once and both sign-ins.
    let user_id: uuid::Uuid = user["id"].as_str().unwrap().parse().unwrap();
    let events = app
        .services
        .audit
        .query(&services::store::AuditQuery {
            user_id: Some(user_id),
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "oauth_linked").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "sign_in").count(),
        2,
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_without_this_browsers_state_is_refused() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    let started = start(&app, "login_hint=mia%40example.com").await;
    let back = authorize(&app, &started).await;
    let code = query_param(&back, "code").unwrap();
    let base = format!("{}/auth/oauth2/oidc/callback", app.address);

    let no_state = callback(
        &app,
        &format!("{base}?code={code}"),
        Some(&started.state_cookie),
    )
    .await;
    assert_refused(&no_state, "no state parameter");
    let no_cookie = callback(&app, &back, None).await;
    assert_refused(&no_cookie, "no state cookie (another browser)");
    let other = start(&app, "login_hint=mia%40example.com").await;
    let wrong_cookie = callback(&app, &back, Some(&other.state_cookie)).await;
    assert_refused(&wrong_cookie, "state cookie of another sign-in");
    let forged = callback(
        &app,
        &format!("{base}?code={code}&state=forged"),
        Some("forged"),
    )
    .await;
    assert_refused(&forged, "a state the server never issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_works_once_and_a_used_code_is_refused() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    let started = start(&app, "login_hint=noa%40example.com").await;
    let back = authorize(&app, &started).await;
    let first = callback(&app, &back, Some(&started.state_cookie)).await;
    assert!(
        set_cookie(&first, "cs_access").is_some(),
        "first use signs in"
    );
    let replay = callback(&app, &back, Some(&started.state_cookie)).await;
    assert_refused(&replay, "the same callback again");

    // The used code with a fresh, valid state: the provider refuses the code.
    let fresh = start(&app, "login_hint=noa%40example.com").await;
    let fresh_state = query_param(&fresh.authorize_url, "state").unwrap();
    let code = query_param(&back, "code").unwrap();
    let url = format!(
        "{}/auth/oauth2/oidc/callback?code={code}&state={fresh_state}",
        app.address
    );
    let reused = callback(&app, &url, Some(&fresh.state_cookie)).await;
    assert_refused(&reused, "a code used once already");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_injected_into_another_sign_in_fails_pkce() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    // The attacker's code (issued for sign-in A's challenge) delivered to the
    // victim's sign-in B: B's verifier does not match A's challenge.
    let a = start(&app, "login_hint=eve%40example.com").await;
    let a_back = authorize(&app, &a).await;
    let b = start(&app, "login_hint=victim%40example.com").await;
    let b_state = query_param(&b.authorize_url, "state").unwrap();
    let a_code = query_param(&a_back, "code").unwrap();
    let url = format!(
        "{}/auth/oauth2/oidc/callback?code={a_code}&state={b_state}",
        app.address
    );
    let response = callback(&app, &url, Some(&b.state_cookie)).await;
    assert_refused(&response, "PKCE mismatch");
    let services = &app.services;
    assert!(services
        .store
        .user_by_verified_email("eve@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_with_a_wrong_nonce_issuer_audience_or_expiry_are_refused() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    for scenario in ["bad-nonce", "bad-iss", "bad-aud", "expired"] {
        let hint = format!("{scenario}:zed@example.com");
        let response = sign_in(&app, &hint, "/").await;
        let message = assert_refused(&response, scenario);
        assert!(
            message.contains("could not be verified"),
            "{scenario}: {message}"
        );
    }
    assert!(app
        .services
        .store
        .user_by_verified_email("zed@example.com")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redirect_uri_is_exact_and_next_never_leaves_the_site() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    for hostile in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/.//evil.example",
    ] {
        let response = sign_in(&app, "ada@example.com", hostile).await;
        assert!(set_cookie(&response, "cs_access").is_some());
        assert_eq!(location(&response), "/", "next={hostile}");
    }
    let started = start(&app, "login_hint=ada%40example.com").await;
    let back = authorize(&app, &started).await;
    let query = back.split_once('?').unwrap().1.to_owned();
    for variant in [
        "/auth/oauth2/oidc/callback/",
        "/auth/oauth2/OIDC/callback",
        "/auth/oauth2/github/callback",
        "/auth/oauth2/oidc/callback2",
    ] {
        let url = format!("{}{variant}?{query}", app.address);
        let response = callback(&app, &url, Some(&started.state_cookie)).await;
        assert!(
            set_cookie(&response, "cs_access").is_none(),
            "{variant} signs nobody in"
        );
    }
    // The state was not spent by the wrong paths: the exact URI still works.
    let response = callback(&app, &back, Some(&started.state_cookie)).await;
    assert!(set_cookie(&response, "cs_access").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_linked_only_by_an_email_verified_on_both_sides() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    // A password account claims pat@example.com; nobody verified that claim.
    app.register("pat").await;
    let response = sign_in(&app, "pat@example.com", "/").await;
    let message = assert_refused(&response, "email of an unverified password account");
    assert!(message.contains("email"), "{message}");

    // An unverified provider email is never used: a new account without email.
    let response = sign_in(&app, "unverified:pat@example.com", "/").await;
    let user = me(&app, &set_cookie(&response, "cs_access").unwrap()).await;
    assert_eq!(user["email"], serde_json::Value::Null);
    assert_ne!(user["username"], "pat");

    // A second identity whose verified email (here from the userinfo
    // endpoint) matches an account created by a verified sign-in: linked.
    let first = sign_in(&app, "kim@example.com", "/").await;
    let kim = me(&app, &set_cookie(&first, "cs_access").unwrap()).await;
    let other = sign_in(&app, "no-email-claim:kim@example.com", "/").await;
    let linked = me(&app, &set_cookie(&other, "cs_access").unwrap()).await;
    assert_eq!(linked["id"], kim["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denial_at_the_provider_and_unknown_providers_land_on_the_sign_in_page() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    let started = start(&app, "").await;
    let state = query_param(&started.authorize_url, "state").unwrap();
    let url = format!(
        "{}/auth/oauth2/oidc/callback?error=access_denied&state={state}",
        app.address
    );
    let response = callback(&app, &url, Some(&started.state_cookie)).await;
    let message = assert_refused(&response, "the user said no");
    assert!(message.contains("cancelled"), "{message}");

    let response = app.get("/auth/oauth2/google/start?next=%2Frooms").await;
    let message = assert_refused(&response, "google is not configured here");
    assert!(message.contains("provider"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_is_a_clear_error_not_a_crash() {
    // Port 1 on loopback: nothing listens there.
    let app = TestApp::spawn_configured(&[
        ("OIDC_ISSUER", "http://127.0.0.1:1"),
        ("OIDC_CLIENT_ID", CLIENT_ID),
        ("OIDC_CLIENT_SECRET", "x"),
    ])
    .await;
    let response = app.get("/auth/oauth2/oidc/start").await;
    let message = assert_refused(&response, "provider down");
    assert!(message.contains("unavailable"), "{message}");
    let response = app
        .post(
            "/api/v1/auth/oauth2/login",
            &json!({"provider": "oidc", "access_token": "x"}),
        )
        .await;
    assert_eq!(response.status(), 502);
    assert_eq!(media_type(&response), "application/problem+json");
    let none: serde_json::Value = TestApp::spawn()
        .await
        .get("/api/v1/auth/oauth2/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]), "nothing configured, nothing offered");
}
