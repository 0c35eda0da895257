use std::sync::Arc;
use std::time::Duration;

use domain::protocol::ServerFrame;
use domain::ChatMessage;
use services::auth::{AccessTokens, ClientInfo, Registration, SessionPolicy};
use services::bus::InProcessBus;
use services::conversations::ChatPolicy;
use services::events::{conversation_topic, Publish};
use services::kv::SharedKv;
use services::store::{NewMessage, SqliteStore};
use services::Services;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Delivery, Hub, Topic, REORDER_WINDOW};

async fn services() -> (Services, Arc<InProcessBus>) {
    let store = Arc::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
    let bus = Arc::new(InProcessBus::new());
    let tokens = AccessTokens::new(
        b"hub-test-secret-0123456789-0123456789",
        "iss",
        "aud",
        Duration::from_secs(900),
    );
    let services = Services::new(
        store,
        bus.clone(),
        SharedKv::local(),
        tokens,
        SessionPolicy::default(),
        ChatPolicy::default(),
    );
    (services, bus)
}

/// A member of `general` and its id.
async fn member(services: &Services) -> (Uuid, Uuid) {
    let registration = Registration {
        username: "ann".into(),
        email: String::new(),
        display_name: String::new(),
        password: "violet-harbour-71-kites".into(),
    };
    let (user, _) = services
        .auth
        .register(registration, ClientInfo::default())
        .await
        .unwrap();
    let general = services.chat.conversation_ids(user.id).await.unwrap()[0];
    (user.id, general)
}

