//! A message deleted or edited while its outgoing-webhook delivery waits
//! for a retry is not sent again (the payload holds the words its sender
//! took back): the delivery ends as failed, saying why.

use std::time::Duration;

use reqwest::Method;

use super::outgoing::{hook_to, settled};
use super::receiver::Receiver;
use crate::helpers::{call, say, user, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_deleted_before_a_retry_is_not_sent_again() {
    // The first retry 3 s after the first attempt: time to delete, even on
    // a busy machine.
    let app = TestApp::spawn_configured(&[
        ("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32"),
        ("CHATSPHERE_HOOK_RETRY", "3"),
    ])
    .await;
    let receiver = Receiver::start().await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    let hook = hook_to(&app, &ann, &group, "ci", &receiver.url("ci")).await;
    receiver.answer("ci", &[(503, ""), (503, "")]);

    // One message sent once and answered 503; a second one, kept, is sent
    // twice (the retry is not held back by anything else).
    let taken_back = say(&app, &ann, &group, "deploy prod").await;
    assert_eq!(receiver.wait_for("ci", 1).await.len(), 1);
    let (status, problem) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{group}/messages/{}",
            taken_back["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert!(status < 300, "{status} {problem}");
    let log = settled(&app, &ann, &hook).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert_eq!(log[0]["attempts"], 2, "{log:?}");
    assert_eq!(log[0]["error"], "the message was deleted", "{log:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received("ci").len(), 1, "sent once, not again");

    say(&app, &ann, &group, "deploy staging").await;
    let got = receiver.wait_for("ci", 3).await;
    assert_eq!(got.len(), 3, "a message kept is tried again");
    assert!(String::from_utf8_lossy(&got[2].body).contains("deploy staging"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_edited_before_a_retry_is_not_sent_with_its_old_words() {
    let app = TestApp::spawn_configured(&[
        ("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32"),
        ("CHATSPHERE_HOOK_RETRY", "3"),
    ])
    .await;
    let receiver = Receiver::start().await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    let hook = hook_to(&app, &ann, &group, "ci", &receiver.url("ci")).await;
    receiver.answer("ci", &[(503, "")]);
    let sent = say(&app, &ann, &group, "deploy with secret=hunter2").await;
    assert_eq!(receiver.wait_for("ci", 1).await.len(), 1);
    let (status, problem) = call(
        &app,
        &ann,
        Method::PATCH,
        &format!(
            "/api/v1/conversations/{group}/messages/{}",
            sent["id"].as_str().unwrap()
        ),
        Some(serde_json::json!({"body": "deploy (redacted)"})),
    )
    .await;
    assert!(status < 300, "{status} {problem}");
    let log = settled(&app, &ann, &hook).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert_eq!(log[0]["error"], "the message was edited", "{log:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.received("ci").len(),
        1,
        "the old words not sent again"
    );
}
