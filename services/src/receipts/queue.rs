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
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

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

/// The queue of one process.
#[derive(Default)]
pub(super) struct ReceiptQueue {
    pending: Mutex<HashMap<Key, Marks>>,
    /// Shared with the writer, which outlives no queue: dropping the queue
    /// wakes it to stop.
    wake: Arc<Notify>,
    writer: OnceLock<()>,
}

impl Drop for ReceiptQueue {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
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
        {
            let mut pending = self.lock();
            let marks = pending.entry((conversation_id, user_id)).or_default();
            marks.delivered = marks.delivered.max(delivered);
            marks.read = marks.read.max(read);
        }
        metrics::counter!("chatsphere_receipts_queued_total").increment(1);
        self.writer.get_or_init(|| {
            tokio::spawn(write(
                Arc::downgrade(self),
                self.wake.clone(),
                service.clone(),
            ));
        });
        self.wake.notify_one();
    }

    /// Receipts waiting to be written (for tests and diagnostics).
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The writer: takes everything queued, writes it, publishes what moved;
/// until the queue is dropped.
async fn write(queue: Weak<ReceiptQueue>, wake: Arc<Notify>, service: ReceiptService) {
    loop {
        let batch = {
            let Some(queue) = queue.upgrade() else { return };
            let batch = std::mem::take(&mut *queue.lock());
            batch
        };
        if batch.is_empty() {
            wake.notified().await;
            continue;
        }
        metrics::histogram!("chatsphere_receipt_batch_size").record(batch.len() as f64);
        for ((conversation_id, user_id), marks) in batch {
            if let Err(err) = service
                .apply(user_id, conversation_id, marks.delivered, marks.read)
                .await
            {
                // Positions are hints that the next receipt repeats.
                tracing::warn!(error = %err, "receipt not stored");
            }
        }
    }
}
