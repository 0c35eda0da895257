//! The notification part of the store contract: the email queue's claim
//! goes to one caller however many ask at once, and an item whose claim
//! was lost (a process that stopped between the claim and the take) is
//! due again. On SQLite and, when configured, PostgreSQL.

mod support;

use chrono::{Duration, Utc};
use support::StoreFixture as Fixture;

support::store_contract!(an_email_claim_goes_to_one_caller_and_a_lost_claim_is_due_again,);

async fn an_email_claim_goes_to_one_caller_and_a_lost_claim_is_due_again(fx: Fixture) {
    let ann = fx.user("ann").await;
    let bob = fx.user("bob").await;
    let (dm, _) = fx.store.open_direct(ann.id, bob.id).await.unwrap();
    let message = fx.post(dm.id, ann.id, "hello").await;
    let now = Utc::now();
    fx.store
        .queue_email(message.id, &[bob.id], now + Duration::minutes(15))
        .await
        .unwrap();
    assert!(
        fx.store.claim_email(now, 10).await.unwrap().is_empty(),
        "not due yet"
    );
    // Queued again (a second message): due when the first was.
    let later = fx.post(dm.id, ann.id, "again").await;
    fx.store
        .queue_email(later.id, &[bob.id], now + Duration::hours(5))
        .await
        .unwrap();
    let due = now + Duration::minutes(16);
    // Eight callers at once: one gets bob.
    let claims =
        futures_util::future::join_all((0..8).map(|_| fx.store.claim_email(due, 10))).await;
    let claimed: Vec<_> = claims.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(claimed, [bob.id]);
    // The claimer stopped before taking: the items are due again.
    assert_eq!(fx.store.requeue_orphans(due).await.unwrap(), 1);
    assert_eq!(fx.store.requeue_orphans(due).await.unwrap(), 0, "once");
    assert_eq!(fx.store.claim_email(due, 10).await.unwrap(), [bob.id]);
    // Taken: nothing waits any more (bob has no verified address: no digest).
    assert_eq!(fx.store.take_digest(bob.id).await.unwrap(), None);
    assert_eq!(fx.store.requeue_orphans(due).await.unwrap(), 0);
    assert!(fx.store.claim_email(due, 10).await.unwrap().is_empty());
}
