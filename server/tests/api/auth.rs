//! `/api/v1/auth`: every endpoint and its failures.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{media_type, TestApp, GOOD_PASSWORD};

fn access(signed_in: &Value) -> String {
    signed_in["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn refresh(signed_in: &Value) -> String {
    signed_in["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(media_type(&response), "application/problem+json");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_signs_in_and_me_returns_the_user() {
    let app = TestApp::spawn().await;
    let signed_in = app.register("ada").await;
    assert_eq!(signed_in["user"]["username"], "ada");
    assert_eq!(signed_in["tokens"]["token_type"], "Bearer");
    assert!(signed_in["tokens"]["expires_in"].as_i64().unwrap() > 800);
    let user_id: uuid::Uuid = signed_in["user"]["id"].as_str().unwrap().parse().unwrap();
    let hash = app
        .services
        .store
        .password_hash(user_id)
        .await
        .unwrap()
        .expect("a password account has a hash");
    let never_echoed = |body: &Value, what: &str| {
        let text = body.to_string();
        for secret in [hash.as_str(), "$argon2", GOOD_PASSWORD, "password"] {
            assert!(!text.contains(secret), "{what} echoes {secret:?}: {text}");
        }
    };
    never_echoed(&signed_in, "registration");
    let logged_in: Value = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ada", "password": GOOD_PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    never_echoed(&logged_in, "sign-in");
    let me: Value = app
        .send(
            Method::GET,
            "/api/v1/auth/me",
            None,
            Some(&access(&signed_in)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], signed_in["user"]["id"]);
    assert_eq!(me["email"], "ada@example.com");
    never_echoed(&me, "the profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_username_is_409_and_a_taken_email_the_generic_422() {
    let app = TestApp::spawn().await;
    app.register("grace").await;
    let body = json!({"username": "GRACE", "password": GOOD_PASSWORD});
    let p = problem(app.post("/api/v1/auth/register", &body).await, 409).await;
    assert_eq!(p["type"], "/problems/conflict");
    assert!(p["detail"].as_str().unwrap().contains("username"));
    let body =
        json!({"username": "other", "email": "Grace@Example.com", "password": GOOD_PASSWORD});
    let p = problem(app.post("/api/v1/auth/register", &body).await, 422).await;
    assert_eq!(p["detail"], domain::messages::EMAIL_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registration_input_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (
            json!({"username": "x", "password": GOOD_PASSWORD}),
            "username",
        ),
        (
            json!({"username": "okay", "email": "nope", "password": GOOD_PASSWORD}),
            "email",
        ),
        (json!({"username": "okay", "password": "short"}), "password"),
        (
            json!({"username": "okay", "password": "password1"}),
            "password",
        ),
    ] {
        let p = problem(app.post("/api/v1/auth/register", &body).await, 422).await;
        assert_eq!(p["type"], "/problems/invalid-input");
        assert!(p["detail"].as_str().unwrap().starts_with(field), "{p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_incomplete_json_is_a_problem_not_a_panic() {
    let app = TestApp::spawn().await;
    let raw = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let p = problem(raw, 400).await;
    assert_eq!(p["type"], "/problems/bad-request");
    let missing = problem(
        app.post("/api/v1/auth/login", &json!({"login": "a"})).await,
        422,
    )
    .await;
    assert!(missing["detail"].as_str().unwrap().contains("password"));
    assert_eq!(missing["type"], "/problems/invalid-input");
    let no_type = app
        .client
        .post(format!("{}/api/v1/auth/login", app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    let no_type = problem(no_type, 415).await;
    assert_eq!(no_type["type"], "/problems/unsupported-type");
    assert_eq!(no_type["title"], "Unsupported media type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.register("alan").await;
    let wrong = problem(
        app.post(
            "/api/v1/auth/login",
            &json!({"login": "alan", "password": "wrong-password-1"}),
        )
        .await,
        401,
    )
    .await;
    let unknown = problem(
        app.post(
            "/api/v1/auth/login",
            &json!({"login": "nobody", "password": "wrong-password-1"}),
        )
        .await,
        401,
    )
    .await;
    let without_id = |mut problem: serde_json::Value| {
        problem.as_object_mut().unwrap().remove("request_id");
        problem
    };
    assert_eq!(without_id(wrong), without_id(unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accepts_the_spec_username_field_and_email() {
    let app = TestApp::spawn().await;
    app.register("barbara").await;
    for body in [
        json!({"username": "barbara", "password": GOOD_PASSWORD}),
        json!({"login": "BARBARA@example.com", "password": GOOD_PASSWORD}),
    ] {
        let response = app.post("/api/v1/auth/login", &body).await;
        assert_eq!(response.status(), 200, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let app = TestApp::spawn().await;
    let signed_in = app.register("linus").await;
    let first = refresh(&signed_in);
    let second: Value = app
        .post(
            "/api/v1/auth/token/refresh",
            &json!({"refresh_token": first}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first);
    let new_access = second["access_token"].as_str().unwrap();
    assert_eq!(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(new_access))
            .await
            .status(),
        200
    );

    // Replaying the first refresh token ends the session: every token of it stops working.
    problem(
        app.post(
            "/api/v1/auth/token/refresh",
            &json!({"refresh_token": first}),
        )
        .await,
        401,
    )
    .await;
    problem(
        app.post(
            "/api/v1/auth/token/refresh",
            &json!({"refresh_token": second_refresh}),
        )
        .await,
        401,
    )
    .await;
    problem(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(new_access))
            .await,
        401,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_then_the_old_access_token_is_refused() {
    let app = TestApp::spawn().await;
    let signed_in = app.register("ken").await;
    let token = access(&signed_in);
    assert_eq!(
        app.send(Method::POST, "/api/v1/auth/logout", None, Some(&token))
            .await
            .status(),
        204
    );
    let p = problem(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(&token))
            .await,
        401,
    )
    .await;
    assert_eq!(p["type"], "/problems/unauthorized");
    problem(
        app.post(
            "/api/v1/auth/token/refresh",
            &json!({"refresh_token": refresh(&signed_in)}),
        )
        .await,
        401,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_other_sessions_but_not_this_one() {
    let app = TestApp::spawn().await;
    let laptop = app.register("margaret").await;
    let phone: Value = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "margaret", "password": GOOD_PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let change =
        json!({"current_password": "not-it-at-all", "new_password": "copper-kettle-93-fjord"});
    problem(
        app.send(
            Method::POST,
            "/api/v1/auth/password",
            Some(&change),
            Some(&access(&laptop)),
        )
        .await,
        // The token is good: a 401 would tell the client to sign out.
        403,
    )
    .await;
    let change =
        json!({"current_password": GOOD_PASSWORD, "new_password": "copper-kettle-93-fjord"});
    let response = app
        .send(
            Method::POST,
            "/api/v1/auth/password",
            Some(&change),
            Some(&access(&laptop)),
        )
        .await;
    assert_eq!(response.status(), 204);
    problem(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(&access(&phone)))
            .await,
        401,
    )
    .await;
    assert_eq!(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(&access(&laptop)))
            .await
            .status(),
        200
    );
    let old = json!({"login": "margaret", "password": GOOD_PASSWORD});
    problem(app.post("/api/v1/auth/login", &old).await, 401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_can_be_revoked_one_or_all_others() {
    let app = TestApp::spawn().await;
    let first = app.register("dennis").await;
    let login = json!({"login": "dennis", "password": GOOD_PASSWORD});
    let second: Value = app
        .post("/api/v1/auth/login", &login)
        .await
        .json()
        .await
        .unwrap();
    let third: Value = app
        .post("/api/v1/auth/login", &login)
        .await
        .json()
        .await
        .unwrap();
    let token = access(&first);

    let list: Vec<Value> = app
        .send(Method::GET, "/api/v1/auth/sessions", None, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        list.iter().all(|s| s["ip_address"] == "127.0.0.1"),
        "{list:?}"
    );

    let target = second["tokens"]["session_id"].as_str().unwrap();
    let path = format!("/api/v1/auth/sessions/{target}");
    assert_eq!(
        app.send(Method::DELETE, &path, None, Some(&token))
            .await
            .status(),
        204
    );
    problem(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(&access(&second)))
            .await,
        401,
    )
    .await;
    problem(
        app.send(Method::DELETE, &path, None, Some(&token)).await,
        404,
    )
    .await;

    let revoked: Value = app
        .send(Method::DELETE, "/api/v1/auth/sessions", None, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["revoked"], 1);
    problem(
        app.send(Method::GET, "/api/v1/auth/me", None, Some(&access(&third)))
            .await,
        401,
    )
    .await;
    let list: Vec<Value> = app
        .send(Method::GET, "/api/v1/auth/sessions", None, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_update_is_validated_and_kept() {
    let app = TestApp::spawn().await;
    let token = access(&app.register("frances").await);
    let change =
        json!({"display_name": "Frances 艾伦", "avatar_url": "https://img.example.com/f.png"});
    let me: Value = app
        .send(Method::PUT, "/api/v1/auth/me", Some(&change), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Frances 艾伦");
    assert_eq!(me["email"], "frances@example.com");
    let again: Value = app
        .send(Method::GET, "/api/v1/auth/me", None, Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["avatar_url"], "https://img.example.com/f.png");
    let bad = json!({"avatar_url": "javascript:alert(1)"});
    problem(
        app.send(Method::PUT, "/api/v1/auth/me", Some(&bad), Some(&token))
            .await,
        422,
    )
    .await;
    app.register("other").await;
    let taken = json!({"email": "other@example.com"});
    let p = problem(
        app.send(Method::PUT, "/api/v1/auth/me", Some(&taken), Some(&token))
            .await,
        422,
    )
    .await;
    assert_eq!(p["detail"], domain::messages::EMAIL_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_endpoints_need_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/api/v1/auth/me"),
        (Method::POST, "/api/v1/auth/logout"),
        (Method::GET, "/api/v1/auth/sessions"),
        (Method::DELETE, "/api/v1/auth/sessions"),
    ] {
        let response = app.send(method.clone(), path, None, None).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problem(response, 401).await;
        problem(app.send(method, path, None, Some("not.a.jwt")).await, 401).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_the_auth_endpoints_and_bearer_scheme() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/token/refresh",
        "/api/v1/auth/me",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/auth/me"]["put"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    app.register("hopper").await;
    let wrong = json!({"login": "hopper", "password": "definitely-wrong-1"});
    for _ in 0..5 {
        problem(app.post("/api/v1/auth/login", &wrong).await, 401).await;
    }
    let right = json!({"login": "hopper", "password": GOOD_PASSWORD});
    let response = app.post("/api/v1/auth/login", &right).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    let p = problem(response, 429).await;
    assert_eq!(p["type"], "/problems/too-many-requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_access_cookie_is_accepted_like_a_bearer_token() {
    let app = TestApp::spawn().await;
    let token = access(&app.register("cookie_user").await);
    let me = app
        .client
        .get(format!("{}/api/v1/auth/me", app.address))
        .header("cookie", format!("cs_access={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let forged = app
        .client
        .get(format!("{}/api/v1/auth/me", app.address))
        .header("cookie", "cs_access=forged.token.value")
        .send()
        .await
        .unwrap();
    problem(forged, 401).await;
}
