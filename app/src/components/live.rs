//! The live connection to `/ws`, opened in the browser once someone is
//! signed in. Pages read the newest events from [`Live`] and send receipts
//! and typing notices through it.
//!
//! Nothing is lost across a reconnect: the connection is opened with
//! `?resume=1` and, once the server says `ready`, tells it the highest
//! sequence number and change number this tab holds per conversation
//! ([`Live::saw`], [`Live::saw_change`]); the server replays what is newer
//! (new messages, then edits and deletions) before live traffic continues.

use std::collections::HashMap;

use domain::protocol::{ClientFrame, ServerFrame};
use leptos::prelude::*;
use uuid::Uuid;

/// Events kept for pages that have not read them yet.
#[cfg(feature = "hydrate")]
const LOG_SIZE: usize = 256;
/// Shortest interval between two typing notices from this tab.
#[cfg(feature = "hydrate")]
const TYPING_EVERY_MS: f64 = 3000.0;
/// How long delivery confirmations are gathered before they are sent.
#[cfg(feature = "hydrate")]
const DELIVERED_DELAY_MS: u32 = 250;

/// What this tab holds and has told the server.
#[derive(Default)]
struct Positions {
    /// Highest sequence number held per conversation (for `resume`).
    held: HashMap<Uuid, i64>,
    /// Highest change number (edits, deletions) held per conversation.
    held_changes: HashMap<Uuid, i64>,
    /// Highest sequence number confirmed delivered (sent or queued).
    delivered: HashMap<Uuid, i64>,
    /// Delivery confirmations waiting to be sent.
    pending: HashMap<Uuid, i64>,
    /// Highest sequence number reported read.
    read: HashMap<Uuid, i64>,
    /// When a typing notice was last sent, per conversation (ms).
    #[cfg(feature = "hydrate")]
    typed: HashMap<Uuid, f64>,
    /// The open socket's outgoing frames.
    #[cfg(feature = "hydrate")]
    sender: Option<futures_channel::mpsc::UnboundedSender<String>>,
}

