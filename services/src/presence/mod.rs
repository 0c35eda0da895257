//! Who is online: users with at least one open WebSocket connection on any
//! server process, and the announcements when that changes.
//!
//! - A user comes **online** with their first connection anywhere.
//! - They go **offline** [`PresenceConfig::grace`] after their last
//!   connection closed (a page reload or a network blip is not a change).
//! - A process that crashes stops refreshing its Redis entries; they expire
//!   after [`PresenceConfig::ttl`] and another process announces the users
//!   offline (see [`redis`]). In one process a counter per user is enough.
//!
//! Each transition is announced once: the user's last-seen time is stored
//! and a `presence` event goes to the members of their direct and group
//! conversations (not to everyone, and not to rooms).

mod redis;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use tokio::task::AbortHandle;
use uuid::Uuid;

use self::redis::RedisPresence;
use crate::bus::Bus;
use crate::events::{PresenceBroadcast, PRESENCE_TOPIC};
use crate::store::Store;
use crate::BusError;
use domain::protocol::ServerFrame;

/// Timings of presence.
#[derive(Debug, Clone, Copy)]
pub struct PresenceConfig {
    /// How long after their last connection closed a user stays online.
    pub grace: Duration,
    /// How long a process's Redis entry lives without a refresh.
    pub ttl: Duration,
    /// How often a process refreshes its entries and sweeps expired ones.
    pub refresh: Duration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(15),
            ttl: Duration::from_secs(60),
            refresh: Duration::from_secs(20),
        }
    }
}

/// A user's presence as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Who.
    pub user_id: Uuid,
    /// Online now.
    pub online: bool,
    /// When last seen (`None`: never connected).
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// The presence registry of this process.
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    config: PresenceConfig,
    /// Users connected to this process (or within their grace period).
    here: Mutex<HashMap<Uuid, Here>>,
    shared: Option<RedisPresence>,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    refresher: Mutex<Option<AbortHandle>>,
    halted: AtomicBool,
}

#[derive(Debug, Default)]
struct Here {
    connections: usize,
    /// Changes with every connection, so a pending "went offline" that a
    /// new connection overtook does nothing.
    generation: u64,
}

/// Keeps a user counted as connected until dropped.
pub struct PresenceGuard {
    presence: Presence,
    user: Uuid,
}

impl Presence {
    /// Presence within this process only.
    pub fn local(store: Arc<dyn Store>, bus: Arc<dyn Bus>, config: PresenceConfig) -> Self {
        Self::with(None, store, bus, config)
    }

