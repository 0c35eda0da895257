//! Request budgets: the generic cell rate algorithm (GCRA), in this process
//! by default and in Redis when configured, so that every server process
//! draws on the same budget.
//!
//! GCRA keeps one number per key, the *theoretical arrival time* (TAT): the
//! moment the budget would be full again. A request is allowed when
//! `TAT - now <= burst × interval - interval`, and then moves the TAT one
//! `interval` on. In Redis one Lua script reads and writes it atomically,
//! with Redis's clock, so processes with skewed clocks still agree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::kv::SharedKv;
use crate::BusError;

/// Keys kept before expired ones are swept from the in-process map.
const SWEEP_AT: usize = 50_000;

/// The in-process clock starts here (about 12 days), beyond any period.
const LOCAL_EPOCH_MICROS: u64 = 1 << 40;

/// A budget: `burst` requests at once, refilled at `burst` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed at once (and per period).
    pub burst: u32,
    /// The time in which a spent budget refills completely.
    pub period: Duration,
}

impl Quota {
    /// `burst` requests per `period`.
    pub const fn new(burst: u32, period: Duration) -> Self {
        Self { burst, period }
    }

    /// The time one request's share takes to come back.
    pub fn interval(&self) -> Duration {
        self.period / self.burst.max(1)
    }

    /// Parses `N/s`, `N/min`, `N/h`, or `N/<k><unit>` such as `60/2s`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("{raw:?} is not a rate like 60/min, 10/s or 600/h");
        let (count, period) = raw.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let unit_at = period.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (factor, unit) = period.split_at(unit_at);
        let factor: u32 = if factor.is_empty() {
            1
        } else {
            factor.parse().map_err(|_| bad())?
        };
        let unit = match unit {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if burst == 0 || factor == 0 {
            return Err(format!(
                "{raw:?}: the count and the period must be positive"
            ));
        }
        Ok(Self::new(burst, unit * factor))
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// Requests left in the budget after this one.
    pub remaining: u32,
    /// When the budget is full again.
    pub reset_after: Duration,
    /// When a refused request may be retried (zero when allowed).
    pub retry_after: Duration,
}

/// GCRA on microseconds since an arbitrary origin: the decision and the new
/// TAT (unchanged when refused). The Redis script is the same arithmetic.
fn gcra(now: u64, tat: Option<u64>, quota: Quota) -> (Decision, u64) {
    let interval = (quota.interval().as_micros() as u64).max(1);
    let burst = u64::from(quota.burst.max(1));
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let allow_at = new_tat.saturating_sub(burst * interval);
    if now < allow_at {
        let decision = Decision {
            allowed: false,
            remaining: 0,
            reset_after: Duration::from_micros(tat - now),
            retry_after: Duration::from_micros(allow_at - now),
        };
        return (decision, tat);
    }
    let decision = Decision {
        allowed: true,
        remaining: ((now - allow_at) / interval).min(burst) as u32,
        reset_after: Duration::from_micros(new_tat - now),
        retry_after: Duration::ZERO,
    };
    (decision, new_tat)
}

/// GCRA in Redis: KEYS[1] holds the TAT in microseconds of Redis's clock.
/// ARGV: interval (µs), burst. Returns {allowed, remaining, reset µs, retry µs}.
const GCRA_SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
local remaining = math.floor((now - allow_at) / interval)
if remaining > burst then remaining = burst end
return {1, remaining, new_tat - now, 0}
";

/// Request budgets by key (`api:user:<id>`, `auth:ip:<addr>` …).
#[derive(Clone)]
pub enum RateLimiter {
    /// One process: each key's TAT in a map.
    Local {
        /// TAT per key, in microseconds since `origin` plus [`LOCAL_EPOCH_MICROS`].
        tats: Arc<Mutex<HashMap<String, u64>>>,
        /// The map's time origin.
        origin: Instant,
    },
    /// Several processes: the TATs in Redis.
    Redis {
        /// Auto-reconnecting connection (shared with [`SharedKv`]).
        conn: ConnectionManager,
        /// Prefix of every key.
        prefix: String,
        /// The GCRA script (sent by hash, loaded on first use).
        script: Arc<redis::Script>,
    },
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Local { .. } => "RateLimiter::Local",
            Self::Redis { .. } => "RateLimiter::Redis",
        })
    }
}

