//! The checks after a chaos run: no server process crashed; every message
//! was acknowledged in the end; every acknowledged message reached every
//! member exactly once (no frame twice, no gap), with the stored ids, in
//! each sender's order; the stored history is exactly that; and the chaos
//! was real ([`reality`](super::reality)).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::figures::secs;
use super::record::{view_of, ClientLog, Received};
use super::{reality, Run};

/// All the checks, in order; the first that fails panics.
pub fn all(run: &Run) {
    assert!(
        run.exited.is_empty(),
        "server processes exited by themselves (crashed?): {:?}",
        run.exited
    );
    acknowledged(&run.logs);
    let last_seq = store(&run.logs, &run.stored, run.max_acked);
    received_in_order(&run.logs);
    received_once(&run.logs, last_seq);
    received_as_acknowledged(&run.logs);
    received_is_stored(&run.logs, &run.stored);
    stored_in_sender_order(&run.logs, &run.stored);
    views_are_the_stored_messages(&run.logs, &run.stored, run.scenario.edits());
    reality::chaos_was_real(run);
}

/// Every client's final view of every message — its text, whether it was
/// deleted, its reactions, its latest change — is the stored one, edits,
/// reactions and deletions made during the chaos included.
fn views_are_the_stored_messages(logs: &[ClientLog], stored: &[Value], edits: bool) {
    let changed = stored
        .iter()
        .filter(|m| m["change"].as_i64().is_some())
        .count();
    assert_eq!(changed > 0, edits, "messages edited or deleted: {changed}");
    for log in logs {
        for message in stored {
            let id = message["id"].as_str().unwrap_or_default();
            let expected = view_of(message);
            assert_eq!(
                log.views.get(id),
                Some(&expected),
                "{}: message {id} (seq {}) is not as stored",
                log.name,
                message["seq"]
            );
        }
    }
}

/// Every message was acknowledged in the end, none refused, none twice
/// with different outcomes, no replay cut short.
fn acknowledged(logs: &[ClientLog]) {
    for log in logs {
        let refused: Vec<&Value> = log.sent.iter().filter_map(|s| s.refused.as_ref()).collect();
        assert!(
            refused.is_empty(),
            "{}: sends refused: {refused:?}",
            log.name
        );
        let unacked: Vec<String> = log
            .unacked()
            .map(|s| match s.errors.last() {
                Some((at, error)) => format!(
                    "{} (last error ack at {}: {error})",
                    s.client_msg_id,
                    secs(*at)
                ),
                None => s.client_msg_id.clone(),
            })
            .collect();
        assert!(
            unacked.is_empty(),
            "{}: never acknowledged: {unacked:?}",
            log.name
        );
        assert!(
            log.conflicting_acks.is_empty(),
            "{}: acknowledged twice differently: {:?}",
            log.name,
            log.conflicting_acks
        );
        assert!(
            log.truncated.is_empty(),
            "{}: replay truncated: {:?}",
            log.name,
            log.truncated
        );
    }
}

/// The store: seq 1..=N without gaps, each (sender, client id) once, and
/// exactly the acknowledged messages. Returns N.
fn store(logs: &[ClientLog], stored: &[Value], max_acked: i64) -> i64 {
    let stored_seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let last_seq = stored.len() as i64;
    assert_eq!(
        stored_seqs,
        (1..=last_seq).collect::<Vec<_>>(),
        "stored sequence numbers"
    );
    assert_eq!(
        max_acked, last_seq,
        "the last stored message is the last acknowledged one"
    );
    let mut stored_keys = HashSet::new();
    for message in stored {
        let key = (
            message["sender_id"].as_str().unwrap().to_owned(),
            message["client_msg_id"].as_str().unwrap().to_owned(),
        );
        assert!(stored_keys.insert(key), "stored twice: {message}");
    }
    let acked_total: usize = logs.iter().map(|l| l.acked().count()).sum();
    assert_eq!(
        acked_total,
        stored.len(),
        "every stored message was acknowledged"
    );
    last_seq
}

/// On each connection, messages arrived in sequence order (the protocol's
/// promise: a jump is filled before what follows it is sent).
fn received_in_order(logs: &[ClientLog]) {
    for log in logs {
        assert_eq!(
            log.out_of_order, 0,
            "{}: message frames with a lower seq than one received before on the same connection",
            log.name
        );
    }
}

