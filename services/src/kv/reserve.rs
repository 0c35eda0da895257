//! Reservations: one unit from several counters at once, all or nothing, in
//! one atomic step (one lock in this process, one Lua script in Redis), so
//! that parallel callers can never take more than a counter allows. A caller
//! that did not need its unit gives it back with [`SharedKv::release`].
//!
//! Used by the sign-in throttle: it reserves before it checks a password.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError};
use std::time::{Duration, Instant};

use super::{LocalMap, SharedKv};
use crate::BusError;

/// A counter a reservation takes one unit from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<'a> {
    /// The counter's key.
    pub key: &'a str,
    /// Units it may hold within its window.
    pub max: u64,
}

/// A counter that refuses nothing by its count, but past `after` units in
/// its window spaces reservations out: each further one starts a pause of
/// `base` × 2^(count − `after`), at most the window, during which the next
/// is refused. While it backs off, every reservation restarts its window, so
/// a steady stream stays slowed down instead of starting over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff<'a> {
    /// The counter's key; its pause lives at `<key>:pause`.
    pub key: &'a str,
    /// Units taken freely per window before the pauses start.
    pub after: u64,
    /// The first pause.
    pub base: Duration,
}

impl Backoff<'_> {
    /// The pause started by the reservation that brought the count to `count`.
    pub fn pause(&self, count: u64, window: Duration) -> Option<Duration> {
        let doublings = count.checked_sub(self.after)?.min(40) as u32;
        Some(
            self.base
                .saturating_mul(2u32.saturating_pow(doublings))
                .min(window),
        )
    }

    fn pause_key(&self) -> String {
        format!("{}:pause", self.key)
    }
}

/// What a reservation gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Every counter took one unit. `filled` is the first counter this
    /// reservation brought to its maximum (its index among the limits; the
    /// number of limits when the back-off began), for a log line.
    Granted {
        /// The counter that is full from now on, if any.
        filled: Option<usize>,
    },
    /// Nothing was taken: counter `by` (an index among the limits; the
    /// number of limits for the back-off's pause) refuses for `retry_after`.
    Refused {
        /// The counter that refused.
        by: usize,
        /// When it takes reservations again.
        retry_after: Duration,
    },
}

/// The same steps as the in-process code below, in Redis.
/// KEYS: the limits' counters, then (with a back-off) its counter and pause.
/// ARGV: window in ms, the number of limits, their maxima, then (with a
/// back-off) its `after` and its base pause in ms.
/// Returns {granted (0/1), index (filled or refusing; -1 for none), retry ms}.
const RESERVE_SCRIPT: &str = r"
local window = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local function left(key)
  local ttl = redis.call('PTTL', key)
  if ttl < 1 then return window end
  return ttl
end
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 + i]) then
    return {0, i - 1, left(KEYS[i])}
  end
end
local backoff = #KEYS > n
if backoff and redis.call('EXISTS', KEYS[n + 2]) == 1 then
  return {0, n, left(KEYS[n + 2])}
end
local filled = -1
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], window, 'NX')
  if count == tonumber(ARGV[2 + i]) and filled < 0 then filled = i - 1 end
end
if backoff then
  local after = tonumber(ARGV[3 + n])
  local count = redis.call('INCR', KEYS[n + 1])
  if count >= after then
    redis.call('PEXPIRE', KEYS[n + 1], window)
    local pause = math.min(window, tonumber(ARGV[4 + n]) * 2 ^ math.min(count - after, 40))
    redis.call('SET', KEYS[n + 2], '1', 'PX', string.format('%d', math.max(1, pause)))
    if count == after and filled < 0 then filled = n end
  else
    redis.call('PEXPIRE', KEYS[n + 1], window, 'NX')
  end
end
return {1, filled, 0}
";

/// Gives one unit back to each counter that has one (never below zero, never
/// creating a counter, keeping its expiry).
const RELEASE_SCRIPT: &str = r"
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
";

static RESERVE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RESERVE_SCRIPT));
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE_SCRIPT));

fn millis(duration: Duration) -> u64 {
    (duration.as_millis() as u64).max(1)
}

