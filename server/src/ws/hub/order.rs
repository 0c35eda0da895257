//! A conversation's messages in sequence order, and the changes of its
//! messages in change order, each once, for every local connection at the
//! price of one.
//!
//! Sequence numbers are handed out in commit order, but concurrent senders
//! (on several processes, or one process under load) can publish them out
//! of order, and a process that dies between storing and publishing never
//! publishes at all. A message that arrives after a jump waits
//! [`REORDER_WINDOW`] for the ones before it; if they do not come, they are
//! read from the store once, here, for every connection of the process.
//! Before this, every connection filled every jump itself: one reordering
//! cost a query per connected member, and the delay that added caused more
//! reordering.

use std::collections::BTreeMap;
use std::time::Duration;

use services::events::{Envelope, Stream};
use services::Services;
use tokio::time::Instant;
use uuid::Uuid;

use super::feed::Feed;
use super::REORDER_WINDOW;

/// Events of one stream held for a gap before it is filled at once.
const MAX_PENDING: usize = 1024;
/// Most messages one fill reads from the store, in pages of [`PAGE`].
const MAX_FILL: usize = 1000;
const PAGE: u32 = 100;
/// After a failed read, the next try; after [`MAX_TRIES`], the gap is left
/// to the connections (each fills what it lacks when it can).
const RETRY: Duration = Duration::from_millis(200);
const MAX_TRIES: u32 = 5;

/// The order of one conversation's two streams on this process.
pub(super) struct Order {
    conversation_id: Uuid,
    messages: Lane,
    changes: Lane,
}

/// One stream's order: messages by sequence number, or changes by change
/// number.
struct Lane {
    stream: Stream,
    /// The last number handed on; `None` until the first.
    last: Option<i64>,
    /// Events that came after a jump, waiting for the gap to close.
    pending: BTreeMap<i64, Envelope>,
    /// When to stop waiting and fill the gap from the store.
    deadline: Option<Instant>,
    /// Failed reads of the current gap.
    tries: u32,
}

impl Order {
    /// The order of a conversation whose newest stored message and change
    /// were `last` when its feed started (`None`: unknown, the first event
    /// of each stream sets it).
    pub(super) fn new(conversation_id: Uuid, last: Option<(i64, i64)>) -> Self {
        Self {
            conversation_id,
            messages: Lane::new(Stream::Messages, last.map(|(seq, _)| seq)),
            changes: Lane::new(Stream::Changes, last.map(|(_, change)| change)),
        }
    }

    /// The earlier of the two streams' deadlines.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match (self.messages.deadline, self.changes.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// An event from the bus: other events go straight on; a message or a
    /// change goes on in order, is held after a jump, or is dropped as a
    /// repeat.
    pub(super) fn take(&mut self, envelope: Envelope, feed: &Feed) {
        let Some((stream, number)) = envelope.position() else {
            feed.dispatch(&envelope);
            return;
        };
        if number == i64::MAX {
            return; // no message or change is ever numbered so (forged)
        }
        if !envelope.conversation_id.is_nil() && envelope.conversation_id != self.conversation_id {
            // Never hand on a message of another conversation that reached
            // this topic.
            tracing::warn!(
                topic = %self.conversation_id,
                message_conversation = %envelope.conversation_id,
                "dropped a message published on another conversation's topic"
            );
            return;
        }
        match stream {
            Stream::Messages => self.messages.take(number, envelope, feed),
            Stream::Changes => self.changes.take(number, envelope, feed),
        }
    }

    /// The feed missed events: the next of each stream shows the gap; fill
    /// it without waiting.
    pub(super) fn lagged(&mut self) {
        self.messages.lagged();
        self.changes.lagged();
    }

    /// Fills the gaps whose time is up.
    pub(super) async fn fill(&mut self, services: &Services, feed: &Feed) {
        let now = Instant::now();
        for lane in [&mut self.messages, &mut self.changes] {
            if lane.deadline.is_some_and(|d| d <= now) {
                lane.fill(self.conversation_id, services, feed).await;
            }
        }
    }
}

