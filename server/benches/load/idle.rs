//! `idle`: many authenticated connections that do nothing. Memory per
//! connection (the server's RSS growth ÷ connections), connects per second
//! with a fixed number in flight (upgrade request → `ready`), and the
//! server's CPU while nothing happens.

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client;
use crate::cluster::{Cluster, Delta};
use crate::machine::Hog;
use crate::rest;
use crate::settings::Settings;
use crate::stats::{bytes, Percentiles, Tally};

/// A connection kept open by [`client::hold`]: how the server ended it, if it did.
type Reader = JoinHandle<Option<String>>;

/// Time given to the server to settle after connecting, before memory is read.
const SETTLE: Duration = Duration::from_secs(2);

/// Runs the scenario; its one-line summary.
pub async fn run(cluster: &Cluster, settings: &Settings) -> String {
    let idle = settings.idle;
    let users = idle.connections.div_ceil(idle.per_user);
    println!(
        "  {} connections of {users} users (≤ {} each), {} in flight, over {} process(es)",
        idle.connections,
        idle.per_user,
        idle.in_flight,
        cluster.processes()
    );
    let accounts = rest::register_users(cluster, "idle", users).await;
    tokio::time::sleep(SETTLE).await;
    let before = cluster.usage();
    let _hog = Hog::start(settings.hog);

    let done = CancellationToken::new();
    let started = Instant::now();
    let outcomes: Vec<Result<(u32, Reader), String>> = stream::iter(0..idle.connections)
        .map(|i| {
            let (token, port, done) = (&accounts[i % users].token, cluster.port(i), &done);
            async move {
                let at = Instant::now();
                let (socket, _) = client::connect(port, token).await?;
                let latency = at.elapsed().as_micros() as u32;
                Ok((latency, tokio::spawn(client::hold(socket, done.clone()))))
            }
        })
        .buffer_unordered(idle.in_flight)
        .collect()
        .await;
    let connect_time = started.elapsed().as_secs_f64();
    let connected = cluster.usage();

    let mut latencies = Vec::with_capacity(outcomes.len());
    let mut readers = Vec::with_capacity(outcomes.len());
    let mut failed = Tally::default();
    for outcome in outcomes {
        match outcome {
            Ok((latency, reader)) => {
                latencies.push(latency);
                readers.push(reader);
            }
            Err(kind) => failed.add(kind),
        }
    }
    let open = readers.len();
    let connect = Percentiles::of(&mut latencies);
    let connecting = Delta::between(&before, &connected);

    tokio::time::sleep(SETTLE).await;
    let settled = cluster.usage();
    let memory = Delta::between(&before, &settled);
    tokio::time::sleep(idle.seconds).await;
    let idled = Delta::between(&settled, &cluster.usage());

    done.cancel();
    let mut closed = Tally::default();
    for reader in readers {
        if let Some(kind) = reader.await.expect("reader task") {
            closed.add(kind);
        }
    }

    let rate = open as f64 / connect_time;
    let per_connection = memory.rss_growth / open.max(1) as f64;
    let idle_cpu = idled.cpu_percent(idle.seconds.as_secs_f64());
    println!("  connects: {open} in {connect_time:.2} s = {rate:.0}/s; upgrade → ready {connect}");
    println!("  failed connects: {failed}");
    println!(
        "  server CPU while connecting: {:.2} s ({:.2} ms per connect)",
        connecting.cpu,
        1000.0 * connecting.cpu / open.max(1) as f64
    );
    println!(
        "  server RSS: +{} with {open} connected ({} in all) = {} per connection",
        bytes(memory.rss_growth),
        bytes(memory.rss_after),
        bytes(per_connection)
    );
    println!(
        "  idle server CPU over {} s: {idle_cpu:.1} % of one core",
        idle.seconds.as_secs()
    );
    println!("  closed by the server: {closed}");
    format!(
        "{open} connected: {} per connection, {rate:.0} connects/s (p99 {:.0} ms), idle CPU {idle_cpu:.1} %{}",
        bytes(per_connection),
        connect.p99,
        if failed.total() + closed.total() > 0 {
            format!(", {} failed, {} closed", failed.total(), closed.total())
        } else {
            String::new()
        }
    )
}
