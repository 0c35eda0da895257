//! How a simulated member sends: the frames it writes, and which of its
//! messages goes out when — every new one at once ([`Sending::Pipelined`])
//! or one at a time in creation order ([`Sending::OneAtATime`]), with the
//! messages an error ack said to retry sent again after [`RETRY_PAUSE`].

use std::sync::atomic::Ordering;

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::client::{Shared, Socket, ANY_PROCESS};
use super::record::{ClientLog, Sent};
use super::RETRY_PAUSE;

/// When a member's messages go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    /// Each new message is sent when it is created, without waiting for
    /// the acks of the ones before (after a reconnect, every unacknowledged
    /// one is sent again at once, in order). A message an error ack said to
    /// retry is sent again after a pause, so it may then be stored after a
    /// later one: use this only where no error ack is expected.
    Pipelined,
    /// The oldest unacknowledged message is sent, and the next only once it
    /// is acknowledged: a message an error ack said to retry is retried
    /// before any later one is sent, so each sender's order holds through
    /// outages of the database or of Redis (what a client with an outbox
    /// does).
    OneAtATime,
}

/// Writes a JSON frame; `false` when the connection is gone.
pub async fn send_frame(socket: &mut Socket, frame: &Value) -> bool {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
}

/// The `send` frame of `sent`.
pub fn send_frame_for(conversation: &str, sent: &Sent, name: &str) -> Value {
    json!({
        "type": "send",
        "conversation_id": conversation,
        "client_msg_id": sent.client_msg_id,
        "body": format!("{name} says {}", sent.client_msg_id),
    })
}

/// Creates the member's next message (its client id is `<name>-<number>`);
/// returns its index in `log.sent`. It is not sent yet.
pub fn create(shared: &Shared, log: &mut ClientLog) -> usize {
    let number = log.sent.len();
    let client_msg_id = format!("{}-{number}", log.name);
    log.by_client_id.insert(client_msg_id.clone(), number);
    log.sent.push(Sent {
        client_msg_id,
        sent_at: shared.now(),
        ack: None,
        refused: None,
        errors: Vec::new(),
        retry_at: None,
        waiting: false,
        sends: 0,
    });
    number
}

/// Sends message `number` on the connection to `process`; `false` when the
/// connection is gone. Tells the test when that process (or any, for a
/// fault of Redis or PostgreSQL) is the one about to be stopped.
pub async fn send(
    shared: &Shared,
    log: &mut ClientLog,
    socket: &mut Socket,
    process: usize,
    number: usize,
) -> bool {
    let frame = send_frame_for(&shared.conversation, &log.sent[number], &log.name);
    let sent = &mut log.sent[number];
    sent.sent_at = shared.now();
    sent.retry_at = None;
    sent.waiting = true;
    sent.sends += 1;
    if !send_frame(socket, &frame).await {
        return false;
    }
    let armed = shared.kill_armed.load(Ordering::SeqCst);
    if armed == process + 1 || armed == ANY_PROCESS {
        shared.sent_there.notify_one();
    }
    true
}

/// Sends what is due: in [`Sending::Pipelined`], every message whose retry
/// pause is over; in [`Sending::OneAtATime`], the oldest unacknowledged
/// message when none is waiting for its ack and its retry pause (if any)
/// is over. `false` when the connection is gone.
pub async fn pump(
    shared: &Shared,
    log: &mut ClientLog,
    socket: &mut Socket,
    process: usize,
) -> bool {
    let now = shared.now();
    let due: Vec<usize> = match shared.sending {
        Sending::Pipelined => log
            .open()
            .filter(|&n| log.sent[n].retry_at.is_some_and(|at| at <= now))
            .collect(),
        Sending::OneAtATime => {
            let head = log.open().next();
            match head {
                Some(n)
                    if !log.sent[n].waiting && log.sent[n].retry_at.is_none_or(|at| at <= now) =>
                {
                    vec![n]
                }
                _ => Vec::new(),
            }
        }
    };
    for number in due {
        if !send(shared, log, socket, process, number).await {
            return false;
        }
    }
    true
}

/// Records an error ack of message `number`: one that says to retry (429,
/// or 5xx: the server could not store it now) leaves it unacknowledged, to
/// be sent again after [`RETRY_PAUSE`]; any other refuses it for good.
pub fn take_error(shared: &Shared, log: &mut ClientLog, number: usize, frame: &Value) {
    let sent = &mut log.sent[number];
    sent.waiting = false;
    let status = frame["error"]["status"].as_u64().unwrap_or_default();
    if status == 429 || (500..600).contains(&status) {
        sent.errors.push((shared.now(), frame.clone()));
        sent.retry_at = Some(shared.now() + RETRY_PAUSE);
    } else {
        sent.refused = Some(frame.clone());
    }
}
