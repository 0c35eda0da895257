//! Group commit: the store's batch of one conversation's messages, and the
//! conversation service sharing commits among concurrent senders, on SQLite
//! and, when configured, PostgreSQL.

mod support;

use std::sync::Arc;
use std::time::Duration;

use services::auth::{AccessTokens, SessionPolicy};
use services::bus::InProcessBus;
use services::conversations::{Actor, ChatPolicy, Outgoing};
use services::kv::SharedKv;
use services::store::{NewMessage, Posted};
use services::Services;
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    a_batch_numbers_new_messages_in_order_and_answers_repeats_with_the_original,
    concurrent_senders_share_commits_and_every_message_gets_its_own_number,
);

fn message<'a>(conversation: Uuid, sender: Uuid, client: &'a str, body: &'a str) -> NewMessage<'a> {
    NewMessage {
        conversation_id: conversation,
        sender_id: sender,
        client_msg_id: client,
        body,
        reply_to: None,
        mentions: &[],
        mentions_all: false,
        attachments: &[],
        label: None,
    }
}

async fn a_batch_numbers_new_messages_in_order_and_answers_repeats_with_the_original(fx: Fixture) {
    let ann = fx.user("ann").await;
    let ben = fx.user("ben").await;
    let group = fx
        .store
        .create_group(ann.id, "batch", &[ben.id])
        .await
        .unwrap();
    assert!(fx.store.post_messages(&[]).await.unwrap().is_empty());
    let Posted::New(before) = fx
        .store
        .post_message(&message(group.id, ann.id, "a0", "before"))
        .await
        .unwrap()
    else {
        panic!("new")
    };
    let batch = [
        message(group.id, ann.id, "a1", "one"),
        message(group.id, ben.id, "b1", "two"),
        // Stored before: the original, not a new message.
        message(group.id, ann.id, "a0", "again"),
        // Ben's client id is his own: Ann may use it too.
        message(group.id, ann.id, "b1", "three"),
        // Sent twice within the batch: the first one's message.
        message(group.id, ben.id, "b1", "two again"),
        message(group.id, ben.id, "b2", "four"),
    ];
    let posted = fx.store.post_messages(&batch).await.unwrap();
    let seqs: Vec<(bool, i64, &str)> = posted
        .iter()
        .map(|p| {
            (
                matches!(p, Posted::New(_)),
                p.message().seq,
                p.message().body.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seqs,
        [
            (true, 2, "one"),
            (true, 3, "two"),
            (false, 1, "before"),
            (true, 4, "three"),
            (false, 3, "two"),
            (true, 5, "four"),
        ]
    );
    assert_eq!(posted[2].message(), &before);
    assert_eq!(posted[4].message().id, posted[1].message().id);
    assert_eq!(posted[1].message().sender_name, "ben");
    let conversation = fx.store.conversation(group.id).await.unwrap().unwrap();
    assert_eq!(conversation.last_seq, 5);
    // Each sender has read what they sent, up to their last message.
    let positions = fx.store.member_positions(group.id, 10).await.unwrap();
    let of = |id: Uuid| {
        positions
            .iter()
            .find(|m| m.user.id == id)
            .map(|m| (m.positions.delivered_seq, m.positions.read_seq))
    };
    assert_eq!(of(ann.id), Some((4, 4)));
    assert_eq!(of(ben.id), Some((5, 5)));
    // The stored history is exactly the new ones, once each.
    let history = fx.store.messages_after(group.id, 0, 100).await.unwrap();
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["before", "one", "two", "three", "four"]);
    // A batch for a conversation that does not exist stores nothing.
    let ghost = [message(Uuid::now_v7(), ann.id, "g", "nobody")];
    assert!(fx.store.post_messages(&ghost).await.is_err());
}

async fn concurrent_senders_share_commits_and_every_message_gets_its_own_number(fx: Fixture) {
    let tokens = AccessTokens::new(
        b"batch-contract-secret-0123456789-0123",
        "iss",
        "aud",
        Duration::from_secs(900),
    );
    let policy = ChatPolicy {
        sends_per_second: 100_000,
        ..ChatPolicy::default()
    };
    let services = Services::new(
        fx.store.clone(),
        Arc::new(InProcessBus::new()),
        SharedKv::local(),
        tokens,
        SessionPolicy::default(),
        policy,
    );
    let mut senders = Vec::new();
    for i in 0..20 {
        senders.push(fx.user(&format!("sender{i}")).await);
    }
    let ids: Vec<Uuid> = senders.iter().map(|u| u.id).collect();
    let group = fx
        .store
        .create_group(ids[0], "hot", &ids[1..])
        .await
        .unwrap();
    let commits_before = services.chat.commits();
    let mut tasks = Vec::new();
    for (i, sender) in ids.iter().copied().enumerate() {
        for n in 0..10 {
            let chat = services.chat.clone();
            tasks.push(tokio::spawn(async move {
                let outgoing = Outgoing {
                    conversation_id: group.id,
                    client_msg_id: format!("s{i}-{n}"),
                    body: format!("{i}/{n}"),
                    reply_to: None,
                    attachments: Vec::new(),
                    label: None,
                };
                chat.post(Actor::session(sender), outgoing).await
            }));
        }
    }
    let mut seqs = Vec::new();
    for task in tasks {
        let posted = task.await.unwrap().expect("stored");
        assert!(matches!(posted, Posted::New(_)));
        seqs.push(posted.message().seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<i64>>(), "dense and unique");
    let commits = services.chat.commits() - commits_before;
    // One commit each would be 200.
    assert!(
        commits < 100,
        "{commits} commits for 200 concurrent messages"
    );
    let stored = fx.store.messages_after(group.id, 0, 100).await.unwrap();
    assert_eq!(stored.len(), 100);
}