    /// Presence shared through Redis at `url` (keys under `prefix`), with
    /// the task that refreshes this process's entries and sweeps expired ones.
    pub async fn redis(
        url: &str,
        prefix: &str,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        config: PresenceConfig,
    ) -> Result<Self, BusError> {
        let shared = RedisPresence::connect(url, prefix).await?;
        let presence = Self::with(Some(shared), store, bus, config);
        let refresher = presence.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(config.refresh);
            loop {
                tick.tick().await;
                if let Err(err) = refresher.refresh().await {
                    tracing::warn!(error = %err, "presence refresh failed; will retry");
                }
            }
        });
        *presence
            .inner
            .refresher
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(task.abort_handle());
        Ok(presence)
    }

    fn with(
        shared: Option<RedisPresence>,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        config: PresenceConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                here: Mutex::default(),
                shared,
                store,
                bus,
                refresher: Mutex::default(),
                halted: AtomicBool::new(false),
            }),
        }
    }

    /// Counts a connection of `user` until the guard is dropped; announces
    /// the user online if this is their first connection anywhere.
    pub async fn connected(&self, user: Uuid) -> PresenceGuard {
        let arrived = {
            let mut here = self.lock();
            let arrived = !here.contains_key(&user);
            let entry = here.entry(user).or_default();
            entry.connections += 1;
            entry.generation += 1;
            arrived
        };
        if arrived {
            let came_online = match &self.inner.shared {
                None => true,
                Some(shared) => {
                    let now = now_millis();
                    match shared
                        .up(user, now, now + millis(self.inner.config.ttl))
                        .await
                    {
                        Ok(was_online) => !was_online,
                        Err(err) => {
                            tracing::warn!(error = %err, "presence not shared");
                            true
                        }
                    }
                }
            };
            if came_online {
                // Before the connection follows anything: its own "online"
                // is not echoed back to it.
                self.announce(user, true).await;
            }
        }
        PresenceGuard {
            presence: self.clone(),
            user,
        }
    }

    /// The users online on any process.
    pub async fn online(&self) -> Result<HashSet<Uuid>, BusError> {
        match &self.inner.shared {
            None => Ok(self.lock().keys().copied().collect()),
            Some(shared) => shared.online(now_millis()).await,
        }
    }

    /// Those of `users` who are online.
    pub async fn online_among(&self, users: &[Uuid]) -> Result<HashSet<Uuid>, crate::ServiceError> {
        Ok(match &self.inner.shared {
            None => {
                let here = self.lock();
                users
                    .iter()
                    .filter(|u| here.contains_key(u))
                    .copied()
                    .collect()
            }
            Some(shared) => shared.online_among(users, now_millis()).await?,
        })
    }

    /// Whether each of `users` is online, and when they were last seen.
    pub async fn status(&self, users: &[Uuid]) -> Result<Vec<Status>, crate::ServiceError> {
        let online = self.online_among(users).await?;
        let seen = self.inner.store.last_seen(users).await?;
        Ok(users
            .iter()
            .map(|user| Status {
                user_id: *user,
                online: online.contains(user),
                last_seen_at: seen.get(user).copied(),
            })
            .collect())
    }

    /// A user's presence as `viewer` may see it: their own, or that of
    /// someone they share a direct or group conversation with ("not found"
    /// otherwise: sharing a public room is not enough).
    pub async fn of_contact(
        &self,
        viewer: Uuid,
        user: Uuid,
    ) -> Result<Status, crate::ServiceError> {
        if viewer != user
            && self
                .inner
                .store
                .contacts_among(viewer, &[user])
                .await?
                .is_empty()
        {
            return Err(crate::ServiceError::NotFound("user"));
        }
        let mut status = self.status(&[user]).await?;
        status.pop().ok_or(crate::ServiceError::NotFound("user"))
    }

    /// Stops refreshing and forgets this process's connections without
    /// telling anyone, as a crashed process would (for tests of expiry).
    pub fn halt(&self) {
        self.inner.halted.store(true, Ordering::SeqCst);
        if let Some(task) = self
            .inner
            .refresher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Here>> {
        self.inner
            .here
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Refreshes every local user's entry, then takes users whose entries
    /// all expired (a crashed process's) offline.
    async fn refresh(&self) -> Result<(), BusError> {
        let Some(shared) = &self.inner.shared else {
            return Ok(());
        };
        let users: Vec<Uuid> = self.lock().keys().copied().collect();
        let now = now_millis();
        let expiry = now + millis(self.inner.config.ttl);
        for user in users {
            shared.up(user, now, expiry).await?;
        }
        for user in shared.sweep(now).await? {
            self.announce(user, false).await;
        }
        Ok(())
    }

    /// A connection closed: after the grace period, if the user has not
    /// reconnected here, removes them and announces them offline unless
    /// they are still connected to another process.
    fn disconnected(&self, user: Uuid) {
        if self.inner.halted.load(Ordering::SeqCst) {
            return;
        }
        let generation = {
            let mut here = self.lock();
            let Some(entry) = here.get_mut(&user) else {
                return;
            };
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections > 0 {
                return;
            }
            entry.generation
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let presence = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(presence.inner.config.grace).await;
            let gone = {
                let mut here = presence.lock();
                match here.get(&user) {
                    Some(e) if e.connections == 0 && e.generation == generation => {
                        here.remove(&user);
                        true
                    }
                    _ => false,
                }
            };
            if !gone || presence.inner.halted.load(Ordering::SeqCst) {
                return;
            }
            let elsewhere = match &presence.inner.shared {
                None => false,
                Some(shared) => shared.down(user, now_millis()).await.unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "presence entry not removed; it expires by itself");
                    true
                }),
            };
            if !elsewhere {
                presence.announce(user, false).await;
            }
        });
    }

    /// Records the last-seen time and tells the user's contacts.
    async fn announce(&self, user: Uuid, online: bool) {
        let now = Utc::now();
        if let Err(err) = self.inner.store.set_last_seen(user, now).await {
            tracing::warn!(error = %err, "last-seen time not stored");
        }
        let audience = match self.inner.store.presence_audience(user).await {
            Ok(audience) => audience,
            Err(err) => {
                tracing::warn!(error = %err, "presence change not announced");
                return;
            }
        };
        if audience.is_empty() {
            return;
        }
        let event = ServerFrame::Presence {
            user_id: user,
            online,
            last_seen_at: now,
        };
        // One publication for every conversation: each connection hears it once.
        let payload = PresenceBroadcast::to_bytes(&audience, &event);
        if let Err(err) = self.inner.bus.publish(PRESENCE_TOPIC, payload).await {
            tracing::warn!(error = %err, "presence change not published");
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

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
