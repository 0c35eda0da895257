//! The admin API: who is an admin, disabling an account (cut off live),
//! the audit log of security and connection events with filters and paging.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::helpers::{user, TestApp, User, GOOD_PASSWORD};
use crate::ws::{close_code, connect};

async fn get_json(app: &TestApp, path: &str, who: &User) -> (u16, Value) {
    let response = app.send(Method::GET, path, None, Some(&who.token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn audit(app: &TestApp, admin: &User, query: &str) -> Vec<Value> {
    let (status, page) = get_json(app, &format!("/api/v1/admin/audit?{query}"), admin).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().unwrap().clone()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_account_is_the_admin_and_only_admins_use_the_admin_api() {
    let app = TestApp::spawn().await;
    let (root, ann) = (user(&app, "root").await, user(&app, "ann").await);
    let (_, me) = get_json(&app, "/api/v1/auth/me", &root).await;
    assert_eq!(me["is_admin"], true);
    let (_, me) = get_json(&app, "/api/v1/auth/me", &ann).await;
    assert_eq!(me["is_admin"], false);
    for path in [
        "/api/v1/admin/users",
        "/api/v1/admin/stats",
        "/api/v1/admin/audit",
    ] {
        let (status, problem) = get_json(&app, path, &ann).await;
        assert_eq!(status, 403, "{path}: {problem}");
        assert_eq!(problem["status"], 403);
    }
    let (status, users) = get_json(&app, "/api/v1/admin/users?search=an", &root).await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users[0]["username"], "ann");
    let (_, stats) = get_json(&app, "/api/v1/admin/stats", &root).await;
    assert_eq!(stats["users"]["total"], 2, "{stats}");
    assert_eq!(stats["users"]["admins"], 1);
    // Making Ann an admin opens the API to her; nobody demotes themself.
    let promote = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/users/{}/role", ann.id),
            Some(&json!({"is_admin": true})),
            Some(&root.token),
        )
        .await;
    assert_eq!(promote.status(), 200);
    assert_eq!(get_json(&app, "/api/v1/admin/users", &ann).await.0, 200);
    let demote_self = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/users/{}/role", root.id),
            Some(&json!({"is_admin": false})),
            Some(&root.token),
        )
        .await;
    assert_eq!(demote_self.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_cut_off_at_once_and_can_come_back() {
    let app = TestApp::spawn().await;
    let (root, ann) = (user(&app, "root").await, user(&app, "ann").await);
    let mut socket = connect(&app, &ann).await;
    let started = std::time::Instant::now();
    let disabled = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/disable", ann.id),
            None,
            Some(&root.token),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    let account: Value = disabled.json().await.unwrap();
    assert!(account["disabled_at"].is_string(), "{account}");
    assert_eq!(close_code(&mut socket, 5).await, Some(CloseCode::Policy));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed by the announcement, not the periodic session check"
    );
    // Her token, her sign-in and a new socket are refused.
    let (status, problem) = get_json(&app, "/api/v1/auth/me", &ann).await;
    assert_eq!(
        (status, &problem["type"]),
        (403, &json!("/problems/account-disabled"))
    );
    let login = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 403);
    let problem: Value = login.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/account-disabled");
    // An admin cannot lock themself out.
    let own = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/disable", root.id),
            None,
            Some(&root.token),
        )
        .await;
    assert_eq!(own.status(), 403);
    // Enabled again, she signs in.
    let enabled = app
        .send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/enable", ann.id),
            None,
            Some(&root.token),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    let login = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    let events = audit(&app, &root, &format!("user_id={}", ann.id)).await;
    let kinds = kinds(&events);
    for kind in [
        "user_disabled",
        "user_enabled",
        "sign_in_failed",
        "connected",
        "disconnected",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let disabled = events
        .iter()
        .find(|e| e["kind"] == "user_disabled")
        .unwrap();
    assert_eq!(
        disabled["actor_id"],
        root.id.as_str(),
        "the acting admin is recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_and_connection_events_are_in_the_audit_log_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    let root = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": "not-her-password-9"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let signed_in: Value = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": GOOD_PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second = signed_in["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = app
        .send(
            Method::POST,
            "/api/v1/auth/password",
            Some(&json!({"current_password": GOOD_PASSWORD, "new_password": "a-brand-new-password-77"})),
            Some(&second),
        )
        .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let socket = connect(&app, &root).await;
    drop(socket);
    let out = app
        .send(Method::POST, "/api/v1/auth/logout", None, Some(&root.token))
        .await;
    assert_eq!(out.status(), 204);
    let root = user_signed_in(&app, "root").await;
    // Connection events are written in the background: wait for them.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let everything = loop {
        let events = audit(&app, &root, "limit=500").await;
        let kinds = kinds(&events);
        if kinds.contains(&"connected") && kinds.contains(&"disconnected") {
            break events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connection events never written: {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let all = kinds(&everything);
    for kind in [
        "sign_in",
        "sign_in_failed",
        "password_changed",
        "sign_out",
        "connected",
        "disconnected",
    ] {
        assert!(all.contains(&kind), "{kind} in {all:?}");
    }
    let failed = everything
        .iter()
        .find(|e| e["kind"] == "sign_in_failed")
        .unwrap();
    assert_eq!(failed["user_id"], ann.id.as_str());
    assert!(
        failed["ip"].as_str().is_some_and(|ip| ip == "127.0.0.1"),
        "{failed}"
    );
    assert!(
        !failed.to_string().contains("not-her-password"),
        "never a password"
    );
    let connected = everything
        .iter()
        .find(|e| e["kind"] == "connected")
        .unwrap();
    assert_eq!(connected["ip"], "127.0.0.1", "{connected}");

    // Filters.
    let only = audit(&app, &root, "kind=sign_in_failed").await;
    assert!(!only.is_empty() && only.iter().all(|e| e["kind"] == "sign_in_failed"));
    let hers = audit(&app, &root, &format!("user_id={}", ann.id)).await;
    let expected = everything
        .iter()
        .filter(|e| e["user_id"] == ann.id.as_str())
        .count();
    assert!(expected > 0, "Ann has events of her own");
    assert_eq!(hers.len(), expected, "exactly Ann's events: {hers:?}");
    assert!(hers.iter().all(|e| e["user_id"] == ann.id.as_str()));
    let (status, _) = get_json(&app, "/api/v1/admin/audit?kind=teleported", &root).await;
    assert_eq!(status, 422);
    // Pages of two cover everything once, newest first.
    let mut paged = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let query = match &next {
            Some(cursor) => format!("limit=2&before={cursor}"),
            None => "limit=2".into(),
        };
        let (status, page) = get_json(&app, &format!("/api/v1/admin/audit?{query}"), &root).await;
        assert_eq!(status, 200);
        paged.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    let ids = |events: &[Value]| events.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    let now = audit(&app, &root, "limit=500").await;
    assert_eq!(ids(&paged), ids(&now), "pages of two = one page of all");
    assert!(paged.len() > 2);
}

async fn user_signed_in(app: &TestApp, name: &str) -> User {
    let value: Value = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": name, "password": GOOD_PASSWORD}),
        )
        .await
        .json()
        .await
        .unwrap();
    User {
        id: value["user"]["id"].as_str().unwrap().to_owned(),
        token: value["tokens"]["access_token"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_retopic_and_delete_rooms_and_see_live_counts() {
    let app = TestApp::spawn().await;
    let (root, ann) = (user(&app, "root").await, user(&app, "ann").await);
    assert_eq!(
        create_room(&app, &ann, json!({"name": "ops", "topic": "x"}))
            .await
            .status(),
        403
    );
    let created = create_room(&app, &root, json!({"name": "ops", "topic": "Operations"})).await;
    assert_eq!(created.status(), 201);
    let room: Value = created.json().await.unwrap();
    assert_eq!(
        create_room(&app, &root, json!({"name": "OPS"}))
            .await
            .status(),
        409,
        "names are unique in any case"
    );
    assert_eq!(
        create_room(&app, &root, json!({"name": "no spaces please"}))
            .await
            .status(),
        422
    );
    let room_id = room["id"].as_str().unwrap().to_owned();
    let retopic = app
        .send(
            Method::PUT,
            &format!("/api/v1/admin/rooms/{room_id}"),
            Some(&json!({"topic": "Ops & on-call"})),
            Some(&root.token),
        )
        .await;
    assert_eq!(retopic.status(), 200);
    let listed: Value = app.get("/api/v1/rooms").await.json().await.unwrap();
    assert!(listed.to_string().contains("Ops & on-call"), "{listed}");

    // Ann joins and listens; the room's deletion reaches her at once.
    let joined = app
        .send(
            Method::POST,
            "/api/v1/rooms/ops/join",
            None,
            Some(&ann.token),
        )
        .await;
    assert!(joined.status().is_success());
    let mut socket = connect(&app, &ann).await;
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{room_id}/messages"),
            Some(&json!({"client_msg_id": "r1", "body": "hello ops"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let (_, live) = get_json(&app, "/api/v1/admin/live", &root).await;
    assert!(
        live["messages_last_minute"].as_u64().unwrap() >= 1,
        "{live}"
    );
    assert_eq!(live["per_minute"].as_array().unwrap().len(), 30);
    assert!(live["online_users"].as_u64().unwrap() >= 1);
    assert_eq!(get_json(&app, "/api/v1/admin/live", &ann).await.0, 403);

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/rooms/{room_id}"),
            None,
            Some(&root.token),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    let left = crate::ws::next_of(&mut socket, "left").await;
    assert_eq!(left["conversation_id"], room_id.as_str());
    let again = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{room_id}/messages"),
            Some(&json!({"client_msg_id": "r2", "body": "anyone?"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(again.status(), 404);
    let events = audit(&app, &root, "").await;
    let kinds = kinds(&events);
    for kind in ["room_created", "room_changed", "room_deleted"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

async fn create_room(app: &TestApp, who: &User, body: Value) -> reqwest::Response {
    app.send(
        Method::POST,
        "/api/v1/admin/rooms",
        Some(&body),
        Some(&who.token),
    )
    .await
}
