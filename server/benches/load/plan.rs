//! The timetable a scenario's senders follow, and the running totals all
//! its clients share. Message `m` (its `client_msg_id` is `m`) is due at
//! `start + m / rate`: evenly spaced over the run whoever sends it, so the
//! offered rate is exact and latency can count from the time a message was
//! due (no coordinated omission). A [`Routing`] says which conversation
//! each message goes to and which sender sends it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::machine::now_us;

/// Time between the last connect and the first message due.
const LEAD_TIME: Duration = Duration::from_secs(1);

/// Who sends message `m`, and where.
pub enum Routing {
    /// One conversation; senders take turns (`m mod senders`), so each
    /// sends at `rate / senders`, spread evenly over one period.
    OneRoom {
        /// Senders.
        senders: usize,
    },
    /// Many conversations: message `m` goes to group `m mod groups` (each
    /// group gets one before any gets another), sent by the group's members
    /// in turn.
    Groups {
        /// The senders in each group (indexes of the scenario's users).
        members: Vec<Vec<u32>>,
    },
}

/// Where a message goes and who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Index into [`Plan::conversations`].
    pub conversation: usize,
    /// The sender's index.
    pub sender: usize,
}

/// Something a sender does at a given time.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// When (µs, the generator's clock).
    pub at_us: u64,
    /// A `typing` notice in the message's conversation, or the message.
    pub typing: bool,
    /// The message.
    pub message: usize,
}

/// What a scenario plans: its conversations, its timetable, the clients'
/// habits, and the totals they keep.
pub struct Plan {
    /// When message 0 is due (µs, the generator's clock).
    pub start_us: u64,
    /// Time between two messages, µs.
    pub interval_us: f64,
    /// Messages over the run.
    pub messages: usize,
    /// Who sends each message, where.
    pub routing: Routing,
    /// The conversations' ids.
    pub conversations: Vec<String>,
    /// Connected clients that receive each conversation's messages.
    pub audience: Vec<usize>,
    /// Percent of messages whose sender sends a `typing` notice
    /// [`TYPING_LEAD`] before the message.
    pub typing_percent: u32,
    /// Whether receivers send a `read` for each message of someone else.
    pub reads: bool,
    /// The message body (JSON-safe ASCII).
    pub body: String,
    /// Messages written so far.
    pub sent: AtomicUsize,
    /// Sends acknowledged as stored.
    pub acked: AtomicUsize,
    /// Sends answered (stored or refused).
    pub answered: AtomicUsize,
    /// Distinct deliveries over all clients.
    pub delivered: AtomicUsize,
    /// Deliveries owed: for each acknowledged message, its audience.
    pub expected: AtomicUsize,
    /// `typing` frames written.
    pub typing_sent: AtomicUsize,
    /// `read` frames written.
    pub reads_sent: AtomicUsize,
}

/// How long before its message a sender starts typing (a person takes a
/// couple of seconds to type a line; the client sends at most one notice
/// every 3 s per conversation, so one per message here).
pub const TYPING_LEAD: Duration = Duration::from_secs(2);

impl Plan {
    /// A plan of `rate` messages a second for `messages` messages, starting
    /// shortly; no typing, no reads (set the fields to change that).
    pub fn new(
        rate: f64,
        messages: usize,
        routing: Routing,
        conversations: Vec<String>,
        audience: Vec<usize>,
        body_bytes: usize,
    ) -> Self {
        assert_eq!(conversations.len(), audience.len());
        Self {
            start_us: now_us() + LEAD_TIME.as_micros() as u64,
            interval_us: 1e6 / rate,
            messages,
            routing,
            conversations,
            audience,
            typing_percent: 0,
            reads: false,
            body: format!("load {}", "x".repeat(body_bytes.saturating_sub(5))),
            sent: 0.into(),
            acked: 0.into(),
            answered: 0.into(),
            delivered: 0.into(),
            expected: 0.into(),
            typing_sent: 0.into(),
            reads_sent: 0.into(),
        }
    }

