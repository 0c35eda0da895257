//! `POST /api/v1/auth/oauth2/login` against a real OIDC provider
//! (oauth2-mock-server on loopback): a token a client obtained from the
//! provider signs in only when the provider vouches it was issued to *our*
//! client — an ID token verified like the browser flow's, or an access
//! token whose introspection names our client id. Tokens the provider
//! issued to another application (`evil-third-party-app`) are refused.

use reqwest::StatusCode;
use serde_json::{json, Value};
use services::auth::oauth::{NONCE_MAX_CHARS, PROVIDER_TOKEN_MAX_CHARS};

use crate::helpers::{media_type, TestApp};
use crate::oauth::{set_cookie, sign_in, spawn};
use crate::oidc_provider::{OidcProvider, EVIL_CLIENT, OUR_CLIENT};

const LOGIN: &str = "/api/v1/auth/oauth2/login";

/// Posts `body` to the login endpoint; returns the status and JSON body.
async fn login(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = app.post(LOGIN, body).await;
    let status = response.status();
    if status != StatusCode::OK {
        assert_eq!(media_type(&response), "application/problem+json", "{body}");
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The id of the account a browser sign-in as `hint` lands in.
async fn browser_account(app: &TestApp, hint: &str) -> String {
    let response = sign_in(app, hint, "/").await;
    let access = set_cookie(&response, "cs_access").expect("signed in through the browser");
    let me: Value = app
        .send(reqwest::Method::GET, "/api/v1/auth/me", None, Some(&access))
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

fn assert_refused(status: StatusCode, problem: &Value, why: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {problem}");
    assert_eq!(
        problem["detail"],
        domain::messages::PROVIDER_TOKEN_REFUSED,
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_to_another_application_does_not_sign_in_its_user() {
    let Some((app, provider)) = spawn().await else {
        return;
    };
    let victim = browser_account(&app, "victim@example.com").await;
    // The victim once signed into another app at the same provider; that
    // app (or whoever runs it) holds the tokens the provider issued it.
    let stolen = provider
        .issue("victim@example.com", EVIL_CLIENT, None)
        .await;

    let (status, problem) = login(
        &app,
        &json!({"provider": "oidc", "access_token": stolen.access_token}),
    )
    .await;
    assert_ne!(
        problem["user"]["id"], victim,
        "signed into the victim's account"
    );
    assert_refused(status, &problem, "another app's access token");

    let (status, problem) = login(
        &app,
        &json!({"provider": "oidc", "id_token": stolen.id_token}),
    )
    .await;
    assert_refused(status, &problem, "another app's ID token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_access_token_signs_in_once_introspection_names_our_client() {
    let Some((app, provider)) = spawn().await else {
        return;
    };
    let token = provider.access_token_for("mobile@example.com").await;
    let (status, body) = login(&app, &json!({"provider": "oidc", "access_token": token})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["username"], "mobile");
    assert_eq!(body["user"]["email"], "mobile@example.com");
    let access = body["tokens"]["access_token"].as_str().unwrap();
    let me = app
        .send(reqwest::Method::GET, "/api/v1/auth/me", None, Some(access))
        .await;
    assert_eq!(me.status(), 200);

    // The same person through the browser later: the same account.
    assert_eq!(
        browser_account(&app, "mobile@example.com").await,
        body["user"]["id"].as_str().unwrap()
    );

    // Introspection that says only "active", or "not active", is not enough.
    let bare = provider
        .access_token_for("introspect-bare:mo@example.com")
        .await;
    let (status, problem) = login(&app, &json!({"provider": "oidc", "access_token": bare})).await;
    assert_refused(status, &problem, "an answer that names no client");
    let unknown = json!({"provider": "oidc", "access_token": "not-a-token-it-issued"});
    let (status, problem) = login(&app, &unknown).await;
    assert_refused(status, &problem, "a token the provider never issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_asked_with_our_client_credentials() {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    let mut vars = provider.vars().to_vec();
    vars[2] = ("OIDC_CLIENT_SECRET", "not-the-registered-secret");
    let app = TestApp::spawn_configured(&vars).await;
    let token = provider.access_token_for("cred@example.com").await;
    let (status, problem) = login(&app, &json!({"provider": "oidc", "access_token": token})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
    assert_eq!(problem["detail"], domain::messages::PROVIDER_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_introspection_access_tokens_are_refused_and_id_tokens_work() {
    let Some(provider) = OidcProvider::start_with(&["--no-introspection"]).await else {
        return;
    };
    let app = TestApp::spawn_configured(&provider.vars()).await;
    let ours = provider.issue("ivy@example.com", OUR_CLIENT, None).await;
    let (status, problem) = login(
        &app,
        &json!({"provider": "oidc", "access_token": ours.access_token}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("access_token:") && detail.contains("id_token"),
        "{detail}"
    );
    let (status, body) = login(
        &app,
        &json!({"provider": "oidc", "id_token": ours.id_token}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "ivy@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_id_token_signs_in_the_account_of_the_browser_flow() {
    let Some((app, provider)) = spawn().await else {
        return;
    };
    let account = browser_account(&app, "ida@example.com").await;
    let with_nonce = provider
        .issue("ida@example.com", OUR_CLIENT, Some("nonce-1"))
        .await;
    let body = json!({"provider": "oidc", "id_token": with_nonce.id_token, "nonce": "nonce-1"});
    let (status, signed_in) = login(&app, &body).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["user"]["id"], account);
    let without = provider.issue("ida@example.com", OUR_CLIENT, None).await;
    let (status, signed_in) = login(
        &app,
        &json!({"provider": "oidc", "id_token": without.id_token}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    assert_eq!(signed_in["user"]["id"], account);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_expired_foreign_forged_or_with_another_nonce_are_refused() {
    let Some((app, provider)) = spawn().await else {
        return;
    };
    let mut cases = Vec::new();
    for scenario in ["bad-aud", "bad-iss", "expired"] {
        let issued = provider
            .issue(&format!("{scenario}:zed@example.com"), OUR_CLIENT, None)
            .await;
        cases.push((scenario.to_owned(), issued.id_token, None));
    }
    let evil = provider.issue("zed@example.com", EVIL_CLIENT, None).await;
    cases.push(("aud evil-third-party-app".into(), evil.id_token, None));
    let nonced = provider
        .issue("zed@example.com", OUR_CLIENT, Some("n-1"))
        .await;
    cases.push(("another nonce".into(), nonced.id_token.clone(), Some("n-2")));
    let plain = provider.issue("zed@example.com", OUR_CLIENT, None).await;
    cases.push((
        "a nonce it lacks".into(),
        plain.id_token.clone(),
        Some("n-1"),
    ));
    // Another user's payload under this token's signature; no signature.
    let parts: Vec<&str> = plain.id_token.split('.').collect();
    let other = provider.issue("root@example.com", OUR_CLIENT, None).await;
    let other_payload = other.id_token.split('.').nth(1).unwrap().to_owned();
    let forged = format!("{}.{other_payload}.{}", parts[0], parts[2]);
    cases.push(("a payload it did not sign".into(), forged, None));
    let unsigned = format!("eyJhbGciOiJub25lIn0.{}.", parts[1]);
    cases.push(("alg none".into(), unsigned, None));
    cases.push(("not a JWT".into(), "a.b.c".into(), None));

    for (why, id_token, nonce) in cases {
        let mut body = json!({"provider": "oidc", "id_token": id_token});
        if let Some(nonce) = nonce {
            body["nonce"] = json!(nonce);
        }
        let (status, problem) = login(&app, &body).await;
        assert_refused(status, &problem, &why);
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
async fn malformed_bodies_and_oversized_tokens_get_422_problems() {
    let Some((app, _provider)) = spawn().await else {
        return;
    };
    let long = "a".repeat(PROVIDER_TOKEN_MAX_CHARS + 1);
    let long_nonce = "n".repeat(NONCE_MAX_CHARS + 1);
    let cases = [
        (
            json!({"provider": "oidc"}),
            "id_token or an access_token is required",
        ),
        (
            json!({"provider": "oidc", "id_token": "a.b.c", "access_token": "t"}),
            "not both",
        ),
        (
            json!({"provider": "oidc", "access_token": "t", "nonce": "n"}),
            "nonce goes only with an id_token",
        ),
        (
            json!({"provider": "oidc", "access_token": "t", "client_id": "x"}),
            "unknown field",
        ),
        (json!({"access_token": "t"}), "provider"),
        (
            json!({"provider": "oidc", "access_token": ""}),
            "access_token:",
        ),
        (
            json!({"provider": "oidc", "access_token": long}),
            "access_token:",
        ),
        (json!({"provider": "oidc", "id_token": long}), "id_token:"),
        (
            json!({"provider": "oidc", "access_token": "to ken"}),
            "access_token:",
        ),
        (
            json!({"provider": "oidc", "access_token": "tök"}),
            "access_token:",
        ),
        (
            json!({"provider": "oidc", "id_token": "a.b.c", "nonce": long_nonce}),
            "nonce:",
        ),
        (
            json!({"provider": "oidc", "id_token": "a.b.c", "nonce": "a\nb"}),
            "nonce:",
        ),
    ];
    for (body, says) in cases {
        let (status, problem) = login(&app, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let (status, _) = login(&app, &json!({"provider": "facebook", "access_token": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let providers: Value = app
        .get("/api/v1/auth/oauth2/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers, json!([{"id": "oidc", "name": "Test SSO"}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_takes_no_id_tokens_and_checks_access_tokens_with_its_app_api() {
    // Port 1 on loopback: nothing listens, so nothing reaches GitHub.
    let app = TestApp::spawn_configured(&[
        ("GITHUB_CLIENT_ID", "Iv1.chatsphere"),
        ("GITHUB_CLIENT_SECRET", "secret"),
        ("GITHUB_URL", "http://127.0.0.1:1"),
        ("GITHUB_API_URL", "http://127.0.0.1:1/api/v3"),
    ])
    .await;
    let (status, problem) = login(&app, &json!({"provider": "github", "id_token": "a.b.c"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().starts_with("id_token:"));
    let (status, problem) = login(
        &app,
        &json!({"provider": "github", "access_token": "gho_x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_both_kinds_of_token_and_their_bounds() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let variants: Vec<&str> = schemas["OAuth2LoginRequest"]["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .map(|v| v["$ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        variants,
        [
            "#/components/schemas/IdTokenLogin",
            "#/components/schemas/AccessTokenLogin"
        ]
    );
    let id = &schemas["IdTokenLogin"];
    assert_eq!(id["required"], json!(["provider", "id_token"]));
    assert_eq!(id["additionalProperties"], json!(false));
    assert_eq!(
        id["properties"]["id_token"]["maxLength"],
        PROVIDER_TOKEN_MAX_CHARS
    );
    assert_eq!(id["properties"]["nonce"]["maxLength"], NONCE_MAX_CHARS);
    let access = &schemas["AccessTokenLogin"];
    assert_eq!(access["required"], json!(["provider", "access_token"]));
    assert_eq!(access["additionalProperties"], json!(false));
    assert_eq!(
        access["properties"]["access_token"]["maxLength"],
        PROVIDER_TOKEN_MAX_CHARS
    );
    assert_eq!(access["properties"]["access_token"]["minLength"], 1);
    let responses = &doc["paths"][LOGIN]["post"]["responses"];
    for status in ["200", "401", "404", "422", "502"] {
        assert!(responses[status].is_object(), "{status} is documented");
    }
}
