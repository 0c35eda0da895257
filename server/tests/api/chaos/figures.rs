//! The figures printed after a chaos run: when the processes were killed and
//! came back, how long everything took, how long a send waited for its ack,
//! and per client what it sent, received and which connections it had.

use std::time::Duration;

use super::record::ClientLog;
use super::Run;

/// Prints the figures of the whole run, then those of each client.
pub fn print(run: &Run) {
    let label = run.label;
    eprintln!("chaos ({label}): kills {}", {
        run.outages
            .iter()
            .map(|(p, k, r, d)| {
                format!(
                    "process {p} at {} ({} µs after a send to it; up again at {})",
                    secs(*k),
                    d.as_micros(),
                    secs(*r)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    eprintln!(
        "chaos ({label}): sending stopped at {}, all acknowledged at {}, all received at {}; {} stored; whole test {}",
        secs(run.stopped),
        secs(run.all_acked),
        secs(run.all_received),
        run.stored.len(),
        secs(run.started.elapsed()),
    );
    let mut latencies: Vec<Duration> = run
        .logs
        .iter()
        .flat_map(|l| l.acked().map(|(s, a)| a.at.saturating_sub(s.sent_at)))
        .collect();
    latencies.sort();
    if !latencies.is_empty() {
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_micros();
        eprintln!(
            "chaos ({label}): send → ack: median {} µs, 90% {} µs, max {} µs",
            at(0.5),
            at(0.9),
            at(1.0)
        );
    }
    for log in &run.logs {
        client(label, log);
    }
}

/// What one client sent and received, its duplicate acks and its connections.
fn client(label: &str, log: &ClientLog) {
    let replays: Vec<String> = log
        .connections
        .iter()
        .map(|c| format!("{}", c.replayed.map_or(-1, |r| r as i64)))
        .collect();
    eprintln!(
        "chaos ({label}): {}: sent {}, acked {} ({} duplicate acks, {} refused), re-sent {}, \
         received {} frames ({} replayed, {} duplicates, {} out of order), \
         {} connections ({} dropped, {} failed attempts), replayed per connection [{}]",
        log.name,
        log.sent.len(),
        log.acked().count(),
        log.duplicate_acks,
        log.sent.iter().filter(|s| s.refused.is_some()).count(),
        log.connections.iter().map(|c| c.resent).sum::<usize>(),
        log.received.len(),
        log.received.iter().filter(|r| r.replayed).count(),
        log.duplicate_frames.len(),
        log.out_of_order,
        log.connections.len(),
        log.connections
            .iter()
            .filter(|c| c.ended_by.is_some())
            .count(),
        log.failed_connects,
        replays.join(", "),
    );
    for (sent, ack) in log.acked().filter(|(_, a)| a.duplicate) {
        eprintln!(
            "    duplicate ack: {} is seq {}, acknowledged at {}",
            sent.client_msg_id,
            ack.seq,
            secs(ack.at)
        );
    }
    for c in &log.connections {
        eprintln!(
            "    {} {} .. {}: resumed from {}, {} messages, ended by {}",
            c.host,
            secs(c.opened),
            c.closed.map_or("-".into(), secs),
            c.resumed_from,
            c.messages,
            c.ended_by.as_deref().unwrap_or("the client"),
        );
    }
}

/// `at` in seconds, to the millisecond.
pub fn secs(at: Duration) -> String {
    format!("{:.3}s", at.as_secs_f64())
}
