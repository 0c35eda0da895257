//! `many`: users who are members of many conversations (groups) connecting,
//! one at a time: how long each takes until `ready`, and how much the
//! server's memory grows per such connection.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::client;
use crate::cluster::{Cluster, Delta};
use crate::machine::Hog;
use crate::rest;
use crate::settings::Settings;
use crate::stats::{bytes, Percentiles, Tally};

/// Time given to the server to settle before memory is read.
const SETTLE: Duration = Duration::from_secs(2);

/// Runs the scenario; its one-line summary.
pub async fn run(cluster: &Cluster, settings: &Settings) -> String {
    let many = settings.many;
    println!(
        "  {} users, each in {} groups (all of them in every group), connecting one at a time \
         over {} process(es)",
        many.users,
        many.conversations,
        cluster.processes()
    );
    let users = rest::register_users(cluster, "many", many.users).await;
    let others: Vec<&str> = users[1..].iter().map(|u| u.id.as_str()).collect();
    let creating = Instant::now();
    let groups: Vec<rest::NewGroup> = (0..many.conversations)
        .map(|_| rest::NewGroup {
            owner: &users[0],
            members: others.clone(),
        })
        .collect();
    rest::create_groups(cluster, &groups).await;
    println!(
        "  created {} groups of {} in {:.1} s",
        many.conversations,
        many.users,
        creating.elapsed().as_secs_f64()
    );
    tokio::time::sleep(SETTLE).await;
    let before = cluster.usage();
    let _hog = Hog::start(settings.hog);

    let done = CancellationToken::new();
    let mut readers = Vec::new();
    let mut latencies = Vec::new();
    let mut failed = Tally::default();
    let mut followed = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let at = Instant::now();
        match client::connect(cluster.port(i), &user.token).await {
            Ok((socket, conversations)) => {
                latencies.push(at.elapsed().as_micros() as u32);
                followed.push(conversations);
                readers.push(tokio::spawn(client::hold(socket, done.clone())));
            }
            Err(kind) => failed.add(kind),
        }
    }
    let connected = cluster.usage();
    tokio::time::sleep(SETTLE).await;
    let memory = Delta::between(&before, &cluster.usage());
    let connecting = Delta::between(&before, &connected);
    done.cancel();
    let mut closed = Tally::default();
    for reader in readers {
        if let Some(kind) = reader.await.expect("reader task") {
            closed.add(kind);
        }
    }

    let open = latencies.len();
    let ready = Percentiles::of(&mut latencies);
    let per_connection = memory.rss_growth / open.max(1) as f64;
    followed.sort_unstable();
    followed.dedup();
    println!("  connect → ready {ready} (following {followed:?} conversations)");
    println!("  failed connects: {failed}; closed by the server: {closed}");
    println!(
        "  server CPU while connecting: {:.2} s ({:.1} ms per connect)",
        connecting.cpu,
        1000.0 * connecting.cpu / open.max(1) as f64
    );
    println!(
        "  server RSS: +{} with {open} connected = {} per connection",
        bytes(memory.rss_growth),
        bytes(per_connection)
    );
    format!(
        "{open} users in {} groups: ready p50 {:.0} ms, max {:.0} ms; {} per connection",
        many.conversations,
        ready.p50,
        ready.max,
        bytes(per_connection)
    )
}
