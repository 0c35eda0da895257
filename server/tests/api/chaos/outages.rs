//! Redis, then PostgreSQL, stopped for two seconds mid-traffic and started
//! again, under two server processes: each is the test's own (the shared
//! ones at 6379 and 5432 are never touched); and answers to COMMITs lost
//! between PostgreSQL and the server. While it is down the server
//! processes stay up; a send they cannot store is answered with an error
//! ack that tells the client to retry, never with a false success; the
//! members send one message at a time, retrying what was not acknowledged
//! with the same `client_msg_id`; and in the end every acknowledged message
//! reached everyone exactly once, in order, including one whose commit went
//! through while its ack was lost (acknowledged as a duplicate when sent
//! again).

use std::time::Duration;

use super::drive::{chaos_with, Owned};
use super::postgres::PgServer;
use super::proxy::PgProxy;
use super::redis::RedisServer;
use super::{long_variant, Fault, Scenario, Sending, Target};
use crate::processes::Backend;
use crate::support::{create_pg_database, drop_pg_database, service_url, with_cleanup};

/// Eight members, each sending a new message every 200 ms, one at a time,
/// for 10 seconds (70 with the long variant), on two processes.
fn eight_members<'a>(label: &'a str, backend: Backend<'a>, faults: &'a [Fault]) -> Scenario<'a> {
    Scenario {
        label,
        backend,
        processes: 2,
        members: 8,
        send_every: Duration::from_millis(200),
        sending: Sending::OneAtATime,
        sending_for: Duration::from_secs(if long_variant() { 70 } else { 10 }),
        faults,
    }
}

/// `target` down for two seconds at 2.5 s and at 6 s: twice, for two
/// chances of landing while a send is being stored. The long variant stops
/// it six times, 11 s apart, alternately for 2 and for 7 seconds: longer
/// than a send waits for a database connection (5 s) or for Redis (3 s),
/// so that sends are answered with errors rather than held.
fn outages(target: Target) -> Vec<Fault> {
    let long = long_variant();
    let count = if long { 6 } else { 2 };
    (0..count)
        .map(|i| Fault {
            at: Duration::from_millis(2500 + if long { 11_000 } else { 3500 } * i),
            target,
            down_for: Duration::from_secs(if long && i % 2 == 1 { 7 } else { 2 }),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn acknowledged_messages_survive_a_redis_restart_mid_traffic_exactly_once_in_order() {
    let Some(admin) = service_url("TEST_DATABASE_URL") else {
        return;
    };
    let mut redis = RedisServer::start().await;
    let redis_url = redis.url();
    let (database_url, name) = create_pg_database(&admin).await;
    let backend = Backend {
        database_url: Some(&database_url),
        redis: Some((&redis_url, "chatsphere-chaos:")),
    };
    let faults = outages(Target::Redis);
    let scenario = eight_members("postgres + redis, redis restarted", backend, &faults);
    let owned = Owned {
        redis: Some(&mut redis),
        ..Owned::default()
    };
    with_cleanup(
        chaos_with(&scenario, owned),
        drop_pg_database(&admin, &name),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn acknowledged_messages_survive_a_postgres_restart_mid_traffic_exactly_once_in_order() {
    let Some(redis) = service_url("TEST_REDIS_URL") else {
        return;
    };
    let mut postgres = PgServer::start().await;
    let database_url = postgres.url();
    let prefix = format!(
        "chatsphere-chaos-pg-test:{}:",
        uuid::Uuid::now_v7().simple()
    );
    let backend = Backend {
        database_url: Some(&database_url),
        redis: Some((&redis, &prefix)),
    };
    let faults = outages(Target::Postgres);
    let scenario = eight_members("postgres + redis, postgres restarted", backend, &faults);
    let owned = Owned {
        postgres: Some(&mut postgres),
        ..Owned::default()
    };
    chaos_with(&scenario, owned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn a_send_whose_commit_answer_is_lost_is_told_to_retry_and_stored_once() {
    let (Some(admin), Some(redis)) = (
        service_url("TEST_DATABASE_URL"),
        service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = create_pg_database(&admin).await;
    let parsed = url::Url::parse(&database_url).expect("a database URL");
    let upstream = format!(
        "{}:{}",
        parsed.host_str().expect("a database host"),
        parsed.port().unwrap_or(5432)
    );
    let proxy = PgProxy::start(&upstream).await;
    let proxied = proxy.url(&database_url);
    let prefix = format!("chatsphere-chaos-commit-test:{name}:");
    let backend = Backend {
        database_url: Some(&proxied),
        redis: Some((&redis, &prefix)),
    };
    // Three answers lost, a second and a half apart.
    let faults: Vec<Fault> = [2000, 3500, 5000]
        .into_iter()
        .map(|ms| Fault {
            at: Duration::from_millis(ms),
            target: Target::CommitAnswer,
            down_for: Duration::ZERO,
        })
        .collect();
    let mut scenario = eight_members("postgres + redis, commit answers lost", backend, &faults);
    scenario.sending_for = Duration::from_secs(7);
    let owned = Owned {
        proxy: Some(&proxy),
        ..Owned::default()
    };
    with_cleanup(
        chaos_with(&scenario, owned),
        drop_pg_database(&admin, &name),
    )
    .await;
}