impl SharedKv {
    /// Takes one unit from every counter of `limits` and from `backoff`, or
    /// from none of them when one is full or pausing. A counter starts with
    /// its first unit and lives `window`.
    pub async fn reserve(
        &self,
        limits: &[Limit<'_>],
        backoff: Option<Backoff<'_>>,
        window: Duration,
    ) -> Result<Reservation, BusError> {
        match self {
            Self::Local(map) => {
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(reserve_local(&mut map, limits, backoff, window))
            }
            Self::Redis { conn, prefix } => {
                let mut invocation = RESERVE.prepare_invoke();
                for limit in limits {
                    invocation.key(format!("{prefix}{}", limit.key));
                }
                if let Some(backoff) = &backoff {
                    invocation.key(format!("{prefix}{}", backoff.key));
                    invocation.key(format!("{prefix}{}", backoff.pause_key()));
                }
                invocation.arg(millis(window)).arg(limits.len());
                for limit in limits {
                    invocation.arg(limit.max);
                }
                if let Some(backoff) = &backoff {
                    invocation.arg(backoff.after).arg(millis(backoff.base));
                }
                let (granted, index, retry): (u8, i64, u64) =
                    invocation.invoke_async(&mut conn.clone()).await?;
                let index = usize::try_from(index).ok();
                Ok(match (granted, index) {
                    (1, filled) => Reservation::Granted { filled },
                    (_, by) => Reservation::Refused {
                        by: by.unwrap_or(0),
                        retry_after: Duration::from_millis(retry),
                    },
                })
            }
        }
    }

    /// Gives back one unit to each of `keys` that holds one.
    pub async fn release(&self, keys: &[&str]) -> Result<(), BusError> {
        if keys.is_empty() {
            return Ok(());
        }
        match self {
            Self::Local(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                for key in keys {
                    if let Some((count, until)) = map.get_mut(*key) {
                        if *until > now {
                            *count = count.saturating_sub(1);
                        }
                    }
                }
                Ok(())
            }
            Self::Redis { conn, prefix } => {
                let mut invocation = RELEASE.prepare_invoke();
                for key in keys {
                    invocation.key(format!("{prefix}{key}"));
                }
                invocation.invoke_async::<()>(&mut conn.clone()).await?;
                Ok(())
            }
        }
    }
}

/// The reservation on the in-process map, under its lock.
fn reserve_local(
    map: &mut LocalMap,
    limits: &[Limit<'_>],
    backoff: Option<Backoff<'_>>,
    window: Duration,
) -> Reservation {
    let now = Instant::now();
    map.sweep(now);
    let live = |map: &HashMap<String, (u64, Instant)>, key: &str| {
        map.get(key).copied().filter(|(_, until)| *until > now)
    };
    for (by, limit) in limits.iter().enumerate() {
        let (count, until) = live(map, limit.key).unwrap_or((0, now + window));
        if count >= limit.max {
            return Reservation::Refused {
                by,
                retry_after: until - now,
            };
        }
    }
    let pause_key = backoff.as_ref().map(Backoff::pause_key);
    if let Some((_, until)) = pause_key.as_deref().and_then(|key| live(map, key)) {
        return Reservation::Refused {
            by: limits.len(),
            retry_after: until - now,
        };
    }
    let mut take = |key: &str| {
        let entry = map.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        entry.0
    };
    let mut filled = None;
    for (index, limit) in limits.iter().enumerate() {
        if take(limit.key) == limit.max && filled.is_none() {
            filled = Some(index);
        }
    }
    if let (Some(backoff), Some(pause_key)) = (backoff, pause_key) {
        let count = take(backoff.key);
        if let Some(pause) = backoff.pause(count, window) {
            if let Some(entry) = map.get_mut(backoff.key) {
                entry.1 = now + window;
            }
            map.insert(pause_key, (1, now + pause));
            if count == backoff.after && filled.is_none() {
                filled = Some(limits.len());
            }
        }
    }
    Reservation::Granted { filled }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_the_base_up_to_the_window() {
        let backoff = Backoff {
            key: "k",
            after: 3,
            base: Duration::from_secs(1),
        };
        let window = Duration::from_secs(900);
        assert_eq!(backoff.pause(2, window), None);
        assert_eq!(backoff.pause(3, window), Some(Duration::from_secs(1)));
        assert_eq!(backoff.pause(5, window), Some(Duration::from_secs(4)));
        assert_eq!(backoff.pause(20, window), Some(window));
        assert_eq!(backoff.pause(u64::MAX, window), Some(window));
    }
}