/// The live connection's state, provided by the app.
#[derive(Clone, Copy)]
pub struct Live {
    /// The newest events with their numbers (several may arrive before an
    /// effect runs, so pages read every event after the last one they saw).
    log: StoredValue<std::collections::VecDeque<(u64, ServerFrame<'static>)>>,
    /// The number of the newest event; pages track it to be woken.
    pub version: RwSignal<u64>,
    /// Incremented on every reconnection after the first connection.
    pub reconnects: RwSignal<u32>,
    /// Who is connected (from the server's `ready`).
    pub me: RwSignal<Option<Uuid>>,
    /// Incremented when the server closed the connection because the
    /// sign-in ended (the account was disabled, the session ended).
    pub sign_in_ended: RwSignal<u32>,
    positions: StoredValue<Positions>,
}

impl Live {
    /// Provides the state and, in the browser, connects while `signed_in`
    /// (a connection that ends while nobody is signed in is not reopened).
    pub fn provide(signed_in: Signal<bool>) -> Self {
        let live = Self {
            log: StoredValue::new(std::collections::VecDeque::new()),
            version: RwSignal::new(0),
            reconnects: RwSignal::new(0),
            me: RwSignal::new(None),
            sign_in_ended: RwSignal::new(0),
            positions: StoredValue::new(Positions::default()),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        {
            let running = StoredValue::new(false);
            Effect::new(move |_| {
                if signed_in.get() && !running.get_value() {
                    running.set_value(true);
                    leptos::task::spawn_local(async move {
                        client::run(live, signed_in).await;
                        running.set_value(false);
                    });
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = signed_in;
        live
    }

    /// Every logged event after number `seen`, oldest first, and the newest
    /// number. (Older than the log: the page re-reads after a reconnect anyway.)
    pub fn since(&self, seen: u64) -> (Vec<ServerFrame<'static>>, u64) {
        let events = self.log.with_value(|log| {
            log.iter()
                .filter(|(n, _)| *n > seen)
                .map(|(_, e)| e.clone())
                .collect()
        });
        (events, self.version.get_untracked())
    }

    /// This tab holds the conversation's messages up to `seq` (a reconnect
    /// replays only what is newer).
    pub fn saw(&self, conversation_id: Uuid, seq: i64) {
        self.positions.update_value(|p| {
            let held = p.held.entry(conversation_id).or_insert(0);
            *held = (*held).max(seq);
        });
    }

    /// This tab holds the conversation's changes (edits, deletions) up to
    /// `change` (a reconnect replays only newer ones).
    pub fn saw_change(&self, conversation_id: Uuid, change: i64) {
        self.positions.update_value(|p| {
            let held = p.held_changes.entry(conversation_id).or_insert(0);
            *held = (*held).max(change);
        });
    }

    /// This device received the conversation's messages up to `seq`:
    /// confirmed to the server shortly, several at once.
    pub fn delivered(&self, conversation_id: Uuid, seq: i64) {
        let mut schedule = false;
        self.positions.update_value(|p| {
            let confirmed = p.delivered.entry(conversation_id).or_insert(0);
            if seq > *confirmed {
                *confirmed = seq;
                schedule = p.pending.is_empty();
                p.pending.insert(conversation_id, seq);
            }
        });
        #[cfg(feature = "hydrate")]
        if schedule {
            let live = *self;
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(DELIVERED_DELAY_MS).await;
                let pending = live
                    .positions
                    .try_update_value(|p| std::mem::take(&mut p.pending))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    live.send(&ClientFrame::Receipts {
                        delivered: pending,
                        read: HashMap::new(),
                    });
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = schedule;
    }

    /// The user has seen the conversation up to `seq`.
    pub fn read(&self, conversation_id: Uuid, seq: i64) {
        let mut moved = false;
        self.positions.update_value(|p| {
            let read = p.read.entry(conversation_id).or_insert(0);
            if seq > *read {
                *read = seq;
                moved = true;
                let delivered = p.delivered.entry(conversation_id).or_insert(0);
                *delivered = (*delivered).max(seq);
            }
        });
        if moved {
            self.send(&ClientFrame::Read {
                conversation_id,
                seq,
            });
        }
    }

    /// The user is typing in the conversation (sent at most every 3 s).
    pub fn typing(&self, conversation_id: Uuid) {
        #[cfg(feature = "hydrate")]
        {
            let now = js_sys::Date::now();
            let mut due = false;
            self.positions.update_value(|p| {
                let last = p.typed.entry(conversation_id).or_insert(f64::MIN);
                if now - *last >= TYPING_EVERY_MS {
                    *last = now;
                    due = true;
                }
            });
            if due {
                self.send(&ClientFrame::Typing {
                    conversation_id,
                    active: true,
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = conversation_id;
    }

    /// The user sent a message in the conversation: the others stop seeing
    /// them typing then, so the next keystroke tells them again at once
    /// rather than after the pacing interval.
    pub fn sent(&self, conversation_id: Uuid) {
        #[cfg(feature = "hydrate")]
        {
            let mut was_typing = false;
            self.positions.update_value(|p| {
                was_typing = p.typed.remove(&conversation_id).is_some();
            });
            // The message goes through a server function, not this socket:
            // the server is told the notice ended (it paces notices too).
            if was_typing {
                self.send(&ClientFrame::Typing {
                    conversation_id,
                    active: false,
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = conversation_id;
    }

    /// Queues a frame on the open socket (dropped when disconnected: the
    /// positions it carried are sent again after the reconnect's replay).
    fn send(&self, frame: &ClientFrame) {
        #[cfg(feature = "hydrate")]
        self.positions.with_value(|p| {
            if let Some(sender) = &p.sender {
                let _ = sender.unbounded_send(frame.to_text());
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = frame;
    }

    /// Records an event and wakes the pages.
    #[cfg(feature = "hydrate")]
    fn push(&self, event: ServerFrame<'static>) {
        let number = self.version.get_untracked() + 1;
        self.log.update_value(|log| {
            if log.len() == LOG_SIZE {
                log.pop_front();
            }
            log.push_back((number, event));
        });
        self.version.set(number);
    }
}

/// The live state, if provided.
pub fn use_live() -> Option<Live> {
    use_context::<Live>()
}

#[cfg(feature = "hydrate")]
mod client;
