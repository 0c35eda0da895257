//! Outgoing webhooks: a conversation's new messages posted, signed, to a
//! receiver on loopback (allowed by `CHATSPHERE_HOOK_ALLOW`), its reply
//! posted back; retries with back-off, failures given up, the delivery log;
//! no requests to addresses the operator did not allow (SSRF; the push
//! services' allowance is not the hooks'), nothing sent
//! for a hook whose creator left, nothing for a bot's message.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use super::receiver::{Received, Receiver};
use crate::helpers::{call, group_history, say, user, TestApp, User};

/// What a receiver does with a request, as `docs/integrations.md` says:
/// the signature must be the HMAC of the timestamp and body, and the
/// timestamp at most 300 s old (`now` is the receiver's clock).
fn verify(secret: &str, received: &Received, now: i64) -> Result<(), &'static str> {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or("missing header")
    };
    let timestamp: i64 = header("x-chatsphere-timestamp")?
        .parse()
        .map_err(|_| "bad timestamp")?;
    if (now - timestamp).abs() > 300 {
        return Err("too old: a replay");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&received.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if header("x-chatsphere-signature")? != format!("v1={expected}") {
        return Err("bad signature");
    }
    Ok(())
}

async fn app() -> TestApp {
    TestApp::spawn_configured(&[
        ("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32"),
        ("CHATSPHERE_HOOK_RETRY", "0.1"),
    ])
    .await
}

/// An outgoing hook of `conversation` named `name`, posting to `url`, made
/// by `who`; anything but 201 fails. Its id.
pub(super) async fn hook_to(
    app: &TestApp,
    who: &User,
    conversation: &str,
    name: &str,
    url: &str,
) -> String {
    let (status, created) = create(app, who, conversation, json!({"name": name, "url": url})).await;
    assert_eq!(status, 201, "{created}");
    created["hook"]["id"].as_str().unwrap().to_owned()
}

pub(super) async fn create(
    app: &TestApp,
    who: &User,
    conversation: &str,
    body: Value,
) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/webhooks"),
        Some(body),
    )
    .await
}

async fn deliveries(app: &TestApp, who: &User, hook: &str) -> (u16, Value) {
    call(
        app,
        who,
        Method::GET,
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        None,
    )
    .await
}

