//! Running a timetable scenario once its clients are set up: connecting
//! them, waiting for the first message due, measuring the server's and the
//! generator's CPU until every send is answered and every acknowledged
//! message delivered (or the drain time is over), then stopping the
//! clients and gathering their figures.

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{self, Socket};
use crate::cluster::{Cluster, Delta};
use crate::figures::Figures;
use crate::machine::{epoch, now_us, Hog, Usage};
use crate::member::Log;
use crate::plan::Plan;
use crate::rest::User;
use crate::settings::Settings;
use crate::stats::Tally;

/// Connects under way at once while the clients join.
const CONNECTING_IN_FLIGHT: usize = 16;

/// How often the drain looks whether everything arrived.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// Connects every user once, client `i` to process `i` (modulo the count),
/// [`CONNECTING_IN_FLIGHT`] at a time: the open sockets by index, and the
/// failures by kind.
pub async fn connect_all(cluster: &Cluster, users: &[User]) -> (Vec<(usize, Socket)>, Tally) {
    let started = Instant::now();
    let outcomes: Vec<(usize, Result<Socket, String>)> = stream::iter(0..users.len())
        .map(|i| {
            let (token, port) = (&users[i].token, cluster.port(i));
            async move { (i, client::connect(port, token).await.map(|(s, _)| s)) }
        })
        .buffer_unordered(CONNECTING_IN_FLIGHT)
        .collect()
        .await;
    let mut open = Vec::with_capacity(outcomes.len());
    let mut failed = Tally::default();
    for (i, outcome) in outcomes {
        match outcome {
            Ok(socket) => open.push((i, socket)),
            Err(kind) => failed.add(kind),
        }
    }
    open.sort_by_key(|(i, _)| *i);
    println!(
        "  connected {} of {} in {:.1} s (failed: {failed})",
        open.len(),
        users.len(),
        started.elapsed().as_secs_f64()
    );
    (open, failed)
}

/// Waits for `plan` to start, measures while `clients` follow it and
/// through the drain, then stops them (`done`): the figures (printed) and
/// the server processes' usage over that time.
pub async fn measure(
    cluster: &Cluster,
    settings: &Settings,
    plan: &Plan,
    clients: Vec<JoinHandle<Log>>,
    done: CancellationToken,
) -> (Figures, Delta) {
    let _hog = Hog::start(settings.hog);
    tokio::time::sleep_until((epoch() + Duration::from_micros(plan.start_us)).into()).await;
    let before = cluster.usage();
    let generator_before = Usage::of(std::process::id());

    tokio::time::sleep_until((epoch() + Duration::from_micros(plan.end_us())).into()).await;
    let deadline = tokio::time::Instant::now() + settings.drain;
    while !plan.complete() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(DRAIN_POLL).await;
    }
    let end_us = now_us();
    let used = Delta::between(&before, &cluster.usage());
    let generator = Usage::of(std::process::id()).cpu - generator_before.cpu;
    done.cancel();
    let mut logs = Vec::with_capacity(clients.len());
    for client in clients {
        logs.push(client.await.expect("client task"));
    }
    let figures = Figures::of(logs, plan, end_us);
    figures.print(&used, plan.messages);
    println!(
        "  generator CPU {generator:.1} s = {:.0} % of one core (the clients share the cores)",
        100.0 * generator / figures.seconds
    );
    (figures, used)
}
