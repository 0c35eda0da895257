//! What a simulated client records: every message it created and how it
//! was acknowledged, every message frame it received, every connection it
//! had; and [`take_frame`], which reads a frame from the server into that.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use super::client::Shared;
use super::sending::take_error;

/// The acknowledgement of a message.
#[derive(Debug, Clone)]
pub struct Ack {
    pub message_id: String,
    pub seq: i64,
    pub at: Duration,
    /// `"duplicate": true`: stored before, by an earlier send.
    pub duplicate: bool,
}

/// A message a client created.
#[derive(Debug)]
pub struct Sent {
    pub client_msg_id: String,
    /// When it was last sent.
    pub sent_at: Duration,
    pub ack: Option<Ack>,
    /// Refused with an error ack that does not say to retry (then never
    /// sent again).
    pub refused: Option<Value>,
    /// Error acks that said to retry (429, 5xx), oldest first, each with
    /// when it arrived.
    pub errors: Vec<(Duration, Value)>,
    /// When to send it again after such an error ack.
    pub retry_at: Option<Duration>,
    /// Sent on the current connection, its ack not in yet.
    pub waiting: bool,
    /// How many times it was sent.
    pub sends: u32,
}

impl Sent {
    /// Stored though an error ack said it was not: acknowledged as a
    /// duplicate after an error ack (its commit went through, the answer
    /// was lost).
    pub fn stored_despite_error(&self) -> bool {
        !self.errors.is_empty() && self.ack.as_ref().is_some_and(|a| a.duplicate)
    }

    /// Acknowledged as a duplicate though sent only once: the server tried
    /// to store it again itself (a batch whose commit answer was lost,
    /// stored again one by one) and found it stored.
    pub fn found_stored_by_the_server(&self) -> bool {
        self.sends == 1 && self.ack.as_ref().is_some_and(|a| a.duplicate)
    }
}

/// A `message` frame of the group, as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub seq: i64,
    pub id: String,
    pub client_msg_id: String,
    pub sender_id: String,
    /// Arrived before `resumed`: a replay.
    pub replayed: bool,
}

/// One connection, for the figures and for diagnosing a failure.
#[derive(Debug)]
pub struct Connection {
    pub host: String,
    pub opened: Duration,
    pub closed: Option<Duration>,
    /// The position sent in `resume`.
    pub resumed_from: i64,
    /// `replayed` of the `resumed` frame.
    pub replayed: Option<u64>,
    /// Unacknowledged messages sent again.
    pub resent: usize,
    /// Whether the latest acknowledged message was sent again (as by a
    /// client that never saw its ack).
    pub resent_acknowledged: bool,
    /// The highest sequence number received on this connection.
    pub highest: i64,
    /// Message frames of the group taken on it.
    pub messages: usize,
    /// How it ended, if not by the client.
    pub ended_by: Option<String>,
}

/// Everything one client did and saw.
pub struct ClientLog {
    pub name: String,
    /// Which slice of the send period this client sends in (its index among
    /// the members).
    pub phase: u32,
    pub user_id: String,
    pub sent: Vec<Sent>,
    pub by_client_id: HashMap<String, usize>,
    pub received: Vec<Received>,
    pub seen: HashSet<i64>,
    /// Message frames of a sequence number already received.
    pub duplicate_frames: Vec<i64>,
    /// Message frames with a lower sequence number than one received
    /// before on the same connection (the protocol promises none).
    pub out_of_order: usize,
    pub highest: i64,
    pub connections: Vec<Connection>,
    pub failed_connects: usize,
    pub duplicate_acks: usize,
    /// Acks of a message acknowledged before with another id or seq.
    pub conflicting_acks: Vec<String>,
    /// Error acks of an acknowledged message sent again after a reconnect
    /// (it keeps its first ack).
    pub errors_after_ack: usize,
    /// Conversations a `resumed` frame said were cut short.
    pub truncated: Vec<Value>,
    /// Each message as this client last knew it (from its `message` frame
    /// and the `changed` frames after it): id → its state.
    pub views: HashMap<String, View>,
    /// The highest change number of a `changed` frame received.
    pub highest_change: i64,
    /// `changed` frames taken, and those whose change this client had.
    pub changes_received: usize,
    pub changes_repeated: usize,
    /// Edits, reactions and deletions of its own messages to send.
    pub to_change: Vec<(String, Change)>,
    /// Edits and deletions sent, and refused (with the reason).
    pub changes_sent: usize,
    pub changes_refused: Vec<Value>,
    settled: bool,
    pub gave_up: bool,
}

