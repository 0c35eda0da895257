//! The bus topics one connection follows: a small task per topic forwards
//! what arrives, still in its envelope, into one bounded channel.

use std::collections::HashMap;
use std::sync::Arc;

use services::bus::RecvError;
use services::events::Envelope;
use services::{ServiceError, Services};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The topics a connection follows, each forwarded by a small task into one
/// bounded channel.
pub(super) struct Follows {
    services: Services,
    tx: mpsc::Sender<(Option<Uuid>, Envelope)>,
    pub(super) events: mpsc::Receiver<(Option<Uuid>, Envelope)>,
    tasks: HashMap<Option<Uuid>, JoinHandle<()>>,
    pub(super) overflow: Arc<Notify>,
}

impl Follows {
    pub(super) fn new(services: Services, capacity: usize) -> Self {
        let (tx, events) = mpsc::channel(capacity);
        Self {
            services,
            tx,
            events,
            tasks: HashMap::new(),
            overflow: Arc::new(Notify::new()),
        }
    }

    pub(super) fn contains(&self, conversation_id: Uuid) -> bool {
        self.tasks.contains_key(&Some(conversation_id))
    }

    /// Subscribes to `topic` (once per key) and forwards what arrives.
    pub(super) async fn follow(
        &mut self,
        key: Option<Uuid>,
        topic: String,
    ) -> Result<(), ServiceError> {
        if self.tasks.contains_key(&key) {
            return Ok(());
        }
        let mut subscription = self.services.bus.subscribe(&topic).await?;
        let tx = self.tx.clone();
        let overflow = self.overflow.clone();
        let task = tokio::spawn(async move {
            loop {
                match subscription.recv().await {
                    Ok(bytes) => {
                        let Some(envelope) = Envelope::open(bytes) else {
                            continue;
                        };
                        if tx.try_send((key, envelope)).is_err() {
                            metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
                            overflow.notify_one();
                            break;
                        }
                    }
                    // Fell behind the bus: the client must catch up from history.
                    Err(RecvError::Lagged(_)) => {
                        overflow.notify_one();
                        break;
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        self.tasks.insert(key, task);
        Ok(())
    }

    pub(super) fn unfollow(&mut self, conversation_id: Uuid) {
        if let Some(task) = self.tasks.remove(&Some(conversation_id)) {
            task.abort();
        }
    }
}

impl Drop for Follows {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}
