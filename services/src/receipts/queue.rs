//! Receipts from live connections, coalesced and written in batches.
//!
//! Positions only move forward, so of a member's receipts for one
//! conversation only the highest matters. A connection hands its receipts
//! to the queue without waiting; one writer per process takes everything
//! queued at once, writes it, and publishes what moved. Receipts that
//! arrive while a batch is being written wait for the next one, so a burst
//! of receipts costs a few writes, not one each, and no connection waits
//! on the database to read its next frame.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use uuid::Uuid;

use super::ReceiptService;

/// The highest positions queued for one member of one conversation.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    delivered: i64,
    read: i64,
}

type Key = (Uuid, Uuid);

/// Longest pause before writing again after a failed write.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The queue of one process. Its writer lives as long as the process.
#[derive(Default)]
pub(super) struct ReceiptQueue {
    pending: Mutex<HashMap<Key, Marks>>,
    wake: Notify,
    writer: OnceLock<()>,
}

impl ReceiptQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Marks>> {
        // Every critical section is one insert or one take.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a receipt; the writer starts with the first one.
    pub(super) fn push(
        self: &Arc<Self>,
        service: &ReceiptService,
        user_id: Uuid,
        conversation_id: Uuid,
        delivered: i64,
        read: i64,
    ) {
        self.merge((conversation_id, user_id), Marks { delivered, read });
        metrics::counter!("chatsphere_receipts_queued_total").increment(1);
        self.writer.get_or_init(|| {
            tokio::spawn(write(self.clone(), service.clone()));
        });
        self.wake.notify_one();
    }

    /// Keeps the highest of what is queued and `marks`.
    fn merge(&self, key: Key, marks: Marks) {
        let mut pending = self.lock();
        let queued = pending.entry(key).or_default();
        queued.delivered = queued.delivered.max(marks.delivered);
        queued.read = queued.read.max(marks.read);
    }

    /// Receipts waiting to be written (for tests and diagnostics).
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The writer: takes everything queued, writes it, publishes what moved.
/// What could not be written goes back into the queue (merged with what
/// came meanwhile) and is tried again after a pause: a receipt is sent
/// once, for the last message on screen, and must not be lost to a blip of
/// the database.
async fn write(queue: Arc<ReceiptQueue>, service: ReceiptService) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let batch = std::mem::take(&mut *queue.lock());
        if batch.is_empty() {
            queue.wake.notified().await;
            continue;
        }
        metrics::histogram!("chatsphere_receipt_batch_size").record(batch.len() as f64);
        let mut failed = 0;
        for ((conversation_id, user_id), marks) in batch {
            if let Err(err) = service
                .apply(user_id, conversation_id, marks.delivered, marks.read)
                .await
            {
                failed += 1;
                tracing::warn!(error = %err, "receipt not stored yet; trying again");
                queue.merge((conversation_id, user_id), marks);
            }
        }
        if failed > 0 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = Duration::from_millis(100);
        }
    }
}
