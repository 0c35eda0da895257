//! Runs a [`Scenario`]: starts the server processes, registers the members
//! and their group, lets them send while the faults happen, waits until
//! everything is acknowledged and received, then prints the figures and
//! runs the checks.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::{client, Shared, ANY_PROCESS};
use super::cluster::{history, register, Cluster};
use super::postgres::PgServer;
use super::proxy::PgProxy;
use super::redis::RedisServer;
use super::{checks, figures, logs, Fault, Outage, Run, Scenario, Target, SETTLE};

/// Set (to anything) to keep each run's data directory, with the server
/// processes' logs, instead of removing it.
const KEEP_VAR: &str = "CHATSPHERE_CHAOS_KEEP";

/// The least time between a restart and the next fault.
const MIN_UP: Duration = Duration::from_secs(1);

/// The test's own services that faults may stop (none for process kills
/// alone).
#[derive(Default)]
pub struct Owned<'a> {
    pub redis: Option<&'a mut RedisServer>,
    pub postgres: Option<&'a mut PgServer>,
    /// The proxy the server processes reach PostgreSQL through.
    pub proxy: Option<&'a PgProxy>,
}

/// Runs `scenario`, whose faults stop server processes only.
pub async fn chaos(scenario: &Scenario<'_>) {
    chaos_with(scenario, Owned::default()).await;
}

/// Runs `scenario` and checks what the clients saw against each other and
/// against the store; `owned` holds what its Redis and PostgreSQL faults stop.
pub async fn chaos_with(scenario: &Scenario<'_>, mut owned: Owned<'_>) {
    let started = Instant::now();
    let temporary = tempfile::tempdir().unwrap();
    let (_removed_at_the_end, data) = if std::env::var_os(KEEP_VAR).is_some() {
        // Kept for a look at the server logs (server-<n>.log) afterwards.
        let kept = temporary.keep();
        eprintln!(
            "chaos ({}): data and logs kept in {}",
            scenario.label,
            kept.display()
        );
        (None, kept)
    } else {
        let path = temporary.path().to_owned();
        (Some(temporary), path)
    };
    let mut cluster = Cluster::start(scenario.backend, &data, scenario.processes).await;
    let http = reqwest::Client::new();
    let names = member_names(scenario.members);
    let addresses: Vec<String> = (0..scenario.processes)
        .map(|i| cluster.address(i))
        .collect();
    let users = futures_util::future::join_all(
        names
            .iter()
            .enumerate()
            .map(|(i, name)| register(&http, &addresses[i % addresses.len()], name)),
    )
    .await;
    let others: Vec<&String> = users[1..].iter().map(|(id, _)| id).collect();
    let created = http
        .post(format!(
            "{}/api/v1/conversations/groups",
            cluster.address(0)
        ))
        .bearer_auth(&users[0].1)
        .json(&json!({"name": "chaos", "member_ids": others}))
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
        members: scenario.members,
        send_every: scenario.send_every,
        sending: scenario.sending,
        epoch,
        kill_armed: AtomicUsize::new(0),
        sent_there: tokio::sync::Notify::new(),
        stop_sending: AtomicBool::new(false),
        max_acked: AtomicI64::new(0),
        settled: AtomicUsize::new(0),
        final_seq: AtomicI64::new(0),
        final_change: AtomicI64::new(0),
        edits: scenario.edits(),
        give_up: epoch + scenario.sending_for + SETTLE,
    });
    let clients: Vec<_> = users
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, ((id, token), name))| {
            tokio::spawn(client(
                shared.clone(),
                i,
                name.clone(),
                id.clone(),
                token.clone(),
            ))
        })
        .collect();

    let mut outages: Vec<Outage> = Vec::new();
    for fault in scenario.faults {
        // On a slow machine a restart can take seconds: the next fault
        // waits until what came back has been up for a while.
        let up_since = outages.last().map_or(Duration::ZERO, |o| o.restarted);
        let at = fault.at.max(up_since + MIN_UP);
        let fault = Fault { at, ..*fault };
        outages.push(strike(&shared, &mut cluster, &mut owned, &fault).await);
    }
    tokio::time::sleep_until((epoch + scenario.sending_for).into()).await;
    shared.stop_sending.store(true, Ordering::SeqCst);
    let stopped = shared.now();
    while shared.settled.load(Ordering::SeqCst) < clients.len() && Instant::now() < shared.give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_acked = shared.now();
    if shared.settled.load(Ordering::SeqCst) == clients.len() {
        // Nobody sends any more: this is the last message, and (a moment
        // for the edits still on their way) the last change.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = history(&http, &cluster.address(0), &users[0].1, &group).await;
        let last_change = now
            .iter()
            .filter_map(|m| m["change"].as_i64())
            .max()
            .unwrap_or(0);
        shared.final_change.store(last_change, Ordering::SeqCst);
        shared
            .final_seq
            .store(shared.max_acked.load(Ordering::SeqCst), Ordering::SeqCst);
    }
    let mut client_logs = Vec::new();
    for handle in clients {
        client_logs.push(handle.await.expect("client task"));
    }
    let all_received = shared.now();
    let stored = history(&http, &cluster.address(0), &users[0].1, &group).await;

    let run = Run {
        scenario,
        started,
        outages,
        stopped,
        all_acked,
        all_received,
        max_acked: shared.max_acked.load(Ordering::SeqCst),
        logs: client_logs,
        stored,
        exited: cluster.exited(),
    };
    figures::print(&run);
    let files: Vec<_> = (0..scenario.processes).map(|i| cluster.log(i)).collect();
    logs::print(scenario.label, &files);
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| checks::all(&run)))
    {
        if let Some(postgres) = owned.postgres.as_deref() {
            eprintln!("the test's PostgreSQL logged:\n{}", postgres.log());
        }
        std::panic::resume_unwind(panic);
    }
    drop(cluster);
}

