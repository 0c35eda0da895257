//! Many members sending at once on PostgreSQL + Redis with two processes,
//! each process killed once: every send of a member races with the others'
//! for the conversation's next sequence number, so messages reach the bus
//! out of order far more often than with three members, and every member
//! must still get every acknowledged message exactly once and in order.

use std::time::Duration;

use super::drive::chaos;
use super::{kill, long_variant, Scenario, Sending};
use crate::processes::Backend;
use crate::support::{create_pg_database, drop_pg_database, service_url, with_cleanup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn acknowledged_messages_of_many_concurrent_senders_survive_sigkills_exactly_once_in_order() {
    let (Some(admin), Some(redis)) = (
        service_url("TEST_DATABASE_URL"),
        service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = create_pg_database(&admin).await;
    let prefix = format!("chatsphere-chaos-scale-test:{name}:");
    let backend = Backend {
        database_url: Some(&database_url),
        redis: Some((&redis, &prefix)),
    };
    let long = long_variant();
    let faults = if long {
        (0..6)
            .map(|i| kill(3000 + 8000 * i, (i % 2) as usize, 700))
            .collect()
    } else {
        // Down long enough that the other process, under this load on a
        // busy machine, still acknowledges something meanwhile.
        vec![kill(2500, 0, 1500), kill(5500, 1, 1500)]
    };
    // Each member stays under the default per-user rate
    // (`CHATSPHERE_SEND_RATE`, 10 a second): 24 × 4 = 96 messages a second into one group, 2,304
    // deliveries a second (long: 30 × 4 = 120 a second, 3,600 deliveries,
    // for 50 s). Both can be changed to find where it breaks.
    let members = setting(MEMBERS_VAR, if long { 30 } else { 24 });
    let every = setting(EVERY_VAR, 250);
    let scenario = Scenario {
        label: "postgres + redis, two processes, many senders",
        backend,
        processes: 2,
        members: usize::try_from(members).unwrap(),
        send_every: Duration::from_millis(every),
        sending: Sending::Pipelined,
        sending_for: Duration::from_secs(if long { 50 } else { 8 }),
        faults: &faults,
    };
    with_cleanup(chaos(&scenario), drop_pg_database(&admin, &name)).await;
}

/// How many members send (default 24; 30 with the long variant).
const MEMBERS_VAR: &str = "CHATSPHERE_CHAOS_MEMBERS";
/// Milliseconds between two new messages of a member (default 250).
const EVERY_VAR: &str = "CHATSPHERE_CHAOS_SEND_EVERY_MS";

/// The number in the variable `name`, or `default`.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}"))
    })
}
