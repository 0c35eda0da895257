//! Presence transitions: online with the first connection, offline a grace
//! period after the last one, one announcement per change, and — with
//! Redis — a crashed process's users taken offline after their entries
//! expire. Runs in-process and, when `TEST_REDIS_URL` is set, on Redis with
//! two registries playing two server processes.

mod support;

use std::sync::Arc;
use std::time::Duration;

use domain::{DisplayName, Username};
use serde_json::Value;
use services::bus::{Bus, InProcessBus, RedisBus, Subscription};
use services::events::{PresenceBroadcast, PRESENCE_TOPIC};
use services::presence::{Presence, PresenceConfig};
use services::store::{self, NewUser, Store};
use uuid::Uuid;

const CONFIG: PresenceConfig = PresenceConfig {
    grace: Duration::from_millis(300),
    ttl: Duration::from_millis(1200),
    refresh: Duration::from_millis(400),
};

struct Fixture {
    store: Arc<dyn Store>,
    ann: Uuid,
    /// Ann's direct conversation with Ben (whose members hear of her
    /// presence), and the presence topic.
    dm: (Uuid, Subscription),
    _dir: tempfile::TempDir,
}

async fn fixture(bus: &Arc<dyn Bus>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = store::connect(&format!("sqlite://{}/p.db", dir.path().display()))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["ann", "ben"] {
        let user = store
            .create_user(&NewUser {
                username: Username::parse(name).unwrap(),
                email: None,
                display_name: DisplayName::parse(name).unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        ids.push(user.id);
    }
    let (dm, _) = store.open_direct(ids[0], ids[1]).await.unwrap();
    let presence = bus.subscribe(PRESENCE_TOPIC).await.unwrap();
    Fixture {
        store,
        ann: ids[0],
        dm: (dm.id, presence),
        _dir: dir,
    }
}

/// The next presence event within `wait`: `Some(online)`, or `None`.
/// Presence changes are published once, for the conversations whose members
/// hear of them: here, the direct conversation.
async fn next_change((dm, sub): &mut (Uuid, Subscription), wait: Duration) -> Option<bool> {
    let bytes = tokio::time::timeout(wait, sub.recv()).await.ok()?.ok()?;
    let broadcast = PresenceBroadcast::open(bytes).unwrap();
    assert_eq!(broadcast.audience, [*dm]);
    let event: Value = serde_json::from_slice(&broadcast.envelope.json).unwrap();
    assert_eq!(event["type"], "presence", "{event}");
    event["online"].as_bool()
}

#[tokio::test]
async fn in_process_online_with_the_first_connection_offline_after_the_grace_period() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let mut fx = fixture(&bus).await;
    let presence = Presence::local(fx.store.clone(), bus.clone(), CONFIG);

    let phone = presence.connected(fx.ann).await;
    assert_eq!(
        next_change(&mut fx.dm, Duration::from_secs(5)).await,
        Some(true)
    );
    let laptop = presence.connected(fx.ann).await;
    drop(phone);
    assert_eq!(
        next_change(&mut fx.dm, CONFIG.grace * 3).await,
        None,
        "still connected on the laptop: no change"
    );
    drop(laptop);
    assert!(
        presence.online().await.unwrap().contains(&fx.ann),
        "grace period"
    );
    // A reload within the grace period is not a change either.
    let reloaded = presence.connected(fx.ann).await;
    assert_eq!(next_change(&mut fx.dm, CONFIG.grace * 3).await, None);
    drop(reloaded);
    assert_eq!(
        next_change(&mut fx.dm, Duration::from_secs(5)).await,
        Some(false)
    );
    assert!(!presence.online().await.unwrap().contains(&fx.ann));
    let status = presence.status(&[fx.ann]).await.unwrap();
    assert!(!status[0].online);
    assert!(status[0].last_seen_at.is_some(), "last seen is kept");
}

#[tokio::test]
#[cfg_attr(not(redis_available), ignore = "needs TEST_REDIS_URL (Redis)")]
async fn with_redis_a_user_stays_online_while_any_process_has_them_and_a_crash_expires() {
    let Some(url) = support::service_url("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("chatsphere-presence-test:{}:", Uuid::now_v7());
    let bus: Arc<dyn Bus> = Arc::new(RedisBus::connect(&url, &prefix).await.unwrap());
    let mut fx = fixture(&bus).await;
    let a = Presence::redis(&url, &prefix, fx.store.clone(), bus.clone(), CONFIG)
        .await
        .unwrap();
    let b = Presence::redis(&url, &prefix, fx.store.clone(), bus.clone(), CONFIG)
        .await
        .unwrap();

    let on_a = a.connected(fx.ann).await;
    assert_eq!(
        next_change(&mut fx.dm, Duration::from_secs(5)).await,
        Some(true)
    );
    let _on_b = b.connected(fx.ann).await;
    assert_eq!(
        next_change(&mut fx.dm, CONFIG.grace * 2).await,
        None,
        "already online through process A"
    );
    drop(on_a);
    assert_eq!(
        next_change(&mut fx.dm, CONFIG.grace * 3).await,
        None,
        "still connected to process B"
    );
    assert!(a.online().await.unwrap().contains(&fx.ann));

    // Process B crashes: nobody removes its entry; it expires and process
    // A's sweep announces Ann offline, once.
    b.halt();
    assert_eq!(
        next_change(&mut fx.dm, CONFIG.ttl + CONFIG.refresh * 3).await,
        Some(false)
    );
    assert!(!a.online().await.unwrap().contains(&fx.ann));
    assert_eq!(
        next_change(&mut fx.dm, CONFIG.refresh * 3).await,
        None,
        "once"
    );
    let status = a.status(&[fx.ann]).await.unwrap();
    assert!(!status[0].online);
}
