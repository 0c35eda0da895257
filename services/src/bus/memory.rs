//! The in-process bus: the default when no `REDIS_URL` is configured.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::topics::{Release, TopicTable};
use super::{Bus, BusError, BusKind, Subscription};

/// A bus inside one process: publish hands the payload straight to the
/// topic's local broadcast channel.
#[derive(Clone, Default)]
pub struct InProcessBus {
    table: Arc<Table>,
}

#[derive(Default)]
struct Table(TopicTable);

impl Release for Table {
    fn release(&self, topic: &str) {
        self.0.remove_if_unused(topic);
    }
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Topics with at least one channel (for tests and diagnostics).
    pub fn topic_count(&self) -> usize {
        self.table.0.topics().len()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    fn kind(&self) -> BusKind {
        BusKind::InProcess
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }

    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        self.table.0.deliver(topic, payload);
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError> {
        let (receiver, _) = self.table.0.subscribe(topic);
        // In one process there is nothing upstream to wait for.
        self.table.0.confirm(topic);
        Ok(Subscription::new(topic, receiver, self.table.clone()))
    }
}
