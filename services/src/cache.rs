//! An in-process cache over the store whose entries are invalidated on every
//! server process through the bus: the shared machinery of the membership
//! ([`crate::members`]) and profile ([`crate::profiles`]) caches.
//!
//! Each cache is bounded and its entries live a fixed time; a change removes
//! the entry here and publishes an invalidation on the cache's topic, which
//! every other process applies when the bus delivers it. The cache is only
//! an optimisation:
//! - an answer read from the store while an invalidation arrived is not
//!   cached (an epoch counter detects it), so no stale answer outlives a
//!   change it raced with;
//! - until this process listens for invalidations, and after it lost them
//!   (the subscription lagged or closed, or a message did not parse),
//!   nothing is cached and the cache is emptied;
//! - the time to live bounds how long an invalidation lost inside Redis
//!   could leave an answer stale.

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use serde::{de::DeserializeOwned, Serialize};

use crate::bus::{Bus, RecvError};

/// What a cache is: its name (a metrics label), its bus topic, its bounds,
/// and how an invalidation message removes entries.
pub struct CacheSpec<K, V, I> {
    /// The `cache` label of the hit and miss counters.
    pub name: &'static str,
    /// The bus topic invalidations travel on.
    pub topic: &'static str,
    /// How long an answer is kept.
    pub ttl: Duration,
    /// Most answers kept.
    pub capacity: u64,
    /// Removes what an invalidation names.
    pub forget: fn(&Cache<K, V>, &I),
}

/// A cache of `K → V`, invalidated across processes by messages `I`.
pub struct SharedCache<K, V, I> {
    bus: Arc<dyn Bus>,
    inner: Arc<Inner<K, V, I>>,
}

impl<K, V, I> Clone for SharedCache<K, V, I> {
    fn clone(&self) -> Self {
        Self {
            bus: self.bus.clone(),
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K, V, I> {
    spec: CacheSpec<K, V, I>,
    cache: Cache<K, V>,
    /// Bumped by every invalidation seen.
    epoch: AtomicU64,
    /// Whether invalidations from other processes reach us.
    listening: AtomicBool,
}

impl<K, V, I> SharedCache<K, V, I>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    I: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// An empty cache, invalidated through `bus`. Call
    /// [`SharedCache::listen`] once, in the runtime, to take part in
    /// cross-process invalidation; until then nothing is cached.
    pub fn new(spec: CacheSpec<K, V, I>, bus: Arc<dyn Bus>) -> Self {
        let cache = Cache::builder()
            .max_capacity(spec.capacity)
            .time_to_live(spec.ttl)
            .support_invalidation_closures()
            .build();
        Self {
            bus,
            inner: Arc::new(Inner {
                spec,
                cache,
                epoch: AtomicU64::new(0),
                listening: AtomicBool::new(false),
            }),
        }
    }

    /// The cached answer for `key`, or the one `load` reads (kept when
    /// `keep` accepts it and nothing changed meanwhile).
    pub async fn get_or_load<E, F>(
        &self,
        key: K,
        load: F,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        let name = self.inner.spec.name;
        if let Some(value) = self.inner.cache.get(&key) {
            metrics::counter!("chatsphere_cache_hits_total", "cache" => name).increment(1);
            return Ok(value);
        }
        metrics::counter!("chatsphere_cache_misses_total", "cache" => name).increment(1);
        let epoch = self.inner.epoch.load(Ordering::Acquire);
        let value = load.await?;
        if keep(&value)
            && self.inner.listening.load(Ordering::Acquire)
            && self.inner.epoch.load(Ordering::Acquire) == epoch
        {
            self.inner.cache.insert(key, value.clone());
        }
        Ok(value)
    }

    /// Something changed (after the change is committed): forgotten here at
    /// once, and on every other process when the bus delivers it.
    pub async fn changed(&self, change: I) {
        self.apply(&change);
        let payload = match serde_json::to_vec(&change) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::error!(error = %err, cache = self.inner.spec.name, "invalidation not serializable");
                return;
            }
        };
        if let Err(err) = self
            .bus
            .publish(self.inner.spec.topic, payload.into())
            .await
        {
            // Other processes keep the old answer for at most the TTL.
            tracing::warn!(error = %err, cache = self.inner.spec.name, "invalidation not published");
        }
    }

