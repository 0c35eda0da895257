//! The room-management part of the store contract (creating public rooms,
//! changing their topic, deleting them with everything in them) and the
//! per-minute message counts of the admin view, on SQLite and, when
//! configured, PostgreSQL.

mod support;

use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::MemberRole;
use services::store::{NewMessage, StoreError};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    a_created_room_is_listed_and_its_name_is_unique_without_regard_to_case,
    only_public_rooms_have_their_topic_changed,
    deleting_a_room_takes_its_members_and_messages_and_names_who_were_in_it,
    messages_are_counted_per_clock_minute_from_a_given_time,
);

async fn post(fx: &Fixture, conversation: Uuid, sender: Uuid) -> Uuid {
    let posted = fx
        .store
        .post_message(&NewMessage {
            conversation_id: conversation,
            sender_id: sender,
            client_msg_id: &Uuid::now_v7().to_string(),
            body: "hello",
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap();
    posted.message().id
}

async fn a_created_room_is_listed_and_its_name_is_unique_without_regard_to_case(fx: Fixture) {
    let admin = fx.user("admin").await;
    let room = fx
        .store
        .create_room(admin.id, "Design", "Reviews and critique")
        .await
        .unwrap();
    assert_eq!(
        (room.name.as_str(), room.topic.as_str(), room.member_count),
        ("Design", "Reviews and critique", 0)
    );
    let listed = fx.store.list_public_rooms().await.unwrap();
    assert!(listed.iter().any(|r| r.id == room.id && r.name == "Design"));
    let found = fx.store.public_room_by_name("design").await.unwrap();
    assert_eq!(found.map(|r| r.id), Some(room.id));
    let conversation = fx.store.conversation(room.id).await.unwrap().unwrap();
    assert!(conversation.is_public);

    for taken in ["DESIGN", "general"] {
        assert!(
            matches!(
                fx.store.create_room(admin.id, taken, "").await,
                Err(StoreError::Conflict("room name"))
            ),
            "{taken}"
        );
    }
    // A private group may still carry a room's name.
    fx.store
        .create_group(admin.id, "design", &[])
        .await
        .expect("groups are not rooms");
}

async fn only_public_rooms_have_their_topic_changed(fx: Fixture) {
    let admin = fx.user("admin").await;
    let room = fx.store.create_room(admin.id, "ops", "").await.unwrap();
    fx.store
        .add_member(room.id, admin.id, MemberRole::Member)
        .await
        .unwrap();
    let changed = fx
        .store
        .set_room_topic(room.id, "On-call and incidents")
        .await
        .unwrap();
    assert_eq!(changed.topic, "On-call and incidents");
    assert_eq!((changed.name.as_str(), changed.member_count), ("ops", 1));
    let listed = fx.store.public_room_by_name("ops").await.unwrap().unwrap();
    assert_eq!(listed.topic, "On-call and incidents");

    let group = fx.store.create_group(admin.id, "team", &[]).await.unwrap();
    for id in [group.id, Uuid::now_v7()] {
        assert!(matches!(
            fx.store.set_room_topic(id, "nope").await,
            Err(StoreError::NotFound("room"))
        ));
    }
}

async fn deleting_a_room_takes_its_members_and_messages_and_names_who_were_in_it(fx: Fixture) {
    let ann = fx.user("ann").await;
    let ben = fx.user("ben").await;
    let room = fx.store.create_room(ann.id, "doomed", "").await.unwrap();
    for member in [&ann, &ben] {
        fx.store
            .add_member(room.id, member.id, MemberRole::Member)
            .await
            .unwrap();
    }
    let first = post(&fx, room.id, ann.id).await;
    // A reply inside the room: deleting must not trip over the reference.
    fx.store
        .post_message(&NewMessage {
            conversation_id: room.id,
            sender_id: ben.id,
            client_msg_id: "reply-1",
            body: "re: hello",
            reply_to: Some(first),
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap();
    let (dm, _) = fx.store.open_direct(ann.id, ben.id).await.unwrap();
    let kept = post(&fx, dm.id, ann.id).await;

    let mut expected = vec![ann.id, ben.id];
    expected.sort_unstable();
    assert_eq!(fx.store.delete_room(room.id).await.unwrap(), expected);

    assert!(fx.store.conversation(room.id).await.unwrap().is_none());
    assert!(fx.store.message(first).await.unwrap().is_none());
    assert!(fx.store.member_ids(room.id).await.unwrap().is_empty());
    assert!(fx
        .store
        .public_room_by_name("doomed")
        .await
        .unwrap()
        .is_none());
    let ids: Vec<Uuid> = fx
        .store
        .conversations_of(ann.id)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [dm.id]);
    assert!(fx.store.message(kept).await.unwrap().is_some());
    // The name is free again; groups and unknown ids are no rooms to delete.
    fx.store.create_room(ann.id, "doomed", "").await.unwrap();
    for id in [dm.id, Uuid::now_v7()] {
        assert!(matches!(
            fx.store.delete_room(id).await,
            Err(StoreError::NotFound("room"))
        ));
    }
}

/// Moves a message to `at`, in the backend's own storage format (through
/// sqlx's encoding, as the store writes it).
async fn backdate(fx: &Fixture, message: Uuid, at: DateTime<Utc>) {
    use sqlx::Connection;
    if fx.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&fx.url).await.unwrap();
        sqlx::query("update messages set created_at = ? where id = ?")
            .bind(at)
            .bind(message)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&fx.url).await.unwrap();
        sqlx::query("update messages set created_at = $1 where id = $2")
            .bind(at)
            .bind(message)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

async fn messages_are_counted_per_clock_minute_from_a_given_time(fx: Fixture) {
    let ann = fx.user("ann").await;
    let ben = fx.user("ben").await;
    let room = fx
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    fx.store
        .add_member(room.id, ann.id, MemberRole::Member)
        .await
        .unwrap();
    let (dm, _) = fx.store.open_direct(ann.id, ben.id).await.unwrap();
    let minute = |m: i64| {
        let base = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(2);
        base + Duration::minutes(m)
    };
    // Minute 0: two (one of them at its very start), minute 1: none,
    // minute 2: three over two conversations (one in its last microsecond),
    // and one message just before the window.
    let placed = [
        (minute(-1) + Duration::seconds(59), room.id),
        (minute(0), room.id),
        (minute(0) + Duration::seconds(30), dm.id),
        (minute(2) + Duration::milliseconds(1), room.id),
        (minute(2) + Duration::microseconds(59_999_999), room.id),
        (minute(2) + Duration::seconds(7), dm.id),
    ];
    for (at, conversation) in placed {
        let id = post(&fx, conversation, ann.id).await;
        backdate(&fx, id, at).await;
    }
    let counts = fx.store.message_counts(minute(0)).await.unwrap();
    assert_eq!(counts, [(minute(0), 2), (minute(2), 3)]);

    // `since` is exact, not rounded to its minute.
    let counts = fx
        .store
        .message_counts(minute(2) + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(counts, [(minute(2), 2)]);
    // Messages of now are counted in the current minute.
    post(&fx, room.id, ann.id).await;
    let now = fx
        .store
        .message_counts(Utc::now() - Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(now.iter().map(|(_, n)| n).sum::<u32>(), 1);
    assert!(now.iter().all(|(start, _)| start.timestamp() % 60 == 0));
}
