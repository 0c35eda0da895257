//! The sign-in throttle through `AuthService::login`: reservations before
//! the password is checked (parallel guesses), limits strangers cannot use
//! against the owner, known devices, back-off, and bounded inputs. Each test
//! runs on the in-process counters and, when `TEST_REDIS_URL` is set (always
//! in CI), on Redis; the store is SQLite.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use argon2::Params;
use futures_util::future::join_all;
use services::auth::{
    AccessTokens, AuthService, ClientInfo, LoginThrottle, PasswordHasher, Registration,
    SessionPolicy, ThrottlePolicy,
};
use services::kv::SharedKv;
use services::store::{self, Store};
use services::ServiceError;

const PASSWORD: &str = "violet-harbour-71-kites";
const WRONG: &str = "not-the-password-at-all";

/// The policy under test: 5 per account and address, 20 per address, 20 per
/// account before back-off (the defaults), a short first pause.
fn policy() -> ThrottlePolicy {
    ThrottlePolicy {
        backoff: Duration::from_millis(400),
        ..ThrottlePolicy::default()
    }
}

struct Fixture {
    auth: AuthService,
    kv: SharedKv,
    _dir: tempfile::TempDir,
}

async fn fixture(kv: SharedKv, policy: ThrottlePolicy) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chat.db", dir.path().display());
    let store: Arc<dyn Store> = store::connect(&url).await.expect("sqlite store");
    let hasher = PasswordHasher::with_params(Params::new(1024, 1, 1, None).unwrap(), 2);
    let tokens = AccessTokens::new(
        b"login-throttle-test-secret-0123456789",
        "iss",
        "aud",
        Duration::from_secs(900),
    );
    let throttle = LoginThrottle::new(kv.clone(), policy);
    let auth = AuthService::new(
        store,
        hasher,
        tokens,
        SessionPolicy::default(),
        throttle,
        kv.clone(),
    );
    Fixture {
        auth,
        kv,
        _dir: dir,
    }
}

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
    test(SharedKv::redis(&url, &prefix).await.expect("redis kv")).await;
}

macro_rules! on_both_kvs {
    ($($name:ident),+ $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
              async fn $name() { super::local(super::$name).await })+
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
              async fn $name() { super::redis(super::$name).await })+
        }
    };
}

on_both_kvs!(
    parallel_wrong_passwords_are_evaluated_at_most_as_often_as_the_policy_allows,
    strangers_failures_never_lock_the_owner_out,
    past_the_account_ceiling_attempts_back_off_instead_of_locking,
    a_known_device_has_a_budget_of_its_own_for_its_own_account_only,
    a_password_change_voids_known_device_tokens,
    a_success_gives_its_reservation_back,
    an_oversized_login_is_refused_before_any_counter_exists,
);

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip_address: Some(ip.into()),
        ..ClientInfo::default()
    }
}

fn on_device(ip: &str, token: &str) -> ClientInfo {
    ClientInfo {
        device_token: Some(token.into()),
        ..from(ip)
    }
}

/// Registers `name`; returns its known-device token.
async fn register(auth: &AuthService, name: &str) -> String {
    let input = Registration {
        username: name.into(),
        email: format!("{name}@example.com"),
        display_name: String::new(),
        password: PASSWORD.into(),
    };
    let (_, tokens) = auth.register(input, from("192.0.2.1")).await.unwrap();
    tokens
        .device_token
        .expect("registration hands out a device token")
}

/// Whether a sign-in was evaluated (401/200) or refused before (429).
fn throttled(result: &Result<impl std::fmt::Debug, ServiceError>) -> bool {
    match result {
        Err(ServiceError::TooManyRequests { retry_after }) => {
            assert!((1..=900).contains(retry_after), "Retry-After {retry_after}");
            true
        }
        Err(ServiceError::Unauthorized(_)) | Ok(_) => false,
        Err(other) => panic!("unexpected {other:?}"),
    }
}

async fn parallel_wrong_passwords_are_evaluated_at_most_as_often_as_the_policy_allows(
    kv: SharedKv,
) {
    let fx = fixture(kv, policy()).await;
    register(&fx.auth, "target").await;
    let attempts = (0..60).map(|i| {
        let auth = fx.auth.clone();
        let address = format!("198.51.100.{}", i % 3 + 1);
        tokio::spawn(async move { auth.login("target", WRONG, from(&address)).await })
    });
    let results: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let evaluated = results.iter().filter(|r| !throttled(r)).count();
    // 5 per account from each of the 3 addresses; the other 45 never
    // reached the password check.
    assert_eq!(evaluated, 15, "evaluated {evaluated} of 60");
}

async fn strangers_failures_never_lock_the_owner_out(kv: SharedKv) {
    let fx = fixture(kv, policy()).await;
    let device = register(&fx.auth, "owner").await;
    for i in 0..30 {
        let address = format!("203.0.113.{}", i % 3 + 1);
        let _ = fx.auth.login("owner", WRONG, from(&address)).await;
    }
    assert!(throttled(
        &fx.auth.login("owner", PASSWORD, from("203.0.113.1")).await
    ));
    // From the owner's own address…
    fx.auth
        .login("OWNER", PASSWORD, from("192.0.2.1"))
        .await
        .expect("the owner's address has its own budget");
    // …and from the strangers' address on a known device.
    fx.auth
        .login(
            "owner@example.com",
            PASSWORD,
            on_device("203.0.113.1", &device),
        )
        .await
        .expect("a known device passes the spent account budget");
}

