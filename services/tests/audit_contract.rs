//! The audit-log part of the store contract (record, filter, keyset pages,
//! prune), on SQLite and, when configured, PostgreSQL.

mod support;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use domain::{AuditCursor, AuditEvent, AuditKind};
use services::store::{AuditEntry, AuditQuery};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    recorded_events_come_back_newest_first_with_usernames,
    events_are_filtered_by_kind_user_and_time,
    keyset_pages_cover_every_event_once_even_within_one_instant,
    pruning_deletes_only_older_events,
);

/// Records an event of `kind` about `user` at `at`; returns its id.
async fn record(fx: &Fixture, kind: AuditKind, user: Option<Uuid>, at: DateTime<Utc>) -> Uuid {
    let entry = AuditEntry {
        occurred_at: at,
        user_id: user,
        ..AuditEntry::now(kind)
    };
    fx.store.record(&entry).await.unwrap();
    entry.id
}

async fn list(fx: &Fixture, query: AuditQuery) -> Vec<AuditEvent> {
    fx.store.audit_events(&query).await.unwrap()
}

fn ids(events: &[AuditEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

async fn recorded_events_come_back_newest_first_with_usernames(fx: Fixture) {
    let ann = fx.user("ann").await;
    let root = fx.user("root").await;
    let t0 = Utc::now() - Duration::minutes(10);
    let at = t0 + Duration::nanoseconds(123_456_789);
    let entry = AuditEntry {
        occurred_at: at,
        user_id: Some(ann.id),
        actor_id: Some(root.id),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Firefox/140".into()),
        detail: Some(r#"{"is_admin":true}"#.into()),
        ..AuditEntry::now(AuditKind::RoleChanged)
    };
    fx.store.record(&entry).await.unwrap();
    let ghost = Uuid::now_v7(); // no such account: the log keeps the id anyway
    let later = record(
        &fx,
        AuditKind::SignInFailed,
        Some(ghost),
        t0 + Duration::minutes(1),
    )
    .await;
    let none = record(
        &fx,
        AuditKind::SignInFailed,
        None,
        t0 + Duration::minutes(2),
    )
    .await;

    let events = list(&fx, AuditQuery::default()).await;
    assert_eq!(ids(&events), [none, later, entry.id], "newest first");
    let role = &events[2];
    assert_eq!(role.kind, AuditKind::RoleChanged);
    assert_eq!(
        role.occurred_at,
        at.trunc_subsecs(6),
        "kept to the microsecond on both backends"
    );
    assert_eq!(
        (role.user_id, role.username.as_deref()),
        (Some(ann.id), Some("ann"))
    );
    assert_eq!(
        (role.actor_id, role.actor_username.as_deref()),
        (Some(root.id), Some("root"))
    );
    assert_eq!(role.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(role.user_agent.as_deref(), Some("Firefox/140"));
    assert_eq!(role.detail.as_deref(), Some(r#"{"is_admin":true}"#));
    assert_eq!(
        (events[1].user_id, events[1].username.as_deref()),
        (Some(ghost), None)
    );
    assert_eq!((events[0].user_id, events[0].actor_id), (None, None));
}

async fn events_are_filtered_by_kind_user_and_time(fx: Fixture) {
    let ann = fx.user("ann").await;
    let ben = fx.user("ben").await;
    let t0 = Utc::now() - Duration::hours(1);
    let a1 = record(&fx, AuditKind::SignIn, Some(ann.id), t0).await;
    let b1 = record(
        &fx,
        AuditKind::SignIn,
        Some(ben.id),
        t0 + Duration::minutes(1),
    )
    .await;
    let a2 = record(
        &fx,
        AuditKind::SignOut,
        Some(ann.id),
        t0 + Duration::minutes(2),
    )
    .await;
    let a3 = record(
        &fx,
        AuditKind::SignIn,
        Some(ann.id),
        t0 + Duration::minutes(3),
    )
    .await;

    let by_kind = AuditQuery {
        kind: Some(AuditKind::SignIn),
        ..Default::default()
    };
    assert_eq!(ids(&list(&fx, by_kind).await), [a3, b1, a1]);
    let by_user = AuditQuery {
        user_id: Some(ann.id),
        ..Default::default()
    };
    assert_eq!(ids(&list(&fx, by_user).await), [a3, a2, a1]);
    let since = AuditQuery {
        since: Some(t0 + Duration::minutes(1)),
        ..Default::default()
    };
    assert_eq!(
        ids(&list(&fx, since).await),
        [a3, a2, b1],
        "since is inclusive"
    );
    let all_three = AuditQuery {
        kind: Some(AuditKind::SignIn),
        user_id: Some(ann.id),
        since: Some(t0 + Duration::seconds(1)),
        ..Default::default()
    };
    assert_eq!(ids(&list(&fx, all_three).await), [a3]);
    let nothing = AuditQuery {
        kind: Some(AuditKind::UserDisabled),
        ..Default::default()
    };
    assert!(list(&fx, nothing).await.is_empty());
}

async fn keyset_pages_cover_every_event_once_even_within_one_instant(fx: Fixture) {
    let t0 = Utc::now() - Duration::minutes(5);
    let mut recorded = Vec::new();
    for i in 0..7 {
        // Three events share one instant: the id orders them.
        let at = t0 + Duration::seconds(i64::from(i.min(4)));
        recorded.push((at, record(&fx, AuditKind::Connected, None, at).await));
    }
    recorded.sort_by_key(|&event| std::cmp::Reverse(event));
    let newest_first: Vec<Uuid> = recorded.into_iter().map(|(_, id)| id).collect();

    let mut seen = Vec::new();
    let mut before: Option<AuditCursor> = None;
    loop {
        let page = list(
            &fx,
            AuditQuery {
                before,
                limit: 3,
                ..Default::default()
            },
        )
        .await;
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        // The cursor also survives its token form (a query parameter).
        before = AuditCursor::parse(&last.cursor().to_token());
        seen.extend(ids(&page));
    }
    assert_eq!(seen, newest_first, "every event once, in order");
    let first = list(&fx, AuditQuery::default()).await;
    assert_eq!(ids(&first), newest_first, "limit 0 is the default page");
}

async fn pruning_deletes_only_older_events(fx: Fixture) {
    let now = Utc::now();
    record(&fx, AuditKind::SignIn, None, now - Duration::days(100)).await;
    record(&fx, AuditKind::SignOut, None, now - Duration::days(91)).await;
    let kept = record(&fx, AuditKind::SignIn, None, now - Duration::days(89)).await;
    let recent = record(&fx, AuditKind::SignIn, None, now).await;
    assert_eq!(
        fx.store
            .prune_audit(now - Duration::days(90))
            .await
            .unwrap(),
        2
    );
    assert_eq!(ids(&list(&fx, AuditQuery::default()).await), [recent, kept]);
    assert_eq!(
        fx.store
            .prune_audit(now - Duration::days(90))
            .await
            .unwrap(),
        0,
        "nothing left to prune"
    );
}
