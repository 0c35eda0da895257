//! Whether the chaos was real, and what the clients were told during it:
//! each fault was felt (connections dropped at a kill; sends answered with
//! an error, or held up, or connections dropped while Redis or PostgreSQL
//! was down), messages were acknowledged just before it and after it, every
//! error ack told the client to retry, and the re-send path was taken.

use std::time::Duration;

use super::{Outage, Run, Target};

/// How long after a lost commit answer its outcome may take to reach the
/// client.
const SETTLING: Duration = Duration::from_secs(2);

/// Statuses of an error ack that tell the client to send the message again
/// later with the same `client_msg_id` (docs/protocol.md).
const RETRY_STATUSES: [u64; 2] = [429, 503];

/// All of it; the first that fails panics.
pub fn chaos_was_real(run: &Run) {
    errors_say_retry(run);
    resend_path_taken(run);
    for (n, outage) in run.outages.iter().enumerate() {
        // Until the next fault; after the last, until everything was
        // acknowledged (on a slow machine, the catching up can run past
        // the end of sending).
        let next = run.outages.get(n + 1).map_or(run.all_acked, |o| o.stopped);
        fault_was_felt(run, n + 1, outage, next);
    }
}

/// Every error ack said to retry: the message was not refused for good,
/// it could not be stored at that moment.
fn errors_say_retry(run: &Run) {
    for log in &run.logs {
        for sent in &log.sent {
            for (_, error) in &sent.errors {
                let status = error["error"]["status"].as_u64().unwrap_or_default();
                assert!(
                    RETRY_STATUSES.contains(&status),
                    "{}: {} was answered with an error ack that does not tell the client to \
                     retry: {error}",
                    log.name,
                    sent.client_msg_id
                );
            }
        }
    }
}

/// After a process kill, acknowledged messages sent again after a reconnect
/// were acknowledged as duplicates (each with its original id and seq:
/// `acknowledged` checks there was no conflicting ack).
fn resend_path_taken(run: &Run) {
    let label = run.scenario.label;
    let connections = || run.logs.iter().flat_map(|l| l.connections.iter());
    let resent = connections().filter(|c| c.resent_acknowledged).count();
    let duplicate_acks: usize = run.logs.iter().map(|l| l.duplicate_acks).sum();
    eprintln!(
        "chaos ({label}): acknowledged messages re-sent {resent}, duplicate acks {duplicate_acks}"
    );
    let killed = run
        .outages
        .iter()
        .any(|o| matches!(o.target, Target::Process(_)));
    if killed {
        assert!(
            resent > 0,
            "no acknowledged message was sent again after a reconnect"
        );
        assert!(
            duplicate_acks > 0,
            "no re-sent message was acknowledged as a duplicate"
        );
    }
}

/// Fault `n` was felt, and messages were acknowledged just before it and
/// after the restart (and, with another process alive, while a killed one
/// was down).
fn fault_was_felt(run: &Run, n: usize, outage: &Outage, next: Duration) {
    let label = run.scenario.label;
    let logs = &run.logs;
    let Outage {
        target,
        stopped,
        restarted,
        ..
    } = *outage;
    let dropped = logs
        .iter()
        .flat_map(|l| l.connections.iter())
        .filter(|c| c.ended_by.is_some())
        .filter_map(|c| c.closed)
        .filter(|at| *at >= stopped && *at < stopped + Duration::from_secs(2))
        .count();
    let acks: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.acked().map(|(_, a)| a.at))
        .collect();
    let acked_between =
        |from: Duration, to: Duration| acks.iter().filter(|at| **at > from && **at < to).count();
    let before = acked_between(stopped.saturating_sub(Duration::from_secs(1)), stopped);
    let during = acked_between(stopped, restarted);
    let after = acked_between(restarted, next);
    let sent = || logs.iter().flat_map(|l| l.sent.iter());
    // Error acks from the stop until a while after the restart (a process
    // may take that long to reconnect).
    let errors = sent()
        .flat_map(|s| s.errors.iter())
        .filter(|(at, _)| *at >= stopped && *at < next.min(restarted + Duration::from_secs(5)))
        .count();
    // Messages last sent before it was back and acknowledged only after:
    // held up by the outage (those in flight when it stopped included —
    // senders that wait for each ack may all have been waiting then, and
    // sent nothing more while it was down).
    let held = sent()
        .filter(|s| s.sent_at < restarted)
        .filter(|s| s.ack.as_ref().is_some_and(|a| a.at > restarted))
        .count();
    eprintln!(
        "chaos ({label}): fault {n}, {target} out for {:.1} s: {dropped} connections dropped, \
         {errors} error acks, {held} sends held up; acks in the second before {before}, \
         while down {during}, after the restart {after}",
        (restarted - stopped).as_secs_f64()
    );
    assert!(
        before > 0,
        "fault {n}: no message acknowledged just before it"
    );
    assert!(
        after > 0,
        "fault {n}: no message acknowledged after the restart"
    );
    match target {
        Target::Process(_) => {
            assert!(dropped > 0, "fault {n}: no connection dropped");
            if run.scenario.processes > 1 {
                assert!(
                    during > 0,
                    "fault {n}: nothing acknowledged by the other process"
                );
            }
        }
        Target::CommitAnswer => {
            // The send whose commit went through unanswered was told to
            // retry, and its retry found it stored; or, committed in a
            // batch, the server stored the batch again one by one and found
            // it (acknowledged as a duplicate at its only send).
            let window = |at: Duration| at >= stopped && at < next.min(restarted + SETTLING);
            let despite = sent()
                .filter(|s| s.stored_despite_error())
                .filter(|s| s.errors.first().is_some_and(|(at, _)| window(*at)))
                .count();
            let found = sent()
                .filter(|s| s.found_stored_by_the_server())
                .filter(|s| s.ack.as_ref().is_some_and(|a| window(a.at)))
                .count();
            eprintln!(
                "chaos ({label}): fault {n}: {despite} messages stored though their send was \
                 answered with an error (acknowledged as duplicates when sent again), {found} \
                 found stored by the server itself (a duplicate ack at their only send)"
            );
            assert!(
                despite + found > 0,
                "fault {n}: the answer to a COMMIT was lost, yet no message was acknowledged \
                 as a duplicate, after an error ack or at its only send"
            );
        }
        Target::Redis | Target::Postgres => assert!(
            dropped + errors + held > 0,
            "fault {n}: {target} was down and no client noticed (no connection dropped, \
             no error ack, no send held up)"
        ),
    }
}
