//! Personal access tokens: shown once, stored hashed, scoped, revoked at
//! once (connections too), audited; never a session's rights.

use futures_util::SinkExt;
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::{new_token, token_with};
use crate::helpers::{call, say, user, TestApp};
use crate::ws::{close_code, connect, next_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_within_its_scopes_and_stops_when_revoked() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "crew", &[&bob]).await;
    let messages = format!("/api/v1/conversations/{group}/messages");

    let (secret, info) = new_token(
        &app,
        &ann,
        json!({"name": "  read only  ", "scopes": ["read"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(info["name"], "read only");
    assert_eq!(info["scopes"], json!(["read"]));
    assert!(info["last_used_at"].is_null());
    let reader = crate::helpers::User {
        id: ann.id.clone(),
        token: secret.clone(),
    };
    // It reads, as Ann.
    let (status, me) = call(&app, &reader, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!((status, me["id"].as_str()), (200, Some(ann.id.as_str())));
    let (status, _) = call(&app, &reader, Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(status, 200);
    // It does not write, nor do what only a session may.
    let body = json!({"client_msg_id": "t1", "body": "hi"});
    let (status, problem) = call(&app, &reader, Method::POST, &messages, Some(body)).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("post scope"));
    for (method, path, body) in [
        (Method::GET, "/api/v1/auth/sessions", None),
        (Method::POST, "/api/v1/auth/logout", None),
        (Method::POST, "/api/v1/auth/password", Some(json!({}))),
        (Method::GET, "/api/v1/admin/users", None),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "more", "scopes": ["read"], "expires_in_days": 1})),
        ),
    ] {
        let (status, problem) = call(&app, &reader, method.clone(), path, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
    }
    // Never stored as given; listed without it, with its last use.
    let (_, listed) = call(&app, &ann, Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret[4..]));
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    // The socket: it receives, and may not send.
    let mut socket = connect(&app, &reader).await;
    say(&app, &bob, &group, "to everyone").await;
    let event = next_of(&mut socket, "message").await;
    assert_eq!(event["message"]["body"], "to everyone");
    let frame =
        json!({"type": "send", "conversation_id": group, "client_msg_id": "s1", "body": "no"});
    socket.send(Message::text(frame.to_string())).await.unwrap();
    let refused = next_of(&mut socket, "error").await;
    assert!(refused["detail"].as_str().unwrap().contains("post scope"));

    // A post-scoped token writes as Ann.
    let writer = token_with(&app, &ann, &["read", "post"]).await;
    let sent = say(&app, &writer, &group, "from a script").await;
    assert_eq!(sent["sender_id"].as_str(), Some(ann.id.as_str()));

    // Revoked: refused at once, and its connection closes.
    let id = info["id"].as_str().unwrap();
    let (status, revoked) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = call(&app, &reader, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, 401);
    assert!(close_code(&mut socket, 5).await.is_some());
    // The other token still works.
    let (status, _) = call(&app, &writer, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, 200);
    // A token may revoke itself, not another.
    let (status, _) = call(
        &app,
        &writer,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Audited, with who did it.
    let (status, audit) = call(
        &app,
        &ann,
        Method::GET,
        "/api/v1/admin/audit?kind=token_revoked",
        None,
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["events"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_validated_and_owned_and_admins_see_them_all() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await; // the first account: an admin
    let bob = user(&app, "bob").await;
    for bad in [
        json!({"name": "", "scopes": ["read"], "expires_in_days": 1}),
        json!({"name": "x", "scopes": [], "expires_in_days": 1}),
        json!({"name": "x", "scopes": ["root"], "expires_in_days": 1}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}),
        json!({"name": "x", "scopes": ["read"], "expires_in_days": 367}),
        json!({"name": "x\u{7}", "scopes": ["read"], "expires_in_days": 1}),
        json!({"name": "x", "scopes": ["read"]}),
    ] {
        let (status, problem) = call(
            &app,
            &bob,
            Method::POST,
            "/api/v1/tokens",
            Some(bad.clone()),
        )
        .await;
        assert!(status == 422 || status == 400, "{bad} → {status} {problem}");
    }
    // Only an admin's own token may have the admin scope.
    let admin_scoped = json!({"name": "ops", "scopes": ["admin"], "expires_in_days": 1});
    let (status, _) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/tokens",
        Some(admin_scoped.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let ops = token_with(&app, &ann, &["read", "admin"]).await;
    let (status, _) = call(&app, &ops, Method::GET, "/api/v1/admin/users", None).await;
    assert_eq!(status, 200);
    let plain = token_with(&app, &ann, &["read", "post"]).await;
    let (status, _) = call(&app, &plain, Method::GET, "/api/v1/admin/users", None).await;
    assert_eq!(status, 403);
    // Nor does it carry an admin's powers elsewhere: it sees only Ann's own.
    let (status, _) = call(
        &app,
        &plain,
        Method::GET,
        &format!("/api/v1/tokens?user_id={}", bob.id),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Bob's token is his: Ann's list does not show it, Bob cannot see or
    // revoke hers; an admin lists and revokes anyone's.
    let (_, bobs) = super::new_token(
        &app,
        &bob,
        json!({"name": "bob's", "scopes": ["read"], "expires_in_days": 7}),
    )
    .await;
    let bobs_id = bobs["id"].as_str().unwrap();
    let (_, anns) = call(&app, &ann, Method::GET, "/api/v1/tokens", None).await;
    assert!(anns
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != bobs["id"]));
    let (status, _) = call(
        &app,
        &bob,
        Method::GET,
        &format!("/api/v1/tokens?user_id={}", ann.id),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, all) = call(&app, &ann, Method::GET, "/api/v1/admin/tokens", None).await;
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    let (status, _) = call(&app, &bob, Method::GET, "/api/v1/admin/tokens", None).await;
    assert_eq!(status, 403);
    let anns_id = anns[0]["id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/v1/tokens/{anns_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/tokens/{bobs_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Expired is refused (never used, so no process has it looked up).
    let (secret, _) = super::new_token(
        &app,
        &bob,
        json!({"name": "short", "scopes": ["read"], "expires_in_days": 1}),
    )
    .await;
    app.sql("update access_tokens set expires_at = '2000-01-01T00:00:00Z' where name = 'short'")
        .await;
    let expired = crate::helpers::User {
        id: bob.id.clone(),
        token: secret,
    };
    let (status, _) = call(&app, &expired, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, 401);
    // A made-up or overlong token is refused the same way.
    for fake in ["csp_nothing".to_owned(), format!("csp_{}", "a".repeat(500))] {
        let who = crate::helpers::User {
            id: bob.id.clone(),
            token: fake,
        };
        let (status, _) = call(&app, &who, Method::GET, "/api/v1/auth/me", None).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_token_moderates_public_rooms_only_with_the_admin_scope() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MENTION_ALL_MAX", "2")]).await;
    let root = user(&app, "root").await; // the first account: an admin
    let _ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    // #general, which everyone joined: three members, over the limit.
    let (_, rooms) = call(&app, &bob, Method::GET, "/api/v1/rooms", None).await;
    let general = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let delete = |id: &str| format!("/api/v1/conversations/{general}/messages/{}", id.to_owned());

    // With `post` only, the admin's token acts as a member: Bob's message
    // stays, and @all calls nobody (on the REST API and the socket alike).
    let plain = token_with(&app, &root, &["read", "post"]).await;
    let first = say(&app, &bob, &general, "first").await;
    let first = first["id"].as_str().unwrap();
    let (status, refused) = call(&app, &plain, Method::DELETE, &delete(first), None).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        say(&app, &plain, &general, "@all by token")
            .await
            .get("mentions_all"),
        None
    );
    let mut socket = connect(&app, &plain).await;
    socket
        .send(Message::text(
            json!({"type": "delete", "conversation_id": general, "message_id": first}).to_string(),
        ))
        .await
        .unwrap();
    let ack = next_of(&mut socket, "change_ack").await;
    assert!(ack.get("change").is_none(), "{ack}");
    assert_eq!(ack["error"]["status"], 403, "{ack}");
    socket
        .send(Message::text(
            json!({"type": "send", "conversation_id": general,
                   "client_msg_id": "socket-all", "body": "@all by socket"})
            .to_string(),
        ))
        .await
        .unwrap();
    let sent = next_of(&mut socket, "message").await;
    assert_eq!(sent["message"]["body"], "@all by socket", "{sent}");
    assert_eq!(sent["message"].get("mentions_all"), None, "{sent}");
    // Nor does it manage the room's webhooks (their URLs hold secrets).
    let hooks = format!("/api/v1/conversations/{general}/webhooks");
    let (status, _) = call(&app, &plain, Method::GET, &hooks, None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, &root, Method::GET, &hooks, None).await;
    assert_eq!(status, 200);

    // With `admin` too, and signed in, the admin moderates the room.
    let ops = token_with(&app, &root, &["read", "post", "admin"]).await;
    assert_eq!(
        say(&app, &ops, &general, "@all by admin token").await["mentions_all"],
        true
    );
    let (status, _) = call(&app, &ops, Method::GET, &hooks, None).await;
    assert_eq!(status, 200);
    let (status, gone) = call(&app, &ops, Method::DELETE, &delete(first), None).await;
    assert_eq!(status, 200, "{gone}");
    let second = say(&app, &bob, &general, "second").await;
    let (status, _) = call(
        &app,
        &root,
        Method::DELETE,
        &delete(second["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);
}
