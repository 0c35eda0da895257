//! The shared counters contract: in-process always, Redis when
//! `TEST_REDIS_URL` is set (always in CI).

mod support;

use std::future::Future;
use std::time::Duration;

use services::kv::SharedKv;

async fn local<F, Fut>(test: F)
where
    F: FnOnce(SharedKv) -> Fut,
    Fut: Future<Output = ()>,
{
    test(SharedKv::local()).await;
}

async fn redis<F, Fut>(test: F)
where
    F: FnOnce(SharedKv) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-test:{}:", uuid::Uuid::now_v7().simple());
    let kv = SharedKv::redis(&url, &prefix).await.expect("redis kv");
    assert!(kv.is_redis());
    test(kv).await;
}

macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod local {
            $(#[tokio::test] async fn $name() { super::local(super::$name).await })+
        }
        mod redis {
            $(#[tokio::test] async fn $name() { super::redis(super::$name).await })+
        }
    };
}

contract!(
    counters_count_within_their_window,
    counters_restart_after_the_window,
    flags_are_seen_until_they_expire,
    removed_keys_are_gone,
);

async fn counters_count_within_their_window(kv: SharedKv) {
    let window = Duration::from_secs(60);
    assert_eq!(kv.get("c").await.unwrap().0, 0);
    assert_eq!(kv.increment("c", window).await.unwrap().0, 1);
    let (count, left) = kv.increment("c", window).await.unwrap();
    assert_eq!(count, 2);
    assert!(left > Duration::from_secs(50) && left <= window, "{left:?}");
    assert_eq!(kv.get("c").await.unwrap().0, 2);
    assert_eq!(kv.get("other").await.unwrap().0, 0);
}

async fn counters_restart_after_the_window(kv: SharedKv) {
    let window = Duration::from_millis(150);
    kv.increment("short", window).await.unwrap();
    kv.increment("short", window).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kv.get("short").await.unwrap().0, 0);
    assert_eq!(kv.increment("short", window).await.unwrap().0, 1);
}

async fn flags_are_seen_until_they_expire(kv: SharedKv) {
    kv.flag("jti:1", Duration::from_millis(200)).await.unwrap();
    kv.flag("jti:long", Duration::from_secs(60)).await.unwrap();
    kv.flag("jti:long", Duration::from_millis(10))
        .await
        .unwrap(); // never shortens
    assert!(kv.any(&["jti:0", "jti:1"]).await.unwrap());
    assert!(!kv.any(&["jti:0"]).await.unwrap());
    assert!(!kv.any(&[]).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!kv.any(&["jti:1"]).await.unwrap());
    assert!(kv.any(&["jti:long"]).await.unwrap());
}

async fn removed_keys_are_gone(kv: SharedKv) {
    kv.increment("gone", Duration::from_secs(60)).await.unwrap();
    kv.remove("gone").await.unwrap();
    assert_eq!(kv.get("gone").await.unwrap().0, 0);
    kv.remove("never-there").await.unwrap();
}
