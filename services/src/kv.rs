//! Shared counters and flags with expiry: in this process by default, in
//! Redis when configured, so that every server process sees the same values
//! (login throttling, the access-token deny list). [`SharedKv::reserve`]
//! takes one unit from several counters at once, atomically, or none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::BusError;

mod reserve;

pub use reserve::{Backoff, Limit, Reservation};

/// Keys kept before expired ones are first swept from the in-process map.
const SWEEP_AT: usize = 10_000;

/// The in-process map: counters with their expiry. Expired entries are
/// swept when the map has doubled since the last sweep (at least
/// [`SWEEP_AT`] keys): with many live keys (a burst of sign-ins from many
/// addresses) a sweep is not repeated on every call, so the cost stays
/// amortised O(1) per call instead of a scan of the whole map each time.
#[derive(Debug)]
pub struct LocalMap {
    entries: HashMap<String, (u64, Instant)>,
    next_sweep: usize,
}

impl Default for LocalMap {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            next_sweep: SWEEP_AT,
        }
    }
}

impl LocalMap {
    /// Drops expired entries, when the map has grown enough since the last time.
    fn sweep(&mut self, now: Instant) {
        if self.entries.len() >= self.next_sweep {
            self.entries.retain(|_, (_, until)| *until > now);
            self.next_sweep = SWEEP_AT.max(self.entries.len() * 2);
        }
    }
}

impl std::ops::Deref for LocalMap {
    type Target = HashMap<String, (u64, Instant)>;
    fn deref(&self) -> &Self::Target {
        &self.entries
    }
}

impl std::ops::DerefMut for LocalMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.entries
    }
}

/// A small key-value store of expiring counters.
#[derive(Clone)]
pub enum SharedKv {
    /// One process: a map behind a mutex.
    Local(Arc<Mutex<LocalMap>>),
    /// Several processes: Redis, keys under `prefix`.
    Redis {
        /// Auto-reconnecting connection.
        conn: ConnectionManager,
        /// Prefix of every key.
        prefix: String,
    },
}

impl SharedKv {
    /// An in-process store.
    pub fn local() -> Self {
        Self::Local(Arc::default())
    }

    /// A store in Redis at `url`, keys prefixed with `prefix`.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self::Redis {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// Whether this is the Redis variant.
    pub fn is_redis(&self) -> bool {
        matches!(self, Self::Redis { .. })
    }

    /// Adds one to `key`, starting it at 1 with lifetime `window` if it is
    /// absent or expired. Returns the new count and the time left.
    pub async fn increment(
        &self,
        key: &str,
        window: Duration,
    ) -> Result<(u64, Duration), BusError> {
        match self {
            Self::Local(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                map.sweep(now);
                let entry = map.entry(key.to_owned()).or_insert((0, now + window));
                if entry.1 <= now {
                    *entry = (0, now + window);
                }
                entry.0 += 1;
                Ok((entry.0, entry.1 - now))
            }
            Self::Redis { conn, prefix } => {
                let key = format!("{prefix}{key}");
                let millis = window.as_millis().max(1) as u64;
                let (count, ttl): (u64, i64) = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(millis)
                    .arg("NX")
                    .ignore()
                    .pttl(&key)
                    .query_async(&mut conn.clone())
                    .await?;
                Ok((count, Duration::from_millis(ttl.max(0) as u64)))
            }
        }
    }

    /// The current count of `key` and its time left (0 and zero if absent).
    pub async fn get(&self, key: &str) -> Result<(u64, Duration), BusError> {
        match self {
            Self::Local(map) => {
                let now = Instant::now();
                let map = map.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(match map.get(key) {
                    Some((count, until)) if *until > now => (*count, *until - now),
                    _ => (0, Duration::ZERO),
                })
            }
            Self::Redis { conn, prefix } => {
                let key = format!("{prefix}{key}");
                let (count, ttl): (Option<u64>, i64) = redis::pipe()
                    .get(&key)
                    .pttl(&key)
                    .query_async(&mut conn.clone())
                    .await?;
                Ok((count.unwrap_or(0), Duration::from_millis(ttl.max(0) as u64)))
            }
        }
    }

    /// Sets `key` to 1 for `ttl` (a flag), extending a shorter remaining life.
    pub async fn flag(&self, key: &str, ttl: Duration) -> Result<(), BusError> {
        match self {
            Self::Local(map) => {
                let until = Instant::now() + ttl;
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = map.entry(key.to_owned()).or_insert((1, until));
                entry.1 = entry.1.max(until);
                Ok(())
            }
            Self::Redis { conn, prefix } => {
                let key = format!("{prefix}{key}");
                let millis = ttl.as_millis().max(1) as u64;
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(millis)
                    .arg("GT")
                    .ignore()
                    .query_async::<()>(&mut conn.clone())
                    .await?;
                Ok(())
            }
        }
    }

    /// Whether any of `keys` is present and unexpired.
    pub async fn any(&self, keys: &[&str]) -> Result<bool, BusError> {
        if keys.is_empty() {
            return Ok(false);
        }
        match self {
            Self::Local(map) => {
                let now = Instant::now();
                let map = map.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(keys
                    .iter()
                    .any(|k| map.get(*k).is_some_and(|(_, until)| *until > now)))
            }
            Self::Redis { conn, prefix } => {
                let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
                let found: u64 = redis::cmd("EXISTS")
                    .arg(&full)
                    .query_async(&mut conn.clone())
                    .await?;
                Ok(found > 0)
            }
        }
    }

    /// Removes `key`.
    pub async fn remove(&self, key: &str) -> Result<(), BusError> {
        match self {
            Self::Local(map) => {
                map.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(key);
                Ok(())
            }
            Self::Redis { conn, prefix } => {
                redis::cmd("DEL")
                    .arg(format!("{prefix}{key}"))
                    .query_async::<()>(&mut conn.clone())
                    .await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_map_sweeps_expired_keys_once_per_doubling_not_on_every_call() {
        let now = Instant::now();
        let mut map = LocalMap::default();
        let live = now + Duration::from_secs(60);
        for i in 0..SWEEP_AT {
            map.insert(format!("live-{i}"), (1, live));
        }
        map.insert("expired".into(), (1, now));
        map.sweep(now);
        assert!(!map.contains_key("expired"), "swept at the threshold");
        assert_eq!(map.len(), SWEEP_AT);
        // Every key is live: the next sweep waits until the map has doubled.
        assert_eq!(map.next_sweep, 2 * SWEEP_AT);
        map.insert("expired".into(), (1, now));
        map.sweep(now);
        assert!(
            map.contains_key("expired"),
            "not swept again before it doubled"
        );
        for i in 0..SWEEP_AT {
            map.insert(format!("more-{i}"), (1, live));
        }
        map.sweep(now);
        assert!(!map.contains_key("expired"));
        assert_eq!(map.next_sweep, 4 * SWEEP_AT);
    }
}
