//! The shared counters contract: in-process always, Redis when
//! `TEST_REDIS_URL` is set (always in CI).

mod support;

use std::future::Future;
use std::time::Duration;

use services::kv::{Backoff, Limit, Reservation, SharedKv};

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
            $(
                #[tokio::test]
                #[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
                async fn $name() { super::redis(super::$name).await }
            )+
        }
    };
}

contract!(
    counters_count_within_their_window,
    counters_restart_after_the_window,
    flags_are_seen_until_they_expire,
    removed_keys_are_gone,
    a_reservation_takes_from_every_counter_or_from_none,
    parallel_reservations_never_exceed_a_limit,
    past_its_allowance_a_backoff_counter_spaces_reservations_out,
    released_units_come_back_without_going_below_zero,
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

const MINUTE: Duration = Duration::from_secs(60);

fn granted(reservation: Reservation) -> bool {
    matches!(reservation, Reservation::Granted { .. })
}

async fn a_reservation_takes_from_every_counter_or_from_none(kv: SharedKv) {
    let both = [Limit { key: "a", max: 2 }, Limit { key: "b", max: 3 }];
    assert_eq!(
        kv.reserve(&both, None, MINUTE).await.unwrap(),
        Reservation::Granted { filled: None }
    );
    assert_eq!(
        kv.reserve(&both, None, MINUTE).await.unwrap(),
        Reservation::Granted { filled: Some(0) },
        "this one filled `a`"
    );
    match kv.reserve(&both, None, MINUTE).await.unwrap() {
        Reservation::Refused { by, retry_after } => {
            assert_eq!(by, 0);
            assert!(retry_after > Duration::from_secs(50) && retry_after <= MINUTE);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(kv.get("a").await.unwrap().0, 2);
    assert_eq!(kv.get("b").await.unwrap().0, 2, "a refusal takes nothing");
    let only_b = [Limit { key: "b", max: 3 }];
    assert!(granted(kv.reserve(&only_b, None, MINUTE).await.unwrap()));
    assert_eq!(kv.get("b").await.unwrap().0, 3);
}

async fn parallel_reservations_never_exceed_a_limit(kv: SharedKv) {
    let tries = (0..50).map(|_| {
        let kv = kv.clone();
        tokio::spawn(async move {
            let limits = [Limit {
                key: "race",
                max: 7,
            }];
            granted(kv.reserve(&limits, None, MINUTE).await.unwrap())
        })
    });
    let granted = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(granted, 7);
    assert_eq!(kv.get("race").await.unwrap().0, 7);
}

async fn past_its_allowance_a_backoff_counter_spaces_reservations_out(kv: SharedKv) {
    let backoff = Backoff {
        key: "acct",
        after: 2,
        base: Duration::from_millis(200),
    };
    let reserve = || kv.reserve(&[], Some(backoff), MINUTE);
    assert_eq!(
        reserve().await.unwrap(),
        Reservation::Granted { filled: None }
    );
    assert_eq!(
        reserve().await.unwrap(),
        Reservation::Granted { filled: Some(0) },
        "the back-off begins"
    );
    match reserve().await.unwrap() {
        Reservation::Refused { by, retry_after } => {
            assert_eq!(by, 0, "the pause refuses");
            assert!(retry_after <= Duration::from_millis(200), "{retry_after:?}");
        }
        other => panic!("expected a pause, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(granted(reserve().await.unwrap()), "the pause ended");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        !granted(reserve().await.unwrap()),
        "the next pause is twice as long (400 ms)"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(granted(reserve().await.unwrap()));
    assert_eq!(kv.get("acct").await.unwrap().0, 4);
}

async fn released_units_come_back_without_going_below_zero(kv: SharedKv) {
    let limits = [Limit { key: "r", max: 1 }];
    assert!(granted(kv.reserve(&limits, None, MINUTE).await.unwrap()));
    assert!(!granted(kv.reserve(&limits, None, MINUTE).await.unwrap()));
    kv.release(&["r", "absent"]).await.unwrap();
    assert!(granted(kv.reserve(&limits, None, MINUTE).await.unwrap()));
    kv.release(&["r"]).await.unwrap();
    kv.release(&["r"]).await.unwrap();
    assert_eq!(kv.get("r").await.unwrap().0, 0);
    assert_eq!(kv.get("absent").await.unwrap().0, 0, "never created");
    let (_, left) = kv.get("r").await.unwrap();
    assert!(
        left > Duration::from_secs(50),
        "its expiry is kept: {left:?}"
    );
}

/// Two processes (two connections) racing for one limit in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_reservations_from_two_processes_share_one_limit() {
    let Some(url) = support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-test:{}:", uuid::Uuid::now_v7().simple());
    let a = SharedKv::redis(&url, &prefix).await.expect("redis kv");
    let b = SharedKv::redis(&url, &prefix).await.expect("redis kv");
    let tries = (0..60).map(|i| {
        let kv = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let limits = [
                Limit {
                    key: "pair",
                    max: 5,
                },
                Limit { key: "ip", max: 20 },
            ];
            granted(kv.reserve(&limits, None, MINUTE).await.unwrap())
        })
    });
    let granted = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(granted, 5);
    assert_eq!(b.get("ip").await.unwrap().0, 5, "refusals took nothing");
}

mod rate_limits {
    //! The GCRA limiter on both backends: the same decisions, and in Redis
    //! one budget for every process.

    use std::time::Duration;

    use services::kv::SharedKv;
    use services::ratelimit::{Quota, RateLimiter};

    async fn budget_is_spent_then_refused(kv: SharedKv) {
        let limiter = RateLimiter::new(&kv);
        let quota = Quota::new(3, Duration::from_secs(60));
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let decision = limiter.check("api:ip:1", quota).await.unwrap();
            assert!(decision.allowed);
            remaining.push(decision.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check("api:ip:1", quota).await.unwrap();
        assert!(!refused.allowed);
        assert!(
            refused.retry_after > Duration::from_secs(15)
                && refused.retry_after <= Duration::from_secs(20),
            "one request's share (20 s) comes back first: {:?}",
            refused.retry_after
        );
        assert!(limiter.check("api:ip:2", quota).await.unwrap().allowed);
    }

    async fn budget_refills_over_time(kv: SharedKv) {
        let limiter = RateLimiter::new(&kv);
        let quota = Quota::new(2, Duration::from_millis(200));
        assert!(limiter.check("k", quota).await.unwrap().allowed);
        assert!(limiter.check("k", quota).await.unwrap().allowed);
        assert!(!limiter.check("k", quota).await.unwrap().allowed);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(limiter.check("k", quota).await.unwrap().allowed);
    }

    #[tokio::test]
    async fn local_budget_is_spent_then_refused() {
        budget_is_spent_then_refused(SharedKv::local()).await;
    }

    #[tokio::test]
    async fn local_budget_refills_over_time() {
        budget_refills_over_time(SharedKv::local()).await;
    }

    async fn redis_kv(prefix: &str) -> Option<SharedKv> {
        let url = super::support::service_url("TEST_REDIS_URL")?;
        Some(SharedKv::redis(&url, prefix).await.expect("redis kv"))
    }

    fn prefix() -> String {
        format!("chatsphere-test:{}:", uuid::Uuid::now_v7().simple())
    }

    #[tokio::test]
    #[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
    async fn redis_budget_is_spent_then_refused() {
        if let Some(kv) = redis_kv(&prefix()).await {
            budget_is_spent_then_refused(kv).await;
        }
    }

    #[tokio::test]
    #[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
    async fn redis_budget_refills_over_time() {
        if let Some(kv) = redis_kv(&prefix()).await {
            budget_refills_over_time(kv).await;
        }
    }

    /// Two limiters on separate connections (two processes) draw on one budget.
    #[tokio::test]
    #[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
    async fn redis_budget_is_shared_between_processes() {
        let prefix = prefix();
        let (Some(a), Some(b)) = (redis_kv(&prefix).await, redis_kv(&prefix).await) else {
            return;
        };
        let (a, b) = (RateLimiter::new(&a), RateLimiter::new(&b));
        let quota = Quota::new(4, Duration::from_secs(60));
        for limiter in [&a, &b, &a, &b] {
            assert!(limiter.check("auth:ip:9", quota).await.unwrap().allowed);
        }
        assert!(!a.check("auth:ip:9", quota).await.unwrap().allowed);
        assert!(!b.check("auth:ip:9", quota).await.unwrap().allowed);
    }
}
