//! The email of what was missed, through a real SMTP server: one email per
//! user for everything due, in their language, without private text when
//! previews are off, and none for what was read, for someone online, or
//! for someone who turned it off.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::smtp::SmtpServer;
use super::{prefs, set_conversation, set_prefs, settings_of};
use crate::groups::new_group;
use crate::helpers::{call, say, user, TestApp};
use crate::ws::{connect, open_dm};

/// A server that emails after one second.
pub(crate) async fn app(smtp: &SmtpServer) -> TestApp {
    TestApp::spawn_configured(&[
        ("CHATSPHERE_SMTP_URL", smtp.url.as_str()),
        ("CHATSPHERE_SMTP_FROM", "ChatSphere <chat@example.com>"),
        ("CHATSPHERE_EMAIL_NOTIFY_AFTER", "1s"),
    ])
    .await
}

fn to(message: &Value) -> &str {
    message["rcpt_tos"][0].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_email_per_person_in_their_language_with_what_they_missed() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app(&smtp).await;
    let names = [
        "ann", "bob", "cat", "eve", "fay", "gus", "hal", "ivy", "jon",
    ];
    let mut people = Vec::new();
    for name in names {
        people.push(user(&app, name).await);
    }
    let [ann, bob, cat, eve, fay, gus, hal, ivy, jon] = <[_; 9]>::try_from(people).ok().unwrap();
    // Emails go to verified addresses only (sign-in providers verify them);
    // hal's is not. Ivy's account is disabled below, once her conversation
    // with ann exists (ann, the first, is an admin).
    app.sql("update users set email_verified = true where username <> 'hal'")
        .await;
    let settings = settings_of(&app, &bob).await;
    assert_eq!(settings["email_available"], true);
    assert_eq!(settings["has_email"], true);
    let hals = settings_of(&app, &hal).await;
    assert_eq!(hals["has_email"], false, "an address nobody verified");
    set_prefs(
        &app,
        &bob,
        prefs(json!({"previews": false, "locale": "zh-CN"})),
    )
    .await;
    set_prefs(&app, &gus, prefs(json!({"email": false}))).await;
    let crew = new_group(&app, &ann, "crew <team>", &[&bob, &cat, &eve, &fay, &gus]).await;
    let to_bob = open_dm(&app, &ann, &bob).await;
    let to_cat = open_dm(&app, &ann, &cat).await;
    let to_eve = open_dm(&app, &ann, &eve).await;
    let to_hal = open_dm(&app, &ann, &hal).await;
    let to_ivy = open_dm(&app, &ann, &ivy).await;
    let disable = format!("/api/v1/admin/users/{}/disable", ivy.id);
    assert_eq!(call(&app, &ann, Method::POST, &disable, None).await.0, 200);
    let _fay_online = connect(&app, &fay).await;
    // Cat hears every message of the group, but only mentions and direct
    // messages are emailed.
    set_conversation(
        &app,
        &cat,
        &crew,
        json!({"level": "all", "muted_until": null}),
    )
    .await;
    let to_jon = open_dm(&app, &ann, &jon).await;

    say(&app, &ann, &crew, "@bob @cat @fay @gus standup in 5").await;
    say(&app, &ann, &to_bob, "the door code is 4711").await;
    say(&app, &ann, &to_cat, "hi cat <script>alert(1)</script>").await;
    say(&app, &ann, &crew, "no mention here").await;
    // Queued for jon, then muted by him before it was due: not sent.
    say(&app, &ann, &to_jon, "jon, a word").await;
    let forever = json!({"level": null, "muted_until": "9999-12-31T23:59:59Z"});
    set_conversation(&app, &jon, &to_jon, forever).await;
    say(&app, &ann, &to_eve, "read me").await;
    say(&app, &ann, &to_hal, "buy cheap stuff").await;
    say(&app, &ann, &to_ivy, "are you still here").await;
    // Eve reads at once: nothing left to tell her.
    let read = format!("/api/v1/conversations/{to_eve}/read");
    assert_eq!(call(&app, &eve, Method::POST, &read, None).await.0, 204);

    let mail = smtp.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mail = {
        let again = smtp.messages();
        assert_eq!(
            again.len(),
            2,
            "one email each for bob and cat only (not the unverified, disabled, online, opted-out or read): {again:#?}"
        );
        let _ = mail;
        again
    };
    let bobs = mail
        .iter()
        .find(|m| to(m) == "bob@example.com")
        .expect("bob's email");
    let cats = mail
        .iter()
        .find(|m| to(m) == "cat@example.com")
        .expect("cat's email");

    // Bob: Chinese, previews off: the conversations, never the text.
    assert_eq!(
        bobs["headers"]["subject"],
        "你在 ChatSphere 有 2 条未读消息"
    );
    assert_eq!(bobs["headers"]["auto-submitted"], "auto-generated");
    assert_eq!(bobs["headers"]["from"], "ChatSphere <chat@example.com>");
    assert_eq!(bobs["mail_from"], "chat@example.com");
    assert!(bobs["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("multipart/alternative"));
    let (text, html) = (
        bobs["text"].as_str().unwrap(),
        bobs["html"].as_str().unwrap(),
    );
    for part in [text, html] {
        assert!(
            !part.contains("4711") && !part.contains("standup"),
            "{part}"
        );
        assert!(part.contains("内容已隐藏"), "{part}");
    }
    assert!(
        text.contains("crew <team>") && html.contains("crew &lt;team&gt;"),
        "{html}"
    );
    assert!(
        text.contains(&format!("{}/c/{to_bob}?around=1#m-1", app.address)),
        "{text}"
    );
    assert!(text.contains(&format!("{}/settings/notifications", app.address)));

    // Cat: English with the text, escaped in the HTML part.
    assert_eq!(
        cats["headers"]["subject"],
        "You have 2 unread messages on ChatSphere"
    );
    let (text, html) = (
        cats["text"].as_str().unwrap(),
        cats["html"].as_str().unwrap(),
    );
    assert!(
        text.contains("standup in 5") && text.contains("hi cat <script>"),
        "{text}"
    );
    assert!(
        html.contains("hi cat &lt;script&gt;") && !html.contains("<script>"),
        "{html}"
    );
    assert!(
        !text.contains("no mention here"),
        "only mentions and direct messages"
    );
    assert!(text.starts_with("Hi cat,"), "{text}");
}
