//! Cross-site request forgery: with the victim's session cookie but an
//! `Origin` of another site — a stranger, a sibling subdomain (same site:
//! SameSite=Lax cookies go along) or `null` — server functions, sign-in,
//! sign-out and cookie-authenticated REST writes are refused with 403 and
//! change nothing; from the site itself they work; bearer-token clients need
//! no `Origin`.

use reqwest::header::{ACCEPT, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::helpers::{media_type, TestApp, GOOD_PASSWORD};

/// The site's own origin (the app is configured with exactly this one).
const SITE: &str = "http://chat.example.test";
/// Origins that must be refused.
const FOREIGN: [&str; 4] = [
    "http://evil.example",
    "http://files.example.test",
    "null",
    "http://chat.example.test.evil.example",
];

async fn spawn() -> TestApp {
    TestApp::spawn_configured(&[("CHATSPHERE_ALLOWED_ORIGINS", SITE)]).await
}

/// A signed-in browser: the account's id, its bearer token and the
/// `Cookie` header of its session.
struct Browser {
    id: String,
    token: String,
    cookie: String,
}

async fn browser(app: &TestApp, name: &str) -> Browser {
    let signed_in = app.register(name).await;
    let token = signed_in["tokens"]["access_token"].as_str().unwrap();
    let refresh = signed_in["tokens"]["refresh_token"].as_str().unwrap();
    Browser {
        id: signed_in["user"]["id"].as_str().unwrap().to_owned(),
        token: token.to_owned(),
        cookie: format!("cs_access={token}; cs_refresh={refresh}"),
    }
}

/// `method path` as a browser sends it: the cookie (if any) and `origin`.
fn from(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    origin: &str,
) -> RequestBuilder {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.address))
        .header(ORIGIN, origin);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request
}

async fn assert_refused(response: Response, what: &str) {
    assert_eq!(response.status(), 403, "{what}");
    assert!(
        response.headers().get(SET_COOKIE).is_none(),
        "{what}: no cookie set"
    );
    assert_eq!(media_type(&response), "application/problem+json", "{what}");
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("cross-site"),
        "{what}: {problem}"
    );
}

async fn general(app: &TestApp, token: &str) -> String {
    let rooms: Value = app
        .send(Method::GET, "/api/v1/rooms", None, Some(token))
        .await
        .json()
        .await
        .unwrap();
    rooms["rooms"][0]["id"].as_str().unwrap().to_owned()
}

