//! `fanout` and `hot`: the members of one room connected, some sending on
//! a fixed timetable. `fanout` is about deliveries (how many a second, how
//! late, lost, duplicated, connections closed); `hot` about acknowledged
//! sends into one room (how many a second, how late, refused).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::client;
use crate::cluster::{Cluster, Delta};
use crate::machine::{epoch, now_us, Hog, Usage};
use crate::member::{self, Log, Plan};
use crate::rest;
use crate::settings::{RoomSettings, Settings};
use crate::stats::{bytes, Percentiles, Tally};

/// Most deliveries one run may plan (each is a 4-byte sample in memory).
const MAX_DELIVERIES: usize = 50_000_000;

/// Connects under way at once while the members join.
const CONNECTING_IN_FLIGHT: usize = 16;

/// Time between the last connect and the first message due.
const LEAD_TIME: Duration = Duration::from_secs(1);

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
    let per_sender = load.messages_per_sender();
    let planned = per_sender * load.senders;
    assert!(
        planned * load.members <= MAX_DELIVERIES,
        "{} messages to {} members is more than {MAX_DELIVERIES} deliveries: lower the rate, the \
         time or the members",
        planned,
        load.members
    );
    let offered = load.rate_per_sender * load.senders as f64;
    println!(
        "  {} members of one room over {} process(es); {} sending {:.2} msg/s each \
         ({offered:.0} msg/s, {:.0} deliveries/s offered) for {} s",
        load.members,
        cluster.processes(),
        load.senders,
        load.rate_per_sender,
        offered * load.members as f64,
        load.seconds.as_secs()
    );
    if load.rate_per_sender > 10.0 {
        println!("  (servers with the per-connection bucket of 10 sends/s refuse the excess: see refused)");
    }
    let users = rest::register_users(cluster, "member", load.members).await;
    let room = rest::general_room(cluster, &users[0]).await;

    let connected: Vec<(usize, Result<client::Socket, String>)> = stream::iter(0..load.members)
        .map(|i| {
            let (token, port) = (&users[i].token, cluster.port(i));
            async move { (i, client::connect(port, token).await.map(|(s, _)| s)) }
        })
        .buffer_unordered(CONNECTING_IN_FLIGHT)
        .collect()
        .await;

    let body = format!("load {}", "x".repeat(settings.body_bytes.saturating_sub(5)));
    let plan = Arc::new(Plan {
        start_us: now_us() + LEAD_TIME.as_micros() as u64,
        senders: load.senders,
        per_sender,
        period_us: 1e6 / load.rate_per_sender,
        frame_head: format!(r#"{{"type":"send","conversation_id":"{room}","client_msg_id":""#),
        frame_tail: format!(r#"","body":"{body}"}}"#),
        sent: 0.into(),
        acked: 0.into(),
        answered: 0.into(),
        delivered: 0.into(),
    });
    let done = CancellationToken::new();
    let mut failed = Tally::default();
    let mut members = Vec::new();
    for (i, outcome) in connected {
        match outcome {
            Ok(socket) => {
                let sender = (i < load.senders).then_some(i);
                members.push(tokio::spawn(member::run(
                    socket,
                    sender,
                    plan.clone(),
                    done.clone(),
                )));
            }
            Err(kind) => failed.add(kind),
        }
    }
    let open = members.len();
    let _hog = Hog::start(settings.hog);
    tokio::time::sleep_until((epoch() + Duration::from_micros(plan.start_us)).into()).await;
    let before = cluster.usage();
    let generator_before = Usage::of(std::process::id());

    // Sending, then the drain: until every send is answered and every
    // stored message delivered to every member, or the drain time is over.
    tokio::time::sleep_until((epoch() + Duration::from_micros(plan.end_us())).into()).await;
    let deadline = tokio::time::Instant::now() + settings.drain;
    loop {
        let acked = plan.acked.load(Ordering::Relaxed);
        let complete = plan.sent.load(Ordering::Relaxed) == planned
            && plan.answered.load(Ordering::Relaxed) == planned
            && plan.delivered.load(Ordering::Relaxed) >= acked * open;
        if complete || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let end_us = now_us();
    let used = Delta::between(&before, &cluster.usage());
    let generator = Usage::of(std::process::id()).cpu - generator_before.cpu;
    done.cancel();
    let mut logs = Vec::with_capacity(open);
    for member in members {
        logs.push(member.await.expect("member task"));
    }
    let figures = Figures::of(logs, &plan, open, end_us);
    figures.print(&failed, &used, planned, load.members);
    println!(
        "  generator CPU {generator:.1} s = {:.0} % of one core (the clients share the cores)",
        100.0 * generator / figures.seconds
    );
    figures.summary(focus, &load, &used)
}

/// What all members saw together.
struct Figures {
    sent: usize,
    acked: usize,
    ack: Percentiles,
    acked_per_second: f64,
    refused: Tally,
    duplicate_acks: usize,
    delivered: usize,
    expected: usize,
    delivery: Percentiles,
    delivered_per_second: f64,
    duplicates: usize,
    out_of_order: usize,
    foreign: usize,
    unreadable: usize,
    closed: Tally,
    seconds: f64,
}

impl Figures {
    fn of(logs: Vec<Log>, plan: &Plan, open: usize, end_us: u64) -> Self {
        let mut deliveries = Vec::new();
        let mut acks = Vec::new();
        let mut figures = Self {
            sent: plan.sent.load(Ordering::Relaxed),
            acked: plan.acked.load(Ordering::Relaxed),
            ack: Percentiles::default(),
            acked_per_second: 0.0,
            refused: Tally::default(),
            duplicate_acks: 0,
            delivered: 0,
            expected: plan.acked.load(Ordering::Relaxed) * open,
            delivery: Percentiles::default(),
            delivered_per_second: 0.0,
            duplicates: 0,
            out_of_order: 0,
            foreign: 0,
            unreadable: 0,
            closed: Tally::default(),
            seconds: (end_us - plan.start_us) as f64 / 1e6,
        };
        let (mut last_delivery, mut last_ack) = (plan.start_us, plan.start_us);
        for log in logs {
            deliveries.extend_from_slice(&log.deliveries);
            acks.extend_from_slice(&log.acks);
            figures.refused.merge(log.refused);
            figures.duplicate_acks += log.duplicate_acks;
            figures.duplicates += log.duplicates;
            figures.out_of_order += log.out_of_order;
            figures.foreign += log.foreign;
            figures.unreadable += log.unreadable;
            if let Some(kind) = log.closed {
                figures.closed.add(kind);
            }
            last_delivery = last_delivery.max(log.last_delivery_us);
            last_ack = last_ack.max(log.last_ack_us);
        }
        // Over the sending time, or until the last answer if that came later.
        let sending = plan.per_sender as f64 * plan.period_us / 1e6;
        let per_second =
            |n: usize, last: u64| n as f64 / ((last - plan.start_us) as f64 / 1e6).max(sending);
        figures.delivered = deliveries.len();
        figures.delivered_per_second = per_second(deliveries.len(), last_delivery);
        figures.acked_per_second = per_second(acks.len(), last_ack);
        figures.delivery = Percentiles::of(&mut deliveries);
        figures.ack = Percentiles::of(&mut acks);
        figures
    }

    fn print(&self, failed: &Tally, used: &Delta, planned: usize, members: usize) {
        let unanswered = self
            .sent
            .saturating_sub(self.acked + self.refused.total() + self.duplicate_acks);
        println!(
            "  connected {} of {members} (failed: {failed})",
            members - failed.total()
        );
        println!(
            "  sent {} of {planned}; acknowledged {} ({:.0}/s); refused: {}; unanswered {unanswered}; \
             duplicate acks {}",
            self.sent, self.acked, self.acked_per_second, self.refused, self.duplicate_acks
        );
        println!("  due → ack      {}", self.ack);
        println!(
            "  delivered {} of {} expected ({:.0}/s); lost {}; duplicated {}; out of order {}",
            self.delivered,
            self.expected,
            self.delivered_per_second,
            self.expected.saturating_sub(self.delivered),
            self.duplicates,
            self.out_of_order
        );
        println!("  due → delivery {}", self.delivery);
        println!("  closed by the server: {}", self.closed);
        println!(
            "  server CPU {:.1} s over {:.1} s = {:.0} % of one core; RSS {} at the end",
            used.cpu,
            self.seconds,
            used.cpu_percent(self.seconds),
            bytes(used.rss_after)
        );
        if self.foreign + self.unreadable > 0 {
            println!(
                "  frames not from this run: {}; unreadable: {} (the frame format changed?)",
                self.foreign, self.unreadable
            );
        }
    }

    fn summary(&self, focus: Focus, load: &RoomSettings, used: &Delta) -> String {
        let offered = load.rate_per_sender * load.senders as f64;
        let trouble = {
            let lost = self.expected.saturating_sub(self.delivered);
            let mut parts = vec![format!("lost {lost}")];
            if self.duplicates > 0 {
                parts.push(format!("duplicated {}", self.duplicates));
            }
            if self.refused.total() > 0 {
                parts.push(format!("refused {}", self.refused.total()));
            }
            parts.push(format!("closed {}", self.closed.total()));
            parts.join(", ")
        };
        let cpu = used.cpu_percent(self.seconds);
        match focus {
            Focus::Fanout => format!(
                "{} members, {} × {:.1}/s: {:.0} deliveries/s of {:.0} offered, p50/p99/max {}, {trouble}, CPU {cpu:.0} %",
                load.members,
                load.senders,
                load.rate_per_sender,
                self.delivered_per_second,
                offered * load.members as f64,
                self.delivery.short()
            ),
            Focus::Hot => format!(
                "{} senders, {offered:.0}/s offered: {:.0} acked/s, ack p50/p99/max {}, {trouble}, CPU {cpu:.0} %",
                load.senders,
                self.acked_per_second,
                self.ack.short()
            ),
        }
    }
}
