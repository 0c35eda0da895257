//! The caches across processes: a member removed through one server
//! process is refused at once by another process that had the membership
//! cached, and stops receiving there; a display name changed through one
//! process shows at once in what another process had cached.

use std::time::Duration;

use serde_json::json;

use crate::two_processes::{connect, on_two_processes, register, start_conversation};
use crate::ws::{next_of, send, silent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_removed_member_is_refused_at_once_by_the_other_process() {
    on_two_processes("cache", &[], |a, b| async move {
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
        let post = |address: String, token: String, id: String| {
            let (client, group) = (client.clone(), group.clone());
            async move {
                client
                    .post(format!("{address}/api/v1/conversations/{group}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"client_msg_id": id, "body": id}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        // Ben posts twice through B: B has his membership cached now.
        assert_eq!(post(b.address.clone(), ben.clone(), "b1".into()).await, 201);
        assert_eq!(post(b.address.clone(), ben.clone(), "b2".into()).await, 201);
        let mut socket = connect(&b.address, &ben).await;

        // Ann removes him through A.
        let removed = client
            .delete(format!(
                "{}/api/v1/conversations/{group}/members/{ben_id}",
                a.address
            ))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap();
        assert!(removed.status().is_success(), "{}", removed.status());
        // Within moments (the bus), not the cache's 30 s lifetime.
        let mut refused = None;
        for attempt in 0..20 {
            let status = post(b.address.clone(), ben.clone(), format!("late-{attempt}")).await;
            if status != 201 {
                refused = Some((attempt, status));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (attempt, status) = refused.expect("B refuses the removed member within a second");
        assert!(matches!(status, 403 | 404), "{status}");
        assert!(attempt <= 10, "refused after {attempt} attempts");
        // And his socket on B no longer receives the group's messages.
        // (A `members` event for the group may come first: he was one of
        // them when it was published.)
        let left = next_of(&mut socket, "left").await;
        assert_eq!(left["conversation_id"], group.as_str(), "{left}");
        assert_eq!(post(a.address.clone(), ann.clone(), "a1".into()).await, 201);
        silent(&mut socket, Duration::from_millis(500)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_new_display_name_shows_at_once_on_the_other_process() {
    on_two_processes("cache", &[], |a, b| async move {
        let client = reqwest::Client::new();
        let (_, ann) = register(&client, &a.address, "ann").await;
        let (ben_id, ben) = register(&client, &b.address, "ben").await;
        let mut conversations = Vec::new();
        for (kind, body) in [
            ("groups", json!({"name": "team", "member_ids": [ben_id]})),
            ("direct", json!({"user_id": ben_id})),
        ] {
            conversations.push(start_conversation(&client, &a.address, &ann, kind, body).await);
        }
        // Ann's connection is on A, Ben's on B.
        let mut ann_socket = connect(&a.address, &ann).await;
        let mut ben_socket = connect(&b.address, &ben).await;
        // Ann types: A reads her profile, and keeps it.
        send(
            &mut ann_socket,
            json!({"type": "typing", "conversation_id": conversations[0]}),
        )
        .await;
        assert_eq!(next_of(&mut ben_socket, "typing").await["name"], "ann");

        // She renames herself through B.
        let renamed = client
            .put(format!("{}/api/v1/auth/me", b.address))
            .bearer_auth(&ann)
            .json(&json!({"display_name": "Ann Lee"}))
            .send()
            .await
            .unwrap();
        assert!(renamed.status().is_success(), "{}", renamed.status());
        // The bus brings B's invalidation to A within moments, not the
        // cache's minute: she types until a notice carries the new name
        // (notices pass at most every 2 s per conversation: alternate).
        let deadline = std::time::Instant::now() + Duration::from_secs(6);
        let mut turn = 1;
        let typing = loop {
            assert!(
                std::time::Instant::now() < deadline,
                "A still names Ann by her old name after 6 s"
            );
            send(
                &mut ann_socket,
                json!({"type": "typing", "conversation_id": conversations[turn]}),
            )
            .await;
            turn = 1 - turn;
            let next = next_of(&mut ben_socket, "typing");
            if let Ok(frame) = tokio::time::timeout(Duration::from_millis(300), next).await {
                if frame["name"] == "Ann Lee" {
                    break frame;
                }
            }
        };
        assert!(conversations.contains(&typing["conversation_id"].as_str().unwrap().to_owned()));
    })
    .await;
}
