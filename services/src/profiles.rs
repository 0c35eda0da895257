//! Users' public profiles (username and display name), cached: every typing
//! notice carries the typist's name, a direct conversation checks that the
//! other user exists, and profiles change rarely.
//!
//! The cache is a [`SharedCache`]: in-process, bounded, entries live
//! [`TTL`]; a profile change removes the entry here and, through the bus, on
//! every other process ([`INVALIDATION_TOPIC`]), so a new display name shows
//! at once everywhere. Only profiles that exist are cached. Correctness
//! never depends on the cache (see [`crate::cache`]).

use std::sync::Arc;
use std::time::Duration;

use domain::UserSummary;
use moka::sync::Cache;
use uuid::Uuid;

use crate::bus::Bus;
use crate::cache::{CacheSpec, SharedCache};
use crate::store::Store;
use crate::ServiceError;

/// The bus topic of profile invalidations (the user id).
pub const INVALIDATION_TOPIC: &str = "cache:profiles";
/// How long a profile is kept.
pub const TTL: Duration = Duration::from_secs(60);
/// Most profiles kept.
pub const CAPACITY: u64 = 100_000;

type Profile = Option<UserSummary>;

/// Cached public profiles over the store.
#[derive(Clone)]
pub struct Profiles {
    store: Arc<dyn Store>,
    cache: SharedCache<Uuid, Profile, Uuid>,
}

fn forget(cache: &Cache<Uuid, Profile>, user_id: &Uuid) {
    cache.invalidate(user_id);
}

impl Profiles {
    /// The profiles of `store`, invalidated through `bus`. Call
    /// [`Profiles::listen`] once, in the runtime, to take part in
    /// cross-process invalidation; until then nothing is cached.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        let spec = CacheSpec {
            name: "profiles",
            topic: INVALIDATION_TOPIC,
            ttl: TTL,
            capacity: CAPACITY,
            forget,
        };
        Self {
            store,
            cache: SharedCache::new(spec, bus),
        }
    }

    /// The user's public profile; `None` if there is no such user.
    pub async fn get(&self, user_id: Uuid) -> Result<Profile, ServiceError> {
        let load = async {
            let user = self.store.user_by_id(user_id).await?;
            Ok::<_, ServiceError>(user.map(|u| UserSummary {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
            }))
        };
        self.cache.get_or_load(user_id, load, Option::is_some).await
    }

    /// The name others see; empty for an unknown user.
    pub async fn display_name(&self, user_id: Uuid) -> Result<String, ServiceError> {
        Ok(self
            .get(user_id)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_default())
    }

    /// The user's profile changed (after the change is committed):
    /// forgotten here at once, and on every other process when the bus
    /// delivers it.
    pub async fn changed(&self, user_id: Uuid) {
        self.cache.changed(user_id).await;
    }

    /// Applies invalidations published by other processes, for as long as
    /// the process runs. Caching is on only while subscribed.
    pub fn listen(&self) {
        self.cache.listen();
    }

    /// Whether profiles are being cached (tests).
    pub fn is_caching(&self) -> bool {
        self.cache.is_caching()
    }
}