    /// When message `m` is due.
    pub fn due_us(&self, m: usize) -> u64 {
        self.start_us + (m as f64 * self.interval_us) as u64
    }

    /// When the last message is due.
    pub fn end_us(&self) -> u64 {
        self.due_us(self.messages.saturating_sub(1))
    }

    /// How long the timetable runs, seconds.
    pub fn sending_seconds(&self) -> f64 {
        self.messages as f64 * self.interval_us / 1e6
    }

    /// Where message `m` goes and who sends it; `None` if there is no such
    /// message in this plan.
    pub fn route(&self, m: usize) -> Option<Route> {
        if m >= self.messages {
            return None;
        }
        Some(match &self.routing {
            Routing::OneRoom { senders } => Route {
                conversation: 0,
                sender: m % senders,
            },
            Routing::Groups { members } => {
                let group = m % members.len();
                let turn = m / members.len();
                Route {
                    conversation: group,
                    sender: members[group][turn % members[group].len()] as usize,
                }
            }
        })
    }

    /// Whether message `m` is preceded by a `typing` notice: a fixed,
    /// evenly spread `typing_percent` of the messages (a multiplicative
    /// hash of `m`, so no group is always or never typed in).
    pub fn typed(&self, m: usize) -> bool {
        let spread = (m as u32).wrapping_mul(2_654_435_761);
        (u64::from(spread) * 100) >> 32 < u64::from(self.typing_percent)
    }

    /// Each of `senders`' steps, in time order.
    pub fn schedules(&self, senders: usize) -> Vec<Vec<Step>> {
        let mut schedules = vec![Vec::new(); senders];
        let lead = TYPING_LEAD.as_micros() as u64;
        for m in 0..self.messages {
            let route = self.route(m).expect("a message of the plan");
            let due = self.due_us(m);
            let steps = &mut schedules[route.sender];
            if self.typed(m) {
                let at_us = due.saturating_sub(lead).max(self.start_us);
                steps.push(Step {
                    at_us,
                    typing: true,
                    message: m,
                });
            }
            steps.push(Step {
                at_us: due,
                typing: false,
                message: m,
            });
        }
        for steps in &mut schedules {
            steps.sort_by_key(|s| s.at_us);
        }
        schedules
    }

    /// The `send` frame of message `m`.
    pub fn send_frame(&self, m: usize, route: Route) -> String {
        format!(
            r#"{{"type":"send","conversation_id":"{}","client_msg_id":"{m}","body":"{}"}}"#,
            self.conversations[route.conversation], self.body
        )
    }

    /// The REST body of message `m`.
    pub fn post_body(&self, m: usize) -> String {
        format!(r#"{{"client_msg_id":"{m}","body":"{}"}}"#, self.body)
    }

    /// The `typing` frame for a conversation.
    pub fn typing_frame(&self, conversation: usize) -> String {
        format!(
            r#"{{"type":"typing","conversation_id":"{}"}}"#,
            self.conversations[conversation]
        )
    }

    /// The `read` frame for a conversation up to `seq`.
    pub fn read_frame(&self, conversation: usize, seq: i64) -> String {
        format!(
            r#"{{"type":"read","conversation_id":"{}","seq":{seq}}}"#,
            self.conversations[conversation]
        )
    }

    /// Counts message `m` as acknowledged: its audience is now owed it.
    pub fn acknowledged(&self, m: usize) {
        self.acked.fetch_add(1, Ordering::Relaxed);
        if let Some(route) = self.route(m) {
            self.expected
                .fetch_add(self.audience[route.conversation], Ordering::Relaxed);
        }
    }

    /// Whether every send is answered and every acknowledged message
    /// delivered to its audience.
    pub fn complete(&self) -> bool {
        self.sent.load(Ordering::Relaxed) == self.messages
            && self.answered.load(Ordering::Relaxed) == self.messages
            && self.delivered.load(Ordering::Relaxed) >= self.expected.load(Ordering::Relaxed)
    }
}