/// Stores `count` messages without publishing them (the test publishes
/// them as it likes).
async fn stored(
    services: &Services,
    user: Uuid,
    conversation: Uuid,
    count: usize,
) -> Vec<ChatMessage> {
    let mut messages = Vec::new();
    for _ in 0..count {
        let client_msg_id = Uuid::now_v7().to_string();
        let body = format!("message {client_msg_id}");
        let posted = services
            .store
            .post_message(&NewMessage {
                conversation_id: conversation,
                sender_id: user,
                client_msg_id: &client_msg_id,
                body: &body,
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
        messages.push(posted.message().clone());
    }
    messages
}

async fn publish(bus: &InProcessBus, message: &ChatMessage) {
    use services::bus::Bus;
    bus.publish(
        &conversation_topic(message.conversation_id),
        ServerFrame::message(message).to_bytes(),
    )
    .await
    .unwrap();
}

/// The sequence numbers of the next `count` messages in an inbox.
async fn seqs(inbox: &mut mpsc::Receiver<Delivery>, count: usize) -> Vec<i64> {
    let mut seqs = Vec::new();
    while seqs.len() < count {
        let delivery = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
            .await
            .expect("a message in time")
            .expect("the inbox is open");
        seqs.push(delivery.1.seq);
    }
    seqs
}

#[tokio::test]
async fn every_connection_shares_one_subscription_and_the_last_one_out_ends_it() {
    let (services, bus) = services().await;
    let hub = Hub::new(Arc::new(services));
    let topic = Topic::Conversation(Uuid::now_v7());
    let mut subscribers = Vec::new();
    for _ in 0..50 {
        let (subscriber, inbox) = hub.subscriber(16);
        hub.attach(&subscriber, &[topic]).await.unwrap();
        subscribers.push((subscriber, inbox));
    }
    assert_eq!(bus.topic_count(), 1);
    assert_eq!(hub.topic_count(), 1);
    for (subscriber, _) in &subscribers[..49] {
        hub.detach(subscriber.id(), topic);
    }
    assert_eq!(bus.topic_count(), 1, "one subscriber is left");
    hub.detach(subscribers[49].0.id(), topic);
    assert_eq!(hub.topic_count(), 0);
    // The feed's task drops the bus subscription as it ends.
    tokio::time::timeout(Duration::from_secs(2), async {
        while bus.topic_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the bus subscription ends");
}

#[tokio::test]
async fn messages_published_out_of_order_reach_everyone_in_order_without_a_store_read() {
    let (services, bus) = services().await;
    let (user, general) = member(&services).await;
    let hub = Hub::new(Arc::new(services.clone()));
    let topic = Topic::Conversation(general);
    let mut inboxes = Vec::new();
    for _ in 0..20 {
        let (subscriber, inbox) = hub.subscriber(16);
        hub.attach(&subscriber, &[topic]).await.unwrap();
        inboxes.push((subscriber, inbox));
    }
    let messages = stored(&services, user, general, 4).await;
    // 1, then 3 and 4 before 2 (as concurrent senders publish), then 2
    // again (a retried send publishes the original again).
    for i in [0, 2, 3, 1, 1] {
        publish(&bus, &messages[i]).await;
    }
    for (_, inbox) in &mut inboxes {
        assert_eq!(seqs(inbox, 4).await, [1, 2, 3, 4]);
    }
    tokio::time::sleep(REORDER_WINDOW * 2).await;
    for (_, inbox) in &mut inboxes {
        assert!(inbox.try_recv().is_err(), "nothing twice");
    }
    assert_eq!(hub.fills(topic), 0, "the gap closed by itself");
}

#[tokio::test]
async fn a_message_never_published_is_read_from_the_store_once_for_every_connection() {
    let (services, bus) = services().await;
    let (user, general) = member(&services).await;
    let hub = Hub::new(Arc::new(services.clone()));
    let topic = Topic::Conversation(general);
    let mut inboxes = Vec::new();
    for _ in 0..50 {
        let (subscriber, inbox) = hub.subscriber(16);
        hub.attach(&subscriber, &[topic]).await.unwrap();
        inboxes.push((subscriber, inbox));
    }
    let messages = stored(&services, user, general, 5).await;
    // 2 and 3 were stored, but their process died before publishing.
    for i in [0, 3, 4] {
        publish(&bus, &messages[i]).await;
    }
    for (_, inbox) in &mut inboxes {
        assert_eq!(seqs(inbox, 5).await, [1, 2, 3, 4, 5]);
    }
    assert_eq!(hub.fills(topic), 1, "one read for all fifty");
}

#[tokio::test]
async fn a_connection_that_stops_reading_is_told_and_the_others_carry_on() {
    let (services, bus) = services().await;
    let (user, general) = member(&services).await;
    let hub = Hub::new(Arc::new(services.clone()));
    let topic = Topic::Conversation(general);
    let (slow, _slow_inbox) = hub.subscriber(2);
    let (reader, mut inbox) = hub.subscriber(16);
    hub.attach(&slow, &[topic]).await.unwrap();
    hub.attach(&reader, &[topic]).await.unwrap();
    let messages = stored(&services, user, general, 6).await;
    let overflow = slow.overflow();
    let told = tokio::spawn(async move { overflow.notified().await });
    for message in &messages {
        publish(&bus, message).await;
    }
    assert_eq!(seqs(&mut inbox, 6).await, [1, 2, 3, 4, 5, 6]);
    tokio::time::timeout(Duration::from_secs(2), told)
        .await
        .expect("the slow one is told")
        .unwrap();
}

#[tokio::test]
async fn a_presence_change_reaches_each_connection_once_however_many_conversations_it_shares() {
    use services::bus::Bus;
    use services::events::{PresenceBroadcast, PRESENCE_TOPIC};
    let (services, bus) = services().await;
    let hub = Hub::new(Arc::new(services));
    let shared: Vec<Uuid> = (0..30).map(|_| Uuid::now_v7()).collect();
    let mut topics: Vec<Topic> = shared.iter().copied().map(Topic::Conversation).collect();
    topics.push(Topic::Presence);
    let (member_of_all, mut inbox) = hub.subscriber(16);
    hub.attach(&member_of_all, &topics).await.unwrap();
    let (member_of_one, mut other_inbox) = hub.subscriber(16);
    hub.attach(
        &member_of_one,
        &[Topic::Conversation(shared[29]), Topic::Presence],
    )
    .await
    .unwrap();
    let (stranger, mut stranger_inbox) = hub.subscriber(16);
    hub.attach(
        &stranger,
        &[Topic::Conversation(Uuid::now_v7()), Topic::Presence],
    )
    .await
    .unwrap();
    let event = ServerFrame::Presence {
        user_id: Uuid::now_v7(),
        online: true,
        last_seen_at: chrono::Utc::now(),
    };
    bus.publish(PRESENCE_TOPIC, PresenceBroadcast::to_bytes(&shared, &event))
        .await
        .unwrap();
    for inbox in [&mut inbox, &mut other_inbox] {
        let delivery = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
            .await
            .expect("the change in time")
            .unwrap();
        let (topic, envelope) = &*delivery;
        assert!(matches!(topic, Topic::Conversation(id) if shared.contains(id)));
        assert!(envelope.json.starts_with(br#"{"type":"presence""#));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(inbox.try_recv().is_err(), "once, not once per conversation");
    assert!(other_inbox.try_recv().is_err());
    assert!(stranger_inbox.try_recv().is_err(), "not a member of any");
}

#[tokio::test]
async fn an_old_message_published_again_is_a_repeat_for_a_new_feed_not_a_gap() {
    let (services, bus) = services().await;
    let (user, general) = member(&services).await;
    let old = stored(&services, user, general, 30).await;
    // A feed starts after thirty messages: where it starts is read from the
    // store, so a retried send of message 5, published again, is a repeat.
    let hub = Hub::new(Arc::new(services.clone()));
    let topic = Topic::Conversation(general);
    let (subscriber, mut inbox) = hub.subscriber(16);
    hub.attach(&subscriber, &[topic]).await.unwrap();
    publish(&bus, &old[4]).await;
    let new = stored(&services, user, general, 1).await;
    publish(&bus, &new[0]).await;
    assert_eq!(seqs(&mut inbox, 1).await, [31]);
    tokio::time::sleep(REORDER_WINDOW * 2).await;
    assert!(inbox.try_recv().is_err(), "no old messages replayed live");
    assert_eq!(hub.fills(topic), 0);
}

#[tokio::test]
async fn changes_are_ordered_apart_from_messages_and_a_lost_one_is_filled_once() {
    use services::store::MessageChange;
    let (services, bus) = services().await;
    let (user, general) = member(&services).await;
    let hub = Hub::new(Arc::new(services.clone()));
    let topic = Topic::Conversation(general);
    let mut inboxes = Vec::new();
    for _ in 0..10 {
        let (subscriber, inbox) = hub.subscriber(16);
        hub.attach(&subscriber, &[topic]).await.unwrap();
        inboxes.push((subscriber, inbox));
    }
    let messages = stored(&services, user, general, 3).await;
    let mut changed = Vec::new();
    for (i, body) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let message = &messages[i % 3];
        let state = services
            .store
            .change_message(general, message.id, MessageChange::Edit { body })
            .await
            .unwrap()
            .0;
        changed.push(state);
    }
    let publish_change = |m: &ChatMessage| {
        let bytes = ServerFrame::changed(m).to_bytes();
        let bus = bus.clone();
        async move {
            use services::bus::Bus;
            bus.publish(&conversation_topic(general), bytes)
                .await
                .unwrap();
        }
    };
    // Messages 1–3 in order; change 3 before 1, change 2 never published.
    for message in &messages {
        publish(&bus, message).await;
    }
    publish_change(&changed[2]).await;
    publish_change(&changed[0]).await;
    publish_change(&changed[3]).await;
    for (_, inbox) in &mut inboxes {
        let mut got = Vec::new();
        while got.len() < 7 {
            let delivery = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
                .await
                .expect("an event in time")
                .expect("the inbox is open");
            got.push(delivery.1.seq);
        }
        // Messages by seq; changes (negative on the envelope) by number:
        // 1, then 2 read from the store, then 3 and 4 as held.
        assert_eq!(got, [1, 2, 3, -1, -2, -3, -4]);
    }
    assert_eq!(hub.fills(topic), 1, "one read for all ten");
}
