//! What one connection follows: its user's topic and its conversations,
//! as a subscriber of the process-wide [`Hub`]. Events of all of them
//! queue in one bounded inbox.

use std::collections::HashSet;
use std::sync::Arc;

use services::ServiceError;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

use super::hub::{Delivery, Hub, Subscriber, Topic};

/// The topics a connection follows; detached from the hub when dropped.
pub(super) struct Follows {
    hub: Arc<Hub>,
    subscriber: Subscriber,
    pub(super) events: mpsc::Receiver<Delivery>,
    topics: HashSet<Topic>,
    pub(super) overflow: Arc<Notify>,
}

impl Follows {
    pub(super) fn new(hub: Arc<Hub>, capacity: usize) -> Self {
        let (subscriber, events) = hub.subscriber(capacity);
        Self {
            overflow: subscriber.overflow(),
            hub,
            subscriber,
            events,
            topics: HashSet::new(),
        }
    }

    pub(super) fn contains(&self, conversation_id: Uuid) -> bool {
        self.topics.contains(&Topic::Conversation(conversation_id))
    }

    /// Follows each of `topics` not followed yet, all at once. When this
    /// returns, everything published to them from then on arrives.
    pub(super) async fn follow(&mut self, topics: &[Topic]) -> Result<(), ServiceError> {
        let new: Vec<Topic> = topics
            .iter()
            .copied()
            .filter(|t| !self.topics.contains(t))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        self.hub.attach(&self.subscriber, &new).await?;
        self.topics.extend(new);
        Ok(())
    }

    pub(super) fn unfollow(&mut self, conversation_id: Uuid) {
        let topic = Topic::Conversation(conversation_id);
        if self.topics.remove(&topic) {
            self.hub.detach(self.subscriber.id(), topic);
        }
    }
}

impl Drop for Follows {
    fn drop(&mut self) {
        for &topic in &self.topics {
            self.hub.detach(self.subscriber.id(), topic);
        }
    }
}
