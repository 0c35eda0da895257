//! One topic's feed: the process's only bus subscription to the topic, and
//! a task handing what arrives to every local subscriber. A conversation's
//! feed hands messages on in sequence order ([`Order`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use services::bus::{RecvError, Subscription};
use services::Services;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::order::Order;
use super::{Hub, Subscriber, Topic};

/// Where a feed is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Its bus subscription is being confirmed.
    Starting,
    /// Events flow.
    Running,
    /// The bus refused or did not answer: its subscribers must give up.
    Failed,
}

/// One topic's subscribers on this process and the task that feeds them.
pub(super) struct Feed {
    topic: Topic,
    /// By id: a connection leaving a feed of thousands costs no scan.
    subscribers: Mutex<HashMap<u64, Subscriber>>,
    state: watch::Sender<State>,
    task: Mutex<Option<AbortHandle>>,
    stopped: AtomicBool,
    /// Gaps filled from the store (for tests and diagnostics).
    pub(super) fills: AtomicU64,
}

impl Feed {
    pub(super) fn new(topic: Topic) -> Arc<Self> {
        Arc::new(Self {
            topic,
            subscribers: Mutex::new(HashMap::new()),
            state: watch::Sender::new(State::Starting),
            task: Mutex::new(None),
            stopped: AtomicBool::new(false),
            fills: AtomicU64::new(0),
        })
    }

    pub(super) fn topic(&self) -> Topic {
        self.topic
    }

    fn subscribers(&self) -> MutexGuard<'_, HashMap<u64, Subscriber>> {
        // Every critical section leaves the list whole.
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn add(&self, subscriber: Subscriber) {
        self.subscribers().insert(subscriber.id, subscriber);
    }

    /// Removes a subscriber; `true` when none is left.
    pub(super) fn remove(&self, id: u64) -> bool {
        let mut subscribers = self.subscribers();
        subscribers.remove(&id);
        subscribers.is_empty()
    }

    pub(super) fn state(&self) -> watch::Receiver<State> {
        self.state.subscribe()
    }

    /// Hands `envelope` to every subscriber; one that stopped reading is
    /// told (it closes) and dropped from the feed.
    pub(super) fn dispatch(&self, envelope: &services::events::Envelope) {
        let delivery = Arc::new((self.topic, envelope.clone()));
        self.subscribers().retain(|_, s| s.offer(delivery.clone()));
    }

    /// Hands `envelope`, as an event of `topic`, to the subscribers not in
    /// `reached` yet, and adds them.
    pub(super) fn dispatch_once(
        &self,
        topic: Topic,
        envelope: &services::events::Envelope,
        reached: &mut std::collections::HashSet<u64>,
    ) {
        // Made for the first subscriber not reached yet: a change most
        // feeds' subscribers already had costs nothing.
        let mut delivery = None;
        for subscriber in self.subscribers().values() {
            if reached.insert(subscriber.id) {
                let delivery = delivery.get_or_insert_with(|| Arc::new((topic, envelope.clone())));
                // One that stopped reading is told, and closes.
                subscriber.offer(delivery.clone());
            }
        }
    }

    /// Tells every subscriber it missed events it cannot get back (they
    /// close; their clients reconnect and resume from the store).
    fn overflow_all(&self) {
        for (_, subscriber) in self.subscribers().drain() {
            subscriber.overflow.notify_one();
        }
    }

    /// Subscribes on the bus and starts the task; on failure the feed is
    /// forgotten and its subscribers are told.
    pub(super) async fn start(self: Arc<Self>, hub: Arc<Hub>, services: Arc<Services>) {
        // Where a conversation stands, read before subscribing: what is
        // published later with a number up to it was committed before the
        // subscribers attached (a replay after attaching has it), so it is a
        // repeat — such as a retried send of an old message — and not the
        // start of a gap that would send every connection old messages.
        let start = match self.topic {
            Topic::Conversation(id) => match services.store.conversation(id).await {
                Ok(conversation) => conversation.map(|c| (c.last_seq, c.last_change)),
                Err(err) => {
                    tracing::warn!(error = %err, "a feed starts without its conversation's position");
                    None
                }
            },
            Topic::User(_) | Topic::Presence => None,
        };
        match services.bus.subscribe(&self.topic.bus_name()).await {
            Ok(subscription) => {
                let task = tokio::spawn(run(
                    self.clone(),
                    Arc::downgrade(&hub),
                    services,
                    subscription,
                    start,
                ));
                let mut slot = self.task.lock().unwrap_or_else(PoisonError::into_inner);
                if self.stopped.load(AtomicOrdering::Relaxed) {
                    task.abort(); // everyone left while it was starting
                } else {
                    *slot = Some(task.abort_handle());
                }
                drop(slot);
                self.state.send_replace(State::Running);
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not subscribe to a topic");
                hub.forget(&self);
                self.state.send_replace(State::Failed);
            }
        }
    }

    /// Stops the task (dropping the bus subscription).
    pub(super) fn stop(&self) {
        let mut slot = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        self.stopped.store(true, AtomicOrdering::Relaxed);
        if let Some(task) = slot.take() {
            task.abort();
        }
    }
}

/// The feed's task: until the bus subscription ends or the feed is stopped.
async fn run(
    feed: Arc<Feed>,
    hub: Weak<Hub>,
    services: Arc<Services>,
    mut subscription: Subscription,
    start: Option<(i64, i64)>,
) {
    let mut order = match feed.topic {
        Topic::Conversation(id) => Some(Order::new(id, start)),
        Topic::User(_) | Topic::Presence => None,
    };
    loop {
        let deadline = order.as_ref().and_then(Order::deadline);
        tokio::select! {
            received = subscription.recv() => match received {
                Ok(bytes) if feed.topic == Topic::Presence => {
                    match (hub.upgrade(), services::events::PresenceBroadcast::open(bytes)) {
                        (Some(hub), Some(broadcast)) => hub.announce(broadcast),
                        _ => continue,
                    }
                }
                Ok(bytes) => {
                    let Some(envelope) = services::events::Envelope::open(bytes) else {
                        continue;
                    };
                    match order.as_mut() {
                        Some(order) => order.take(envelope, &feed),
                        None => feed.dispatch(&envelope),
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    metrics::counter!("chatsphere_hub_lagged_total").increment(1);
                    tracing::warn!(missed, "a feed fell behind the bus");
                    match order.as_mut() {
                        // Messages missed show as a gap, filled from the store.
                        Some(order) => order.lagged(),
                        // Membership and session events cannot be recovered;
                        // presence changes are not worth a reconnect.
                        None if feed.topic == Topic::Presence => {}
                        None => feed.overflow_all(),
                    }
                }
                Err(RecvError::Closed) => break,
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                if let Some(order) = order.as_mut() {
                    // Boxed: rare and large, and a feed waits most of its life.
                    Box::pin(order.fill(&services, &feed)).await;
                }
            }
        }
    }
    if let Some(hub) = hub.upgrade() {
        hub.forget(&feed);
    }
    feed.overflow_all();
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}
