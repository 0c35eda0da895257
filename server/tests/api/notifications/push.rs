//! Web Push: who is pushed (the rule, mutes, levels, presence, reads),
//! what the push says (decrypted by the test's push service), the VAPID
//! signature, closing on other devices, expired subscriptions.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use super::push_service::{check_vapid, PushService};
use super::{prefs, set_conversation, set_prefs, settings_of, subscribe};
use crate::groups::new_group;
use crate::helpers::{call, say, user, TestApp, User};
use crate::ws::{connect, open_dm};

async fn app(delay: &str) -> TestApp {
    TestApp::spawn_configured(&[
        ("CHATSPHERE_OUTBOUND_ALLOW", "127.0.0.1/32"),
        ("CHATSPHERE_PUSH_DELAY", delay),
    ])
    .await
}

async fn push_key(app: &TestApp, who: &User) -> String {
    settings_of(app, who).await["push_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Nothing more arrives for a while.
async fn settle(push: &PushService, count: usize) {
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(push.received().len(), count, "no other push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_levels_mutes_and_presence_decide_who_is_pushed_and_what_it_says() {
    let app = app("0").await;
    let push = PushService::start().await;
    let (ann, bob, cat) = (
        user(&app, "ann").await,
        user(&app, "bob").await,
        user(&app, "cat").await,
    );
    let crew = new_group(&app, &ann, "crew", &[&bob, &cat]).await;
    let dm = open_dm(&app, &ann, &bob).await;
    let (bphone, cphone) = (push.device("bphone"), push.device("cphone"));
    assert_eq!(subscribe(&app, &bob, &bphone.subscription()).await.0, 204);
    assert_eq!(subscribe(&app, &cat, &cphone.subscription()).await.0, 204);
    set_conversation(
        &app,
        &cat,
        &crew,
        json!({"level": "all", "muted_until": null}),
    )
    .await;

    say(&app, &ann, &crew, "hello all").await; // cat (level all), not bob
    let mention = say(&app, &ann, &crew, "@bob look\nsecond line").await; // both
    say(&app, &ann, &dm, "lunch?").await; // bob: a direct message
    push.wait_for(4).await;
    settle(&push, 4).await;
    let received = push.received();
    let for_device = |name: &str| -> Vec<Value> {
        received
            .iter()
            .filter(|r| r.device == name)
            .map(|r| {
                if name == "bphone" {
                    bphone.open(r)
                } else {
                    cphone.open(r)
                }
            })
            .collect()
    };
    let bobs = for_device("bphone");
    let cats = for_device("cphone");
    assert_eq!(cats.len(), 2, "{cats:?}");
    assert_eq!(bobs.len(), 2, "{bobs:?}");
    let seq = mention["seq"].as_i64().unwrap();
    let at_mention = bobs
        .iter()
        .find(|p| p["conversation_id"] == crew.as_str())
        .unwrap();
    assert_eq!(
        *at_mention,
        json!({
            "kind": "message",
            "conversation_id": crew,
            "seq": seq,
            "title": "crew",
            "body": "ann: @bob look…",
            "url": format!("/c/{crew}?around={seq}#m-{seq}"),
        })
    );
    let direct = bobs
        .iter()
        .find(|p| p["conversation_id"] == dm.as_str())
        .unwrap();
    assert_eq!(
        (direct["title"].as_str(), direct["body"].as_str()),
        (Some("ann"), Some("lunch?"))
    );
    assert!(cats.iter().any(|p| p["body"] == "ann: hello all"));

    // Every push is signed for the push service's origin, lives a day, is
    // urgent, and replaces a waiting one of its conversation (its topic).
    let key = push_key(&app, &bob).await;
    for r in &received {
        check_vapid(r, &key, &push.origin);
        assert_eq!(r.headers["ttl"], "86400");
        assert_eq!(r.headers["urgency"], "high");
        assert!(r.headers["topic"].len() <= 32);
    }

    // Bob mutes the direct conversation, cat turns the group off.
    let hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    set_conversation(&app, &bob, &dm, json!({"level": null, "muted_until": hour})).await;
    set_conversation(
        &app,
        &cat,
        &crew,
        json!({"level": "nothing", "muted_until": null}),
    )
    .await;
    say(&app, &ann, &dm, "still there?").await;
    say(&app, &ann, &crew, "@bob @cat meeting").await;
    let received = push.wait_for(5).await;
    settle(&push, 5).await;
    assert_eq!(received[4].device, "bphone");
    assert_eq!(bphone.open(&received[4])["body"], "ann: @bob @cat meeting");

    // Private previews, in Chinese: no name, no text.
    set_prefs(
        &app,
        &bob,
        prefs(json!({"previews": false, "locale": "zh-CN"})),
    )
    .await;
    say(&app, &ann, &crew, "@bob the secret plan").await;
    let received = push.wait_for(6).await;
    let hidden = bphone.open(&received[5]);
    assert_eq!(
        (hidden["title"].as_str(), hidden["body"].as_str()),
        (Some("ChatSphere"), Some("新消息"))
    );
    assert!(!hidden.to_string().contains("secret") && !hidden.to_string().contains("ann"));

    // Nobody is pushed for their own message (bob is offline: he would be).
    say(&app, &bob, &crew, "@bob note to self").await;
    settle(&push, 6).await;
    // Online (a socket open): the tab shows it; nothing is pushed.
    let socket = connect(&app, &bob).await;
    say(&app, &ann, &crew, "@bob are you here").await;
    settle(&push, 6).await;
    drop(socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_read_elsewhere_is_not_pushed_and_a_read_closes_what_was() {
    let app = app("1").await;
    let push = PushService::start().await;
    let (ann, bob) = (user(&app, "ann").await, user(&app, "bob").await);
    let dm = open_dm(&app, &ann, &bob).await;
    let phone = push.device("phone");
    assert_eq!(subscribe(&app, &bob, &phone.subscription()).await.0, 204);

    // Read on another device within the push delay: not pushed.
    say(&app, &ann, &dm, "quick one").await;
    let read = format!("/api/v1/conversations/{dm}/read");
    assert_eq!(call(&app, &bob, Method::POST, &read, None).await.0, 204);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(push.received().is_empty(), "read before the push");

    // Unread: pushed after the delay; then read: closed everywhere.
    let message = say(&app, &ann, &dm, "are you there?").await;
    let received = push.wait_for(1).await;
    assert_eq!(phone.open(&received[0])["seq"], message["seq"]);
    assert_eq!(call(&app, &bob, Method::POST, &read, None).await.0, 204);
    let received = push.wait_for(2).await;
    assert_eq!(
        phone.open(&received[1]),
        json!({"kind": "read", "conversation_id": dm, "seq": message["seq"]})
    );
    assert_eq!(received[1].headers["urgency"], "low");
    assert_eq!(received[1].headers["topic"], received[0].headers["topic"]);
    // A second read closes nothing more: nothing is sent.
    say(&app, &bob, &dm, "yes").await;
    assert_eq!(call(&app, &bob, Method::POST, &read, None).await.0, 204);
    settle(&push, 2).await;

    // Edited within the delay: the push says the new text. Deleted within
    // it: nothing is pushed (the erased text never leaves).
    let typo = say(&app, &ann, &dm, "the pasword is hunter2").await;
    let path = format!(
        "/api/v1/conversations/{dm}/messages/{}",
        typo["id"].as_str().unwrap()
    );
    let (status, _) = call(
        &app,
        &ann,
        Method::PATCH,
        &path,
        Some(json!({"body": "see you at noon"})),
    )
    .await;
    assert_eq!(status, 200);
    let received = push.wait_for(3).await;
    assert_eq!(phone.open(&received[2])["body"], "see you at noon");
    let oops = say(&app, &ann, &dm, "wrong chat, sorry").await;
    let path = format!(
        "/api/v1/conversations/{dm}/messages/{}",
        oops["id"].as_str().unwrap()
    );
    let (status, _) = call(&app, &ann, Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    settle(&push, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_the_push_service_no_longer_knows_is_forgotten() {
    let app = app("0").await;
    let push = PushService::start().await;
    let (ann, bob) = (user(&app, "ann").await, user(&app, "bob").await);
    let dm = open_dm(&app, &ann, &bob).await;
    let (old, new) = (push.device("old"), push.device("new"));
    assert_eq!(subscribe(&app, &bob, &old.subscription()).await.0, 204);
    assert_eq!(subscribe(&app, &bob, &new.subscription()).await.0, 204);
    let bob_id: Uuid = bob.id.parse().unwrap();
    assert_eq!(
        app.services.store.pushes_of(&[bob_id]).await.unwrap().len(),
        2
    );

    push.forget(&old);
    say(&app, &ann, &dm, "one").await;
    let received = push.wait_for(1).await;
    assert_eq!(received[0].device, "new");
    for _ in 0..100 {
        if app.services.store.pushes_of(&[bob_id]).await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = app.services.store.pushes_of(&[bob_id]).await.unwrap();
    assert_eq!(
        left.iter().map(|p| p.endpoint.as_str()).collect::<Vec<_>>(),
        [new.endpoint.as_str()]
    );

    // Signed out: the session's devices get nothing more.
    let out = app
        .send(Method::POST, "/api/v1/auth/logout", None, Some(&bob.token))
        .await;
    assert_eq!(out.status(), 204);
    say(&app, &ann, &dm, "after sign-out").await;
    settle(&push, 1).await;

    // The same device subscribing as another account moves to it.
    let cat = user(&app, "cat").await;
    assert_eq!(subscribe(&app, &cat, &new.subscription()).await.0, 204);
    assert!(app
        .services
        .store
        .pushes_of(&[bob_id])
        .await
        .unwrap()
        .is_empty());

    // A disabled account gets nothing (its sessions end).
    let cat_id: Uuid = cat.id.parse().unwrap();
    assert_eq!(
        app.services.store.pushes_of(&[cat_id]).await.unwrap().len(),
        1
    );
    let to_cat = open_dm(&app, &ann, &cat).await;
    let disable = format!("/api/v1/admin/users/{}/disable", cat.id);
    assert_eq!(call(&app, &ann, Method::POST, &disable, None).await.0, 200);
    say(&app, &ann, &to_cat, "hello cat").await;
    settle(&push, 1).await;
}
