//! Who is a member of which conversation, cached: every message sent, every
//! receipt and every joined-event check asks, and the answer rarely changes.
//!
//! The cache is in-process (bounded, entries live [`TTL`]); a membership
//! change removes the entry here and, through the bus, on every other
//! process ([`INVALIDATION_TOPIC`]), so a removed member is refused at once
//! everywhere. The cache is only an optimisation:
//! - an answer read from the store while an invalidation arrived is not
//!   cached (an epoch counter detects it), so no stale answer outlives a
//!   change it raced with;
//! - until this process listens for invalidations, and after it lost them
//!   (the subscription lagged or closed), nothing is cached and the cache
//!   is emptied;
//! - [`TTL`] bounds how long an invalidation lost inside Redis could leave
//!   an answer stale.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::MemberRole;
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bus::{Bus, RecvError};
use crate::store::Store;
use crate::ServiceError;

/// The bus topic of membership invalidations.
pub const INVALIDATION_TOPIC: &str = "cache:members";
/// How long an answer is kept.
pub const TTL: Duration = Duration::from_secs(30);
/// Most (conversation, user) answers kept.
pub const CAPACITY: u64 = 200_000;

/// What changed: one member, or a whole conversation (deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalidation {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The member; `None` for every member.
    pub user_id: Option<Uuid>,
}

/// Cached membership lookups over the store.
#[derive(Clone)]
pub struct Members {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    inner: Arc<Inner>,
}

struct Inner {
    cache: Cache<(Uuid, Uuid), Option<MemberRole>>,
    /// Bumped by every invalidation seen.
    epoch: AtomicU64,
    /// Whether invalidations from other processes reach us.
    listening: AtomicBool,
}

impl Members {
    /// The lookups over `store`, invalidated through `bus`. Call
    /// [`Members::listen`] once, in the runtime, to take part in
    /// cross-process invalidation; until then nothing is cached.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        let cache = Cache::builder()
            .max_capacity(CAPACITY)
            .time_to_live(TTL)
            .support_invalidation_closures()
            .build();
        Self {
            store,
            bus,
            inner: Arc::new(Inner {
                cache,
                epoch: AtomicU64::new(0),
                listening: AtomicBool::new(false),
            }),
        }
    }

    /// The user's role in the conversation, `None` for non-members.
    pub async fn role(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<MemberRole>, ServiceError> {
        let key = (conversation_id, user_id);
        if let Some(role) = self.inner.cache.get(&key) {
            metrics::counter!("chatsphere_cache_hits_total", "cache" => "members").increment(1);
            return Ok(role);
        }
        metrics::counter!("chatsphere_cache_misses_total", "cache" => "members").increment(1);
        let epoch = self.inner.epoch.load(Ordering::Acquire);
        let role = self.store.member_role(conversation_id, user_id).await?;
        // Cache only if no invalidation arrived meanwhile and we hear them.
        if self.inner.listening.load(Ordering::Acquire)
            && self.inner.epoch.load(Ordering::Acquire) == epoch
        {
            self.inner.cache.insert(key, role);
        }
        Ok(role)
    }

    /// Whether the user is a member of the conversation.
    pub async fn is_member(
        &self,
        conversation_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, ServiceError> {
        Ok(self.role(conversation_id, user_id).await?.is_some())
    }

    /// A membership changed (after the change is committed): forgotten
    /// here at once, and on every other process when the bus delivers it.
    pub async fn changed(&self, conversation_id: Uuid, user_id: Option<Uuid>) {
        let change = Invalidation {
            conversation_id,
            user_id,
        };
        self.apply(change);
        let payload = serde_json::to_vec(&change).unwrap_or_default();
        if let Err(err) = self.bus.publish(INVALIDATION_TOPIC, payload.into()).await {
            // Other processes keep the old answer for at most TTL.
            tracing::warn!(error = %err, "membership invalidation not published");
        }
    }

    fn apply(&self, change: Invalidation) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        match change.user_id {
            Some(user_id) => self
                .inner
                .cache
                .invalidate(&(change.conversation_id, user_id)),
            None => {
                let conversation = change.conversation_id;
                // Cannot fail: the cache supports invalidation closures.
                let _ = self
                    .inner
                    .cache
                    .invalidate_entries_if(move |(c, _), _| *c == conversation);
            }
        }
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
        let members = self.clone();
        tokio::spawn(async move {
            loop {
                match members.bus.subscribe(INVALIDATION_TOPIC).await {
                    Ok(mut subscription) => {
                        members.inner.listening.store(true, Ordering::Release);
                        loop {
                            match subscription.recv().await {
                                Ok(bytes) => match serde_json::from_slice(&bytes) {
                                    Ok(change) => members.apply(change),
                                    Err(_) => members.forget_everything(),
                                },
                                Err(RecvError::Lagged(_)) => {
                                    // Some were missed: start over, still listening.
                                    members.forget_everything();
                                    members.inner.listening.store(true, Ordering::Release);
                                }
                                Err(RecvError::Closed) => break,
                            }
                        }
                        members.forget_everything();
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen for membership invalidations; not caching");
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Whether answers are being cached (tests).
    pub fn is_caching(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }
}
