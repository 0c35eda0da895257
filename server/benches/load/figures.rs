//! What all clients of a timetable scenario saw together: sends
//! acknowledged and refused, deliveries (how many a second, how late,
//! lost, duplicated, out of order), receipts and typing notices, and
//! connections the server closed.

use std::sync::atomic::Ordering;

use crate::cluster::Delta;
use crate::member::Log;
use crate::plan::Plan;
use crate::stats::{bytes, Percentiles, Tally};

/// The figures of one run.
pub struct Figures {
    /// Messages written.
    pub sent: usize,
    /// Sends acknowledged as stored.
    pub acked: usize,
    /// Due → ack.
    pub ack: Percentiles,
    /// Acks a second, over the sending time or until the last ack.
    pub acked_per_second: f64,
    /// Refused sends, by status.
    pub refused: Tally,
    /// Acks saying `duplicate`.
    pub duplicate_acks: usize,
    /// Distinct deliveries.
    pub delivered: usize,
    /// Deliveries owed (each acknowledged message to its audience).
    pub expected: usize,
    /// Due → delivery.
    pub delivery: Percentiles,
    /// Deliveries a second, over the sending time or until the last one.
    pub delivered_per_second: f64,
    /// Deliveries of a message already delivered to that client.
    pub duplicates: usize,
    /// Deliveries behind one delivered before in the same conversation.
    pub out_of_order: usize,
    /// `read` frames written.
    pub reads_sent: usize,
    /// `typing` frames written.
    pub typing_sent: usize,
    /// `receipt` frames received.
    pub receipts: usize,
    /// `typing` frames received: started, stopped.
    pub typing_seen: (usize, usize),
    /// `error` frames received.
    pub errors: usize,
    /// Frames not from this run.
    pub foreign: usize,
    /// `message` and `ack` frames the generator could not read.
    pub unreadable: usize,
    /// Connections the server ended, by how.
    pub closed: Tally,
    /// From the first message due to the end of the drain, seconds.
    pub seconds: f64,
}

impl Figures {
    /// From the clients' logs, at `end_us` (the end of the drain).
    pub fn of(logs: Vec<Log>, plan: &Plan, end_us: u64) -> Self {
        let mut all = Log::default();
        let mut closed = Tally::default();
        for mut log in logs {
            if let Some(kind) = log.closed.take() {
                closed.add(kind);
            }
            all.merge(log);
        }
        // Over the sending time, or until the last answer if that came later.
        let sending = plan.sending_seconds();
        let per_second = |n: usize, last: u64| {
            n as f64 / (last.saturating_sub(plan.start_us) as f64 / 1e6).max(sending)
        };
        Self {
            sent: plan.sent.load(Ordering::Relaxed),
            acked: plan.acked.load(Ordering::Relaxed),
            acked_per_second: per_second(all.acks.len(), all.last_ack_us),
            ack: Percentiles::of(&mut all.acks),
            refused: all.refused,
            duplicate_acks: all.duplicate_acks,
            delivered: all.deliveries.len(),
            expected: plan.expected.load(Ordering::Relaxed),
            delivered_per_second: per_second(all.deliveries.len(), all.last_delivery_us),
            delivery: Percentiles::of(&mut all.deliveries),
            duplicates: all.duplicates,
            out_of_order: all.out_of_order,
            reads_sent: plan.reads_sent.load(Ordering::Relaxed),
            typing_sent: plan.typing_sent.load(Ordering::Relaxed),
            receipts: all.receipts,
            typing_seen: all.typing_seen,
            errors: all.errors,
            foreign: all.foreign,
            unreadable: all.unreadable,
            closed,
            seconds: end_us.saturating_sub(plan.start_us) as f64 / 1e6,
        }
    }

    /// Deliveries owed and not made.
    pub fn lost(&self) -> usize {
        self.expected.saturating_sub(self.delivered)
    }

    /// Prints the figures; `planned` messages were on the timetable.
    pub fn print(&self, used: &Delta, planned: usize) {
        let unanswered = self
            .sent
            .saturating_sub(self.acked + self.refused.total() + self.duplicate_acks);
        println!(
            "  sent {} of {planned}; acknowledged {} ({:.0}/s); refused: {}; unanswered {unanswered}; \
             duplicate acks {}",
            self.sent, self.acked, self.acked_per_second, self.refused, self.duplicate_acks
        );
        println!("  due → ack      {}", self.ack);
        println!(
            "  delivered {} of {} expected ({:.0}/s); lost {}; duplicated {}; out of order {}",
            self.delivered,
            self.expected,
            self.delivered_per_second,
            self.lost(),
            self.duplicates,
            self.out_of_order
        );
        println!("  due → delivery {}", self.delivery);
        if self.reads_sent + self.typing_sent + self.receipts + self.typing_seen.0 > 0 {
            println!(
                "  sent {} read and {} typing frames; received {} receipt frames, {} typing \
                 started and {} stopped",
                self.reads_sent,
                self.typing_sent,
                self.receipts,
                self.typing_seen.0,
                self.typing_seen.1
            );
        }
        println!("  closed by the server: {}", self.closed);
        println!(
            "  server CPU {:.1} s over {:.1} s = {:.0} % of one core; RSS {} at the end",
            used.cpu,
            self.seconds,
            used.cpu_percent(self.seconds),
            bytes(used.rss_after)
        );
        if self.errors > 0 {
            println!("  error frames from the server: {}", self.errors);
        }
        if self.foreign + self.unreadable > 0 {
            println!(
                "  frames not from this run: {}; unreadable: {} (the frame format changed?)",
                self.foreign, self.unreadable
            );
        }
    }

    /// `lost …, duplicated …, refused …, closed …` for a summary line.
    pub fn trouble(&self) -> String {
        let mut parts = vec![format!("lost {}", self.lost())];
        if self.duplicates > 0 {
            parts.push(format!("duplicated {}", self.duplicates));
        }
        if self.out_of_order > 0 {
            parts.push(format!("out of order {}", self.out_of_order));
        }
        if self.refused.total() > 0 {
            parts.push(format!("refused {}", self.refused.total()));
        }
        parts.push(format!("closed {}", self.closed.total()));
        parts.join(", ")
    }
}