impl RateLimiter {
    /// A limiter for this process alone.
    pub fn local() -> Self {
        Self::Local {
            tats: Arc::default(),
            origin: Instant::now(),
        }
    }

    /// A limiter on the same backend as `kv`: in-process, or the same Redis.
    pub fn new(kv: &SharedKv) -> Self {
        match kv {
            SharedKv::Local(_) => Self::local(),
            SharedKv::Redis { conn, prefix } => Self::Redis {
                conn: conn.clone(),
                prefix: format!("{prefix}rl:"),
                script: Arc::new(redis::Script::new(GCRA_SCRIPT)),
            },
        }
    }

    /// Spends one request of `key`'s budget under `quota`.
    pub async fn check(&self, key: &str, quota: Quota) -> Result<Decision, BusError> {
        match self {
            Self::Local { tats, origin } => {
                // Offset so that `TAT - burst × interval` never goes below zero.
                let now = origin.elapsed().as_micros() as u64 + LOCAL_EPOCH_MICROS;
                let mut tats = tats.lock().unwrap_or_else(PoisonError::into_inner);
                if tats.len() >= SWEEP_AT {
                    tats.retain(|_, tat| *tat > now);
                }
                let (decision, new_tat) = gcra(now, tats.get(key).copied(), quota);
                if decision.allowed {
                    match tats.get_mut(key) {
                        Some(slot) => *slot = new_tat,
                        None => {
                            tats.insert(key.to_owned(), new_tat);
                        }
                    }
                }
                Ok(decision)
            }
            Self::Redis {
                conn,
                prefix,
                script,
            } => {
                let interval = (quota.interval().as_micros() as u64).max(1);
                let (allowed, remaining, reset, retry): (u8, u64, u64, u64) = script
                    .key(format!("{prefix}{key}"))
                    .arg(interval)
                    .arg(quota.burst.max(1))
                    .invoke_async(&mut conn.clone())
                    .await?;
                Ok(Decision {
                    allowed: allowed == 1,
                    remaining: remaining.min(u64::from(u32::MAX)) as u32,
                    reset_after: Duration::from_micros(reset),
                    retry_after: Duration::from_micros(retry),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn parses_rates() {
        assert_eq!(Quota::parse("60/min"), Ok(Quota::new(60, MINUTE)));
        assert_eq!(
            Quota::parse("10/s"),
            Ok(Quota::new(10, Duration::from_secs(1)))
        );
        assert_eq!(
            Quota::parse(" 60/2s "),
            Ok(Quota::new(60, Duration::from_secs(2)))
        );
        assert_eq!(
            Quota::parse("600/h"),
            Ok(Quota::new(600, Duration::from_secs(3600)))
        );
        for bad in ["", "60", "x/min", "60/fortnight", "0/min", "5/0s", "-1/s"] {
            assert!(Quota::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn gcra_allows_the_burst_then_one_per_interval() {
        let quota = Quota::new(3, Duration::from_secs(3)); // 1 per second
        let second = 1_000_000;
        let mut tat = None;
        let mut now = 10 * second;
        for left in [2, 1, 0] {
            let (d, t) = gcra(now, tat, quota);
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
            tat = Some(t);
        }
        let (refused, t) = gcra(now, tat, quota);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(Some(t), tat, "a refusal does not spend");
        now += second;
        let (d, t) = gcra(now, tat, quota);
        assert!(d.allowed, "one interval later one request is back");
        assert_eq!(d.remaining, 0);
        now += 10 * second;
        let (d, _) = gcra(now, Some(t), quota);
        assert!(d.allowed);
        assert_eq!(d.remaining, 2, "an idle key is full again");
    }

    #[tokio::test]
    async fn local_limiter_keeps_keys_apart() {
        let limiter = RateLimiter::new(&SharedKv::local());
        let quota = Quota::new(2, MINUTE);
        for _ in 0..2 {
            assert!(limiter.check("a", quota).await.unwrap().allowed);
        }
        let refused = limiter.check("a", quota).await.unwrap();
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::from_secs(29));
        assert!(limiter.check("b", quota).await.unwrap().allowed);
    }
}
