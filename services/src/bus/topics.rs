//! The per-process table of topics with local subscribers, shared by both bus
//! implementations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use super::{RecvError, TOPIC_CAPACITY};

/// Called when a subscription is dropped, with its topic.
pub(super) trait Release: Send + Sync {
    fn release(&self, topic: &str);
}

/// A topic's local channel, and whether the upstream subscription (Redis)
/// is confirmed: later subscribers wait for it, so nobody is told "subscribed"
/// before payloads can actually arrive.
struct Channel {
    sender: broadcast::Sender<Bytes>,
    ready: watch::Sender<bool>,
}

/// Local broadcast channels by topic.
#[derive(Default)]
pub(super) struct TopicTable {
    channels: Mutex<HashMap<String, Channel>>,
}

/// How a subscriber joined a topic.
pub(super) enum Joined {
    /// The topic had no channel: this subscriber subscribes upstream and
    /// then calls [`TopicTable::confirm`].
    First,
    /// Others subscribed first: wait until this says `true`.
    Later(watch::Receiver<bool>),
}

impl TopicTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        // The map stays consistent even if a holder panicked: every critical
        // section is a single insert, lookup or remove.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new receiver for `topic`, and how this subscriber joined it.
    pub(super) fn subscribe(&self, topic: &str) -> (broadcast::Receiver<Bytes>, Joined) {
        let mut channels = self.lock();
        if let Some(channel) = channels.get(topic) {
            return (
                channel.sender.subscribe(),
                Joined::Later(channel.ready.subscribe()),
            );
        }
        let (sender, receiver) = broadcast::channel(TOPIC_CAPACITY);
        let (ready, _) = watch::channel(false);
        channels.insert(topic.to_owned(), Channel { sender, ready });
        (receiver, Joined::First)
    }

    /// The upstream subscription of `topic` is in place.
    pub(super) fn confirm(&self, topic: &str) {
        if let Some(channel) = self.lock().get(topic) {
            channel.ready.send_replace(true);
        }
    }

    /// Hands `payload` to the local subscribers of `topic`, if any.
    pub(super) fn deliver(&self, topic: &str, payload: Bytes) {
        if let Some(channel) = self.lock().get(topic) {
            // An error only means every receiver is gone; release() tidies up.
            let _ = channel.sender.send(payload);
        }
    }

    /// Removes `topic` if no receiver is left; returns whether it did.
    pub(super) fn remove_if_unused(&self, topic: &str) -> bool {
        let mut channels = self.lock();
        match channels.get(topic) {
            Some(channel) if channel.sender.receiver_count() == 0 => {
                channels.remove(topic);
                true
            }
            _ => false,
        }
    }

    /// Whether `topic` currently has a channel.
    pub(super) fn contains(&self, topic: &str) -> bool {
        self.lock().contains_key(topic)
    }

    /// Every topic with a channel.
    pub(super) fn topics(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// A live subscription to one topic. Dropping it unsubscribes.
pub struct Subscription {
    // Declared before `guard`, so the receiver is gone when the guard runs.
    receiver: broadcast::Receiver<Bytes>,
    guard: ReleaseGuard,
}

struct ReleaseGuard {
    topic: String,
    owner: Arc<dyn Release>,
}

impl Drop for ReleaseGuard {
    fn drop(&mut self) {
        self.owner.release(&self.topic);
    }
}

impl Subscription {
    pub(super) fn new(
        topic: &str,
        receiver: broadcast::Receiver<Bytes>,
        owner: Arc<dyn Release>,
    ) -> Self {
        Self {
            receiver,
            guard: ReleaseGuard {
                topic: topic.to_owned(),
                owner,
            },
        }
    }

    /// The topic subscribed to.
    pub fn topic(&self) -> &str {
        &self.guard.topic
    }

    /// The next payload. `Err(Lagged(n))` says `n` payloads were skipped
    /// because this subscriber fell behind (catch up from the store);
    /// `Err(Closed)` that the bus is gone.
    pub async fn recv(&mut self) -> Result<Bytes, RecvError> {
        self.receiver.recv().await
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.guard.topic)
            .finish()
    }
}