/// Every member received every message exactly once.
fn received_once(logs: &[ClientLog], last_seq: i64) {
    for log in logs {
        assert!(
            log.duplicate_frames.is_empty(),
            "{}: received these seqs more than once: {:?}",
            log.name,
            log.duplicate_frames
        );
        let missing: Vec<i64> = (1..=last_seq).filter(|s| !log.seen.contains(s)).collect();
        assert!(
            missing.is_empty(),
            "{}: never received seqs {missing:?} (of 1..={last_seq}): {}{}",
            log.name,
            missing
                .iter()
                .map(|seq| describe(logs, *seq))
                .collect::<Vec<_>>()
                .join("; "),
            if log.gave_up { "; gave up waiting" } else { "" }
        );
        let beyond: Vec<i64> = log.seen.iter().copied().filter(|s| *s > last_seq).collect();
        assert!(
            beyond.is_empty(),
            "{}: received seqs beyond the last: {beyond:?}",
            log.name
        );
    }
}

/// Every acknowledged message reached every member with its id and seq.
fn received_as_acknowledged(logs: &[ClientLog]) {
    for log in logs {
        let by_seq: HashMap<i64, &Received> = log.received.iter().map(|r| (r.seq, r)).collect();
        for sender in logs {
            for (sent, ack) in sender.acked() {
                let got = by_seq.get(&ack.seq).unwrap_or_else(|| {
                    panic!(
                        "{}: never received {} (seq {})",
                        log.name, sent.client_msg_id, ack.seq
                    )
                });
                assert_eq!(
                    (
                        got.id.as_str(),
                        got.client_msg_id.as_str(),
                        got.sender_id.as_str()
                    ),
                    (
                        ack.message_id.as_str(),
                        sent.client_msg_id.as_str(),
                        sender.user_id.as_str()
                    ),
                    "{}: seq {} is not what {} was acknowledged",
                    log.name,
                    ack.seq,
                    sent.client_msg_id
                );
            }
        }
    }
}

/// What each member received, in seq order, is the stored history.
fn received_is_stored(logs: &[ClientLog], stored: &[Value]) {
    let stored_view: Vec<(i64, &str, &str)> = stored
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["id"].as_str().unwrap(),
                m["client_msg_id"].as_str().unwrap(),
            )
        })
        .collect();
    for log in logs {
        let mut received: Vec<&Received> = log.received.iter().collect();
        received.sort_by_key(|r| r.seq);
        let view: Vec<(i64, &str, &str)> = received
            .iter()
            .map(|r| (r.seq, r.id.as_str(), r.client_msg_id.as_str()))
            .collect();
        assert_eq!(view, stored_view, "{}: received ≠ stored history", log.name);
    }
}

/// Each sender's messages are stored in the order they were created.
fn stored_in_sender_order(logs: &[ClientLog], stored: &[Value]) {
    let mut per_sender: BTreeMap<&str, Vec<(i64, u64)>> = BTreeMap::new();
    for message in stored {
        per_sender
            .entry(message["sender_id"].as_str().unwrap())
            .or_default()
            .push((
                message["seq"].as_i64().unwrap(),
                number_of(message["client_msg_id"].as_str().unwrap()),
            ));
    }
    for (sender, messages) in &per_sender {
        for pair in messages.windows(2) {
            assert!(
                pair[0].1 < pair[1].1,
                "sender {sender}: message #{} (seq {}) stored before #{} (seq {})",
                pair[0].1,
                pair[0].0,
                pair[1].1,
                pair[1].0
            );
        }
    }
    for log in logs {
        let count = per_sender.get(log.user_id.as_str()).map_or(0, Vec::len);
        assert_eq!(count, log.acked().count(), "{}: stored messages", log.name);
    }
}

/// The number after the last `-` of a client message id.
fn number_of(client_msg_id: &str) -> u64 {
    client_msg_id
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected client_msg_id {client_msg_id}"))
}

/// Who sent the message with `seq` and how it was acknowledged.
fn describe(logs: &[ClientLog], seq: i64) -> String {
    logs.iter()
        .flat_map(|l| l.acked().map(move |(s, a)| (l, s, a)))
        .find(|(_, _, a)| a.seq == seq)
        .map_or(format!("seq {seq}: nobody's ack"), |(l, s, a)| {
            format!(
                "seq {seq} is {} of {}, acknowledged at {}{}",
                s.client_msg_id,
                l.name,
                secs(a.at),
                if a.duplicate {
                    " as a duplicate (stored by an earlier send)"
                } else {
                    ""
                }
            )
        })
}
