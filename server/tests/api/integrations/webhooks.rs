//! Incoming webhooks: managed by a conversation's owners and admins, posted
//! to in Slack's format by anyone holding the address, answered as Slack
//! does, refused once the creator has left.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, group_history, media_type, user, TestApp, User};
use crate::ws::{connect, next_of};

/// Posts `body` (JSON) to `path`; the status and the plain-text answer.
async fn hook(app: &TestApp, path: &str, body: &Value) -> (u16, String) {
    let response = app.post(path, body).await;
    let status = response.status().as_u16();
    if status != 413 {
        assert_eq!(media_type(&response), "text/plain", "{path}");
    }
    (status, response.text().await.unwrap())
}

async fn create(app: &TestApp, who: &User, conversation: &str, name: &str) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/webhooks"),
        Some(json!({ "name": name })),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_payload_posted_to_a_webhook_appears_live_from_its_bot() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[&bob]).await;

    // Bob is a member, not an owner or admin.
    let (status, _) = create(&app, &bob, &group, "CI").await;
    assert_eq!(status, 403);
    let (status, created) = create(&app, &ann, &group, "CI alerts").await;
    assert_eq!(status, 201, "{created}");
    let path = created["path"].as_str().unwrap().to_owned();
    let hook_id = created["hook"]["id"].as_str().unwrap().to_owned();
    assert!(path.starts_with(&format!("/hooks/{hook_id}/")), "{path}");
    let (_, listed) = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/conversations/{group}/webhooks"),
        None,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed
        .to_string()
        .contains(path.rsplit('/').next().unwrap()));
    let (status, _) = call(
        &app,
        &bob,
        Method::GET,
        &format!("/api/v1/conversations/{group}/webhooks"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    let mut socket = connect(&app, &bob).await;
    let payload = json!({
        "text": "Deploy *finished* <!here>",
        "username": "deploy-bot",
        "icon_url": "https://example.com/a.png",
        "attachments": [{"title": "Build 7", "title_link": "https://ci.example.com/7", "text": "all green",
                         "fields": [{"title": "Branch", "value": "main"}]}]
    });
    assert_eq!(hook(&app, &path, &payload).await, (200, "ok".to_owned()));
    let event = next_of(&mut socket, "message").await;
    let message = &event["message"];
    assert_eq!(message["sender_name"], "CI alerts");
    assert_eq!(message["sender_bot"], true);
    assert_eq!(message["label"], "deploy-bot");
    assert_eq!(
        message["body"],
        "Deploy **finished** @here\n\n**[Build 7](https://ci.example.com/7)**\nall green\n**Branch**: main"
    );
    assert_eq!(message["mentions_all"], true);
    // The plain form and a form-encoded payload work too.
    assert_eq!(hook(&app, &path, &json!({"body": "plain"})).await.0, 200);
    let form = app
        .client
        .post(format!("{}{path}", app.address))
        .form(&[("payload", r#"{"text": "from a form"}"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let history = group_history(&app, &bob, &group).await;
    assert_eq!(history[0]["body"], "from a form");
    assert_eq!(history[1]["body"], "plain");

    // Refusals, as Slack words them.
    let secret = path.rsplit('/').next().unwrap();
    let wrong = format!("/hooks/{hook_id}/{}", "x".repeat(secret.len()));
    assert_eq!(
        hook(&app, &wrong, &payload).await,
        (403, "invalid_token".into())
    );
    let long = format!("/hooks/{hook_id}/{}", "x".repeat(5000));
    assert_eq!(
        hook(&app, &long, &payload).await,
        (403, "invalid_token".into())
    );
    let unknown = format!("/hooks/{}/{secret}", uuid::Uuid::now_v7());
    assert_eq!(
        hook(&app, &unknown, &payload).await,
        (404, "no_service".into())
    );
    assert_eq!(
        hook(&app, &format!("/hooks/not-an-id/{secret}"), &payload)
            .await
            .0,
        404
    );
    assert_eq!(
        hook(&app, &path, &json!({"username": "x"})).await,
        (400, "no_text".into())
    );
    assert_eq!(
        hook(&app, &path, &json!({"text": 5})).await,
        (400, "invalid_payload".into())
    );
    assert_eq!(
        hook(&app, &path, &json!([1])).await,
        (400, "invalid_payload".into())
    );
    assert_eq!(
        hook(&app, &path, &json!({"text": "a\u{1}b"})).await,
        (400, "invalid_payload".into())
    );
    let huge = "x".repeat(app_max_chars() + 1);
    assert_eq!(
        hook(&app, &path, &json!({"text": huge})).await,
        (400, "msg_too_long".into())
    );

    // Rotated: the old address stops working.
    let (status, rotated) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/webhooks/{hook_id}/rotate"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_path = rotated["path"].as_str().unwrap();
    assert_ne!(new_path, path);
    assert_eq!(hook(&app, &path, &payload).await.0, 403);
    assert_eq!(
        hook(&app, new_path, &json!({"text": "rotated"})).await.0,
        200
    );

    // Deleted: gone, its bot left, its messages stay.
    let (status, _) = call(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/v1/webhooks/{hook_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/webhooks/{hook_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        hook(&app, new_path, &payload).await,
        (404, "no_service".into())
    );
    let history = group_history(&app, &bob, &group).await;
    assert_eq!(history[0]["body"], "rotated");
    let (_, audit) = call(
        &app,
        &ann,
        Method::GET,
        "/api/v1/admin/audit?kind=webhook_created",
        None,
    )
    .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1, "{audit}");
}

/// The server's default message limit (the tests do not change it).
fn app_max_chars() -> usize {
    domain::chat::DEFAULT_MAX_MESSAGE_CHARS
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_whose_creator_left_refuses_and_direct_conversations_have_none() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[&bob]).await;
    let (_, created) = create(&app, &ann, &group, "alerts").await;
    let path = created["path"].as_str().unwrap().to_owned();
    assert_eq!(hook(&app, &path, &json!({"text": "one"})).await.0, 200);
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", ann.id),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(
        hook(&app, &path, &json!({"text": "after she left"})).await,
        (403, "action_prohibited".into())
    );
    let history = group_history(&app, &bob, &group).await;
    assert!(history.iter().all(|m| m["body"] != "after she left"));

    let (_, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": bob.id})),
    )
    .await;
    let (status, _) = create(&app, &ann, dm["id"].as_str().unwrap(), "nope").await;
    assert_eq!(status, 403);
    // Someone else's conversation is not found.
    let eve = user(&app, "eve").await;
    let (status, _) = create(&app, &eve, &group, "nope").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_has_a_rate_budget() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    let (_, created) = create(&app, &ann, &group, "noisy").await;
    let path = created["path"].as_str().unwrap().to_owned();
    let mut ok = 0;
    let mut limited = None;
    for n in 0..80 {
        let response = app.post(&path, &json!({"text": format!("n{n}")})).await;
        match response.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                limited = Some(response.text().await.unwrap());
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(limited.as_deref(), Some("rate_limited"));
    assert!((1..=60).contains(&ok), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_people_signed_in_manage_webhooks_and_a_deleted_ones_bot_stays_out() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    // A token of Ann's, even one that may post, makes no webhook: an
    // address would outlive it.
    let script = super::token_with(&app, &ann, &["read", "post"]).await;
    let (status, problem) = create(&app, &script, &group, "sneaky").await;
    assert_eq!(status, 403, "{problem}");
    let (_, created) = create(&app, &ann, &group, "alerts").await;
    let hook_id = created["hook"]["id"].as_str().unwrap().to_owned();
    let bot_id = created["hook"]["bot_id"].as_str().unwrap().to_owned();
    for (method, path) in [
        (Method::POST, format!("/api/v1/webhooks/{hook_id}/rotate")),
        (Method::DELETE, format!("/api/v1/webhooks/{hook_id}")),
    ] {
        let (status, _) = call(&app, &script, method, &path, None).await;
        assert_eq!(status, 403, "{path}");
    }
    // Its bot is not a bot anyone may give tokens to, before or after.
    let ask = json!({"name": "t", "scopes": ["post"], "expires_in_days": 1, "user_id": bot_id});
    let (status, _) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/tokens",
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/webhooks/{hook_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, &ann, Method::POST, "/api/v1/tokens", Some(ask)).await;
    assert_eq!(status, 404);
    let (_, bots) = call(&app, &ann, Method::GET, "/api/v1/bots", None).await;
    assert_eq!(bots, json!([]));

    // When the last owner leaves, a person takes over, never a bot.
    let group = crate::groups::new_group(&app, &ann, "crew", &[]).await;
    let (_, created) = create(&app, &ann, &group, "first in").await;
    assert_eq!(created["hook"]["name"], "first in");
    let (status, _) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{group}/members"),
        Some(json!({"user_id": bob.id})),
    )
    .await;
    assert!(status == 200 || status == 201 || status == 204, "{status}");
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", ann.id),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    let (status, hooks) = call(
        &app,
        &bob,
        Method::GET,
        &format!("/api/v1/conversations/{group}/webhooks"),
        None,
    )
    .await;
    assert_eq!(status, 200, "Bob is the owner now: {hooks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_never_gets_a_body_read_and_a_huge_one_is_refused() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    let (_, created) = create(&app, &ann, &group, "big").await;
    let path = created["path"].as_str().unwrap().to_owned();
    // Over the webhook's own limit: a problem, after the address checked out.
    let huge = json!({"text": "x".repeat(300 * 1024)});
    let response = app.post(&path, &huge).await;
    assert_eq!(response.status(), 413);
    assert_eq!(media_type(&response), "application/problem+json");
    // The same body to a wrong address is refused for the address.
    let wrong = format!("{}x", &path[..path.len() - 1]);
    assert_eq!(hook(&app, &wrong, &huge).await.1, "invalid_token");
    // Within the limit but far over a message's length: refused before it
    // is converted.
    let long = json!({"text": "<".repeat(200 * 1024)});
    assert_eq!(hook(&app, &path, &long).await, (400, "msg_too_long".into()));
}
