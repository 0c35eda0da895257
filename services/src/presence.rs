//! Who is online: users with at least one open WebSocket connection on any
//! server process.
//!
//! In one process a counter per user is enough. With Redis, each process
//! keeps `<user>:<process>` entries in one sorted set scored by expiry and
//! refreshes its own every [`REFRESH`]; a process that crashes stops
//! refreshing and its users drop out after [`TTL`] instead of staying online
//! forever.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::BusError;

/// How long a process's entry stays valid without a refresh.
pub const TTL: Duration = Duration::from_secs(60);
/// How often a process refreshes its entries.
pub const REFRESH: Duration = Duration::from_secs(20);

#[derive(Clone)]
enum Shared {
    Local,
    Redis {
        conn: ConnectionManager,
        key: String,
        process: Uuid,
    },
}

/// The presence registry of this process.
#[derive(Clone)]
pub struct Presence {
    local: Arc<Mutex<HashMap<Uuid, usize>>>,
    shared: Shared,
}

/// Keeps a user counted as connected until dropped.
pub struct PresenceGuard {
    presence: Presence,
    user: Uuid,
}

impl Presence {
    /// Presence within this process only.
    pub fn local() -> Self {
        Self {
            local: Arc::default(),
            shared: Shared::Local,
        }
    }

    /// Presence shared through Redis at `url` (keys under `prefix`), and the
    /// refresh task that keeps this process's entries alive.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, BusError> {
        let conn = ConnectionManager::new(redis::Client::open(url)?).await?;
        let presence = Self {
            local: Arc::default(),
            shared: Shared::Redis {
                conn,
                key: format!("{prefix}presence"),
                process: Uuid::now_v7(),
            },
        };
        let refresher = presence.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            loop {
                tick.tick().await;
                if let Err(err) = refresher.refresh().await {
                    tracing::warn!(error = %err, "presence refresh failed; will retry");
                }
            }
        });
        Ok(presence)
    }

    /// Counts a connection of `user` until the guard is dropped.
    pub async fn connected(&self, user: Uuid) -> PresenceGuard {
        let first = {
            let mut map = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            let count = map.entry(user).or_insert(0);
            *count += 1;
            *count == 1
        };
        if first {
            if let Err(err) = self.publish(&[user]).await {
                tracing::warn!(error = %err, "presence not shared");
            }
        }
        PresenceGuard {
            presence: self.clone(),
            user,
        }
    }

    /// The users online on any process.
    pub async fn online(&self) -> Result<HashSet<Uuid>, BusError> {
        match &self.shared {
            Shared::Local => Ok(self
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .keys()
                .copied()
                .collect()),
            Shared::Redis { conn, key, .. } => {
                let now = now_millis();
                let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                    .arg(key)
                    .arg(now)
                    .arg("+inf")
                    .query_async(&mut conn.clone())
                    .await?;
                Ok(members
                    .iter()
                    .filter_map(|m| m.split(':').next()?.parse().ok())
                    .collect())
            }
        }
    }

    /// Re-announces every locally connected user and prunes expired entries.
    async fn refresh(&self) -> Result<(), BusError> {
        let users: Vec<Uuid> = self
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect();
        self.publish(&users).await?;
        if let Shared::Redis { conn, key, .. } = &self.shared {
            redis::cmd("ZREMRANGEBYSCORE")
                .arg(key)
                .arg("-inf")
                .arg(now_millis())
                .query_async::<()>(&mut conn.clone())
                .await?;
        }
        Ok(())
    }

    async fn publish(&self, users: &[Uuid]) -> Result<(), BusError> {
        let Shared::Redis { conn, key, process } = &self.shared else {
            return Ok(());
        };
        if users.is_empty() {
            return Ok(());
        }
        let expiry = now_millis() + TTL.as_millis() as u64;
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(key);
        for user in users {
            cmd.arg(expiry).arg(format!("{user}:{process}"));
        }
        cmd.query_async::<()>(&mut conn.clone()).await?;
        Ok(())
    }

    fn disconnected(&self, user: Uuid) {
        let last = {
            let mut map = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            match map.get_mut(&user) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    map.remove(&user);
                    true
                }
                None => false,
            }
        };
        if let (true, Shared::Redis { conn, key, process }) = (last, &self.shared) {
            let (mut conn, key, member) = (conn.clone(), key.clone(), format!("{user}:{process}"));
            tokio::spawn(async move {
                let removed: Result<(), _> = redis::cmd("ZREM")
                    .arg(&key)
                    .arg(&member)
                    .query_async(&mut conn)
                    .await;
                if let Err(err) = removed {
                    tracing::warn!(error = %err, "presence entry not removed; it expires by itself");
                }
            });
        }
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.presence.disconnected(self.user);
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
