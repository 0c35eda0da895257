//! Group commit: the messages sent to one conversation while a commit of
//! it is in flight go into the next, one transaction for all of them.
//!
//! Each process keeps a lane per conversation with sends waiting. The first
//! send to an idle conversation starts a writer task; it stores what is
//! waiting as one batch ([`crate::store::ConversationStore::post_messages`]),
//! publishes the stored messages in sequence order, answers each sender
//! (an acknowledgement still means committed), and goes on while sends keep
//! arriving. One sender alone pays for one small transaction, as before;
//! many senders share commits instead of queueing for the conversation's
//! row one commit each.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::bus::Bus;
use crate::events::{conversation_topic, Publish};
use crate::store::{NewMessage, Posted, Store};
use crate::ServiceError;
use domain::protocol::ServerFrame;

use super::mentions::Mentioned;

/// Most messages in one batch.
const MAX_BATCH: usize = 256;

/// A validated message waiting for its commit.
pub(super) struct Waiting {
    pub conversation_id: Uuid,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    pub body: String,
    pub reply_to: Option<Uuid>,
    /// Members it mentions, and whether it mentions everyone.
    pub mentions: Mentioned,
    /// Files sent with it (checked: distinct, at most `MAX_ATTACHMENTS`).
    pub attachments: Vec<Uuid>,
    /// The name an integration posts it under.
    pub label: Option<String>,
    /// Stored in a transaction of its own: the store may refuse it (a
    /// file the service could not check), which must not undo a batch.
    alone: bool,
    done: Option<oneshot::Sender<Result<Posted, ServiceError>>>,
}

impl Waiting {
    pub(super) fn new(
        conversation_id: Uuid,
        sender_id: Uuid,
        client_msg_id: String,
        body: String,
        reply_to: Option<Uuid>,
        mentions: Mentioned,
        attachments: Vec<Uuid>,
    ) -> Self {
        Self {
            conversation_id,
            sender_id,
            client_msg_id,
            body,
            reply_to,
            mentions,
            attachments,
            label: None,
            alone: false,
            done: None,
        }
    }

    /// Posts it under the name an integration gave (see the field).
    pub(super) fn labelled(mut self, label: Option<String>) -> Self {
        self.label = label;
        self
    }

    /// Stores it in a transaction of its own when `alone` (see the field).
    pub(super) fn alone(mut self, alone: bool) -> Self {
        self.alone = alone;
        self
    }

    fn as_new(&self) -> NewMessage<'_> {
        NewMessage {
            conversation_id: self.conversation_id,
            sender_id: self.sender_id,
            client_msg_id: &self.client_msg_id,
            body: &self.body,
            reply_to: self.reply_to,
            mentions: &self.mentions.users,
            mentions_all: self.mentions.all,
            attachments: &self.attachments,
            label: self.label.as_deref(),
        }
    }
}

/// The lanes of one process.
#[derive(Clone)]
pub(super) struct Committer {
    shared: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    /// Sends waiting, per conversation; a conversation is here while its
    /// writer runs.
    lanes: Mutex<HashMap<Uuid, Vec<Waiting>>>,
    /// Transactions that stored messages (for tests and diagnostics).
    commits: AtomicU64,
    /// This process's notifier, told of each new message.
    notices: crate::notify::Notices,
}

