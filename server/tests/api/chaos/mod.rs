//! The chaos test of issue 6: three members of a group send continuously
//! over WebSockets (`?resume=1`) while a server process is killed with
//! SIGKILL and restarted, so their connections drop and they reconnect,
//! resume from the highest sequence number they hold and re-send what was
//! not acknowledged. Afterwards every acknowledged message must have reached
//! every member exactly once (no frame twice, no gap), with the stored ids,
//! in each sender's order, and the stored history must be exactly that.
//!
//! Once on SQLite with the only server process killed twice; once on
//! PostgreSQL + Redis with two processes, each killed once.
//!
//! [`cluster`] starts, kills and restarts the server processes; [`client`]
//! is one simulated member and [`record`] what it records; [`figures`]
//! prints what happened and [`checks`] asserts that nothing was lost,
//! duplicated or reordered.

mod checks;
mod client;
mod cluster;
mod figures;
mod record;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::processes::Backend;
use client::{client, Shared};
use cluster::{history, register, Cluster};
use record::ClientLog;

/// How long the clients create new messages.
const CHAOS: Duration = Duration::from_secs(8);
/// How long they then have to get everything acknowledged and delivered.
const SETTLE: Duration = Duration::from_secs(30);
/// Pause between two new messages of one client. A connection may send 20
/// at once and then 10 a second (not configurable), so this is as fast as a
/// client can go without being refused.
const SEND_EVERY: Duration = Duration::from_millis(100);
/// Pause before connecting again after a failed attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// One SIGKILL of the chaos phase.
#[derive(Debug, Clone, Copy)]
struct Kill {
    /// When, from the start of sending.
    at: Duration,
    /// Which process.
    process: usize,
    /// How long it stays dead before it is started again on its port.
    down_for: Duration,
}

/// One kill as it happened: (process, killed at, started again at, delay
/// after the send to it).
type Outage = (usize, Duration, Duration, Duration);

/// What a run left behind, for the figures and the checks.
struct Run<'a> {
    label: &'a str,
    /// How many server processes there were.
    processes: usize,
    /// When the test started.
    started: Instant,
    outages: Vec<Outage>,
    /// When the clients stopped creating messages (from the start of
    /// sending, like the other moments here).
    stopped: Duration,
    /// When all of them had everything acknowledged (or gave up waiting).
    all_acked: Duration,
    /// When all of them were done.
    all_received: Duration,
    /// The highest acknowledged sequence number.
    max_acked: i64,
    logs: Vec<ClientLog>,
    /// The group's stored messages, oldest first.
    stored: Vec<Value>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_sigkill_of_the_only_sqlite_process_exactly_once_in_order() {
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let kills = [
        Kill {
            at: Duration::from_millis(2000),
            process: 0,
            down_for: Duration::from_millis(700),
        },
        Kill {
            at: Duration::from_millis(5000),
            process: 0,
            down_for: Duration::from_millis(500),
        },
    ];
    chaos("sqlite, one process", backend, 1, &kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn acknowledged_messages_survive_sigkill_of_one_of_two_processes_exactly_once_in_order() {
    let (Some(admin), Some(redis)) = (
        crate::support::service_url("TEST_DATABASE_URL"),
        crate::support::service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = crate::support::create_pg_database(&admin).await;
    let prefix = format!("chatsphere-chaos-test:{name}:");
    let backend = Backend {
        database_url: Some(&database_url),
        redis: Some((&redis, &prefix)),
    };
    let kills = [
        Kill {
            at: Duration::from_millis(2000),
            process: 0,
            down_for: Duration::from_millis(700),
        },
        Kill {
            at: Duration::from_millis(5000),
            process: 1,
            down_for: Duration::from_millis(500),
        },
    ];
    let outcome = chaos("postgres + redis, two processes", backend, 2, &kills);
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    crate::support::drop_pg_database(&admin, &name).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Runs the chaos on `processes` server processes with `backend` and checks
/// what the clients saw against each other and against the store.
async fn chaos(label: &str, backend: Backend<'_>, processes: usize, kills: &[Kill]) {
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(backend, data.path(), processes).await;
    let http = reqwest::Client::new();
    let names = ["ann", "ben", "cat"];
    let mut users = Vec::new();
    for (i, name) in names.iter().enumerate() {
        users.push(register(&http, &cluster.address(i % processes), name).await);
    }
    let created = http
        .post(format!(
            "{}/api/v1/conversations/groups",
            cluster.address(0)
        ))
        .bearer_auth(&users[0].1)
        .json(&json!({"name": "chaos", "member_ids": [users[1].0, users[2].0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "creating the group");
    let group = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let epoch = Instant::now();
    let shared = Arc::new(Shared {
        hosts: cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect(),
        conversation: group.clone(),
        epoch,
        kill_armed: AtomicUsize::new(0),
        sent_there: tokio::sync::Notify::new(),
        stop_sending: AtomicBool::new(false),
        max_acked: AtomicI64::new(0),
        settled: AtomicUsize::new(0),
        final_seq: AtomicI64::new(0),
        give_up: epoch + CHAOS + SETTLE,
    });
    let clients: Vec<_> = users
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, ((id, token), name))| {
            tokio::spawn(client(
                shared.clone(),
                i,
                name.to_owned(),
                id.clone(),
                token.clone(),
            ))
        })
        .collect();

    // The chaos: (process, killed at, started again at, delay after the send) of each kill.
    let mut outages = Vec::new();
    for kill in kills {
        // Just after a message went to that process: while it is being
        // received, stored or acknowledged, or just after (a different
        // moment each run).
        tokio::time::sleep_until((epoch + kill.at).into()).await;
        // (A permit left over from the kill before is taken first.)
        let _ = futures_util::FutureExt::now_or_never(shared.sent_there.notified());
        shared.kill_armed.store(kill.process + 1, Ordering::SeqCst);
        let _ = tokio::time::timeout(SEND_EVERY * 3, shared.sent_there.notified()).await;
        shared.kill_armed.store(0, Ordering::SeqCst);
        let delay = jitter(Duration::from_millis(5));
        std::thread::sleep(delay); // finer than the timer
        let killed = shared.now();
        cluster.kill(kill.process);
        tokio::time::sleep(kill.down_for).await;
        cluster.restart(kill.process).await;
        outages.push((kill.process, killed, shared.now(), delay));
    }
    tokio::time::sleep_until((epoch + CHAOS).into()).await;
    shared.stop_sending.store(true, Ordering::SeqCst);
    let stopped = shared.now();
    while shared.settled.load(Ordering::SeqCst) < clients.len() && Instant::now() < shared.give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_acked = shared.now();
    if shared.settled.load(Ordering::SeqCst) == clients.len() {
        // Nobody sends any more: this is the last message.
        shared
            .final_seq
            .store(shared.max_acked.load(Ordering::SeqCst), Ordering::SeqCst);
    }
    let mut logs = Vec::new();
    for handle in clients {
        logs.push(handle.await.expect("client task"));
    }
    let all_received = shared.now();
    let stored = history(&http, &cluster.address(0), &users[0].1, &group).await;

    let run = Run {
        label,
        processes,
        started,
        outages,
        stopped,
        all_acked,
        all_received,
        max_acked: shared.max_acked.load(Ordering::SeqCst),
        logs,
        stored,
    };
    figures::print(&run);
    checks::all(&run);
    drop(cluster);
}

/// A duration from zero up to `max`, different each call.
fn jitter(max: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    max.mul_f64(f64::from(nanos % 1000) / 1000.0)
}
