//! The load generator: drives the real server binary (the release build
//! `cargo bench` makes, or `LOAD_SERVER_BIN`) over real WebSockets and
//! prints what it measured. Figures, never assertions: the machines here
//! are noisy, and the clients share the machine's cores with the server.
//!
//! `cargo bench -p server --bench load`. Scenarios (`LOAD_SCENARIOS`,
//! default `idle,fanout,hot,many,team`), each against fresh server
//! processes and a fresh database:
//!
//! - `idle`: `LOAD_IDLE_CONNECTIONS` (2,000) idle authenticated connections,
//!   `LOAD_IDLE_PER_USER` (16) per user, `LOAD_CONNECT_IN_FLIGHT` (16)
//!   connecting at once: memory per connection, connects per second
//!   (upgrade request → `ready`), idle CPU over `LOAD_IDLE_SECONDS` (10).
//! - `fanout`: `LOAD_FANOUT_MEMBERS` (200) members of one room,
//!   `LOAD_FANOUT_SENDERS` (100) of them sending `LOAD_FANOUT_RATE` (1)
//!   messages a second each for `LOAD_FANOUT_SECONDS` (20): deliveries per
//!   second, latency, lost, duplicated, closed, CPU.
//! - `hot`: `LOAD_HOT_SENDERS` (200) members all sending into one room,
//!   `LOAD_HOT_RATE` (1,000) messages a second in all, for
//!   `LOAD_HOT_SECONDS` (20): acknowledged sends per second, ack latency,
//!   refusals. With `LOAD_HOT_VIA=ws` (the default) every sender is
//!   connected and receives every message, so the fan-out soon becomes the
//!   ceiling; with `LOAD_HOT_VIA=rest` the senders post over the REST API
//!   (the same service call and group commit) without being connected, and
//!   only `LOAD_HOT_LISTENERS` (2) connected members receive the messages:
//!   the store's ceiling (see `room`).
//! - `many`: `LOAD_MANY_USERS` (20) users each in `LOAD_MANY_CONVERSATIONS`
//!   (500) groups connecting: time to `ready`, memory per connection.
//! - `team`: `LOAD_TEAM_USERS` (1,000) users, each in
//!   `LOAD_TEAM_GROUPS_PER_USER` (20) groups of `LOAD_TEAM_GROUP_SIZE` (8),
//!   all connected; `LOAD_TEAM_RATE` (1,000) messages a second in all over
//!   the groups for `LOAD_TEAM_SECONDS` (20), every receiver sending a
//!   `read` per message (`LOAD_TEAM_READS`, 1), `typing` before
//!   `LOAD_TEAM_TYPING` (50) % of the messages: deliveries per second,
//!   latency, lost, duplicated, out of order, closed, CPU (see `team`).
//!
//! Backends (`LOAD_BACKENDS`: `sqlite`, `pg`): SQLite with one process; with
//! `TEST_DATABASE_URL` and `TEST_REDIS_URL`, PostgreSQL + Redis with
//! `LOAD_PG_PROCESSES` (2) processes, clients split between them. Senders
//! send on a fixed timetable (`plan`) and latency counts from the time a
//! message was due (no coordinated omission); `LOAD_DRAIN` (10 s) is how
//! long answers may take after the last send. `LOAD_HOG=N` runs N busy
//! processes beside the server while measuring; `LOAD_BODY_BYTES` (64)
//! sizes the messages. Loopback only; every count and time is capped (see
//! `settings`).

#[allow(dead_code)] // the test harness's process control; the bench uses part of it
#[path = "../../tests/api/processes.rs"]
mod processes;
// Throwaway PostgreSQL databases, shared with the tests.
#[path = "../../../services/tests/support/mod.rs"]
mod support;

mod client;
mod cluster;
mod figures;
mod idle;
mod machine;
mod many;
mod measure;
mod member;
mod plan;
mod poster;
mod rest;
mod room;
mod settings;
mod stats;
mod team;

use cluster::{Cluster, Shared};
use settings::{BackendKind, Scenario, Settings};
use stats::Row;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let settings = Settings::from_env();
    machine::epoch();
    let files = machine::raise_fd_limit();
    println!(
        "load generator: server {}; open files {files}; {} busy process(es) beside it",
        settings
            .server_bin
            .as_deref()
            .unwrap_or(std::path::Path::new(env!("CARGO_BIN_EXE_server")))
            .display(),
        settings.hog
    );
    let mut rows = Vec::new();
    for &backend in &settings.backends {
        for &scenario in &settings.scenarios {
            rows.push(run(backend, scenario, &settings).await);
        }
    }
    stats::print_table(&rows);
}

/// Runs `scenario` against fresh processes of `backend`.
async fn run(backend: BackendKind, scenario: Scenario, settings: &Settings) -> Row {
    let label = match backend {
        BackendKind::Sqlite => "SQLite, 1 process".to_owned(),
        BackendKind::Postgres => format!("PostgreSQL + Redis, {} processes", settings.pg_processes),
    };
    let load = machine::load_average();
    println!("\n{} on {label} (load average {load})", scenario.name());
    let figures = match backend {
        BackendKind::Sqlite => {
            let cluster = Cluster::start(backend, None, settings).await;
            measure(&cluster, scenario, settings).await
        }
        BackendKind::Postgres => {
            let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL for pg");
            let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL for pg");
            let (url, name) = support::create_pg_database(&admin).await;
            let prefix = format!("chatsphere-load:{name}:");
            let shared = Shared {
                database_url: &url,
                redis_url: &redis,
                prefix: &prefix,
            };
            let run = async {
                let cluster = Cluster::start(backend, Some(&shared), settings).await;
                measure(&cluster, scenario, settings).await
            };
            support::with_cleanup(run, support::drop_pg_database(&admin, &name)).await
        }
    };
    Row {
        backend: label,
        scenario: scenario.name().to_owned(),
        figures,
        load,
    }
}

/// Runs `scenario` on `cluster`, then shows what the server logged.
async fn measure(cluster: &Cluster, scenario: Scenario, settings: &Settings) -> String {
    let figures = match scenario {
        Scenario::Idle => idle::run(cluster, settings).await,
        Scenario::Fanout => room::run(cluster, settings, room::Focus::Fanout).await,
        Scenario::Hot => room::run(cluster, settings, room::Focus::Hot).await,
        Scenario::Many => many::run(cluster, settings).await,
        Scenario::Team => team::run(cluster, settings).await,
    };
    println!("  server log: {}", cluster.log_summary());
    figures
}
