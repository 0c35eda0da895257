//! One connected client of a scenario: a reader that checks every
//! delivery (once each, in order per conversation, how late) and a writer
//! that follows the client's steps of the [`Plan`] whatever happens to the
//! answers (open loop). Latencies count from the time a message was due by
//! the timetable, not from when it was written: a server that holds up its
//! clients is charged for the wait (no coordinated omission).
//!
//! With [`Plan::reads`], the client behaves like the web app with the
//! conversation on screen (`app/src/components/live.rs`, `Live::read`): one
//! `read` frame for each message of someone else it receives, sent as soon
//! as the message arrives (frames that queue up meanwhile go out in one
//! write, each still its own frame). Nothing is coalesced beyond that.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::client::{close_kind, parse_message_id, Frame, Socket};
use crate::machine::{epoch, now_us};
use crate::plan::{Plan, Step};
use crate::stats::Tally;

/// Most `read` frames written in one go.
const READS_PER_WRITE: usize = 64;

/// What one client saw (latencies in µs from the time each was due).
#[derive(Default)]
pub struct Log {
    /// Latency of each distinct delivery.
    pub deliveries: Vec<u32>,
    /// Deliveries of a message already delivered to this client.
    pub duplicates: usize,
    /// Deliveries with a lower `seq` than one delivered before in the
    /// same conversation.
    pub out_of_order: usize,
    /// Messages not from this run's timetable.
    pub foreign: usize,
    /// When the last distinct delivery arrived (µs).
    pub last_delivery_us: u64,
    /// Latency of each acknowledged send of this client.
    pub acks: Vec<u32>,
    /// Acks saying `duplicate` (never expected: nothing is resent).
    pub duplicate_acks: usize,
    /// Refused sends, by status.
    pub refused: Tally,
    /// When the last ack arrived (µs).
    pub last_ack_us: u64,
    /// `receipt` frames received.
    pub receipts: usize,
    /// `typing` frames received saying someone started, and stopped.
    pub typing_seen: (usize, usize),
    /// `error` frames received.
    pub errors: usize,
    /// `message` or `ack` frames the generator could not read.
    pub unreadable: usize,
    /// How the server ended the connection, if it did.
    pub closed: Option<String>,
}

impl Log {
    /// Adds `other`'s counts and samples.
    pub fn merge(&mut self, other: Log) {
        self.deliveries.extend_from_slice(&other.deliveries);
        self.acks.extend_from_slice(&other.acks);
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.foreign += other.foreign;
        self.duplicate_acks += other.duplicate_acks;
        self.refused.merge(other.refused);
        self.receipts += other.receipts;
        self.typing_seen.0 += other.typing_seen.0;
        self.typing_seen.1 += other.typing_seen.1;
        self.errors += other.errors;
        self.unreadable += other.unreadable;
        self.last_delivery_us = self.last_delivery_us.max(other.last_delivery_us);
        self.last_ack_us = self.last_ack_us.max(other.last_ack_us);
    }
}

/// Runs one client until `done`: `me` is its sender index if it sends,
/// `steps` what it sends when. Its log.
pub async fn run(
    socket: Socket,
    me: Option<usize>,
    steps: Vec<Step>,
    plan: Arc<Plan>,
    done: CancellationToken,
) -> Log {
    let (sink, stream) = socket.split();
    let (reads, to_read) = mpsc::unbounded_channel();
    let writer = (!steps.is_empty() || plan.reads)
        .then(|| tokio::spawn(write(sink, steps, to_read, plan.clone(), done.clone())));
    let log = read(stream, me, &reads, &plan, &done).await;
    if let Some(writer) = writer {
        writer.abort();
    }
    log
}

/// A `read` to send: conversation and `seq`.
type Read = (usize, i64);

