//! The deliveries of outgoing webhooks: the [`DeliveryStore`] part of a
//! store. A delivery is queued by the process that stored its message and
//! claimed, for a lease, by whichever process's sender is free first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::integrations::outgoing::{DeliveryStatus, HookDelivery};
use uuid::Uuid;

use super::StoreError;

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Its id.
    pub id: Uuid,
    /// The outgoing webhook.
    pub hook_id: Uuid,
    /// The message it sends.
    pub message_id: Uuid,
    /// The JSON body to post.
    pub payload: String,
    /// When (also when its first attempt is due).
    pub created_at: DateTime<Utc>,
}

/// A delivery claimed for an attempt.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// Its id.
    pub id: Uuid,
    /// The outgoing webhook.
    pub hook_id: Uuid,
    /// The message it sends.
    pub message_id: Uuid,
    /// The JSON body to post.
    pub payload: String,
    /// Attempts made, this one included (counted when claimed, so an
    /// attempt that never finishes still counts).
    pub attempts: u32,
    /// The claim's lease: the outcome is recorded only while it holds.
    pub lease_until: DateTime<Utc>,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// Where the delivery now stands.
    pub status: DeliveryStatus,
    /// The answer's HTTP status, if one came.
    pub response_status: Option<u16>,
    /// What went wrong, or what became of a reply.
    pub error: Option<String>,
    /// When to try again (pending only).
    pub next_at: Option<DateTime<Utc>>,
    /// When it ended (delivered or failed).
    pub done_at: Option<DateTime<Utc>>,
}

/// Storage of outgoing webhooks' deliveries.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Queues deliveries, due at once; those of a hook deleted meanwhile
    /// (a process may not have heard yet) are left out, not an error.
    async fn queue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<(), StoreError>;

    /// Claims up to `limit` pending deliveries due at `now` that no live
    /// lease holds, earliest first, leasing them until `lease_until` and
    /// counting the attempt; a delivery is never claimed by two senders at
    /// once. No more than `per_hook` of one hook's are leased at a time
    /// (those leased already count), so a slow receiver holds a few
    /// senders, not all of them: the others' deliveries go meanwhile.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        per_hook: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Records an attempt and releases the lease, if the claim's lease
    /// (`lease_until`) still holds it (a sender whose lease ran out, and
    /// whose delivery another claimed, records nothing). An ended
    /// delivery's body is forgotten.
    async fn record_attempt(
        &self,
        id: Uuid,
        lease_until: DateTime<Utc>,
        attempt: &Attempted,
    ) -> Result<(), StoreError>;

    /// A hook's deliveries, newest first, at most `limit`.
    async fn deliveries(&self, hook_id: Uuid, limit: u32) -> Result<Vec<HookDelivery>, StoreError>;

    /// Forgets up to `limit` deliveries that ended before `before`; how many.
    async fn prune_deliveries(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError>;
}

/// The status column read back.
pub(crate) fn status(text: &str) -> Result<DeliveryStatus, StoreError> {
    DeliveryStatus::from_stored(text)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery status {text:?}")))
}