async fn bodies(app: &TestApp, room: &str, token: &str) -> Vec<String> {
    let page: Value = app
        .send(
            Method::GET,
            &format!("/api/v1/messages/group/{room}"),
            None,
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn status_of(app: &TestApp, token: &str) -> u16 {
    app.send(Method::GET, "/api/v1/auth/me", None, Some(token))
        .await
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_from_another_origin_are_refused_and_change_nothing() {
    let app = spawn().await;
    let admin = browser(&app, "root").await; // the first account: an admin
    let ann = browser(&app, "ann").await;
    let room = general(&app, &ann.token).await;
    for origin in FOREIGN {
        let send = from(
            &app,
            Method::POST,
            "/rpc/chat/send",
            Some(&ann.cookie),
            origin,
        )
        .form(&[
            ("conversation_id", room.as_str()),
            ("client_msg_id", &format!("forged-{origin}")),
            ("body", "forged"),
        ])
        .send()
        .await
        .unwrap();
        assert_refused(send, &format!("send from {origin}")).await;

        let disable = from(
            &app,
            Method::POST,
            "/rpc/admin/update_account",
            Some(&admin.cookie),
            origin,
        )
        .form(&[("user_id", ann.id.as_str()), ("change", "disable")])
        .send()
        .await
        .unwrap();
        assert_refused(disable, &format!("admin disable from {origin}")).await;

        let sign_out = from(
            &app,
            Method::POST,
            "/rpc/auth/sign_out",
            Some(&ann.cookie),
            origin,
        )
        .send()
        .await
        .unwrap();
        assert_refused(sign_out, &format!("sign-out from {origin}")).await;

        // Login CSRF: no cookie at all, the attacker's own credentials.
        let sign_in = from(&app, Method::POST, "/rpc/auth/sign_in", None, origin)
            .form(&[("login", "root"), ("password", GOOD_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_refused(sign_in, &format!("sign-in from {origin}")).await;
    }
    assert!(
        bodies(&app, &room, &ann.token).await.is_empty(),
        "nothing sent"
    );
    assert_eq!(
        status_of(&app, &ann.token).await,
        200,
        "not disabled, not signed out"
    );

    // From the site itself, the same calls work.
    let send = from(
        &app,
        Method::POST,
        "/rpc/chat/send",
        Some(&ann.cookie),
        SITE,
    )
    .form(&[
        ("conversation_id", room.as_str()),
        ("client_msg_id", "genuine-1"),
        ("body", "genuine"),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(send.status(), 200);
    assert_eq!(bodies(&app, &room, &ann.token).await, ["genuine"]);
    let sign_in = from(&app, Method::POST, "/rpc/auth/sign_in", None, SITE)
        .form(&[("login", "ann"), ("password", GOOD_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(sign_in.headers().get_all(SET_COOKIE).iter().count() >= 2);
    let disable = from(
        &app,
        Method::POST,
        "/rpc/admin/update_account",
        Some(&admin.cookie),
        SITE,
    )
    .form(&[("user_id", ann.id.as_str()), ("change", "disable")])
    .send()
    .await
    .unwrap();
    assert_eq!(disable.status(), 200);
    assert_ne!(status_of(&app, &ann.token).await, 200, "disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_origin_only_a_same_origin_fetch_passes_and_a_form_gets_a_readable_page() {
    let app = spawn().await;
    let ann = browser(&app, "ann").await;
    let room = general(&app, &ann.token).await;
    let post = |fetch_site: Option<&str>, key: &str| {
        let mut request = app
            .client
            .post(format!("{}/rpc/chat/send", app.address))
            .header(COOKIE, &ann.cookie)
            .form(&[
                ("conversation_id", room.as_str()),
                ("client_msg_id", key),
                ("body", key),
            ]);
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    assert_refused(post(None, "none").await.unwrap(), "no Origin").await;
    assert_refused(
        post(Some("same-site"), "same-site").await.unwrap(),
        "same-site",
    )
    .await;
    assert_refused(
        post(Some("cross-site"), "cross-site").await.unwrap(),
        "cross-site",
    )
    .await;
    assert_eq!(
        post(Some("same-origin"), "same-origin")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(bodies(&app, &room, &ann.token).await, ["same-origin"]);

    // A plain form post from another site: a page a person can read.
    let page = from(
        &app,
        Method::POST,
        "/rpc/chat/send",
        Some(&ann.cookie),
        "http://evil.example",
    )
    .header(ACCEPT, "text/html,application/xhtml+xml")
    .form(&[
        ("conversation_id", room.as_str()),
        ("client_msg_id", "x"),
        ("body", "x"),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(page.status(), 403);
    assert_eq!(media_type(&page), "text/html");
    assert!(page.text().await.unwrap().contains("another site"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_authenticated_rest_writes_need_this_sites_origin_and_bearer_clients_do_not() {
    let app = spawn().await;
    let ann = browser(&app, "ann").await;
    let ben = browser(&app, "ben").await;
    let room = general(&app, &ann.token).await;
    let opened: Value = app
        .send(
            Method::POST,
            "/api/v1/conversations/direct",
            Some(&json!({"user_id": ann.id})),
            Some(&ben.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let direct = opened["id"].as_str().unwrap().to_owned();
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{direct}/messages"),
            Some(&json!({"client_msg_id": "b1", "body": "hi ann"})),
            Some(&ben.token),
        )
        .await;
    assert_eq!(sent.status(), 201, "a bearer client needs no Origin");
    let read_seq = || async {
        let receipts: Value = app
            .send(
                Method::GET,
                &format!("/api/v1/conversations/{direct}/receipts"),
                None,
                Some(&ann.token),
            )
            .await
            .json()
            .await
            .unwrap();
        receipts["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == ann.id.as_str())
            .unwrap()["read_seq"]
            .as_i64()
            .unwrap()
    };
    for origin in FOREIGN {
        let write = from(
            &app,
            Method::POST,
            &format!("/api/v1/conversations/{room}/messages"),
            Some(&ann.cookie),
            origin,
        )
        .json(&json!({"client_msg_id": format!("c-{origin}"), "body": "forged"}))
        .send()
        .await
        .unwrap();
        assert_refused(write, &format!("REST send from {origin}")).await;
        // A form with enctype=text/plain can post to this one.
        let read = from(
            &app,
            Method::POST,
            &format!("/api/v1/conversations/{direct}/read"),
            Some(&ann.cookie),
            origin,
        )
        .send()
        .await
        .unwrap();
        assert_refused(read, &format!("mark read from {origin}")).await;
        for (method, path) in [
            (Method::POST, "/api/v1/auth/logout"),
            (Method::DELETE, "/api/v1/auth/sessions"),
            (Method::PUT, "/api/v1/auth/me"),
        ] {
            let response = from(&app, method, path, Some(&ann.cookie), origin)
                .json(&json!({"display_name": "Forged"}))
                .send()
                .await
                .unwrap();
            assert_refused(response, &format!("{path} from {origin}")).await;
        }
    }
    assert!(bodies(&app, &room, &ann.token).await.is_empty());
    assert_eq!(read_seq().await, 0, "not marked read");
    assert_eq!(status_of(&app, &ann.token).await, 200, "still signed in");

    let read = from(
        &app,
        Method::POST,
        &format!("/api/v1/conversations/{direct}/read"),
        Some(&ann.cookie),
        SITE,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read.status(), 204);
    assert_eq!(read_seq().await, 1);
    // GET with the cookie from anywhere reads, as before (the browser keeps
    // the answer from a foreign page: CORS).
    let me = from(
        &app,
        Method::GET,
        "/api/v1/auth/me",
        Some(&ann.cookie),
        "http://evil.example",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(me.status(), 200);
    let logout = from(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&ann.cookie),
        SITE,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(logout.status(), 204);
}
