//! The bus contract: every test runs against the in-process bus and, when
//! `TEST_REDIS_URL` is set (always in CI), the Redis bus. Each Redis test uses
//! its own channel prefix, so tests never hear each other.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use services::bus::{
    Bus, BusKind, InProcessBus, RecvError, RedisBus, Subscription, TOPIC_CAPACITY,
};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

/// Two handles on one bus: for Redis they are separate connections, as two
/// server processes would have; in-process they share the process.
struct Fixture {
    bus: Arc<dyn Bus>,
    peer: Arc<dyn Bus>,
}

async fn in_process<F, Fut>(test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let bus = InProcessBus::new();
    assert_eq!(bus.kind(), BusKind::InProcess);
    test(Fixture {
        bus: Arc::new(bus.clone()),
        peer: Arc::new(bus),
    })
    .await;
}

async fn redis<F, Fut>(test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-test:{}:", uuid::Uuid::now_v7().simple());
    let bus = RedisBus::connect(&url, &prefix).await.expect("redis bus");
    let peer = RedisBus::connect(&url, &prefix)
        .await
        .expect("second redis bus");
    assert_eq!(bus.kind(), BusKind::Redis);
    test(Fixture {
        bus: Arc::new(bus),
        peer: Arc::new(peer),
    })
    .await;
}

macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod in_process {
            $(#[tokio::test] async fn $name() { super::in_process(super::$name).await })+
        }
        mod redis {
            $(
                #[tokio::test]
                #[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
                async fn $name() { super::redis(super::$name).await }
            )+
        }
    };
}

contract!(
    ping_answers,
    subscriber_receives_a_payload_published_by_another_process,
    every_subscriber_of_a_topic_receives_each_payload,
    topics_are_isolated,
    payloads_arrive_in_publish_order,
    dropped_subscription_stops_delivery_and_the_topic_can_be_subscribed_again,
    a_subscriber_that_stops_reading_lags_instead_of_growing_memory,
    a_second_subscriber_is_not_ready_before_the_first_subscription_is,
);

async fn next(sub: &mut Subscription) -> Bytes {
    timeout(WAIT, sub.recv())
        .await
        .expect("payload within 5 s")
        .expect("payload")
}

/// Asserts nothing arrives for a short while.
async fn nothing(sub: &mut Subscription) {
    if let Ok(got) = timeout(Duration::from_millis(300), sub.recv()).await {
        panic!("expected nothing on {}, got {got:?}", sub.topic());
    }
}

async fn a_second_subscriber_is_not_ready_before_the_first_subscription_is(fx: Fixture) {
    for round in 0..20 {
        let topic = format!("race.{round}");
        // The first subscriber's upstream subscription is still on its way…
        let first = {
            let bus = fx.bus.clone();
            let topic = topic.clone();
            tokio::spawn(async move { bus.subscribe(&topic).await.unwrap() })
        };
        tokio::task::yield_now().await;
        // …when a second one subscribes: once told it is subscribed, it
        // receives what is published.
        let mut second = fx.bus.subscribe(&topic).await.unwrap();
        fx.peer
            .publish(&topic, Bytes::from_static(b"now"))
            .await
            .unwrap();
        assert_eq!(
            next(&mut second).await,
            Bytes::from_static(b"now"),
            "round {round}"
        );
        drop(first.await.unwrap());
    }
}

async fn ping_answers(fx: Fixture) {
    fx.bus.ping().await.unwrap();
}

async fn subscriber_receives_a_payload_published_by_another_process(fx: Fixture) {
    let mut sub = fx.bus.subscribe("conv.1").await.unwrap();
    assert_eq!(sub.topic(), "conv.1");
    fx.peer
        .publish("conv.1", Bytes::from_static(b"{\"hello\":1}"))
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await, Bytes::from_static(b"{\"hello\":1}"));
}

async fn every_subscriber_of_a_topic_receives_each_payload(fx: Fixture) {
    let mut first = fx.bus.subscribe("room").await.unwrap();
    let mut second = fx.bus.subscribe("room").await.unwrap();
    let mut remote = fx.peer.subscribe("room").await.unwrap();
    fx.bus
        .publish("room", Bytes::from_static(b"x"))
        .await
        .unwrap();
    for sub in [&mut first, &mut second, &mut remote] {
        assert_eq!(next(sub).await, Bytes::from_static(b"x"));
    }
}

async fn topics_are_isolated(fx: Fixture) {
    let mut a = fx.bus.subscribe("topic.a").await.unwrap();
    let mut b = fx.bus.subscribe("topic.b").await.unwrap();
    fx.peer
        .publish("topic.b", Bytes::from_static(b"for b"))
        .await
        .unwrap();
    assert_eq!(next(&mut b).await, Bytes::from_static(b"for b"));
    nothing(&mut a).await;
}

