//! Integrations: personal access tokens and their scopes, bot accounts,
//! incoming webhooks in Slack's format, and outgoing webhooks.

mod bots;
mod cookie;
mod fairness;
mod outgoing;
mod processes;
mod receiver;
mod tokens;
mod webhooks;
mod withdrawn;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, TestApp, User};

/// Creates a token as `who` with `body`; anything but 201 fails.
pub(crate) async fn new_token(app: &TestApp, who: &User, body: Value) -> (String, Value) {
    let (status, created) = call(app, who, Method::POST, "/api/v1/tokens", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("csp_"), "{token}");
    (token, created["info"].clone())
}

/// `who`'s token with `scopes`, for 30 days.
pub(crate) async fn token_with(app: &TestApp, who: &User, scopes: &[&str]) -> User {
    let (token, info) = new_token(
        app,
        who,
        json!({"name": "script", "scopes": scopes, "expires_in_days": 30}),
    )
    .await;
    User {
        id: info["user_id"].as_str().unwrap().to_owned(),
        token,
    }
}