async fn past_the_account_ceiling_attempts_back_off_instead_of_locking(kv: SharedKv) {
    let fx = fixture(kv, policy()).await;
    let device = register(&fx.auth, "popular").await;
    // 20 failures from 4 addresses reach the account's ceiling.
    for i in 0..20 {
        let address = format!("198.51.100.{}", i % 4 + 10);
        assert!(!throttled(
            &fx.auth.login("popular", WRONG, from(&address)).await
        ));
    }
    // Now every attempt from an unknown device waits: 0.4 s, then 0.8 s.
    let fresh = from("198.51.100.99");
    assert!(throttled(
        &fx.auth.login("popular", WRONG, fresh.clone()).await
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!throttled(
        &fx.auth.login("popular", WRONG, fresh.clone()).await
    ));
    assert!(throttled(
        &fx.auth.login("popular", PASSWORD, fresh.clone()).await
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        throttled(&fx.auth.login("popular", PASSWORD, fresh.clone()).await),
        "the second pause is twice as long"
    );
    // The owner's browser is never made to wait.
    fx.auth
        .login("popular", PASSWORD, on_device("198.51.100.99", &device))
        .await
        .expect("known device");
    tokio::time::sleep(Duration::from_millis(400)).await;
    fx.auth
        .login("popular", PASSWORD, fresh)
        .await
        .expect("after the pause, the right password gets in");
}

async fn a_known_device_has_a_budget_of_its_own_for_its_own_account_only(kv: SharedKv) {
    let fx = fixture(kv, policy()).await;
    let mine = register(&fx.auth, "keeper").await;
    register(&fx.auth, "neighbour").await;
    // Another account's device token is worth nothing here.
    for _ in 0..5 {
        let _ = fx
            .auth
            .login("neighbour", WRONG, on_device("192.0.2.7", &mine))
            .await;
    }
    assert!(throttled(
        &fx.auth
            .login("neighbour", PASSWORD, on_device("192.0.2.7", &mine))
            .await
    ));
    // A device's own failures are limited too (a stolen cookie is no oracle).
    for _ in 0..5 {
        assert!(!throttled(
            &fx.auth
                .login("keeper", WRONG, on_device("192.0.2.8", &mine))
                .await
        ));
    }
    assert!(throttled(
        &fx.auth
            .login("keeper", PASSWORD, on_device("192.0.2.8", &mine))
            .await
    ));
    // …which costs the account's other clients nothing.
    let (_, tokens) = fx
        .auth
        .login("keeper", PASSWORD, from("192.0.2.8"))
        .await
        .unwrap();
    assert!(
        tokens.device_token.is_some(),
        "a new device token each time"
    );
    let forged = format!("{mine}x");
    assert!(!throttled(
        &fx.auth
            .login("keeper", WRONG, on_device("192.0.2.9", &forged))
            .await
    ));
}

async fn a_password_change_voids_known_device_tokens(kv: SharedKv) {
    let fx = fixture(kv, policy()).await;
    let old_device = register(&fx.auth, "mover").await;
    let (_, tokens) = fx
        .auth
        .login("mover", PASSWORD, from("192.0.2.1"))
        .await
        .unwrap();
    let me = fx.auth.authenticate(&tokens.access_token).await.unwrap();
    let new_password = "sunlit-meadow-39-otters";
    fx.auth
        .change_password(&me, PASSWORD, new_password)
        .await
        .unwrap();
    for _ in 0..5 {
        let _ = fx.auth.login("mover", WRONG, from("203.0.113.50")).await;
    }
    assert!(
        throttled(
            &fx.auth
                .login(
                    "mover",
                    new_password,
                    on_device("203.0.113.50", &old_device)
                )
                .await
        ),
        "a token issued under the old password is an unknown device"
    );
}

async fn a_success_gives_its_reservation_back(kv: SharedKv) {
    let fx = fixture(
        kv,
        ThrottlePolicy {
            per_address: 3,
            ..policy()
        },
    )
    .await;
    register(&fx.auth, "regular").await;
    // Failures then a success from one address: the address budget (3)
    // holds only the failures, and the account's count from it is forgotten.
    for _ in 0..2 {
        let _ = fx.auth.login("regular", WRONG, from("192.0.2.20")).await;
    }
    for _ in 0..5 {
        fx.auth
            .login("regular", PASSWORD, from("192.0.2.20"))
            .await
            .expect("successes never count");
    }
    assert!(!throttled(
        &fx.auth.login("regular", WRONG, from("192.0.2.20")).await
    ));
    assert!(throttled(
        &fx.auth.login("regular", PASSWORD, from("192.0.2.20")).await
    ));
}

async fn an_oversized_login_is_refused_before_any_counter_exists(kv: SharedKv) {
    let fx = fixture(kv, policy()).await;
    let huge = "x".repeat(1 << 20);
    for login in [huge.as_str(), "", "line\nbreak"] {
        match fx.auth.login(login, WRONG, from("192.0.2.30")).await {
            Err(ServiceError::InvalidName(err)) => assert_eq!(err.field, "login"),
            other => panic!("expected a login error, got {other:?}"),
        }
    }
    let huge_password = "p".repeat(10_000);
    match fx
        .auth
        .login("someone", &huge_password, from("192.0.2.30"))
        .await
    {
        Err(ServiceError::InvalidName(err)) => assert_eq!(err.field, "password"),
        other => panic!("expected a password error, got {other:?}"),
    }
    assert_eq!(counters(&fx.kv).await, 0, "no throttle key was created");
    // A normal failure does create them (the check above can fail).
    let _ = fx.auth.login("someone", WRONG, from("192.0.2.30")).await;
    assert!(counters(&fx.kv).await > 0);
}

/// How many keys the counters hold.
async fn counters(kv: &SharedKv) -> usize {
    match kv {
        SharedKv::Local(map) => map.lock().unwrap().len(),
        SharedKv::Redis { conn, prefix } => {
            let keys: Vec<String> = ::redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut conn.clone())
                .await
                .unwrap();
            keys.len()
        }
    }
}
