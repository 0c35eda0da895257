//! What is personal is not stored by any cache: pages rendered for a
//! signed-in user, API answers to a token, and responses that set the
//! session cookies carry `Cache-Control: private, no-store`; what is the
//! same for everyone (pages and the room directory for visitors) does not:
//! pages are `no-cache`, the API's public answers as they are.

use reqwest::header::{ACCEPT, CACHE_CONTROL, COOKIE, ORIGIN};
use reqwest::Response;

use crate::helpers::{TestApp, GOOD_PASSWORD};

fn cache_control(response: &Response) -> Option<&str> {
    response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_and_personal_api_answers_are_private_no_store() {
    let app = TestApp::spawn().await;
    let signed_in = app.register("ann").await;
    let token = signed_in["tokens"]["access_token"].as_str().unwrap();
    let cookie = format!("cs_access={token}");
    for path in [
        "/",
        "/rooms",
        "/settings/profile",
        "/settings/security",
        "/new",
        "/no-such-page",
    ] {
        let page = app
            .client
            .get(format!("{}{path}", app.address))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(cache_control(&page), Some("private, no-store"), "{path}");
    }
    for path in [
        "/api/v1/auth/me",
        "/api/v1/conversations",
        "/api/v1/auth/sessions",
    ] {
        let bearer = app
            .send(reqwest::Method::GET, path, None, Some(token))
            .await;
        assert_eq!(bearer.status(), 200, "{path}");
        assert_eq!(cache_control(&bearer), Some("private, no-store"), "{path}");
        let browser = app
            .client
            .get(format!("{}{path}", app.address))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            cache_control(&browser),
            Some("private, no-store"),
            "{path} (cookie)"
        );
    }
    // Signing in answers with the session cookies: not to be stored either.
    let form = app
        .client
        .post(format!("{}/rpc/auth/sign_in", app.address))
        .header(ORIGIN, &app.address)
        .header(ACCEPT, "text/html")
        .form(&[("login", "ann"), ("password", GOOD_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(form.status().is_redirection());
    assert_eq!(cache_control(&form), Some("private, no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_visitors_see_is_left_to_the_usual_caching() {
    let app = TestApp::spawn().await;
    // Pages may be kept but are revalidated (a new build names new files).
    for (path, expected) in [
        ("/rooms", Some("no-cache")),
        ("/login", Some("no-cache")),
        ("/api/v1/rooms", None),
        ("/health", None),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(cache_control(&response), expected, "{path}");
    }
    // A cookie that is not a session (the language) changes nothing.
    let response = app
        .client
        .get(format!("{}/rooms", app.address))
        .header(COOKIE, "lang=zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&response), Some("no-cache"));
}