/// Writes this client's steps when they are due (all those overdue at
/// once, when writing was held up) and the reader's `read` frames as they
/// come; until `done` or the connection fails.
async fn write(
    mut sink: SplitSink<Socket, Message>,
    steps: Vec<Step>,
    mut reads: mpsc::UnboundedReceiver<Read>,
    plan: Arc<Plan>,
    done: CancellationToken,
) {
    let mut next = 0;
    let far = epoch() + Duration::from_secs(86_400 * 365);
    loop {
        let due = steps
            .get(next)
            .map_or(far, |s| epoch() + Duration::from_micros(s.at_us));
        tokio::select! {
            () = done.cancelled() => break,
            () = tokio::time::sleep_until(due.into()), if next < steps.len() => {
                let now = now_us();
                while let Some(step) = steps.get(next).filter(|s| s.at_us <= now) {
                    let route = plan.route(step.message).expect("a message of the plan");
                    let (frame, count) = if step.typing {
                        (plan.typing_frame(route.conversation), &plan.typing_sent)
                    } else {
                        (plan.send_frame(step.message, route), &plan.sent)
                    };
                    if sink.feed(Message::Text(frame.into())).await.is_err() {
                        return;
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    next += 1;
                }
            }
            first = reads.recv() => {
                let Some(mut read) = first else { break };
                for _ in 0..READS_PER_WRITE {
                    let frame = plan.read_frame(read.0, read.1);
                    if sink.feed(Message::Text(frame.into())).await.is_err() {
                        return;
                    }
                    plan.reads_sent.fetch_add(1, Ordering::Relaxed);
                    match reads.try_recv() {
                        Ok(more) => read = more,
                        Err(_) => break,
                    }
                }
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
}

/// Reads until `done` or the server ends the connection.
async fn read(
    mut stream: SplitStream<Socket>,
    me: Option<usize>,
    reads: &mpsc::UnboundedSender<Read>,
    plan: &Plan,
    done: &CancellationToken,
) -> Log {
    let mut log = Log::default();
    let mut seen = vec![0u64; plan.messages.div_ceil(64)];
    // The highest `seq` delivered so far, per conversation.
    let mut last_seq: HashMap<usize, i64> = HashMap::new();
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
                let Some((m, route)) =
                    parse_message_id(client_msg_id).and_then(|m| Some((m, plan.route(m)?)))
                else {
                    log.foreign += 1;
                    continue;
                };
                let last = last_seq.entry(route.conversation).or_insert(0);
                if seq < *last {
                    log.out_of_order += 1;
                }
                *last = (*last).max(seq);
                let (word, mask) = (m / 64, 1u64 << (m % 64));
                if seen[word] & mask != 0 {
                    log.duplicates += 1;
                    continue;
                }
                seen[word] |= mask;
                log.deliveries.push(latency(now, plan.due_us(m)));
                log.last_delivery_us = now;
                plan.delivered.fetch_add(1, Ordering::Relaxed);
                if plan.reads && Some(route.sender) != me {
                    let _ = reads.send((route.conversation, seq));
                }
            }
            Frame::Ack {
                client_msg_id,
                refused,
                duplicate,
            } => {
                let Some(m) = parse_message_id(client_msg_id)
                    .filter(|&m| plan.route(m).is_some_and(|r| Some(r.sender) == me))
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
                    log.acks.push(latency(now, plan.due_us(m)));
                    log.last_ack_us = now;
                    plan.acknowledged(m);
                }
            }
            Frame::Receipt => log.receipts += 1,
            Frame::Typing { active: true } => log.typing_seen.0 += 1,
            Frame::Typing { active: false } => log.typing_seen.1 += 1,
            Frame::Error => log.errors += 1,
            Frame::Unreadable => log.unreadable += 1,
            Frame::Ready { .. } | Frame::Other => {}
        }
    }
}

/// µs from `due` to `now` (an u32 holds 71 minutes).
pub fn latency(now: u64, due: u64) -> u32 {
    now.saturating_sub(due).min(u64::from(u32::MAX)) as u32
}