impl Lane {
    fn new(stream: Stream, last: Option<i64>) -> Self {
        Self {
            stream,
            last,
            pending: BTreeMap::new(),
            deadline: None,
            tries: 0,
        }
    }

    fn take(&mut self, number: i64, envelope: Envelope, feed: &Feed) {
        match self.last {
            Some(last) if number <= last => {
                // Published again (a retried send) or filled already.
                metrics::counter!("chatsphere_hub_repeats_total").increment(1);
            }
            Some(last) if number > last + 1 => {
                self.pending.insert(number, envelope);
                if self.pending.len() >= MAX_PENDING {
                    self.deadline = Some(Instant::now());
                } else if self.deadline.is_none() {
                    self.deadline = Some(Instant::now() + REORDER_WINDOW);
                }
            }
            // The next one, or the first this feed sees (its start unknown).
            _ => {
                self.hand_on(number, &envelope, feed);
                self.drain(feed);
            }
        }
    }

    fn lagged(&mut self) {
        if self.last.is_some() {
            self.deadline = Some(Instant::now());
        }
    }

    fn hand_on(&mut self, number: i64, envelope: &Envelope, feed: &Feed) {
        self.last = Some(number);
        feed.dispatch(envelope);
    }

    /// Hands on the held events that are next in line.
    fn drain(&mut self, feed: &Feed) {
        while let Some(entry) = self.pending.first_entry() {
            let number = *entry.key();
            match self.last {
                Some(last) if number <= last => {
                    entry.remove();
                }
                Some(last) if number == last + 1 => {
                    let envelope = entry.remove();
                    self.hand_on(number, &envelope, feed);
                }
                _ => break,
            }
        }
        if self.pending.is_empty() {
            self.deadline = None;
            self.tries = 0;
        }
    }

    /// Reads what lies between the last event handed on and the first held
    /// one from the store (it is committed: the held one is), hands it and
    /// the held ones on. A read that fails is tried again a few times; then
    /// the held ones go on regardless, and each connection fills its own
    /// gap when the store answers again. Changes are read as the messages
    /// they changed, each in its latest state: a message changed twice
    /// leaves a hole in the numbers, which is no loss.
    async fn fill(&mut self, conversation_id: Uuid, services: &Services, feed: &Feed) {
        let (Some(last), Some(&first)) = (self.last, self.pending.keys().next()) else {
            // A lag with nothing held yet: the next jump is filled at once.
            self.deadline = None;
            return;
        };
        metrics::counter!("chatsphere_hub_fills_total").increment(1);
        feed.fills
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut after = last;
        let mut filled = 0;
        while after + 1 < first && filled < MAX_FILL {
            let read = match self.stream {
                Stream::Messages => {
                    services
                        .store
                        .messages_after(conversation_id, after, PAGE)
                        .await
                }
                Stream::Changes => {
                    services
                        .store
                        .changes_after(conversation_id, after, PAGE)
                        .await
                }
            };
            let page = match read {
                Ok(page) => page,
                Err(err) => {
                    self.tries += 1;
                    tracing::warn!(error = %err, tries = self.tries, "filling a gap failed");
                    if self.tries < MAX_TRIES {
                        self.deadline = Some(Instant::now() + RETRY);
                        return;
                    }
                    break;
                }
            };
            let Some(newest) = page.last().map(|m| self.stream.number(m)) else {
                break;
            };
            for message in &page {
                let number = self.stream.number(message);
                if number < first {
                    self.hand_on(number, &Envelope::of(self.stream, message), feed);
                    filled += 1;
                }
            }
            after = newest;
        }
        tracing::debug!(filled, "filled a gap in a conversation's live stream");
        // Whatever is still missing is not coming: the held ones go on.
        if let Some(&first) = self.pending.keys().next() {
            self.last = Some(first - 1);
        }
        self.tries = 0;
        self.drain(feed);
        if !self.pending.is_empty() {
            // A second gap among the held ones: give it its own window.
            self.deadline = Some(Instant::now() + REORDER_WINDOW);
        }
    }
}
