//! Editing and deleting messages over REST and the socket: who may, what
//! members see live and after a reconnect, and that a deletion erases.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::groups::new_group;
use crate::helpers::{call, group_history, say, user, TestApp, User};
use crate::ws::{connect, next_of, send, silent, try_connect, Socket};

async fn edit(app: &TestApp, who: &User, message: &Value, body: &str) -> (u16, Value) {
    call(
        app,
        who,
        Method::PATCH,
        &format!(
            "/api/v1/conversations/{}/messages/{}",
            message["conversation_id"].as_str().unwrap(),
            message["id"].as_str().unwrap()
        ),
        Some(json!({ "body": body })),
    )
    .await
}

async fn delete(app: &TestApp, who: &User, message: &Value) -> (u16, Value) {
    call(
        app,
        who,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{}/messages/{}",
            message["conversation_id"].as_str().unwrap(),
            message["id"].as_str().unwrap()
        ),
        None,
    )
    .await
}

/// The platform admin (the first account), a group owner, a member and an outsider.
async fn cast(app: &TestApp) -> (User, User, User, User, String) {
    let admin = user(app, "root").await;
    let owner = user(app, "olga").await;
    let member = user(app, "max").await;
    let outsider = user(app, "otto").await;
    let group = new_group(app, &owner, "crew", &[&member, &admin]).await;
    (admin, owner, member, outsider, group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sender_edits_and_every_edit_is_numbered() {
    let app = TestApp::spawn().await;
    let (admin, owner, member, outsider, group) = cast(&app).await;
    let message = say(&app, &member, &group, "helo wrold").await;
    assert_eq!(message.get("change"), None, "a new message has no change");

    let (status, edited) = edit(&app, &member, &message, "hello world").await;
    assert_eq!(status, 200, "{edited}");
    let edited = &edited["message"];
    assert_eq!(edited["body"], "hello world");
    assert_eq!(edited["change"], 1);
    assert_eq!(edited["seq"], message["seq"], "it keeps its place");
    assert!(edited["edited_at"].is_string());
    // The same text again changes nothing.
    let (_, again) = edit(&app, &member, &message, "hello world").await;
    assert_eq!(again["message"]["change"], 1);

    // Nobody edits another person's words: not the owner, not an admin.
    for (who, name) in [(&owner, "owner"), (&admin, "server admin")] {
        let (status, problem) = edit(&app, who, &message, "mine now").await;
        assert_eq!(status, 403, "{name}: {problem}");
        assert_eq!(problem["detail"], domain::messages::NOT_YOUR_MESSAGE);
    }
    // Outside the group it does not exist.
    assert_eq!(edit(&app, &outsider, &message, "x").await.0, 404);
    // Bad text is refused like a send's.
    assert_eq!(edit(&app, &member, &message, "  ").await.0, 422);
    assert_eq!(
        edit(&app, &member, &message, &"x".repeat(4001)).await.0,
        422
    );

    let (_, second) = edit(&app, &member, &message, "hello, world").await;
    assert_eq!(second["message"]["change"], 2);
    let shown = group_history(&app, &owner, &group).await;
    assert_eq!(shown[0]["body"], "hello, world");
    assert_eq!(shown[0]["change"], 2);
    // The replaced texts are kept apart, for the audit log only.
    let id = message["id"].as_str().unwrap().parse().unwrap();
    let versions = app.services.store.message_versions(id).await.unwrap();
    let bodies: Vec<&str> = versions.iter().map(|v| v.body.as_str()).collect();
    assert_eq!(bodies, ["helo wrold", "hello world"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_managers_and_admins_in_rooms_delete_and_the_text_is_erased() {
    let app = TestApp::spawn().await;
    let (admin, owner, member, outsider, group) = cast(&app).await;
    let mine = say(&app, &member, &group, "zqsecretmarker4d1f then typo").await;
    edit(&app, &member, &mine, "zqsecretmarker4d1f fixed").await;
    // Indexed for search (SQLite indexes new messages after storing them;
    // a search first indexes what waits), so the erasure below covers the
    // index too.
    let (status, found) = call(
        &app,
        &member,
        Method::GET,
        "/api/v1/search?q=zqsecretmarker4d1f",
        None,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["messages"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    let owners = say(&app, &owner, &group, "from the owner").await;

    // A member may not delete someone else's message; an outsider finds nothing.
    let (status, problem) = delete(&app, &member, &owners).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["detail"], domain::messages::MAY_NOT_DELETE);
    assert_eq!(delete(&app, &outsider, &mine).await.0, 404);
    // A server admin is an ordinary member of a group.
    assert_eq!(delete(&app, &admin, &owners).await.0, 403);

    // The sender may.
    let (status, gone) = delete(&app, &member, &mine).await;
    assert_eq!(status, 200, "{gone}");
    let gone = &gone["message"];
    assert_eq!(gone["body"], "");
    assert!(gone["deleted_at"].is_string());
    assert_eq!(gone["seq"], mine["seq"], "a tombstone keeps its place");
    assert_eq!(gone["change"], 2);
    // Again: nothing changes. An edit finds nothing.
    assert_eq!(delete(&app, &member, &mine).await.1["message"]["change"], 2);
    assert_eq!(edit(&app, &member, &mine, "back").await.0, 404);
    let id = mine["id"].as_str().unwrap().parse().unwrap();
    assert!(app
        .services
        .store
        .message_versions(id)
        .await
        .unwrap()
        .is_empty());
    let stored = app.services.store.message(id).await.unwrap().unwrap();
    assert_eq!(stored.body, "");

    // The owner may delete a member's message.
    let other = say(&app, &member, &group, "to be moderated").await;
    assert_eq!(delete(&app, &owner, &other).await.0, 200);

    // In a public room, the server's admins moderate.
    let (_, rooms) = call(&app, &member, Method::GET, "/api/v1/rooms", None).await;
    let general = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    let said = say(&app, &member, &general, "in the room").await;
    assert_eq!(
        delete(&app, &owner, &said).await.0,
        403,
        "a plain member of the room"
    );
    assert_eq!(delete(&app, &admin, &said).await.0, 200);

    // Audited: who deleted whose message.
    let (_, log) = call(
        &app,
        &admin,
        Method::GET,
        "/api/v1/admin/audit?kind=message_deleted",
        None,
    )
    .await;
    assert_eq!(log["events"].as_array().map(Vec::len), Some(3), "{log}");

    // Not even on disk (SQLite: the file and its write-ahead log, emptied
    // by a checkpoint within moments of the deletion).
    if !crate::helpers::on_postgres_and_redis() {
        // One word, which the search index holds whole (its pages share no
        // prefix with a word before it: nothing else starts with "zq").
        let marker = b"secretmarker4d1f";
        let on_disk = || {
            ["chatsphere.db", "chatsphere.db-wal"].iter().any(|name| {
                let bytes = std::fs::read(app.data_dir().join(name)).unwrap_or_default();
                bytes.windows(marker.len()).any(|w| w == marker)
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while on_disk() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            !on_disk(),
            "the deleted text is still in the database files"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_of_another_conversation_is_not_found_through_this_one() {
    let app = TestApp::spawn().await;
    let (_, owner, member, _, group) = cast(&app).await;
    let other = new_group(&app, &owner, "other", &[&member]).await;
    let message = say(&app, &member, &other, "elsewhere").await;
    let path = format!(
        "/api/v1/conversations/{group}/messages/{}",
        message["id"].as_str().unwrap()
    );
    let (status, _) = call(
        &app,
        &member,
        Method::PATCH,
        &path,
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        call(&app, &member, Method::DELETE, &path, None).await.0,
        404
    );
    let (status, _) = call(
        &app,
        &member,
        Method::PATCH,
        "/api/v1/conversations/x/messages/y",
        Some(json!({"body": "x"})),
    )
    .await;
    assert_eq!(status, 400, "a malformed id is a malformed request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edit_window_closes() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_EDIT_WINDOW", "1")]).await;
    let (_, _, member, _, group) = cast(&app).await;
    let message = say(&app, &member, &group, "quick").await;
    assert_eq!(edit(&app, &member, &message, "quick fix").await.0, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, problem) = edit(&app, &member, &message, "too late").await;
    assert_eq!(status, 403);
    assert_eq!(problem["detail"], domain::messages::EDIT_WINDOW_OVER);
    // Deleting has no window.
    assert_eq!(delete(&app, &member, &message).await.0, 200);
}

/// The next `changed` frame's message.
async fn next_change(socket: &mut Socket) -> Value {
    next_of(socket, "changed").await["message"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_changes_live_in_order_and_the_socket_edits_too() {
    let app = TestApp::spawn().await;
    let (_, owner, member, _, group) = cast(&app).await;
    let mut watching = connect(&app, &owner).await;
    let mut editing = connect(&app, &member).await;
    let message = say(&app, &member, &group, "first").await;
    let id = message["id"].as_str().unwrap();

    edit(&app, &member, &message, "second").await;
    let seen = next_change(&mut watching).await;
    assert_eq!(
        (seen["body"].as_str(), seen["change"].as_i64()),
        (Some("second"), Some(1))
    );

    // Over the socket: answered with change_ack, delivered as changed.
    send(
        &mut editing,
        json!({"type": "edit", "conversation_id": group, "message_id": id, "body": "third"}),
    )
    .await;
    let ack = next_of(&mut editing, "change_ack").await;
    assert_eq!(ack["change"], 2, "{ack}");
    assert_eq!(ack["message_id"], id);
    let seen = next_change(&mut watching).await;
    assert_eq!(
        (seen["body"].as_str(), seen["change"].as_i64()),
        (Some("third"), Some(2))
    );

    // A refusal names its status, like a send's.
    send(
        &mut watching,
        json!({"type": "edit", "conversation_id": group, "message_id": id, "body": "owner's"}),
    )
    .await;
    let refused = next_of(&mut watching, "change_ack").await;
    assert_eq!(refused["error"]["status"], 403, "{refused}");
    assert_eq!(refused.get("change"), None);

    send(
        &mut editing,
        json!({"type": "delete", "conversation_id": group, "message_id": id}),
    )
    .await;
    assert_eq!(next_of(&mut editing, "change_ack").await["change"], 3);
    let seen = next_change(&mut watching).await;
    assert_eq!(seen["change"], 3);
    assert_eq!(seen["body"], "");
    assert!(seen["deleted_at"].is_string());
    // Each once.
    silent(&mut watching, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_was_away_gets_the_changes_it_missed_once_each() {
    let app = TestApp::spawn().await;
    let (_, owner, member, _, group) = cast(&app).await;
    let kept = say(&app, &member, &group, "kept").await;
    let edited = say(&app, &member, &group, "edited twice").await;
    let removed = say(&app, &member, &group, "removed").await;
    edit(&app, &member, &kept, "kept, edited once").await; // change 1: the client saw it
                                                           // The client goes away holding messages up to `removed` and change 1.
    edit(&app, &member, &edited, "edited once").await; // 2
    edit(&app, &member, &edited, "edited twice, for real").await; // 3
    delete(&app, &member, &removed).await; // 4
    let late = say(&app, &member, &group, "new while away").await;
    edit(&app, &member, &late, "new while away, edited").await; // 5

    let auth = format!("Bearer {}", owner.token);
    let mut socket = try_connect(&app, "?resume=1", &[("authorization", &auth)])
        .await
        .unwrap();
    assert_eq!(next_of(&mut socket, "ready").await["type"], "ready");
    send(
        &mut socket,
        json!({
            "type": "resume",
            "positions": { &group: removed["seq"] },
            "changes": { &group: 1 },
        }),
    )
    .await;
    let mut frames = Vec::new();
    loop {
        let frame = crate::ws::next_json(&mut socket).await;
        if frame["type"] == "resumed" {
            break;
        }
        frames.push(frame);
    }
    let seen: Vec<(String, String, i64)> = frames
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap().to_owned(),
                f["message"]["body"].as_str().unwrap().to_owned(),
                f["message"]["change"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    // The new message in its latest state, then each changed message once,
    // in change order, in its latest state (the new one is not repeated).
    assert_eq!(
        seen,
        [
            ("message".into(), "new while away, edited".into(), 5),
            ("changed".into(), "edited twice, for real".into(), 3),
            ("changed".into(), String::new(), 4),
        ]
    );
    // Live changes go on from there.
    edit(&app, &member, &kept, "kept, edited again").await;
    assert_eq!(next_change(&mut socket).await["change"], 6);

    // The same over REST, paged.
    let (status, page) = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v1/conversations/{group}/changes?after=1&limit=2"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let changes: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["change"].as_i64().unwrap())
        .collect();
    assert_eq!(changes, [3, 4]);
    assert_eq!(page["next_after"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_positions_and_array_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (_, _, member, _, group) = cast(&app).await;
    let message = say(&app, &member, &group, "hi").await;
    for after in ["-1", "9223372036854775808", "x"] {
        let path = format!("/api/v1/conversations/{group}/changes?after={after}");
        assert_eq!(
            call(&app, &member, Method::GET, &path, None).await.0,
            400,
            "{after}"
        );
    }
    // serde reads an array as a struct's fields in order: the API does not.
    let path = format!(
        "/api/v1/conversations/{group}/messages/{}",
        message["id"].as_str().unwrap()
    );
    let (status, _) = call(&app, &member, Method::PATCH, &path, Some(json!(["edited"]))).await;
    assert_eq!(status, 422);
    let read = format!("/api/v1/conversations/{group}/read");
    assert_eq!(
        call(&app, &member, Method::POST, &read, Some(json!([])))
            .await
            .0,
        422
    );
    assert_eq!(
        call(&app, &member, Method::POST, &read, Some(json!({"seq": 1})))
            .await
            .0,
        204
    );
}