async fn payloads_arrive_in_publish_order(fx: Fixture) {
    let mut sub = fx.bus.subscribe("ordered").await.unwrap();
    for i in 0..200u32 {
        fx.peer
            .publish("ordered", Bytes::from(i.to_string()))
            .await
            .unwrap();
    }
    for i in 0..200u32 {
        assert_eq!(next(&mut sub).await, Bytes::from(i.to_string()));
    }
}

async fn dropped_subscription_stops_delivery_and_the_topic_can_be_subscribed_again(fx: Fixture) {
    let first = fx.bus.subscribe("again").await.unwrap();
    drop(first);
    // A fresh subscription after the drop still works, on the same process.
    let mut second = fx.bus.subscribe("again").await.unwrap();
    fx.peer
        .publish("again", Bytes::from_static(b"1"))
        .await
        .unwrap();
    assert_eq!(next(&mut second).await, Bytes::from_static(b"1"));
    drop(second);
    // With nobody subscribed, publishing is harmless. (Over Redis, a payload
    // still in flight when the topic is subscribed again may arrive: the
    // contract promises what is published after `subscribe` returns.)
    fx.peer
        .publish("again", Bytes::from_static(b"unheard"))
        .await
        .unwrap();
    let mut third = fx.bus.subscribe("again").await.unwrap();
    fx.peer
        .publish("again", Bytes::from_static(b"2"))
        .await
        .unwrap();
    let mut got = next(&mut third).await;
    if got == Bytes::from_static(b"unheard") {
        got = next(&mut third).await;
    }
    assert_eq!(got, Bytes::from_static(b"2"));
}

async fn a_subscriber_that_stops_reading_lags_instead_of_growing_memory(fx: Fixture) {
    let mut slow = fx.bus.subscribe("busy").await.unwrap();
    let mut fast = fx.bus.subscribe("busy").await.unwrap();
    let total = TOPIC_CAPACITY as u32 + 50;
    // Published in batches the fast reader keeps up with; the slow one never reads.
    let mut sent = 0;
    while sent < total {
        let batch = (sent..total).take(25);
        for i in batch.clone() {
            fx.peer
                .publish("busy", Bytes::from(i.to_string()))
                .await
                .unwrap();
        }
        for i in batch {
            assert_eq!(next(&mut fast).await, Bytes::from(i.to_string()));
            sent += 1;
        }
    }
    match timeout(WAIT, slow.recv()).await.expect("an answer") {
        Err(RecvError::Lagged(skipped)) => assert_eq!(skipped, 50),
        other => panic!("expected Lagged(50), got {other:?}"),
    }
    // After the lag it continues with the oldest payload still held.
    assert_eq!(next(&mut slow).await, Bytes::from("50"));
}

#[tokio::test]
async fn in_process_bus_forgets_topics_nobody_subscribes_to() {
    let bus = InProcessBus::new();
    let a = bus.subscribe("t").await.unwrap();
    let b = bus.subscribe("t").await.unwrap();
    assert_eq!(bus.topic_count(), 1);
    drop(a);
    assert_eq!(bus.topic_count(), 1, "still one subscriber");
    drop(b);
    assert_eq!(bus.topic_count(), 0);
}

#[tokio::test]
async fn redis_bus_refuses_to_start_when_redis_is_unreachable() {
    // Port 1 on loopback: nothing listens there.
    let result = RedisBus::connect("redis://127.0.0.1:1/", "x:").await;
    assert!(
        result.is_err(),
        "connecting to a dead Redis must fail at start-up"
    );
}

#[tokio::test]
#[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
async fn redis_bus_uses_one_redis_subscription_per_topic_per_process() {
    let Some(url) = support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-test:{}:", uuid::Uuid::now_v7().simple());
    let bus = RedisBus::connect(&url, &prefix).await.unwrap();
    let client = ::redis::Client::open(url.as_str()).unwrap();
    let conn = client.get_multiplexed_async_connection().await.unwrap();
    let channel = format!("{prefix}shared");
    let numsub = |mut conn: ::redis::aio::MultiplexedConnection, channel: String| async move {
        let (_, count): (String, i64) = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query_async(&mut conn)
            .await
            .unwrap();
        count
    };

    let subs = [
        bus.subscribe("shared").await.unwrap(),
        bus.subscribe("shared").await.unwrap(),
        bus.subscribe("shared").await.unwrap(),
    ];
    let other = bus.subscribe("other").await.unwrap();
    assert_eq!(
        numsub(conn.clone(), channel.clone()).await,
        1,
        "three local subscribers, one Redis subscriber"
    );
    assert_eq!(
        numsub(conn.clone(), format!("{prefix}other")).await,
        1,
        "same connection serves other topics"
    );

    drop(subs);
    drop(other);
    let deadline = std::time::Instant::now() + WAIT;
    while numsub(conn.clone(), channel.clone()).await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the last local unsubscribe unsubscribes from Redis"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
