//! The settings API: defaults, validation, per-conversation settings and
//! mutes, who may change what, and what devices may subscribe.

use reqwest::Method;
use serde_json::json;

use super::{prefs, set_conversation, set_prefs, settings_of, subscribe};
use crate::groups::new_group;
use crate::helpers::{call, user, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_start_at_the_defaults_and_are_validated() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let settings = settings_of(&app, &ann).await;
    assert_eq!(settings["level"], "mentions");
    assert_eq!(settings["previews"], true);
    assert_eq!(settings["email"], true);
    assert_eq!(settings["locale"], "en");
    // Registered with a password: the address is not verified.
    assert_eq!(settings["has_email"], false);
    // Development: a VAPID key is made; no SMTP server here.
    assert_eq!(settings["push_key"].as_str().unwrap().len(), 87);
    assert_eq!(settings["email_available"], false);

    let saved = set_prefs(
        &app,
        &ann,
        prefs(json!({"level": "all", "previews": false, "locale": "zh-CN"})),
    )
    .await;
    assert_eq!(
        (saved["level"].as_str(), saved["previews"].as_bool()),
        (Some("all"), Some(false))
    );
    let again = settings_of(&app, &ann).await;
    assert_eq!(again, saved);

    for bad in [
        prefs(json!({"locale": "fr"})),
        prefs(json!({"level": "loud"})),
        json!({"level": "all"}),
        prefs(json!({"previews": "yes"})),
    ] {
        let (status, problem) = call(
            &app,
            &ann,
            Method::PUT,
            "/api/v1/notifications/settings",
            Some(bad.clone()),
        )
        .await;
        assert!(status == 422 || status == 400, "{bad} → {status} {problem}");
    }
    settings_of(&app, &ann).await;
    let anonymous = app.get("/api/v1/notifications/settings").await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_setting_belongs_to_a_member_and_a_past_mute_is_none() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let eve = user(&app, "eve").await;
    let group = new_group(&app, &ann, "crew", &[&bob]).await;
    let path = format!("/api/v1/conversations/{group}/notifications");

    let (status, setting) = call(&app, &bob, Method::GET, &path, None).await;
    assert_eq!(
        (status, setting),
        (200, json!({"level": null, "muted_until": null}))
    );
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let kept = set_conversation(
        &app,
        &bob,
        &group,
        json!({"level": "all", "muted_until": until}),
    )
    .await;
    assert_eq!(kept["level"], "all");
    assert!(kept["muted_until"].is_string());
    // Only bob's: ann's is untouched.
    let (_, anns) = call(&app, &ann, Method::GET, &path, None).await;
    assert_eq!(anns["level"], serde_json::Value::Null);
    // Forever, then a mute in the past (none).
    let forever = set_conversation(
        &app,
        &bob,
        &group,
        json!({"level": null, "muted_until": "9999-12-31T23:59:59Z"}),
    )
    .await;
    assert_eq!(forever["muted_until"], "9999-12-31T23:59:59Z");
    let later = set_conversation(
        &app,
        &bob,
        &group,
        json!({"level": null, "muted_until": "9999-12-31T23:59:59-23:59"}),
    )
    .await;
    assert_eq!(
        later["muted_until"], "9999-12-31T23:59:59Z",
        "later than forever is forever"
    );
    let past = set_conversation(
        &app,
        &bob,
        &group,
        json!({"level": null, "muted_until": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(past, json!({"level": null, "muted_until": null}));

    // Not a member: not found, nothing changed.
    for method in [Method::GET, Method::PUT] {
        let body =
            (method == Method::PUT).then(|| json!({"level": "nothing", "muted_until": null}));
        let (status, _) = call(&app, &eve, method, &path, body).await;
        assert_eq!(status, 404);
    }
    let (status, _) = call(
        &app,
        &bob,
        Method::PUT,
        &path,
        Some(json!({"level": "all", "muted_until": "tomorrow"})),
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_must_subscribe_with_a_public_https_endpoint_and_real_keys() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let push = super::push_service::PushService::start().await;
    let device = push.device("phone");
    let good = device.subscription();
    let with_endpoint = |endpoint: &str| {
        let mut s = good.clone();
        s["endpoint"] = json!(endpoint);
        s
    };
    // Without CHATSPHERE_OUTBOUND_ALLOW, loopback and private networks,
    // plain http, and the cloud metadata address are refused: this server
    // would send requests there.
    for endpoint in [
        device.endpoint.as_str(),
        "https://127.0.0.1/push/x",
        "https://[::1]/push",
        "https://10.0.0.8/push",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:192.168.1.1]/p",
        "http://push.example.com/p",
        "javascript:alert(1)",
        "https://user:pw@push.example.com/p",
    ] {
        let (status, problem) = subscribe(&app, &ann, &with_endpoint(endpoint)).await;
        assert_eq!(status, 422, "{endpoint}: {problem}");
    }
    let long = format!("https://push.example.com/{}", "a".repeat(2100));
    assert_eq!(subscribe(&app, &ann, &with_endpoint(&long)).await.0, 422);
    let mut bad_key = with_endpoint("https://push.example.com/p");
    bad_key["keys"]["p256dh"] = json!("AAAA");
    assert_eq!(subscribe(&app, &ann, &bad_key).await.0, 422);
    let mut padded = with_endpoint("https://push.example.com/p");
    let key = good["keys"]["p256dh"].as_str().unwrap().to_owned();
    padded["keys"]["p256dh"] = json!(format!("{key}{}", "=".repeat(5000)));
    assert_eq!(
        subscribe(&app, &ann, &padded).await.0,
        422,
        "bounded as sent"
    );
    let mut bad_auth = with_endpoint("https://push.example.com/p");
    bad_auth["keys"]["auth"] = json!("not base64!");
    assert_eq!(subscribe(&app, &ann, &bad_auth).await.0, 422);
    // A public https endpoint with real keys is kept, and can be forgotten
    // by its owner only.
    let public = with_endpoint("https://push.example.com/p/1");
    assert_eq!(subscribe(&app, &ann, &public).await.0, 204);
    let bob = user(&app, "bob").await;
    let forget = "/api/v1/notifications/devices?endpoint=https%3A%2F%2Fpush.example.com%2Fp%2F1";
    assert_eq!(call(&app, &bob, Method::DELETE, forget, None).await.0, 404);
    assert_eq!(call(&app, &ann, Method::DELETE, forget, None).await.0, 204);
    assert_eq!(call(&app, &ann, Method::DELETE, forget, None).await.0, 404);
}
