//! `fanout` and `hot`: members of one room connected, senders sending on
//! a fixed timetable. `fanout` is about deliveries (how many a second, how
//! late, lost, duplicated, connections closed); `hot` about acknowledged
//! sends into one room (how many a second, how late, refused).
//!
//! `hot` over WebSockets (`LOAD_HOT_VIA=ws`, the default) has every sender
//! connected as a member, so each receives every message: at 2,500 msg/s
//! and 200 senders that is 500,000 deliveries a second, and the fan-out,
//! not the store, saturates the cores. `LOAD_HOT_VIA=rest` measures the
//! store's ceiling instead: the senders post over the REST API (the same
//! `ConversationService::post` and group commit as the gateway, see
//! [`crate::poster`]) and are not connected, and only
//! `LOAD_HOT_LISTENERS` (2) connected members receive the messages, which
//! checks that what was acknowledged was also published, once each, in
//! order.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cluster::{Cluster, Delta};
use crate::figures::Figures;
use crate::measure::{connect_all, measure};
use crate::member;
use crate::plan::{Plan, Routing};
use crate::poster::{self, Posters};
use crate::rest;
use crate::settings::{RoomSettings, Settings, Via};

/// Most deliveries one run may plan (each is a 4-byte sample in memory).
const MAX_DELIVERIES: usize = 50_000_000;

/// Which of the two scenarios: they differ in what they summarise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Deliveries.
    Fanout,
    /// Acknowledged sends.
    Hot,
}

/// Runs the scenario; its one-line summary.
pub async fn run(cluster: &Cluster, settings: &Settings, focus: Focus) -> String {
    let load: RoomSettings = match focus {
        Focus::Fanout => settings.fanout,
        Focus::Hot => settings.hot,
    };
    let planned = load.messages_per_sender() * load.senders;
    assert!(
        planned * load.members <= MAX_DELIVERIES,
        "{planned} messages to {} members is more than {MAX_DELIVERIES} deliveries: lower the \
         rate, the time or the members",
        load.members
    );
    let offered = load.rate_per_sender * load.senders as f64;
    let how = match load.via {
        Via::Ws => "over their WebSockets",
        Via::Rest => "over REST, not connected",
    };
    println!(
        "  {} members of one room connected over {} process(es); {} sending {how}, {:.2} msg/s \
         each ({offered:.0} msg/s, {:.0} deliveries/s offered) for {} s",
        load.members,
        cluster.processes(),
        load.senders,
        load.rate_per_sender,
        offered * load.members as f64,
        load.seconds.as_secs()
    );
    if load.via == Via::Ws && load.rate_per_sender > 10.0 {
        println!("  (servers with the per-connection bucket of 10 sends/s refuse the excess: see refused)");
    }
    // Over REST the senders are registered after the connected members.
    let registered = match load.via {
        Via::Ws => load.members,
        Via::Rest => load.members + load.senders,
    };
    let users = rest::register_users(cluster, "member", registered).await;
    let room = rest::general_room(cluster, &users[0]).await;
    let (connected, _) = connect_all(cluster, &users[..load.members]).await;

    let plan = Arc::new(Plan::new(
        offered,
        planned,
        Routing::OneRoom {
            senders: load.senders,
        },
        vec![room],
        vec![connected.len()],
        settings.body_bytes,
    ));
    let mut schedules = match load.via {
        Via::Ws => plan.schedules(load.members),
        Via::Rest => vec![Vec::new(); load.members],
    };
    let done = CancellationToken::new();
    let mut clients = Vec::with_capacity(connected.len() + 1);
    for (i, socket) in connected {
        let me = (load.via == Via::Ws && i < load.senders).then_some(i);
        let steps = std::mem::take(&mut schedules[i]);
        clients.push(tokio::spawn(member::run(
            socket,
            me,
            steps,
            plan.clone(),
            done.clone(),
        )));
    }
    if load.via == Via::Rest {
        let posters = Posters::new(cluster, &users[load.members..]);
        clients.push(tokio::spawn(poster::run(
            posters,
            plan.clone(),
            done.clone(),
        )));
    }
    let (figures, used) = measure(cluster, settings, &plan, clients, done).await;
    summary(&figures, focus, &load, &used)
}

fn summary(figures: &Figures, focus: Focus, load: &RoomSettings, used: &Delta) -> String {
    let offered = load.rate_per_sender * load.senders as f64;
    let cpu = used.cpu_percent(figures.seconds);
    let trouble = figures.trouble();
    match focus {
        Focus::Fanout => format!(
            "{} members, {} × {:.1}/s: {:.0} deliveries/s of {:.0} offered, p50/p99/max {}, {trouble}, CPU {cpu:.0} %",
            load.members,
            load.senders,
            load.rate_per_sender,
            figures.delivered_per_second,
            offered * load.members as f64,
            figures.delivery.short()
        ),
        Focus::Hot => format!(
            "{} senders{}, {offered:.0}/s offered: {:.0} acked/s, ack p50/p99/max {}, {trouble}, CPU {cpu:.0} %",
            load.senders,
            match load.via {
                Via::Ws => String::new(),
                Via::Rest => format!(" over REST, {} listening", load.members),
            },
            figures.acked_per_second,
            figures.ack.short()
        ),
    }
}
