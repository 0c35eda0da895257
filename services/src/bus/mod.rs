//! The real-time bus: topics carrying opaque payloads between connections and
//! server processes.
//!
//! The bus is a fast signal, not the source of truth: a subscriber that lags
//! or misses messages (a Redis outage, a slow consumer) catches up from the
//! store by sequence number. Both implementations keep one local
//! `tokio::sync::broadcast` channel per topic with at least one subscriber,
//! so a payload is shared by every local subscriber without copying.
//!
//! - [`InProcessBus`] — one process; the default.
//! - [`RedisBus`] — several processes sharing one Redis (`REDIS_URL`); one
//!   subscriber connection per process feeds the local channels.

mod memory;
mod redis;
mod topics;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::broadcast;

pub use self::redis::RedisBus;
pub use memory::InProcessBus;
pub use topics::Subscription;

/// Errors of the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Redis failed or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// The bus could not confirm a subscription in time.
    #[error("bus unavailable: {0}")]
    Unavailable(&'static str),
}

impl BusError {
    /// Whether Redis could not be reached or its connection broke (the
    /// same call may succeed in a moment), rather than refusing the call.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Redis(err) => {
                err.is_io_error()
                    || err.is_connection_dropped()
                    || err.is_connection_refusal()
                    || err.is_timeout()
                    || err.is_unrecoverable_error()
            }
            Self::Unavailable(_) => true,
        }
    }
}

/// Why [`Subscription::recv`] returned no payload.
pub type RecvError = broadcast::error::RecvError;

/// Which implementation a bus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    /// [`InProcessBus`].
    InProcess,
    /// [`RedisBus`].
    Redis,
}

impl BusKind {
    /// Lowercase name for logs and `/health`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InProcess => "in-process",
            Self::Redis => "redis",
        }
    }
}

/// Publish/subscribe by topic name. Payloads published to a topic reach every
/// subscription to that topic that existed when the publish happened, on
/// every process sharing the bus, in publish order per publisher.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Which implementation this is.
    fn kind(&self) -> BusKind;

    /// Checks that the bus's backing service answers (for `/health`).
    async fn ping(&self) -> Result<(), BusError>;

    /// Sends `payload` to every subscriber of `topic`.
    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError>;

    /// Subscribes to `topic`. When this returns, payloads published to the
    /// topic from then on will be received. Dropping the subscription
    /// unsubscribes.
    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError>;
}

/// Payloads a topic's local channel holds for a slow subscriber before it
/// starts lagging.
pub const TOPIC_CAPACITY: usize = 256;
