//! The process-wide hub: one bus subscription per topic per process,
//! whatever the number of local connections following it, and a registry
//! from each topic to the connections that follow it here.
//!
//! Each topic has a [`feed`]: a task that takes what the bus delivers and
//! hands it to every local subscriber's inbox with a non-blocking send. A
//! conversation's feed hands messages on in sequence order, each once:
//! one arriving early waits a moment for the ones before it, and a real gap
//! (a message published late, or never, or lost while the feed lagged) is
//! filled from the store once for the whole process, not once per
//! connection. A connection thus costs an inbox, an entry per followed
//! topic, and no task or subscription of its own.

mod feed;
mod order;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use services::events::{
    conversation_topic, user_topic, Envelope, PresenceBroadcast, PRESENCE_TOPIC,
};
use services::{ServiceError, Services};
use tokio::sync::{mpsc, watch, Notify};
use uuid::Uuid;

use self::feed::Feed;

/// How long a conversation's feed holds a message that arrived before one
/// with a lower sequence number, waiting for it, before reading the
/// missing ones from the store.
pub const REORDER_WINDOW: Duration = Duration::from_millis(25);

/// How long attaching waits for the bus to confirm a new subscription.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(5);

/// What a connection follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Events about one user: memberships, their account, their sessions.
    User(Uuid),
    /// Everything that happens in one conversation.
    Conversation(Uuid),
    /// Presence changes, each for the members of the conversations it
    /// names: handed once to each local connection in any of them.
    Presence,
}

impl Topic {
    fn bus_name(self) -> String {
        match self {
            Self::User(id) => user_topic(id),
            Self::Conversation(id) => conversation_topic(id),
            Self::Presence => PRESENCE_TOPIC.to_owned(),
        }
    }
}

/// One event with the topic it came on, shared by every connection it is
/// handed to: one allocation per event, not per connection, and an inbox
/// slot is a pointer (an idle connection's inbox is 32 of them, not 32
/// envelopes).
pub type Delivery = Arc<(Topic, Envelope)>;

/// A connection as the hub sees it: where its events go, and how to tell
/// it that it fell behind.
#[derive(Clone)]
pub struct Subscriber {
    id: u64,
    inbox: mpsc::Sender<Delivery>,
    overflow: Arc<Notify>,
}

impl Subscriber {
    /// The hub's id of this subscriber.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Signalled when this subscriber fell behind and lost events.
    pub fn overflow(&self) -> Arc<Notify> {
        self.overflow.clone()
    }

    /// Hands `delivery` on without waiting; `false` when this subscriber
    /// is gone or stopped reading (it is then told, and dropped).
    fn offer(&self, delivery: Delivery) -> bool {
        match self.inbox.try_send(delivery) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
                self.overflow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The hub of one server process.
pub struct Hub {
    services: Arc<Services>,
    feeds: Mutex<HashMap<Topic, Arc<Feed>>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("topics", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// An empty hub over these services' bus and store.
    pub fn new(services: Arc<Services>) -> Arc<Self> {
        Arc::new(Self {
            services,
            feeds: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Topic, Arc<Feed>>> {
        // Every critical section is a lookup, insert or remove.
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new subscriber whose events queue in an inbox of `capacity`.
    pub fn subscriber(&self, capacity: usize) -> (Subscriber, mpsc::Receiver<Delivery>) {
        let (inbox, events) = mpsc::channel(capacity);
        let subscriber = Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            inbox,
            overflow: Arc::new(Notify::new()),
        };
        (subscriber, events)
    }

    /// The services the hub and every connection share.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Topics with a feed on this process (for tests and diagnostics).
    pub fn topic_count(&self) -> usize {
        self.lock().len()
    }

    /// Gaps in `topic` filled from the store so far (for tests and
    /// diagnostics; 0 without a feed).
    pub fn fills(&self, topic: Topic) -> u64 {
        self.lock()
            .get(&topic)
            .map_or(0, |feed| feed.fills.load(Ordering::Relaxed))
    }

    /// Adds `subscriber` to each topic's feed, starting the feeds (and
    /// their bus subscriptions, all at once) that did not exist. When this
    /// returns, everything published to these topics from then on reaches
    /// the subscriber's inbox.
    pub async fn attach(
        self: &Arc<Self>,
        subscriber: &Subscriber,
        topics: &[Topic],
    ) -> Result<(), ServiceError> {
        let mut waits: Vec<watch::Receiver<feed::State>> = Vec::with_capacity(topics.len());
        let mut new = Vec::new();
        {
            let mut feeds = self.lock();
            for &topic in topics {
                let feed = feeds
                    .entry(topic)
                    .or_insert_with(|| {
                        let feed = Feed::new(topic);
                        new.push(feed.clone());
                        feed
                    })
                    .clone();
                feed.add(subscriber.clone());
                waits.push(feed.state());
            }
        }
        // New feeds subscribe concurrently: with Redis, the commands share
        // one connection without waiting for each other's answers.
        futures_util::future::join_all(
            new.iter()
                .map(|feed| feed.clone().start(self.clone(), self.services.clone())),
        )
        .await;
        for mut state in waits {
            let running = match tokio::time::timeout(
                SUBSCRIBE_WAIT,
                state.wait_for(|s| !matches!(s, feed::State::Starting)),
            )
            .await
            {
                Ok(Ok(state)) => *state == feed::State::Running,
                _ => false,
            };
            if !running {
                self.detach_all(subscriber.id, topics);
                return Err(ServiceError::Unavailable(
                    "the bus did not confirm a subscription in time".into(),
                ));
            }
        }
        Ok(())
    }

    /// Removes the subscriber from `topic`'s feed; the last one out stops
    /// the feed and its bus subscription.
    pub fn detach(&self, subscriber_id: u64, topic: Topic) {
        let mut feeds = self.lock();
        if let Some(feed) = feeds.get(&topic) {
            if feed.remove(subscriber_id) {
                if let Some(feed) = feeds.remove(&topic) {
                    feed.stop();
                }
            }
        }
    }

    /// [`Hub::detach`] from each of `topics`.
    pub fn detach_all(&self, subscriber_id: u64, topics: &[Topic]) {
        for &topic in topics {
            self.detach(subscriber_id, topic);
        }
    }

    /// Hands a presence change once to every local connection that follows
    /// one of the conversations of its audience (as an event of the first
    /// such conversation).
    fn announce(&self, broadcast: PresenceBroadcast) {
        let feeds = self.lock();
        let mut reached = std::collections::HashSet::new();
        for conversation in broadcast.audience {
            let topic = Topic::Conversation(conversation);
            if let Some(feed) = feeds.get(&topic) {
                feed.dispatch_once(topic, &broadcast.envelope, &mut reached);
            }
        }
    }

    /// A feed that failed or whose bus subscription ended: forgotten, so
    /// the next subscriber starts a fresh one.
    fn forget(&self, feed: &Arc<Feed>) {
        let mut feeds = self.lock();
        if feeds
            .get(&feed.topic())
            .is_some_and(|current| Arc::ptr_eq(current, feed))
        {
            feeds.remove(&feed.topic());
        }
    }
}

#[cfg(test)]
mod tests;
