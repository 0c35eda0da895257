//! Who is a member of which conversation, cached: every message sent, every
//! receipt and every joined-event check asks, and the answer rarely changes.
//!
//! The cache is a [`SharedCache`]: in-process, bounded, entries live
//! [`TTL`]; a membership change removes the entry here and, through the bus,
//! on every other process ([`INVALIDATION_TOPIC`]), so a removed member is
//! refused at once everywhere. Correctness never depends on it (see
//! [`crate::cache`]).

use std::sync::Arc;
use std::time::Duration;

use domain::MemberRole;
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bus::Bus;
use crate::cache::{CacheSpec, SharedCache};
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

type Key = (Uuid, Uuid);
type Role = Option<MemberRole>;

/// Cached membership lookups over the store.
#[derive(Clone)]
pub struct Members {
    store: Arc<dyn Store>,
    cache: SharedCache<Key, Role, Invalidation>,
}

fn forget(cache: &Cache<Key, Role>, change: &Invalidation) {
    match change.user_id {
        Some(user_id) => cache.invalidate(&(change.conversation_id, user_id)),
        None => {
            let conversation = change.conversation_id;
            // Cannot fail: the cache supports invalidation closures.
            let _ = cache.invalidate_entries_if(move |(c, _), _| *c == conversation);
        }
    }
}

impl Members {
    /// The lookups over `store`, invalidated through `bus`. Call
    /// [`Members::listen`] once, in the runtime, to take part in
    /// cross-process invalidation; until then nothing is cached.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        let spec = CacheSpec {
            name: "members",
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

    /// The user's role in the conversation, `None` for non-members.
    pub async fn role(&self, conversation_id: Uuid, user_id: Uuid) -> Result<Role, ServiceError> {
        let load = async {
            let role = self.store.member_role(conversation_id, user_id).await?;
            Ok::<_, ServiceError>(role)
        };
        self.cache
            .get_or_load((conversation_id, user_id), load, |_| true)
            .await
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
        self.cache
            .changed(Invalidation {
                conversation_id,
                user_id,
            })
            .await;
    }

    /// Applies invalidations published by other processes, for as long as
    /// the process runs. Caching is on only while subscribed.
    pub fn listen(&self) {
        self.cache.listen();
    }

    /// Whether answers are being cached (tests).
    pub fn is_caching(&self) -> bool {
        self.cache.is_caching()
    }
}
