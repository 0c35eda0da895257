//! Sign-in throttling end to end (REST and the browser's no-JavaScript form):
//! parallel guesses are counted before they are checked, strangers cannot
//! lock the owner out, the known-device cookie, bounded logins, and the
//! registration answer that does not tell whose email has an account.
//! Client addresses come from `X-Forwarded-For` through a trusted proxy.

use futures_util::future::join_all;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{json, Value};

use crate::helpers::{media_type, TestApp, GOOD_PASSWORD};

const WRONG: &str = "definitely-not-the-password";

async fn behind_a_proxy() -> TestApp {
    TestApp::spawn_configured(&[("CHATSPHERE_TRUSTED_PROXIES", "127.0.0.1")]).await
}

/// `POST /api/v1/auth/login` from `address`, with a cookie header if given.
async fn login(
    app: &TestApp,
    address: &str,
    login: &str,
    password: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("x-forwarded-for", address)
        .json(&json!({"login": login, "password": password}));
    if let Some(cookie) = cookie {
        request = request
            .header(COOKIE, cookie)
            .header(ORIGIN, app.address.as_str());
    }
    request.send().await.unwrap()
}

/// A plain HTML form post (no JavaScript) to a server function.
async fn form_post(
    app: &TestApp,
    path: &str,
    address: &str,
    fields: &[(&str, &str)],
    extra: &[(reqwest::header::HeaderName, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}{path}", app.address))
        .header("x-forwarded-for", address)
        .header(ACCEPT, "text/html")
        .header(ORIGIN, app.address.as_str())
        .form(fields);
    for (name, value) in extra {
        request = request.header(name, *value);
    }
    request.send().await.unwrap()
}

/// The `name=value` of the known-device cookie a response sets.
fn device_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cs_device="))
        .map(|c| {
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            c.split(';').next().unwrap().to_owned()
        })
        .expect("a known-device cookie")
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(media_type(&response), "application/problem+json");
    response.json().await.unwrap()
}

