//! `team`: a team's mixed load. `LOAD_TEAM_USERS` users, each a member of
//! `LOAD_TEAM_GROUPS_PER_USER` groups of `LOAD_TEAM_GROUP_SIZE`, every one
//! connected over one WebSocket. Messages go out at `LOAD_TEAM_RATE` a
//! second in all on a fixed timetable: message `m` to group `m mod groups`,
//! sent by the group's members in turn (see [`Routing::Groups`]), so every
//! group and every member gets its share. Like people with the web app
//! open:
//!
//! - every receiver sends a `read` for each message of someone else as it
//!   arrives (one frame per message, see [`crate::member`]; nothing is
//!   gathered, so the server's own coalescing is what is measured);
//!   `LOAD_TEAM_READS=0` turns this off, for comparison;
//! - a sender sends a `typing` notice 2 s before `LOAD_TEAM_TYPING` (50) %
//!   of its messages (the server passes it on, and the stop when the
//!   message arrives).
//!
//! Printed like `fanout`: deliveries a second, due → delivery, lost,
//! duplicated, out of order (per conversation), connections closed, server
//! and generator CPU; and the receipt and typing frames that came back.

use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;
use crate::measure::{connect_all, measure};
use crate::member;
use crate::plan::{Plan, Routing};
use crate::rest::{self, NewGroup};
use crate::settings::Settings;

/// Most deliveries one run may plan (each is a 4-byte sample in memory).
const MAX_DELIVERIES: usize = 50_000_000;

/// The seed of the teams: every run has the same ones.
const SEED: u64 = 15;

/// Runs the scenario; its one-line summary.
pub async fn run(cluster: &Cluster, settings: &Settings) -> String {
    let team = settings.team;
    let groups = team.groups();
    let messages = team.messages();
    assert!(
        messages * team.group_size <= MAX_DELIVERIES,
        "{messages} messages to groups of {} is more than {MAX_DELIVERIES} deliveries: lower the \
         rate or the time",
        team.group_size
    );
    println!(
        "  {} users over {} process(es), each in {} groups of {} ({groups} groups); {:.0} msg/s \
         ({:.0} deliveries/s offered) for {} s; reads {}, typing before {} % of the messages",
        team.users,
        cluster.processes(),
        team.groups_per_user,
        team.group_size,
        team.rate,
        team.rate * team.group_size as f64,
        team.seconds.as_secs(),
        if team.reads {
            "one per message received"
        } else {
            "off"
        },
        team.typing_percent
    );
    let setup = Instant::now();
    let users = rest::register_users(cluster, "team", team.users).await;
    let members = membership(team.users, team.groups_per_user, team.group_size);
    let creating = Instant::now();
    let new_groups: Vec<NewGroup> = members
        .iter()
        .map(|group| NewGroup {
            owner: &users[group[0] as usize],
            members: group[1..]
                .iter()
                .map(|&u| users[u as usize].id.as_str())
                .collect(),
        })
        .collect();
    let ids = rest::create_groups(cluster, &new_groups).await;
    println!(
        "  created {groups} groups in {:.1} s",
        creating.elapsed().as_secs_f64()
    );
    let (connected, _) = connect_all(cluster, &users).await;
    println!(
        "  setup (register, create, connect) took {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let mut online = vec![false; team.users];
    for (i, _) in &connected {
        online[*i] = true;
    }
    let audience = members
        .iter()
        .map(|group| group.iter().filter(|&&u| online[u as usize]).count())
        .collect();
    let mut plan = Plan::new(
        team.rate,
        messages,
        Routing::Groups { members },
        ids,
        audience,
        settings.body_bytes,
    );
    plan.typing_percent = team.typing_percent;
    plan.reads = team.reads;
    let plan = Arc::new(plan);
    let mut schedules = plan.schedules(team.users);
    let done = CancellationToken::new();
    let clients = connected
        .into_iter()
        .map(|(i, socket)| {
            let steps = std::mem::take(&mut schedules[i]);
            tokio::spawn(member::run(
                socket,
                Some(i),
                steps,
                plan.clone(),
                done.clone(),
            ))
        })
        .collect();
    let (figures, used) = measure(cluster, settings, &plan, clients, done).await;
    format!(
        "{} users in {groups} groups of {}, {:.0} msg/s (reads {}, typing {} %): {:.0} \
         deliveries/s of {:.0} offered, p50/p99/max {}, {}, CPU {:.0} %",
        team.users,
        team.group_size,
        team.rate,
        if team.reads { "on" } else { "off" },
        team.typing_percent,
        figures.delivered_per_second,
        team.rate * team.group_size as f64,
        figures.delivery.short(),
        figures.trouble(),
        used.cpu_percent(figures.seconds)
    )
}

/// Groups of `size` distinct users (indexes), each user in exactly
/// `per_user` of them: in each of `per_user` rounds the users, shuffled
/// (with a fixed seed), are cut into groups of `size`. `users` must be a
/// multiple of `size`.
fn membership(users: usize, per_user: usize, size: usize) -> Vec<Vec<u32>> {
    assert!(
        users.is_multiple_of(size),
        "users must split evenly into groups"
    );
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut order: Vec<u32> = (0..users as u32).collect();
    let mut groups = Vec::with_capacity(users / size * per_user);
    for _ in 0..per_user {
        order.shuffle(&mut rng);
        groups.extend(order.chunks(size).map(<[u32]>::to_vec));
    }
    groups
}
