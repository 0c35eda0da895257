//! A connection's limits (frame size, connections per user, outgoing
//! queue) and the budget of frames its user spends. Sends are limited per
//! user by the chat service (`CHATSPHERE_SEND_RATE`), over every
//! connection, the REST API and every process: not here.

use services::ratelimit::{Quota, RateLimiter};
use uuid::Uuid;

/// The limits of one connection, all set by configuration
/// (`server/src/config/edge.rs`; the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `CHATSPHERE_WS_MAX_FRAME_BYTES`: largest frame or message accepted
    /// from a client (at least what the longest message body needs).
    pub max_frame_bytes: usize,
    /// `CHATSPHERE_WS_MAX_CONNECTIONS`: open connections one user may have
    /// on one process.
    pub max_connections_per_user: usize,
    /// `CHATSPHERE_WS_QUEUE`: frames waiting to be written to one
    /// connection; a client that lets more pile up (it stopped reading) is
    /// disconnected.
    pub outgoing_queue: usize,
}

impl ConnectionLimits {
    /// Bounds of `CHATSPHERE_WS_MAX_FRAME_BYTES`.
    pub const FRAME_BYTES: std::ops::RangeInclusive<usize> = 4096..=16 * 1024 * 1024;
    /// Bounds of `CHATSPHERE_WS_MAX_CONNECTIONS`.
    pub const CONNECTIONS: std::ops::RangeInclusive<usize> = 1..=10_000;
    /// Bounds of `CHATSPHERE_WS_QUEUE`.
    pub const QUEUE: std::ops::RangeInclusive<usize> = 16..=65_536;

    /// The frame a message of `max_chars` characters needs at most: every
    /// character escaped as `\uXXXX`, plus the frame around it.
    pub fn frame_bytes_for(max_chars: usize) -> usize {
        max_chars * 6 + 1024
    }

    /// The defaults for messages of at most `max_chars` characters.
    pub fn for_messages(max_chars: usize) -> Self {
        Self {
            max_frame_bytes: (64 * 1024).max(Self::frame_bytes_for(max_chars)),
            max_connections_per_user: 16,
            // Room for whole commit batches (up to 256 messages published
            // at once) and a fill: a reading client is never closed for a
            // burst. Unused room costs nothing (the queue grows in blocks).
            outgoing_queue: 1024,
        }
    }
}

/// A user's budget of frames other than messages, shared by all their
/// connections (on every process, when the limiter is Redis).
pub(super) struct FrameBudget {
    limiter: RateLimiter,
    /// `ws:user:<id>`, formatted once.
    key: String,
    /// `None`: budgets are off (`CHATSPHERE_RATE_LIMITS=off`).
    quota: Option<Quota>,
}

impl FrameBudget {
    pub(super) fn new(limiter: RateLimiter, user_id: Uuid, quota: Option<Quota>) -> Self {
        Self {
            limiter,
            key: format!("ws:user:{user_id}"),
            quota,
        }
    }

    /// Spends one frame; `false` when the budget is spent. A limiter that
    /// cannot be asked (Redis down) lets frames through.
    pub(super) async fn spend(&self) -> bool {
        let Some(quota) = self.quota else {
            return true;
        };
        match self.limiter.check(&self.key, quota).await {
            Ok(decision) => {
                if !decision.allowed {
                    metrics::counter!("chatsphere_rate_limited_total", "budget" => "ws_frames")
                        .increment(1);
                }
                decision.allowed
            }
            Err(err) => {
                metrics::counter!("chatsphere_rate_limiter_errors_total").increment(1);
                tracing::warn!(error = %err, "frame budget unavailable; frame allowed");
                true
            }
        }
    }
}