/// A message as a client knows it: its latest change, text, whether it
/// was deleted, and its reactions (as JSON text).
pub type View = (i64, String, bool, String);

/// What a member does to one of its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Edit,
    React,
    Delete,
}

/// The comparable state of a message frame or a stored message.
pub fn view_of(message: &Value) -> View {
    (
        message["change"].as_i64().unwrap_or(0),
        message["body"].as_str().unwrap_or_default().to_owned(),
        !message["deleted_at"].is_null(),
        message
            .get("reactions")
            .map(Value::to_string)
            .unwrap_or_default(),
    )
}

impl ClientLog {
    /// A client that has sent and received nothing yet.
    pub fn new(name: String, phase: u32, user_id: String) -> Self {
        Self {
            name,
            phase,
            user_id,
            sent: Vec::new(),
            by_client_id: HashMap::new(),
            received: Vec::new(),
            seen: HashSet::new(),
            duplicate_frames: Vec::new(),
            out_of_order: 0,
            highest: 0,
            connections: Vec::new(),
            failed_connects: 0,
            duplicate_acks: 0,
            conflicting_acks: Vec::new(),
            errors_after_ack: 0,
            truncated: Vec::new(),
            views: HashMap::new(),
            highest_change: 0,
            changes_received: 0,
            changes_repeated: 0,
            to_change: Vec::new(),
            changes_sent: 0,
            changes_refused: Vec::new(),
            settled: false,
            gave_up: false,
        }
    }

    pub fn unacked(&self) -> impl Iterator<Item = &Sent> {
        self.sent
            .iter()
            .filter(|s| s.ack.is_none() && s.refused.is_none())
    }

