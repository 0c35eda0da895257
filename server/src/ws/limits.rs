//! The budgets a connection spends: its own sends, and its user's other
//! frames.

use std::time::Instant;

use services::ratelimit::{Quota, RateLimiter};
use uuid::Uuid;

/// Sends allowed: `burst` at once, then `per_second`.
pub(super) struct TokenBucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: Instant,
}

impl TokenBucket {
    pub(super) fn new(burst: u32, per_second: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            rate: f64::from(per_second),
            last: Instant::now(),
        }
    }

    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A user's budget of frames other than messages, shared by all their
/// connections (on every process, when the limiter is Redis).
pub(super) struct FrameBudget {
    limiter: RateLimiter,
    /// `ws:user:<id>`, formatted once.
    key: String,
    quota: Quota,
}

impl FrameBudget {
    pub(super) fn new(limiter: RateLimiter, user_id: Uuid, quota: Quota) -> Self {
        Self {
            limiter,
            key: format!("ws:user:{user_id}"),
            quota,
        }
    }

    /// Spends one frame; `false` when the budget is spent. A limiter that
    /// cannot be asked (Redis down) lets frames through.
    pub(super) async fn spend(&self) -> bool {
        match self.limiter.check(&self.key, self.quota).await {
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
