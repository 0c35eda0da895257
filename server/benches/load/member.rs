//! One member of the room in the `fanout` and `hot` scenarios: a reader
//! that checks every delivery (once each, in order, how late) and, for a
//! sender, a writer that sends on a fixed timetable whatever happens to
//! the answers (open loop). Latencies count from the time a message was
//! due by the timetable, not from when it was written: a server that holds
//! up its clients is charged for the wait (no coordinated omission).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::client::{close_kind, parse_message_id, Frame, Socket};
use crate::machine::{epoch, now_us};
use crate::stats::Tally;

/// The timetable and the running totals every member shares.
pub struct Plan {
    /// When the first message is due (µs, the generator's clock).
    pub start_us: u64,
    /// Senders.
    pub senders: usize,
    /// Messages each sender sends.
    pub per_sender: usize,
    /// Time between two messages of one sender, µs.
    pub period_us: f64,
    /// The `send` frame up to its `client_msg_id`'s value.
    pub frame_head: String,
    /// The rest of the frame after the `client_msg_id`'s value.
    pub frame_tail: String,
    /// Messages written so far.
    pub sent: AtomicUsize,
    /// Sends acknowledged as stored.
    pub acked: AtomicUsize,
    /// Sends answered (stored or refused).
    pub answered: AtomicUsize,
    /// Distinct deliveries over all members.
    pub delivered: AtomicUsize,
}

impl Plan {
    /// When message `n` of `sender` is due: senders are spread evenly over
    /// one period, as independent people would be.
    pub fn due_us(&self, sender: usize, n: usize) -> u64 {
        let periods = n as f64 + sender as f64 / self.senders as f64;
        self.start_us + (periods * self.period_us) as u64
    }

    /// When the last message is due.
    pub fn end_us(&self) -> u64 {
        self.due_us(self.senders - 1, self.per_sender - 1)
    }
}

/// What one member saw (latencies in µs from the time each was due).
#[derive(Default)]
pub struct Log {
    /// Latency of each distinct delivery.
    pub deliveries: Vec<u32>,
    /// Deliveries of a message already delivered to this member.
    pub duplicates: usize,
    /// Deliveries with a lower `seq` than one delivered before.
    pub out_of_order: usize,
    /// Messages not from this run's timetable.
    pub foreign: usize,
    /// When the last distinct delivery arrived (µs).
    pub last_delivery_us: u64,
    /// Latency of each acknowledged send of this member.
    pub acks: Vec<u32>,
    /// Acks saying `duplicate` (never expected: nothing is resent).
    pub duplicate_acks: usize,
    /// Refused sends, by status.
    pub refused: Tally,
    /// When the last ack arrived (µs).
    pub last_ack_us: u64,
    /// `message` or `ack` frames the generator could not read.
    pub unreadable: usize,
    /// How the server ended the connection, if it did.
    pub closed: Option<String>,
}

/// Runs one member until `done`: its log (and its writer's count of sends).
pub async fn run(
    socket: Socket,
    sender: Option<usize>,
    plan: Arc<Plan>,
    done: CancellationToken,
) -> Log {
    let (sink, stream) = socket.split();
    let writer = sender.map(|s| tokio::spawn(write(sink, s, plan.clone(), done.clone())));
    let log = read(stream, sender, &plan, &done).await;
    if let Some(writer) = writer {
        writer.abort();
    }
    log
}

/// Sends this sender's messages when they are due (all those overdue at
/// once, when writing was held up).
async fn write(
    mut sink: SplitSink<Socket, Message>,
    sender: usize,
    plan: Arc<Plan>,
    done: CancellationToken,
) {
    let mut n = 0;
    while n < plan.per_sender {
        let due = epoch() + Duration::from_micros(plan.due_us(sender, n));
        tokio::select! {
            () = done.cancelled() => return,
            () = tokio::time::sleep_until(due.into()) => {}
        }
        let now = now_us();
        while n < plan.per_sender && plan.due_us(sender, n) <= now {
            let frame = format!("{}{sender}-{n}{}", plan.frame_head, plan.frame_tail);
            if sink.feed(Message::Text(frame.into())).await.is_err() {
                return;
            }
            plan.sent.fetch_add(1, Ordering::Relaxed);
            n += 1;
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

/// Reads until `done` or the server ends the connection.
async fn read(
    mut stream: SplitStream<Socket>,
    sender: Option<usize>,
    plan: &Plan,
    done: &CancellationToken,
) -> Log {
    let total = plan.senders * plan.per_sender;
    let mut log = Log {
        deliveries: Vec::with_capacity(total),
        acks: Vec::with_capacity(if sender.is_some() { plan.per_sender } else { 0 }),
        ..Log::default()
    };
    let mut seen = vec![0u64; total.div_ceil(64)];
    let mut last_seq = 0;
    loop {
        let message = tokio::select! {
            biased;
            () = done.cancelled() => return log,
            message = stream.next() => message,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                log.closed = Some(close_kind(message));
                return log;
            }
            Some(Ok(_)) => continue,
        };
        let now = now_us();
        match Frame::read(text.as_str()) {
            Frame::Message { client_msg_id, seq } => {
                if seq < last_seq {
                    log.out_of_order += 1;
                }
                last_seq = last_seq.max(seq);
                let Some((s, n)) = parse_message_id(client_msg_id)
                    .filter(|&(s, n)| s < plan.senders && n < plan.per_sender)
                else {
                    log.foreign += 1;
                    continue;
                };
                let bit = s * plan.per_sender + n;
                let (word, mask) = (bit / 64, 1u64 << (bit % 64));
                if seen[word] & mask != 0 {
                    log.duplicates += 1;
                    continue;
                }
                seen[word] |= mask;
                log.deliveries.push(latency(now, plan.due_us(s, n)));
                log.last_delivery_us = now;
                plan.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Frame::Ack {
                client_msg_id,
                refused,
                duplicate,
            } => {
                let Some((s, n)) =
                    parse_message_id(client_msg_id).filter(|&(s, _)| Some(s) == sender)
                else {
                    log.foreign += 1;
                    continue;
                };
                plan.answered.fetch_add(1, Ordering::Relaxed);
                if let Some(status) = refused {
                    log.refused.add(format!("refused {status}"));
                } else if duplicate {
                    log.duplicate_acks += 1;
                } else {
                    log.acks.push(latency(now, plan.due_us(s, n)));
                    log.last_ack_us = now;
                    plan.acked.fetch_add(1, Ordering::Relaxed);
                }
            }
            Frame::Unreadable => log.unreadable += 1,
            Frame::Ready { .. } | Frame::Other => {}
        }
    }
}

/// µs from `due` to `now` (an u32 holds 71 minutes).
fn latency(now: u64, due: u64) -> u32 {
    now.saturating_sub(due).min(u64::from(u32::MAX)) as u32
}