    /// The indices of the unacknowledged messages, oldest first.
    pub fn open(&self) -> impl Iterator<Item = usize> + '_ {
        self.sent
            .iter()
            .enumerate()
            .filter(|(_, s)| s.ack.is_none() && s.refused.is_none())
            .map(|(n, _)| n)
    }

    pub fn all_acked(&self) -> bool {
        self.unacked().next().is_none()
    }

    /// Everything acknowledged, everything up to the final seq received,
    /// and every change up to the final change.
    pub fn done(&self, shared: &Shared) -> bool {
        let last = shared.final_seq.load(Ordering::SeqCst);
        last > 0
            && self.all_acked()
            && (1..=last).all(|seq| self.seen.contains(&seq))
            && self.highest_change >= shared.final_change.load(Ordering::SeqCst)
    }

    /// Takes a message's state if it is newer than what this client knew.
    fn view(&mut self, message: &Value) {
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        let state = view_of(message);
        let change = state.0;
        match self.views.get(&id) {
            Some((known, ..)) if *known >= change => {}
            _ => {
                self.views.insert(id, state);
            }
        }
    }

    /// Tells the test once everything is acknowledged after the chaos.
    pub fn check_settled(&mut self, shared: &Shared) {
        if !self.settled && shared.stop_sending.load(Ordering::SeqCst) && self.all_acked() {
            self.settled = true;
            shared.settled.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn acked(&self) -> impl Iterator<Item = (&Sent, &Ack)> {
        self.sent
            .iter()
            .filter_map(|s| s.ack.as_ref().map(|a| (s, a)))
    }
}

/// Records an ack, a message or the end of a replay.
pub fn take_frame(
    shared: &Shared,
    log: &mut ClientLog,
    index: usize,
    resumed: &mut bool,
    frame: &Value,
) {
    match frame["type"].as_str() {
        Some("ack") => {
            let client_msg_id = frame["client_msg_id"].as_str().unwrap_or_default();
            let Some(&number) = log.by_client_id.get(client_msg_id) else {
                panic!("{}: an ack of a message never sent: {frame}", log.name);
            };
            if !frame["error"].is_null() {
                if log.sent[number].ack.is_some() {
                    log.errors_after_ack += 1;
                } else {
                    take_error(shared, log, number, frame);
                }
                return;
            }
            let sent = &mut log.sent[number];
            sent.waiting = false;
            let ack = Ack {
                message_id: frame["message_id"].as_str().unwrap_or_default().to_owned(),
                seq: frame["seq"].as_i64().unwrap_or_default(),
                at: shared.now(),
                duplicate: frame["duplicate"] == true,
            };
            if ack.duplicate {
                log.duplicate_acks += 1;
            }
            match &sent.ack {
                Some(first) if first.message_id != ack.message_id || first.seq != ack.seq => {
                    log.conflicting_acks.push(format!(
                        "{client_msg_id}: first {} (seq {}), then {frame}",
                        first.message_id, first.seq
                    ));
                }
                Some(_) => {}
                None => {
                    shared.max_acked.fetch_max(ack.seq, Ordering::SeqCst);
                    // Some of its own messages it then edits, some it
                    // deletes (some both), while the chaos goes on.
                    if shared.edits && !shared.stop_sending.load(Ordering::SeqCst) {
                        let id = &ack.message_id;
                        if number % 4 == 3 {
                            log.to_change.push((id.clone(), Change::Edit));
                        }
                        if number % 5 == 4 {
                            log.to_change.push((id.clone(), Change::React));
                        }
                        if number % 6 == 5 {
                            log.to_change.push((id.clone(), Change::Delete));
                        }
                    }
                    sent.ack = Some(ack);
                }
            }
            log.check_settled(shared);
        }
        Some("message") => {
            let message = &frame["message"];
            if message["conversation_id"] != shared.conversation.as_str() {
                return;
            }
            let received = Received {
                seq: message["seq"].as_i64().expect("a message has a seq"),
                id: message["id"].as_str().unwrap_or_default().to_owned(),
                client_msg_id: message["client_msg_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                sender_id: message["sender_id"].as_str().unwrap_or_default().to_owned(),
                replayed: !*resumed,
            };
            let connection = &mut log.connections[index];
            if received.seq < connection.highest {
                log.out_of_order += 1;
            }
            connection.highest = connection.highest.max(received.seq);
            if !log.seen.insert(received.seq) {
                log.duplicate_frames.push(received.seq);
            }
            log.highest = log.highest.max(received.seq);
            log.connections[index].messages += 1;
            log.received.push(received);
            log.view(message);
        }
        Some("changed") => {
            let message = &frame["message"];
            if message["conversation_id"] != shared.conversation.as_str() {
                return;
            }
            let change = message["change"].as_i64().expect("a change has a number");
            log.changes_received += 1;
            let known = log
                .views
                .get(message["id"].as_str().unwrap_or_default())
                .map_or(0, |v| v.0);
            if known >= change {
                log.changes_repeated += 1;
            }
            log.highest_change = log.highest_change.max(change);
            log.view(message);
        }
        Some("change_ack") if !frame["error"].is_null() => {
            log.changes_refused.push(frame.clone());
        }
        Some("resumed") => {
            *resumed = true;
            log.connections[index].replayed = frame["replayed"].as_u64();
            if frame["truncated"].as_array().is_some_and(|t| !t.is_empty()) {
                log.truncated.push(frame.clone());
            }
        }
        _ => {} // receipts, typing, presence, joined, pong, …
    }
}
