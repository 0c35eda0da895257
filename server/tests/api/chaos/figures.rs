//! The figures printed after a chaos run: when the processes were killed and
//! came back, how long everything took, how long a send waited for its ack,
//! and per client what it sent, received and which connections it had.

use std::collections::BTreeMap;
use std::time::Duration;

use super::record::ClientLog;
use super::{Run, Target};

/// Prints the figures of the whole run, then those of each client (all of
/// them for a few members, the first three and totals for many).
pub fn print(run: &Run) {
    let label = run.scenario.label;
    eprintln!(
        "chaos ({label}): {} members on {} processes, a new message every {} ms each ({:?}) for {}",
        run.scenario.members,
        run.scenario.processes,
        run.scenario.send_every.as_millis(),
        run.scenario.sending,
        secs(run.scenario.sending_for),
    );
    eprintln!("chaos ({label}): faults {}", {
        run.outages
            .iter()
            .map(|o| match o.target {
                Target::CommitAnswer => format!(
                    "{} lost at {} (the connection cut at {})",
                    o.target,
                    secs(o.stopped),
                    secs(o.restarted)
                ),
                _ => format!(
                    "{} at {} ({} µs after a send to it; up again at {})",
                    o.target,
                    secs(o.stopped),
                    o.delay.as_micros(),
                    secs(o.restarted)
                ),
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
            "chaos ({label}): send → ack: median {} µs, 90% {} µs, 99% {} µs, max {} µs",
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0)
        );
    }
    timeline(label, run);
    errors(label, &run.logs);
    let shown = if run.logs.len() <= 3 {
        run.logs.len()
    } else {
        3
    };
    for log in &run.logs[..shown] {
        client(label, log);
    }
    if shown < run.logs.len() {
        totals(label, &run.logs[shown..]);
    }
}

/// Acks (and error acks) per second of the run, to see an outage and the
/// catching up after it.
fn timeline(label: &str, run: &Run) {
    let seconds = run.all_received.as_secs() as usize + 1;
    let mut acks = vec![0usize; seconds];
    let mut errors = vec![0usize; seconds];
    for sent in run.logs.iter().flat_map(|l| &l.sent) {
        if let Some(ack) = &sent.ack {
            acks[(ack.at.as_secs() as usize).min(seconds - 1)] += 1;
        }
        for (at, _) in &sent.errors {
            errors[(at.as_secs() as usize).min(seconds - 1)] += 1;
        }
    }
    let line = |counts: &[usize]| {
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!("chaos ({label}): acks per second: {}", line(&acks));
    if errors.iter().any(|e| *e > 0) {
        eprintln!("chaos ({label}): error acks per second: {}", line(&errors));
    }
}

/// The error acks that said to retry, by status and detail; how many
/// messages were stored though an error ack said they were not; and error
/// acks of re-sent acknowledged messages.
fn errors(label: &str, logs: &[ClientLog]) {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (_, error) in logs
        .iter()
        .flat_map(|l| l.sent.iter().flat_map(|s| &s.errors))
    {
        let key = format!("{} {}", error["error"]["status"], error["error"]["detail"]);
        *kinds.entry(key).or_insert(0) += 1;
    }
    let retried = logs
        .iter()
        .flat_map(|l| &l.sent)
        .filter(|s| !s.errors.is_empty())
        .count();
    let despite = logs
        .iter()
        .flat_map(|l| &l.sent)
        .filter(|s| s.stored_despite_error())
        .count();
    let found = logs
        .iter()
        .flat_map(|l| &l.sent)
        .filter(|s| s.found_stored_by_the_server())
        .count();
    let after_ack: usize = logs.iter().map(|l| l.errors_after_ack).sum();
    eprintln!(
        "chaos ({label}): error acks saying to retry: {} on {retried} messages, \
         {despite} of them stored all the same (acknowledged as duplicates when sent again); \
         {found} acknowledged as duplicates at their only send; \
         {after_ack} error acks of acknowledged messages sent again",
        kinds.values().sum::<usize>()
    );
    for (kind, count) in kinds {
        eprintln!("    {count:>5} × {kind}");
    }
}

/// Sums over `logs`: sent, acked, received, connections.
fn totals(label: &str, logs: &[ClientLog]) {
    let sum = |f: &dyn Fn(&ClientLog) -> usize| logs.iter().map(f).sum::<usize>();
    eprintln!(
        "chaos ({label}): the other {} members: sent {}, acked {} ({} duplicate acks), \
         received {} frames ({} replayed, {} duplicates, {} out of order), \
         {} connections ({} dropped, {} failed attempts)",
        logs.len(),
        sum(&|l| l.sent.len()),
        sum(&|l| l.acked().count()),
        sum(&|l| l.duplicate_acks),
        sum(&|l| l.received.len()),
        sum(&|l| l.received.iter().filter(|r| r.replayed).count()),
        sum(&|l| l.duplicate_frames.len()),
        sum(&|l| l.out_of_order),
        sum(&|l| l.connections.len()),
        sum(&|l| l
            .connections
            .iter()
            .filter(|c| c.ended_by.is_some())
            .count()),
        sum(&|l| l.failed_connects),
    );
    eprintln!(
        "chaos ({label}): edits and deletions: {} sent, {} refused, {} `changed` frames \
         received ({} of a change already held: a replay raced the live copy)",
        sum(&|l| l.changes_sent),
        sum(&|l| l.changes_refused.len()),
        sum(&|l| l.changes_received),
        sum(&|l| l.changes_repeated),
    );
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