/// Brings `fault` about: waits for its moment, then for a message sent to
/// the process it stops (any process, for Redis and PostgreSQL), so that
/// the stop lands while that message is being received, stored or
/// acknowledged, or just after (a different moment each run); stops the
/// target, waits, starts it again.
async fn strike(
    shared: &Shared,
    cluster: &mut Cluster<'_>,
    owned: &mut Owned<'_>,
    fault: &Fault,
) -> Outage {
    tokio::time::sleep_until((shared.epoch + fault.at).into()).await;
    if fault.target == Target::CommitAnswer {
        let stopped = shared.now();
        let proxy = owned.proxy.expect("the proxy in front of PostgreSQL");
        let lost = proxy.lose_next_commit_answer(Duration::from_secs(5)).await;
        assert!(lost, "no COMMIT passed the proxy within 5 s");
        return Outage {
            target: fault.target,
            stopped,
            restarted: shared.now(),
            delay: Duration::ZERO,
        };
    }
    // (A permit left over from the fault before is taken first.)
    let _ = futures_util::FutureExt::now_or_never(shared.sent_there.notified());
    let armed = match fault.target {
        Target::Process(index) => index + 1,
        Target::Redis | Target::Postgres | Target::CommitAnswer => ANY_PROCESS,
    };
    shared.kill_armed.store(armed, Ordering::SeqCst);
    let wait = shared.send_every * 3;
    let _ = tokio::time::timeout(wait, shared.sent_there.notified()).await;
    shared.kill_armed.store(0, Ordering::SeqCst);
    let delay = jitter(Duration::from_millis(5));
    std::thread::sleep(delay); // finer than the timer
    let stopped = shared.now();
    match fault.target {
        Target::Process(index) => cluster.kill(index),
        Target::Redis => owned.redis.as_deref_mut().expect("the test's Redis").kill(),
        Target::Postgres => {
            let postgres = owned
                .postgres
                .as_deref_mut()
                .expect("the test's PostgreSQL");
            postgres.crash().await;
        }
        Target::CommitAnswer => unreachable!("handled above"),
    }
    tokio::time::sleep(fault.down_for).await;
    match fault.target {
        Target::Process(index) => cluster.restart(index).await,
        Target::Redis => owned.redis.as_deref_mut().unwrap().restart().await,
        Target::Postgres => owned.postgres.as_deref_mut().unwrap().restart().await,
        Target::CommitAnswer => unreachable!("handled above"),
    }
    Outage {
        target: fault.target,
        stopped,
        restarted: shared.now(),
        delay,
    }
}

/// The members' user names: ann, ben and cat for three, else u00, u01, …
/// (a name never holds `-`: client ids are `<name>-<number>`).
fn member_names(members: usize) -> Vec<String> {
    if members == 3 {
        return ["ann", "ben", "cat"].map(String::from).to_vec();
    }
    (0..members).map(|i| format!("u{i:02}")).collect()
}

/// A duration from zero up to `max`, different each call.
fn jitter(max: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    max.mul_f64(f64::from(nanos % 1000) / 1000.0)
}