/// Waits (at most 20 s) until the hook's newest delivery is no longer
/// pending; the log, newest first.
pub(super) async fn settled(app: &TestApp, who: &User, hook: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, log) = deliveries(app, who, hook).await;
        assert_eq!(status, 200, "{log}");
        let log = log.as_array().unwrap().clone();
        if log.first().is_some_and(|d| d["status"] != "pending") || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_messages_are_posted_signed_and_a_reply_comes_back_from_the_bot() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[&bob]).await;

    let (status, created) = create(
        &app,
        &ann,
        &group,
        json!({"name": "Deployer", "url": receiver.url("deploy"), "trigger_word": "!deploy"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["path"].is_null(), "an outgoing hook has no address");
    let secret = created["signing_secret"].as_str().unwrap().to_owned();
    let hook_id = created["hook"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["hook"]["url"], receiver.url("deploy"));
    assert_eq!(created["hook"]["trigger_word"], "!deploy");
    // Listed with its URL, never its secret.
    let (_, listed) = call(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/conversations/{group}/webhooks"),
        None,
    )
    .await;
    assert_eq!(listed[0]["url"], receiver.url("deploy"));
    assert!(!listed.to_string().contains(&secret));
    // An outgoing hook takes no incoming posts.
    let response = app
        .post(&format!("/hooks/{hook_id}/{secret}"), &json!({"text": "x"}))
        .await;
    assert_eq!(response.text().await.unwrap(), "invalid_token");

    receiver.answer(
        "deploy",
        &[(200, r#"{"text": "Deploying *main*", "username": "ci"}"#)],
    );
    say(&app, &bob, &group, "hello, no trigger").await;
    say(&app, &bob, &group, "!deploy-not-quite").await;
    let sent = say(&app, &bob, &group, "!deploy main please").await;
    let got = receiver.wait_for("deploy", 1).await;
    assert_eq!(got.len(), 1, "only the message starting with the word");
    let request = &got[0];
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(&secret, request, now), Ok(()));
    assert_eq!(request.headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["text"], "!deploy main please");
    assert_eq!(body["trigger_word"], "!deploy");
    assert_eq!(body["user_id"], bob.id);
    assert_eq!(body["channel_id"], group);
    assert_eq!(body["channel_name"], "ops");
    assert_eq!(body["post_id"], sent["id"]);
    assert_eq!(body["hook_id"], hook_id);

    // The signature binds the timestamp: replayed later, or with a
    // fresher timestamp, the request is refused.
    assert_eq!(
        verify(&secret, request, now + 301),
        Err("too old: a replay")
    );
    let mut forged = request.clone();
    forged.headers.insert(
        "x-chatsphere-timestamp",
        (now + 301).to_string().parse().unwrap(),
    );
    assert_eq!(verify(&secret, &forged, now + 301), Err("bad signature"));
    assert_eq!(verify("another secret", request, now), Err("bad signature"));

    // The reply comes back from the hook's bot, under the name it gave.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        let history = group_history(&app, &bob, &group).await;
        if let Some(m) = history.iter().find(|m| m["body"] == "Deploying **main**") {
            break m.clone();
        }
        assert!(Instant::now() < deadline, "no reply in {history:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reply["sender_bot"], true);
    assert_eq!(reply["sender_id"], created["hook"]["bot_id"]);
    assert_eq!(reply["label"], "ci");

    let log = settled(&app, &ann, &hook_id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["response_status"], 200);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["message_id"], sent["id"]);
    assert_eq!(
        log[0]["id"].as_str().unwrap(),
        request.headers["x-chatsphere-delivery"].to_str().unwrap()
    );

    // A bot's message is never sent (two hooks cannot answer each other
    // forever): an untriggered hook gets people's messages only.
    let (_, every) = create(
        &app,
        &ann,
        &group,
        json!({"name": "Echo", "url": receiver.url("echo")}),
    )
    .await;
    receiver.answer("echo", &[(200, r#"{"text": "echo"}"#)]);
    say(&app, &ann, &group, "to everyone").await;
    assert_eq!(receiver.wait_for("echo", 1).await.len(), 1);
    let echo_log = settled(&app, &ann, every["hook"]["id"].as_str().unwrap()).await;
    assert_eq!(echo_log[0]["status"], "delivered");
    assert!(echo_log[0]["error"].is_null(), "{echo_log:?}");
    // The echo was posted, by the bot…
    let history = group_history(&app, &ann, &group).await;
    let echo = history
        .iter()
        .find(|m| m["body"] == "echo")
        .expect("echo posted");
    assert_eq!(echo["sender_id"], every["hook"]["bot_id"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.received("echo").len(),
        1,
        "the bot's echo was not sent"
    );
    assert_eq!(receiver.received("deploy").len(), 1);

    // Bob, a member, does not manage the hooks: no log for him.
    let (status, _) = deliveries(&app, &bob, &hook_id).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_growing_waits_then_given_up() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    let hook = |name: &str, path: &str| json!({"name": name, "url": receiver.url(path)});
    let (_, flaky) = create(&app, &ann, &group, hook("flaky", "flaky")).await;
    let (_, down) = create(&app, &ann, &group, hook("down", "down")).await;
    let (_, gone) = create(&app, &ann, &group, hook("gone", "gone")).await;
    receiver.answer("flaky", &[(500, ""), (503, ""), (200, "")]);
    receiver.answer("down", &[(503, ""); 5]);
    receiver.answer("gone", &[(404, "")]);
    say(&app, &ann, &group, "status?").await;

    let id = |created: &Value| created["hook"]["id"].as_str().unwrap().to_owned();
    let flaky_log = {
        receiver.wait_for("flaky", 3).await;
        settled(&app, &ann, &id(&flaky)).await
    };
    assert_eq!(flaky_log[0]["status"], "delivered", "{flaky_log:?}");
    assert_eq!(flaky_log[0]["attempts"], 3);
    let tries = receiver.received("flaky");
    assert_eq!(tries.len(), 3);
    // Each try carries the same delivery id; the waits grow (0.1 s, 0.4 s).
    let ids: Vec<_> = tries
        .iter()
        .map(|r| r.headers["x-chatsphere-delivery"].clone())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]));
    let first_wait = tries[1].at - tries[0].at;
    let second_wait = tries[2].at - tries[1].at;
    assert!(first_wait >= Duration::from_millis(100), "{first_wait:?}");
    assert!(second_wait >= Duration::from_millis(400), "{second_wait:?}");
    assert!(
        second_wait > first_wait,
        "{first_wait:?} then {second_wait:?}"
    );

    // A 4xx other than 408 and 429 is an answer: given up at once.
    let gone_log = settled(&app, &ann, &id(&gone)).await;
    assert_eq!(gone_log[0]["status"], "failed");
    assert_eq!(gone_log[0]["attempts"], 1);
    assert_eq!(gone_log[0]["response_status"], 404);
    assert_eq!(receiver.received("gone").len(), 1);

    // Down every time: five attempts (0.1 + 0.4 + 1.6 + 6.4 s apart), then
    // given up.
    receiver.wait_for("down", 5).await;
    let down_log = settled(&app, &ann, &id(&down)).await;
    assert_eq!(down_log[0]["status"], "failed", "{down_log:?}");
    assert_eq!(down_log[0]["attempts"], 5);
    assert_eq!(down_log[0]["response_status"], 503);
    assert!(down_log[0]["next_at"].is_null());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received("down").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_addresses_are_requested_and_a_creator_who_left_sends_nothing() {
    // No CHATSPHERE_HOOK_ALLOW: loopback and private networks are out,
    // whatever push services may reach.
    let strict = TestApp::spawn_configured(&[
        ("CHATSPHERE_HOOK_RETRY", "0.1"),
        ("CHATSPHERE_OUTBOUND_ALLOW", "127.0.0.0/8, 10.0.0.0/8"),
    ])
    .await;
    let receiver = Receiver::start().await;
    let ann = user(&strict, "ann").await;
    let group = crate::groups::new_group(&strict, &ann, "ops", &[]).await;
    for (url, why) in [
        (receiver.url("x"), "url: must be an https address"),
        (
            "https://127.0.0.1/x".to_owned(),
            "url: must be an https address",
        ),
        (
            "https://10.1.2.3/".to_owned(),
            "url: must be an https address",
        ),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "url: must be an https address",
        ),
        ("https://[::1]/".to_owned(), "url: must be an https address"),
        (
            "https://[::ffff:127.0.0.1]/".to_owned(),
            "url: must be an https address",
        ),
        (
            "https://user:pw@example.com/".to_owned(),
            "url: must be an https address",
        ),
        (
            "ftp://example.com/".to_owned(),
            "url: must be an http(s) URL",
        ),
        ("https://".to_owned(), "url: must be an http(s) URL"),
    ] {
        let (status, problem) =
            create(&strict, &ann, &group, json!({"name": "x", "url": url})).await;
        assert_eq!(status, 422, "{url}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{url}: {problem}"
        );
    }
    let (status, problem) = create(
        &strict,
        &ann,
        &group,
        json!({"name": "x", "trigger_word": "go"}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _) = create(
        &strict,
        &ann,
        &group,
        json!({"name": "x", "url": "https://example.com/", "trigger_word": "two words"}),
    )
    .await;
    assert_eq!(status, 422);

    // A name is checked when it is resolved: `localhost` is loopback, so
    // the request is never made, and the delivery fails at once.
    let port = receiver.origin.rsplit(':').next().unwrap();
    let (status, named) = create(
        &strict,
        &ann,
        &group,
        json!({"name": "named", "url": format!("https://localhost:{port}/in/named")}),
    )
    .await;
    assert_eq!(status, 201, "{named}");
    say(&strict, &ann, &group, "anyone there?").await;
    let log = settled(&strict, &ann, named["hook"]["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["status"], "failed", "{log:?}");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["error"], "the URL's address is not public");
    assert!(receiver.received("named").is_empty());
    // An incoming hook has no deliveries.
    let (_, incoming) = create(&strict, &ann, &group, json!({"name": "in"})).await;
    let (status, _) = deliveries(&strict, &ann, incoming["hook"]["id"].as_str().unwrap()).await;
    assert_eq!(status, 422);

    // A hook whose creator left sends nothing.
    let app = app().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[&bob]).await;
    let (status, created) = create(
        &app,
        &ann,
        &group,
        json!({"name": "ann's", "url": receiver.url("left")}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let hook_id = created["hook"]["id"].as_str().unwrap().to_owned();
    say(&app, &bob, &group, "before").await;
    assert_eq!(receiver.wait_for("left", 1).await.len(), 1);
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", ann.id),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    // Bob, now the owner, reads the log.
    say(&app, &bob, &group, "after ann left").await;
    let log = settled(&app, &bob, &hook_id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["error"], "action_prohibited");
    assert_eq!(receiver.received("left").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_document_states_the_delivery_bounds_and_the_payload() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    // Utoipa takes literals only: the literal is checked against the rule.
    assert_eq!(
        schemas["HookDelivery"]["properties"]["attempts"]["maximum"],
        domain::integrations::outgoing::MAX_ATTEMPTS
    );
    assert_eq!(
        schemas["HookDelivery"]["properties"]["response_status"]["maximum"],
        599
    );
    assert!(schemas["OutgoingPayload"]["properties"]["trigger_word"].is_object());
    assert!(schemas["HookUrl"]["pattern"].is_string());
    assert!(schemas["TriggerWord"]["pattern"].is_string());
    assert!(doc["paths"]["/api/v1/webhooks/{id}/deliveries"]["get"].is_object());
}
