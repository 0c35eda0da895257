//! Notifications: settings and mutes, Web Push through a local push
//! service that decrypts what it gets, the email of what was missed
//! through a real SMTP server, and once-only delivery with two processes.

mod email;
mod processes;
mod push;
pub(crate) mod push_service;
mod settings;
pub(crate) mod smtp;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, TestApp, User};

/// `who`'s notification settings (anything but 200 fails).
pub(crate) async fn settings_of(app: &TestApp, who: &User) -> Value {
    let (status, body) = call(
        app,
        who,
        Method::GET,
        "/api/v1/notifications/settings",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Replaces `who`'s notification settings; the answer.
pub(crate) async fn set_prefs(app: &TestApp, who: &User, prefs: Value) -> Value {
    let (status, body) = call(
        app,
        who,
        Method::PUT,
        "/api/v1/notifications/settings",
        Some(prefs),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Replaces `who`'s setting for `conversation`; the answer.
pub(crate) async fn set_conversation(
    app: &TestApp,
    who: &User,
    conversation: &str,
    setting: Value,
) -> Value {
    let (status, body) = call(
        app,
        who,
        Method::PUT,
        &format!("/api/v1/conversations/{conversation}/notifications"),
        Some(setting),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Subscribes one of `who`'s devices; the status.
pub(crate) async fn subscribe(app: &TestApp, who: &User, subscription: &Value) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        "/api/v1/notifications/devices",
        Some(subscription.clone()),
    )
    .await
}

/// The defaults with `changes` applied.
pub(crate) fn prefs(changes: Value) -> Value {
    let mut prefs = json!({"level": "mentions", "previews": true, "email": true, "locale": "en"});
    for (key, value) in changes.as_object().unwrap() {
        prefs[key] = value.clone();
    }
    prefs
}
