//! Outgoing webhooks across processes: a hook made through one process is
//! used at once for messages stored by another that had its conversation's
//! hooks cached (the bus tells it), and a hook deleted through one process
//! takes nothing from the others'.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::receiver::Receiver;
use crate::metrics::{sample, scrape, METRICS_TOKEN};
use crate::two_processes::{on_two_processes, register, start_conversation};

/// Posts `body` as `token` to the conversation through `address`.
async fn post(client: &reqwest::Client, address: &str, token: &str, group: &str, body: &str) {
    let status = client
        .post(format!("{address}/api/v1/conversations/{group}/messages"))
        .bearer_auth(token)
        .json(&json!({"client_msg_id": uuid::Uuid::now_v7().to_string(), "body": body}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
}

/// The texts `path` received, in order.
fn texts(receiver: &Receiver, path: &str) -> Vec<String> {
    receiver
        .received(path)
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_hook_made_on_one_process_sends_what_another_stores_at_once() {
    let receiver = Receiver::start().await;
    let allow = [
        ("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32"),
        ("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN),
    ];
    on_two_processes("hooks", &allow, |a, b| async move {
        let client = reqwest::Client::new();
        let (_, ann) = register(&client, &a.address, "ann").await;
        let (ben_id, ben) = register(&client, &b.address, "ben").await;
        let group = start_conversation(
            &client,
            &a.address,
            &ann,
            "groups",
            json!({"name": "team", "member_ids": [ben_id]}),
        )
        .await;

        // B stores messages: it looks the group's hooks up (none) once and
        // remembers that for minutes.
        let hits = r#"chatsphere_cache_hits_total{cache="outgoing_hooks"}"#;
        let cached = |address: String| {
            let client = client.clone();
            async move { sample(&scrape(&client, &address).await, hits) }
        };
        let before = cached(b.address.clone()).await;
        post(&client, &b.address, &ben, &group, "before").await;
        post(&client, &b.address, &ben, &group, "before again").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while cached(b.address.clone()).await <= before {
            assert!(Instant::now() < deadline, "B never used its cached hooks");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Ann makes an outgoing hook through A.
        let make = |path: &'static str| {
            let (client, address, ann, group) = (
                client.clone(),
                a.address.clone(),
                ann.clone(),
                group.clone(),
            );
            let url = receiver.url(path);
            async move {
                let created = client
                    .post(format!("{address}/api/v1/conversations/{group}/webhooks"))
                    .bearer_auth(&ann)
                    .json(&json!({"name": path, "url": url}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(created.status(), 201);
                let created: Value = created.json().await.unwrap();
                created["hook"]["id"].as_str().unwrap().to_owned()
            }
        };
        let hook = make("team").await;

        // B's next message goes out: B was told of the hook.
        let started = Instant::now();
        post(&client, &b.address, &ben, &group, "after").await;
        receiver.wait_for("team", 1).await;
        assert_eq!(texts(&receiver, "team"), ["after"]);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "{took:?}");
        let body: Value = serde_json::from_slice(&receiver.received("team")[0].body).unwrap();
        assert_eq!(body["channel_name"], "team", "{body}");

        // A second hook; the first deleted through A. B sends the next
        // message to the second alone.
        make("other").await;
        post(&client, &b.address, &ben, &group, "both").await;
        receiver.wait_for("other", 1).await;
        receiver.wait_for("team", 2).await;
        let deleted = client
            .delete(format!("{}/api/v1/webhooks/{hook}", a.address))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "{}", deleted.status());
        post(&client, &b.address, &ben, &group, "gone").await;
        receiver.wait_for("other", 2).await;
        assert_eq!(texts(&receiver, "other"), ["both", "gone"]);
        assert_eq!(texts(&receiver, "team"), ["after", "both"]);
    })
    .await;
}
