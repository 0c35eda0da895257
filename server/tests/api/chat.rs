//! Conversations and messages through the REST API: default rooms, direct
//! conversations, groups, public rooms, idempotent sending, history paging,
//! and membership enforced on every path.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{call, media_type, user, TestApp, User};

async fn send(
    app: &TestApp,
    who: &User,
    conversation: &str,
    client_id: &str,
    body: &str,
) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(json!({"client_msg_id": client_id, "body": body})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_is_in_general_and_can_post_there_at_once() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let (status, list) = call(&app, &ann, Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(status, 200);
    let conversations = list["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["name"], "general");
    assert_eq!(conversations[0]["kind"], "room");
    let general = conversations[0]["id"].as_str().unwrap();
    let (status, sent) = send(&app, &ann, general, "first", "大家好 👋").await;
    assert_eq!(status, 201);
    assert_eq!(sent["message"]["seq"], 1);
    let (status, page) = call(
        &app,
        &ann,
        Method::GET,
        "/api/v1/messages/room/general",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][0]["body"], "大家好 👋");
    assert_eq!(page["messages"][0]["sender_name"], "ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_talk_in_a_direct_conversation_and_a_retry_is_not_a_duplicate() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let (status, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ben.id})),
    )
    .await;
    assert_eq!(status, 200);
    let dm = dm["id"].as_str().unwrap().to_owned();
    let (_, again) = call(
        &app,
        &ben,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ann.id})),
    )
    .await;
    assert_eq!(again["id"], dm.as_str(), "one conversation per pair");

    let (status, first) = send(&app, &ann, &dm, "a-1", "hi Ben").await;
    assert_eq!(status, 201);
    let (status, retry) = send(&app, &ann, &dm, "a-1", "hi Ben").await;
    assert_eq!(status, 200, "a retry returns the original");
    assert_eq!(retry["message"]["id"], first["message"]["id"]);
    assert_eq!(send(&app, &ben, &dm, "b-1", "hi Ann").await.0, 201);
    assert_eq!(send(&app, &ann, &dm, "a-2", "lunch?").await.0, 201);

    let (_, list) = call(&app, &ben, Method::GET, "/api/v1/conversations", None).await;
    let entry = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == dm.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["name"], "ann");
    assert_eq!(
        entry["unread"], 1,
        "Ann's newest; answering marked the rest read"
    );
    assert_eq!(entry["last_message"]["body"], "lunch?");

    // Ann reads the history by Ben's user id (the spec's /messages/{type}/{id}).
    let (status, page) = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/messages/direct/{}", ben.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["lunch?", "hi Ann", "hi Ben"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_cursor_paged_newest_first() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let (_, group) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/groups",
        Some(json!({"name": "log"})),
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();
    for i in 1..=7 {
        assert_eq!(
            send(&app, &ann, &group, &format!("m{i}"), &format!("n{i}"))
                .await
                .0,
            201
        );
    }
    let path = format!("/api/v1/messages/group/{group}?limit=3");
    let (_, page) = call(&app, &ann, Method::GET, &path, None).await;
    let seqs = |p: &Value| -> Vec<i64> {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&page), [7, 6, 5]);
    assert_eq!(page["next_before"], 5);
    let (_, page) = call(&app, &ann, Method::GET, &format!("{path}&before=5"), None).await;
    assert_eq!(seqs(&page), [4, 3, 2]);
    let (_, page) = call(&app, &ann, Method::GET, &format!("{path}&before=2"), None).await;
    assert_eq!(seqs(&page), [1]);
    assert_eq!(page["next_before"], Value::Null);
    let (status, _) = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/messages/group/{group}?limit=1000"),
        None,
    )
    .await;
    assert_eq!(
        status, 400,
        "a page size beyond the documented range is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_reads_posts_to_or_manages_a_conversation_they_are_not_in() {
    let app = TestApp::spawn().await;
    let (ann, ben, eve) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "eve").await,
    );
    let (_, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ben.id})),
    )
    .await;
    let dm = dm["id"].as_str().unwrap().to_owned();
    send(&app, &ann, &dm, "secret", "just between us").await;
    let (_, group) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/groups",
        Some(json!({"name": "inner circle", "member_ids": [ben.id]})),
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();

    for path in [
        format!("/api/v1/messages/direct/{dm}"),
        format!("/api/v1/messages/group/{group}"),
    ] {
        assert_eq!(
            call(&app, &eve, Method::GET, &path, None).await.0,
            404,
            "{path}"
        );
    }
    assert_eq!(send(&app, &eve, &dm, "x", "let me in").await.0, 404);
    assert_eq!(send(&app, &eve, &group, "x", "let me in").await.0, 404);
    let add = format!("/api/v1/conversations/{group}/members");
    assert_eq!(
        call(
            &app,
            &eve,
            Method::POST,
            &add,
            Some(json!({"user_id": eve.id}))
        )
        .await
        .0,
        404
    );
    let (_, list) = call(&app, &eve, Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(
        list["conversations"].as_array().unwrap().len(),
        1,
        "only general"
    );

    // A plain member may not add people; the owner may; anyone may leave.
    assert_eq!(
        call(
            &app,
            &ben,
            Method::POST,
            &add,
            Some(json!({"user_id": eve.id}))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &app,
            &ann,
            Method::POST,
            &add,
            Some(json!({"user_id": eve.id}))
        )
        .await
        .0,
        204
    );
    assert_eq!(send(&app, &eve, &group, "in", "thanks").await.0, 201);
    let remove_ann = format!("/api/v1/conversations/{group}/members/{}", ann.id);
    assert_eq!(
        call(&app, &eve, Method::DELETE, &remove_ann, None).await.0,
        403
    );
    let leave = format!("/api/v1/conversations/{group}/members/{}", eve.id);
    assert_eq!(call(&app, &eve, Method::DELETE, &leave, None).await.0, 204);
    assert_eq!(send(&app, &eve, &group, "again", "back?").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_rooms_are_readable_by_all_but_posting_needs_joining() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let (_, rooms) = call(&app, &ann, Method::GET, "/api/v1/rooms", None).await;
    let tech = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tech")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(&app, &ann, Method::GET, "/api/v1/messages/room/tech", None)
            .await
            .0,
        200
    );
    let (status, problem) = send(&app, &ann, &tech, "t1", "hello tech").await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("join"));
    let (status, joined) = call(&app, &ann, Method::POST, "/api/v1/rooms/tech/join", None).await;
    assert_eq!(status, 200);
    assert_eq!(joined["id"], tech.as_str());
    assert_eq!(send(&app, &ann, &tech, "t1", "hello tech").await.0, 201);
    let (_, rooms) = call(&app, &ann, Method::GET, "/api/v1/rooms", None).await;
    let count = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tech")
        .unwrap()["member_count"]
        .clone();
    assert_eq!(count, 1);
    assert_eq!(
        call(&app, &ann, Method::POST, "/api/v1/rooms/tech/leave", None)
            .await
            .0,
        200
    );
    assert_eq!(send(&app, &ann, &tech, "t2", "bye").await.0, 403);
    assert_eq!(
        call(&app, &ann, Method::POST, "/api/v1/rooms/nowhere/join", None)
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_and_requests_get_clear_problems() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let (_, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ben.id})),
    )
    .await;
    let dm = dm["id"].as_str().unwrap().to_owned();
    let (_, general) = call(&app, &ann, Method::POST, "/api/v1/rooms/general/join", None).await;
    let (_, other) = send(
        &app,
        &ann,
        general["id"].as_str().unwrap(),
        "g",
        "elsewhere",
    )
    .await;
    let long = "长".repeat(4001);
    let path = format!("/api/v1/conversations/{dm}/messages");
    for (body, field) in [
        (json!({"client_msg_id": "a", "body": "   "}), "body"),
        (json!({"client_msg_id": "b", "body": long}), "body"),
        (json!({"client_msg_id": "", "body": "hi"}), "client_msg_id"),
        (
            json!({"client_msg_id": "has space", "body": "hi"}),
            "client_msg_id",
        ),
    ] {
        let (status, problem) = call(&app, &ann, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            problem["detail"].as_str().unwrap().starts_with(field),
            "{body}: {problem}"
        );
    }
    // A reply to a message of another conversation refers to nothing here.
    let elsewhere = json!({"client_msg_id": "c", "body": "hi", "reply_to": other["message"]["id"]});
    let (status, problem) = call(&app, &ann, Method::POST, &path, Some(elsewhere)).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["detail"], "message not found");
    assert_eq!(
        call(
            &app,
            &ann,
            Method::POST,
            &path,
            Some(json!({"body": "no id"}))
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call(&app, &ann, Method::GET, "/api/v1/messages/channel/x", None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(
            &app,
            &ann,
            Method::GET,
            "/api/v1/messages/group/not-a-uuid",
            None
        )
        .await
        .0,
        404
    );
    let unknown = Uuid::now_v7();
    assert_eq!(
        send(&app, &ann, &unknown.to_string(), "z", "void").await.0,
        404
    );
    assert_eq!(
        call(
            &app,
            &ann,
            Method::POST,
            "/api/v1/conversations/direct",
            Some(json!({"user_id": unknown}))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(
            &app,
            &ann,
            Method::POST,
            "/api/v1/conversations/groups",
            Some(json!({"name": ""}))
        )
        .await
        .0,
        422
    );
    let anonymous = app.get("/api/v1/conversations").await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(media_type(&anonymous), "application/problem+json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_by_part_of_their_name() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    user(&app, "wang_wei").await;
    user(&app, "wangfang").await;
    let (status, found) = call(&app, &ann, Method::GET, "/api/v1/users/search?q=WANG", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = found["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wang_wei", "wangfang"]);
    assert_eq!(
        call(&app, &ann, Method::GET, "/api/v1/users/search?q=", None)
            .await
            .0,
        422
    );
    let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/conversations",
        "/api/v1/messages/{kind}/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/users/search",
        "/api/v1/rooms/{room}/join",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_faster_than_the_per_user_rate_is_refused_with_retry_after() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let (_, general) = call(&app, &ann, Method::POST, "/api/v1/rooms/general/join", None).await;
    let path = format!(
        "/api/v1/conversations/{}/messages",
        general["id"].as_str().unwrap()
    );
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..15 {
        let body = json!({"client_msg_id": format!("r{i}"), "body": "quick"});
        let response = app
            .send(Method::POST, &path, Some(&body), Some(&ann.token))
            .await;
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").cloned();
        }
        statuses.push(response.status().as_u16());
    }
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    assert!((10..15).contains(&accepted), "{statuses:?}");
    assert!(statuses.contains(&429));
    assert_eq!(retry_after.unwrap(), "1");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let body = json!({"client_msg_id": "later", "body": "calm again"});
    let response = app
        .send(Method::POST, &path, Some(&body), Some(&ann.token))
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_a_server_restart() {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chat.db", data.path().display());
    let vars = [("DATABASE_URL", url.as_str())];
    let first = TestApp::spawn_with(&vars).await;
    let ann = user(&first, "ann").await;
    let (_, general) = call(
        &first,
        &ann,
        Method::POST,
        "/api/v1/rooms/general/join",
        None,
    )
    .await;
    let general = general["id"].as_str().unwrap().to_owned();
    assert_eq!(send(&first, &ann, &general, "k1", "kept").await.0, 201);
    first.shutdown().await.unwrap();

    let second = TestApp::spawn_with(&vars).await;
    let signed_in = second
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": crate::helpers::GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(signed_in.status(), 200);
    let token = signed_in.json::<Value>().await.unwrap()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ann = User { id: ann.id, token };
    let (status, page) = call(
        &second,
        &ann,
        Method::GET,
        "/api/v1/messages/room/general",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][0]["body"], "kept");
    // The sequence carries on after the restart.
    let (_, sent) = send(&second, &ann, &general, "k2", "after").await;
    assert_eq!(sent["message"]["seq"], 2);
}