    fn apply(&self, change: &I) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        (self.inner.spec.forget)(&self.inner.cache, change);
    }

    fn forget_everything(&self) {
        self.inner.listening.store(false, Ordering::Release);
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.cache.invalidate_all();
    }

    /// Applies invalidations published by other processes, for as long as
    /// the process runs (re-subscribing after a failure). Caching is on
    /// only while subscribed.
    pub fn listen(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let name = this.inner.spec.name;
            loop {
                match this.bus.subscribe(this.inner.spec.topic).await {
                    Ok(mut subscription) => {
                        this.inner.listening.store(true, Ordering::Release);
                        loop {
                            match subscription.recv().await {
                                Ok(bytes) => match serde_json::from_slice::<I>(&bytes) {
                                    Ok(change) => this.apply(&change),
                                    Err(_) => {
                                        this.forget_everything();
                                        this.inner.listening.store(true, Ordering::Release);
                                    }
                                },
                                Err(RecvError::Lagged(_)) => {
                                    // Some were missed: start over, still listening.
                                    this.forget_everything();
                                    this.inner.listening.store(true, Ordering::Release);
                                }
                                Err(RecvError::Closed) => break,
                            }
                        }
                        this.forget_everything();
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, cache = name, "cannot listen for invalidations; not caching");
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Whether answers are being cached.
    pub fn is_caching(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::bus::InProcessBus;

    type Counts = SharedCache<u32, u32, u32>;

    fn forget(cache: &Cache<u32, u32>, key: &u32) {
        cache.invalidate(key);
    }

    /// Two caches on one bus, as two processes on one Redis.
    fn pair() -> (Counts, Counts) {
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        let spec = || CacheSpec {
            name: "test",
            topic: "cache:test",
            ttl: Duration::from_secs(60),
            capacity: 100,
            forget,
        };
        (
            SharedCache::new(spec(), bus.clone()),
            SharedCache::new(spec(), bus),
        )
    }

    /// Reads through the cache, counting store reads.
    async fn read(cache: &Counts, key: u32, value: u32, loads: &AtomicUsize) -> u32 {
        let load = async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(value)
        };
        cache.get_or_load(key, load, |_| true).await.unwrap()
    }

    async fn until_listening(cache: &Counts) {
        for _ in 0..100 {
            if cache.is_caching() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the cache never started listening");
    }

    #[tokio::test]
    async fn nothing_is_cached_until_invalidations_are_heard() {
        let (cache, _) = pair();
        let loads = AtomicUsize::new(0);
        read(&cache, 1, 10, &loads).await;
        read(&cache, 1, 10, &loads).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        cache.listen();
        until_listening(&cache).await;
        read(&cache, 1, 10, &loads).await;
        assert_eq!(read(&cache, 1, 10, &loads).await, 10);
        assert_eq!(loads.load(Ordering::SeqCst), 3, "the second read is a hit");
    }

    #[tokio::test]
    async fn a_change_on_one_process_is_forgotten_by_the_other() {
        let (a, b) = pair();
        a.listen();
        b.listen();
        until_listening(&a).await;
        until_listening(&b).await;
        let loads = AtomicUsize::new(0);
        assert_eq!(read(&a, 1, 10, &loads).await, 10);
        assert_eq!(read(&a, 2, 20, &loads).await, 20);
        b.changed(1).await;
        let mut seen = 0;
        for _ in 0..100 {
            seen = read(&a, 1, 11, &loads).await;
            if seen == 11 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(seen, 11, "A reads the changed value");
        assert_eq!(read(&a, 2, 99, &loads).await, 20, "other entries stay");
    }

    #[tokio::test]
    async fn an_answer_read_while_a_change_arrived_is_not_kept() {
        let (cache, _) = pair();
        cache.listen();
        until_listening(&cache).await;
        let loads = AtomicUsize::new(0);
        // The change lands between the store read and the insert.
        let racing = async {
            loads.fetch_add(1, Ordering::SeqCst);
            cache.changed(1).await;
            Ok::<_, ()>(10)
        };
        assert_eq!(cache.get_or_load(1, racing, |_| true).await, Ok(10));
        assert_eq!(read(&cache, 1, 11, &loads).await, 11, "not the stale 10");
        let absent = cache.get_or_load(3, async { Ok::<_, ()>(0) }, |v| *v != 0);
        assert_eq!(absent.await, Ok(0));
        assert_eq!(read(&cache, 3, 30, &loads).await, 30, "refused by keep");
    }
}
