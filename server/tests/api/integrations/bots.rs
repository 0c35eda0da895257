//! Bot accounts: made by admins (or by anyone where allowed), no password,
//! act through the tokens their owner gives them, marked in messages.

use reqwest::Method;
use serde_json::json;

use super::new_token;
use crate::helpers::{call, group_history, say, user, TestApp, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_a_bot_that_posts_through_its_token_only() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await; // admin
    let bob = user(&app, "bob").await;
    let new_bot = json!({"username": "ci-bot", "display_name": "CI 机器人"});
    let (status, _) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/bots",
        Some(new_bot.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, bot) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/bots",
        Some(new_bot.clone()),
    )
    .await;
    assert_eq!(status, 201, "{bot}");
    let bot_id = bot["id"].as_str().unwrap().to_owned();
    let (status, _) = call(&app, &ann, Method::POST, "/api/v1/bots", Some(new_bot)).await;
    assert_eq!(status, 409);
    let (_, listed) = call(&app, &ann, Method::GET, "/api/v1/bots", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // No password: it cannot sign in.
    let login = app
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ci-bot", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(login.status(), 401);

    // Its owner gives it a token; nobody else may.
    let ask = json!({"name": "deploys", "scopes": ["read", "post"], "expires_in_days": 90, "user_id": bot_id});
    let (status, _) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/tokens",
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 404);
    let (secret, info) = new_token(&app, &ann, ask).await;
    assert_eq!(info["user_id"].as_str(), Some(bot_id.as_str()));
    assert_eq!(info["username"], "ci-bot");
    let (status, own) = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/tokens?user_id={bot_id}"),
        None,
    )
    .await;
    assert_eq!((status, own.as_array().unwrap().len()), (200, 1));
    let bot = User {
        id: bot_id.clone(),
        token: secret,
    };

    // It joins a group like anyone, and its messages say it is a bot.
    let group = crate::groups::new_group(&app, &ann, "ops", &[&bob, &bot]).await;
    let sent = say(&app, &bot, &group, "build 7 passed").await;
    assert_eq!(sent["sender_bot"], true);
    assert_eq!(sent["sender_name"], "CI 机器人");
    let history = group_history(&app, &bob, &group).await;
    assert_eq!(history[0]["sender_bot"], true);
    let from_bob = say(&app, &bob, &group, "thanks").await;
    assert!(from_bob.get("sender_bot").is_none(), "{from_bob}");
    // A bot's token cannot make bots or tokens.
    let (status, _) = call(
        &app,
        &bot,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": "x-bot", "display_name": "x"})),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_server_allows_it_anyone_makes_bots() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_USER_BOTS", "true")]).await;
    let _ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let (status, bot) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/bots",
        Some(json!({"username": "bobs-bot", "display_name": "Bob's bot"})),
    )
    .await;
    assert_eq!(status, 201, "{bot}");
    assert_eq!(bot["owner_id"].as_str(), Some(bob.id.as_str()));
    // Bob's bot may not have the admin scope; read and post are fine.
    let ask = json!({"name": "t", "scopes": ["admin"], "expires_in_days": 1, "user_id": bot["id"]});
    let (status, _) = call(&app, &bob, Method::POST, "/api/v1/tokens", Some(ask)).await;
    assert_eq!(status, 403);
}