impl Shared {
    fn lanes(&self) -> MutexGuard<'_, HashMap<Uuid, Vec<Waiting>>> {
        // Every critical section is a push, a drain or a remove.
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Committer {
    pub(super) fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        notices: crate::notify::Notices,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                bus,
                lanes: Mutex::new(HashMap::new()),
                commits: AtomicU64::new(0),
                notices,
            }),
        }
    }

    /// Stores and publishes `message` with the others waiting for its
    /// conversation; the result once committed. Dropping the future does
    /// not withdraw the message: a retry with its client id finds it.
    pub(super) async fn post(&self, mut message: Waiting) -> Result<Posted, ServiceError> {
        let (done, answer) = oneshot::channel();
        message.done = Some(done);
        let conversation_id = message.conversation_id;
        let start = match self.shared.lanes().entry(conversation_id) {
            Entry::Occupied(mut lane) => {
                lane.get_mut().push(message);
                false
            }
            Entry::Vacant(lane) => {
                lane.insert(vec![message]);
                true
            }
        };
        if start {
            tokio::spawn(self.clone().write(conversation_id));
        }
        // Interrupted (a panic, or shutdown): it may or may not be stored,
        // so the sender is told to send it again with the same client id.
        answer.await.unwrap_or_else(|_| {
            Err(ServiceError::Unavailable(
                "the commit of this message was interrupted".into(),
            ))
        })
    }

    /// The writer of one conversation: batch after batch until none waits.
    async fn write(self, conversation_id: Uuid) {
        // Should a commit panic, the lane goes with it: those waiting are
        // answered with an error instead of waiting forever.
        let _lane = LaneGuard {
            shared: self.shared.clone(),
            conversation_id,
        };
        loop {
            let batch: Vec<Waiting> = {
                let mut lanes = self.shared.lanes();
                let Some(waiting) = lanes.get_mut(&conversation_id) else {
                    return;
                };
                if waiting.is_empty() {
                    lanes.remove(&conversation_id);
                    return;
                }
                let take = waiting.len().min(MAX_BATCH);
                waiting.drain(..take).collect()
            };
            self.commit(batch).await;
        }
    }

    /// Commits made so far by this process.
    pub(super) fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    async fn commit(&self, batch: Vec<Waiting>) {
        metrics::histogram!("chatsphere_commit_batch_size").record(batch.len() as f64);
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        let store = &self.shared.store;
        let messages: Vec<NewMessage<'_>> = batch.iter().map(Waiting::as_new).collect();
        let together = batch.len() > 1 && !batch.iter().any(|w| w.alone);
        let results = if !together {
            one_by_one(store.as_ref(), &messages).await
        } else {
            match store.post_messages(&messages).await {
                Ok(posted) => posted.into_iter().map(Ok).collect(),
                Err(err) => {
                    // Nothing of the batch was stored: one by one, each
                    // message gets its own answer (a reply to a message
                    // deleted meanwhile fails alone).
                    tracing::warn!(error = %err, size = messages.len(), "a batch failed; storing its messages one by one");
                    one_by_one(store.as_ref(), &messages).await
                }
            }
        };
        drop(messages);
        // Committed: every sender hears at once, before any publication
        // (a slow bus must not hold up acks); then the messages go out in
        // sequence order, before the next batch.
        let mut stored = Vec::with_capacity(results.len());
        for (mut waiting, result) in batch.into_iter().zip(results) {
            if let Ok(posted) = &result {
                stored.push(posted.clone());
            }
            if let Some(done) = waiting.done.take() {
                // A sender that went away finds the message by its client id.
                let _ = done.send(result);
            }
        }
        for posted in &stored {
            self.publish(posted).await;
        }
    }

    /// Publishes a stored message, in sequence order within the batch. A
    /// duplicate is published again: its first attempt may have been
    /// stored by a process that died before publishing it (connections
    /// skip what they sent). The topic is the message's own conversation.
    async fn publish(&self, posted: &Posted) {
        let message = posted.message();
        if matches!(posted, Posted::New(_)) {
            metrics::counter!("chatsphere_messages_stored_total").increment(1);
            // Only the process that stored it: notified once, not once a process.
            self.shared.notices.message(message);
        }
        let payload = ServerFrame::message(message).to_bytes();
        if let Err(err) = self
            .shared
            .bus
            .publish(&conversation_topic(message.conversation_id), payload)
            .await
        {
            // Stored, so not lost: readers catch up from history.
            tracing::warn!(error = %err, "message stored but not published");
        }
    }
}

/// Stores each message in a transaction of its own: each gets its own answer.
async fn one_by_one(
    store: &dyn Store,
    messages: &[NewMessage<'_>],
) -> Vec<Result<Posted, ServiceError>> {
    let mut results = Vec::with_capacity(messages.len());
    for message in messages {
        results.push(
            store
                .post_message(message)
                .await
                .map_err(ServiceError::from),
        );
    }
    results
}

/// Removes a conversation's lane when its writer ends by a panic.
struct LaneGuard {
    shared: Arc<Shared>,
    conversation_id: Uuid,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.shared.lanes().remove(&self.conversation_id);
        }
    }
}
