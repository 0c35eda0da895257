//! The receipt part of the store contract (delivered and read positions,
//! unread counts derived from them, the presence audience, last-seen
//! times), on SQLite and, when configured, PostgreSQL.

mod support;

use chrono::{Duration, Utc};
use domain::MemberRole;
use services::store::{NewMessage, Positions};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    positions_only_move_forward_and_stop_at_the_newest_message,
    reading_counts_as_delivered_and_drives_the_unread_count,
    concurrent_receipts_keep_the_highest_position,
    non_members_have_no_positions_to_move,
    a_messages_recipients_exclude_its_sender_and_those_not_reached,
    presence_reaches_direct_and_group_conversations_but_not_rooms,
    online_members_are_counted_per_conversation,
    last_seen_times_are_kept_per_user,
);

async fn post_many(fx: &Fixture, conversation: Uuid, sender: Uuid, n: usize) {
    for i in 0..n {
        fx.store
            .post_message(&NewMessage {
                conversation_id: conversation,
                sender_id: sender,
                client_msg_id: &format!("{sender}-{i}-{}", Uuid::now_v7()),
                body: "hello",
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
    }
}

fn at(delivered_seq: i64, read_seq: i64) -> Option<Positions> {
    Some(Positions {
        delivered_seq,
        read_seq,
    })
}

async fn positions_only_move_forward_and_stop_at_the_newest_message(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    post_many(&fx, dm.id, a.id, 5).await;
    let store = &fx.store;
    assert_eq!(
        store.mark_delivered(dm.id, b.id, 3).await.unwrap(),
        at(3, 0)
    );
    assert_eq!(
        store.mark_delivered(dm.id, b.id, 2).await.unwrap(),
        None,
        "never back"
    );
    assert_eq!(
        store.mark_delivered(dm.id, b.id, 3).await.unwrap(),
        None,
        "no change"
    );
    assert_eq!(
        store.mark_delivered(dm.id, b.id, 99).await.unwrap(),
        at(5, 0),
        "capped at the newest message"
    );
    assert_eq!(store.mark_read(dm.id, b.id, 2).await.unwrap(), at(5, 2));
    assert_eq!(store.mark_read(dm.id, b.id, 1).await.unwrap(), None);
    assert_eq!(
        store.mark_read(dm.id, b.id, i64::MAX).await.unwrap(),
        at(5, 5)
    );
}

async fn reading_counts_as_delivered_and_drives_the_unread_count(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    post_many(&fx, dm.id, a.id, 4).await;
    let unread = |user: Uuid| {
        let store = fx.store.clone();
        async move { store.conversations_of(user).await.unwrap()[0].unread }
    };
    assert_eq!(unread(b.id).await, 4);
    fx.store.mark_delivered(dm.id, b.id, 4).await.unwrap();
    assert_eq!(unread(b.id).await, 4, "received is not read");
    assert_eq!(fx.store.mark_read(dm.id, b.id, 3).await.unwrap(), at(4, 3));
    assert_eq!(unread(b.id).await, 1);
    // Reading further than delivered moves delivered too.
    post_many(&fx, dm.id, a.id, 2).await;
    assert_eq!(fx.store.mark_read(dm.id, b.id, 6).await.unwrap(), at(6, 6));
    assert_eq!(unread(b.id).await, 0);
    assert_eq!(unread(a.id).await, 0, "the sender read their own messages");
}

async fn concurrent_receipts_keep_the_highest_position(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    post_many(&fx, dm.id, a.id, 30).await;
    let tasks: Vec<_> = (1..=30)
        .rev()
        .map(|seq| {
            let store = fx.store.clone();
            tokio::spawn(async move { store.mark_read(dm.id, b.id, seq).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let members = fx.store.member_positions(dm.id, 10).await.unwrap();
    let ben = members.iter().find(|m| m.user.id == b.id).unwrap();
    assert_eq!(ben.positions, at(30, 30).unwrap());
}

async fn non_members_have_no_positions_to_move(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let outsider = fx.user("eve").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    post_many(&fx, dm.id, a.id, 2).await;
    assert_eq!(
        fx.store.mark_read(dm.id, outsider.id, 2).await.unwrap(),
        None
    );
    assert_eq!(
        fx.store
            .mark_delivered(dm.id, outsider.id, 2)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        fx.store.mark_read(Uuid::now_v7(), b.id, 2).await.unwrap(),
        None
    );
}

async fn a_messages_recipients_exclude_its_sender_and_those_not_reached(fx: Fixture) {
    let owner = fx.user("olga").await;
    let b = fx.user("ben").await;
    let c = fx.user("cai").await;
    let group = fx
        .store
        .create_group(owner.id, "team", &[b.id, c.id])
        .await
        .unwrap();
    post_many(&fx, group.id, owner.id, 3).await;
    fx.store.mark_delivered(group.id, b.id, 3).await.unwrap();
    fx.store.mark_read(group.id, c.id, 1).await.unwrap();
    let names = |seq: i64| {
        let store = fx.store.clone();
        async move {
            store
                .recipients_of(group.id, seq, owner.id, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.user.username)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(1).await, ["ben", "cai"]);
    assert_eq!(names(3).await, ["ben"]);
    let all = fx.store.member_positions(group.id, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].user.username, "ben");
}

async fn presence_reaches_direct_and_group_conversations_but_not_rooms(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let (dm, _) = fx.store.open_direct(a.id, b.id).await.unwrap();
    let group = fx.store.create_group(a.id, "team", &[b.id]).await.unwrap();
    let general = fx
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    fx.store
        .add_member(general.id, a.id, MemberRole::Member)
        .await
        .unwrap();
    let mut audience = fx.store.presence_audience(a.id).await.unwrap();
    audience.sort();
    let mut expected = vec![dm.id, group.id];
    expected.sort();
    assert_eq!(audience, expected);
}

async fn online_members_are_counted_per_conversation(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    let c = fx.user("cai").await;
    let general = fx
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    for u in [&a, &b, &c] {
        fx.store
            .add_member(general.id, u.id, MemberRole::Member)
            .await
            .unwrap();
    }
    let group = fx.store.create_group(a.id, "team", &[b.id]).await.unwrap();
    let counts = fx
        .store
        .members_among(&[general.id, group.id], &[a.id, c.id, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(counts.get(&general.id), Some(&2));
    assert_eq!(counts.get(&group.id), Some(&1));
    assert!(fx
        .store
        .members_among(&[general.id], &[])
        .await
        .unwrap()
        .is_empty());
}

async fn last_seen_times_are_kept_per_user(fx: Fixture) {
    let a = fx.user("ann").await;
    let b = fx.user("ben").await;
    assert!(fx.store.last_seen(&[a.id, b.id]).await.unwrap().is_empty());
    let when = Utc::now() - Duration::minutes(5);
    fx.store.set_last_seen(a.id, when).await.unwrap();
    let seen = fx.store.last_seen(&[a.id, b.id]).await.unwrap();
    assert_eq!(seen.len(), 1);
    let stored = seen[&a.id];
    assert!(
        (stored - when).num_milliseconds().abs() < 2,
        "{stored} vs {when}"
    );
}