/// The error a plain form post was sent back to `page` with (as a flash:
/// never in the address).
fn form_error(response: &reqwest::Response, page: &str) -> String {
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()[LOCATION].to_str().unwrap();
    assert!(location.starts_with(page), "{location}");
    assert!(!location.contains("error"), "{location}");
    crate::helpers::flash(response)
        .map(|flash| flash.text)
        .unwrap_or_else(|| panic!("no error for {location}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_from_three_addresses_are_checked_at_most_as_the_policy_allows() {
    let app = behind_a_proxy().await;
    app.register("owner").await;
    let attempts = (0..60).map(|i| {
        let address = format!("198.51.100.{}", i % 3 + 1);
        let app = &app;
        async move { login(app, &address, "owner", WRONG, None).await.status() }
    });
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|s| s.as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // The policy: 5 failures per account from one address (per 15 minutes).
    assert_eq!((checked, refused), (15, 45), "{statuses:?}");

    // The owner, from their own address, still signs in; that sets the
    // known-device cookie, with which even a spent address gets through.
    let own = login(&app, "203.0.113.5", "owner", GOOD_PASSWORD, None).await;
    assert_eq!(own.status(), 200);
    let device = device_cookie(&own);
    let spent = login(&app, "198.51.100.1", "owner", GOOD_PASSWORD, None).await;
    assert!(spent.headers().contains_key("retry-after"));
    problem(spent, 429).await;
    let known = login(&app, "198.51.100.1", "owner", GOOD_PASSWORD, Some(&device)).await;
    assert_eq!(known.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_no_javascript_sign_in_form_honours_and_sets_the_known_device_cookie() {
    let app = behind_a_proxy().await;
    let registered = app
        .client
        .post(format!("{}/api/v1/auth/register", app.address))
        .json(&json!({"username": "formuser", "password": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let device = device_cookie(&registered);
    for _ in 0..5 {
        let wrong = login(&app, "198.51.100.7", "formuser", WRONG, None).await;
        assert_eq!(wrong.status(), 401);
    }
    let fields = [("login", "formuser"), ("password", GOOD_PASSWORD)];
    let refused = form_post(&app, "/rpc/auth/sign_in", "198.51.100.7", &fields, &[]).await;
    assert!(form_error(&refused, "/login").contains("Too many attempts"));
    let known = form_post(
        &app,
        "/rpc/auth/sign_in",
        "198.51.100.7",
        &fields,
        &[(COOKIE, &device)],
    )
    .await;
    assert!(known.status().is_redirection(), "{}", known.status());
    assert_eq!(known.headers()[LOCATION], "/");
    let renewed = device_cookie(&known);
    assert_ne!(renewed, device, "each sign-in renews the device token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_login_is_a_clear_422_and_is_never_counted() {
    let app = behind_a_proxy().await;
    app.register("bounded").await;
    let huge = "x".repeat(1_000_000);
    let p = problem(login(&app, "198.51.100.20", &huge, WRONG, None).await, 422).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("login") && detail.contains("254"),
        "{detail}"
    );
    assert!(detail.len() < 200, "the login is not echoed");
    // More oversized attempts than the address's budget (20) leave it untouched.
    for _ in 0..24 {
        let response = login(&app, "198.51.100.20", &"y".repeat(255), WRONG, None).await;
        assert_eq!(response.status(), 422);
    }
    let form = form_post(
        &app,
        "/rpc/auth/sign_in",
        "198.51.100.20",
        &[("login", &huge), ("password", WRONG)],
        &[],
    )
    .await;
    assert!(form_error(&form, "/login").contains("254"));
    let counted = login(&app, "198.51.100.20", "bounded", WRONG, None).await;
    assert_eq!(counted.status(), 401, "nothing was counted before");
    // The API description states the same bounds.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    // The fields are described in the first part of an allOf (the second
    // says that one of login, username and email must be given).
    let described = &doc["components"]["schemas"]["LoginRequest"]["allOf"][0];
    let fields = &described["properties"];
    for field in ["login", "username", "email"] {
        assert_eq!(fields[field]["maxLength"], domain::Login::MAX, "{field}");
    }
    assert_eq!(fields["password"]["maxLength"], domain::Password::MAX);
    let required = &described["required"];
    assert_eq!(required, &json!(["password"]), "{required}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_does_not_tell_whose_email_has_an_account() {
    let app = TestApp::spawn().await;
    app.register("first").await; // first@example.com
    let taken_name = json!({"username": "FIRST", "password": GOOD_PASSWORD});
    let p = problem(app.post("/api/v1/auth/register", &taken_name).await, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("username"), "{p}");
    let taken_email =
        json!({"username": "second", "email": "First@Example.com", "password": GOOD_PASSWORD});
    let p = problem(app.post("/api/v1/auth/register", &taken_email).await, 422).await;
    let detail = p["detail"].as_str().unwrap();
    assert_eq!(detail, domain::messages::EMAIL_UNAVAILABLE);
    for telling in ["taken", "exists", "already", "registered"] {
        assert!(!detail.contains(telling), "{detail}");
    }
    // The browser's no-JavaScript registration form, in both languages.
    let fields = [
        ("username", "second"),
        ("email", "first@example.com"),
        ("display_name", ""),
        ("password", GOOD_PASSWORD),
    ];
    let en = form_post(&app, "/rpc/auth/sign_up", "127.0.0.1", &fields, &[]).await;
    assert_eq!(
        form_error(&en, "/register"),
        domain::messages::EMAIL_UNAVAILABLE
    );
    let zh = form_post(
        &app,
        "/rpc/auth/sign_up",
        "127.0.0.1",
        &fields,
        &[(ACCEPT_LANGUAGE, "zh-CN")],
    )
    .await;
    let text = form_error(&zh, "/register");
    assert!(!text.is_ascii() && !text.contains("占用"), "{text}");
    // Usernames are public: that answer stays specific.
    let name_taken = [
        ("username", "first"),
        ("email", ""),
        ("display_name", ""),
        ("password", GOOD_PASSWORD),
    ];
    let en = form_post(&app, "/rpc/auth/sign_up", "127.0.0.1", &name_taken, &[]).await;
    assert!(form_error(&en, "/register").contains("username"));
}
