//! The account part of the store contract (the first account is an admin,
//! roles, disabling, listings and counts), on SQLite and, when configured,
//! PostgreSQL.

mod support;

use std::sync::Arc;

use chrono::{Duration, Utc};
use domain::{DisplayName, Email, Username};
use services::store::{NewUser, Session, StoreError, User};
use support::StoreFixture as Fixture;
use tokio::sync::Barrier;
use uuid::Uuid;

support::store_contract!(
    the_first_account_is_an_admin_and_later_ones_are_not,
    the_first_account_through_a_provider_is_an_admin_too,
    concurrent_first_registrations_make_exactly_one_admin,
    roles_and_disabling_say_whether_they_changed_anything,
    a_disabled_account_cannot_start_a_session,
    configured_usernames_are_promoted_in_any_case,
    accounts_are_searched_and_counted,
);

fn new_user(name: &str, email: Option<&str>) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        email: email.map(|e| Email::parse(e).unwrap()),
        display_name: DisplayName::parse(name).unwrap(),
        password_hash: None,
    }
}

async fn user(fx: &Fixture, name: &str) -> User {
    fx.store.create_user(&new_user(name, None)).await.unwrap()
}

fn session_for(user_id: Uuid) -> Session {
    let now = Utc::now();
    Session {
        id: Uuid::now_v7(),
        user_id,
        user_agent: None,
        ip_address: None,
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::days(30),
        revoked_at: None,
    }
}

async fn the_first_account_is_an_admin_and_later_ones_are_not(fx: Fixture) {
    let first = user(&fx, "founder").await;
    let second = user(&fx, "joiner").await;
    assert!(first.is_admin && !second.is_admin);
    assert!(!first.is_disabled() && first.disabled_at.is_none());
    let found = fx.store.user_by_id(first.id).await.unwrap().unwrap();
    assert_eq!(found, first, "read back the same");
    let (by_login, _) = fx
        .store
        .credentials_by_login("JOINER")
        .await
        .unwrap()
        .unwrap();
    assert!(!by_login.is_admin);
}

async fn the_first_account_through_a_provider_is_an_admin_too(fx: Fixture) {
    let first = fx
        .store
        .create_user_with_identity(
            &new_user("sso-first", Some("a@example.com")),
            "https://idp",
            "1",
        )
        .await
        .unwrap();
    let second = fx
        .store
        .create_user_with_identity(&new_user("sso-second", None), "https://idp", "2")
        .await
        .unwrap();
    assert!(first.is_admin && !second.is_admin);
    assert!(!user(&fx, "local").await.is_admin);
}

async fn concurrent_first_registrations_make_exactly_one_admin(fx: Fixture) {
    const RACERS: usize = 8;
    // Open the connections first, then start every registration at once.
    let warm: Vec<_> = (0..RACERS).map(|_| fx.store.ping()).collect();
    futures_util::future::try_join_all(warm).await.unwrap();
    let start = Arc::new(Barrier::new(RACERS));
    let attempts: Vec<_> = (0..RACERS)
        .map(|i| {
            let (store, start) = (fx.store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                store
                    .create_user(&new_user(&format!("racer{i}"), None))
                    .await
            })
        })
        .collect();
    let mut admins = 0;
    for attempt in attempts {
        let created = attempt.await.unwrap().expect("every registration succeeds");
        admins += usize::from(created.is_admin);
    }
    assert_eq!(admins, 1);
    assert_eq!(fx.store.account_stats(Utc::now()).await.unwrap().admins, 1);
}

async fn roles_and_disabling_say_whether_they_changed_anything(fx: Fixture) {
    let _founder = user(&fx, "founder").await;
    let ann = user(&fx, "ann").await;

    let (account, changed) = fx.store.set_user_admin(ann.id, true).await.unwrap();
    assert!(account.is_admin && changed);
    let (account, changed) = fx.store.set_user_admin(ann.id, true).await.unwrap();
    assert!(account.is_admin && !changed, "already an admin");
    let (account, changed) = fx.store.set_user_admin(ann.id, false).await.unwrap();
    assert!(!account.is_admin && changed);

    let at = Utc::now() - Duration::minutes(1);
    let (account, changed) = fx.store.set_user_disabled(ann.id, Some(at)).await.unwrap();
    assert!(changed);
    let first_time = account.disabled_at.expect("disabled");
    assert!((first_time - at).abs() < Duration::milliseconds(1));
    let (account, changed) = fx
        .store
        .set_user_disabled(ann.id, Some(Utc::now()))
        .await
        .unwrap();
    assert_eq!(
        (account.disabled_at, changed),
        (Some(first_time), false),
        "disabled once keeps its first time"
    );
    assert!(fx
        .store
        .user_by_id(ann.id)
        .await
        .unwrap()
        .unwrap()
        .is_disabled());
    let (account, changed) = fx.store.set_user_disabled(ann.id, None).await.unwrap();
    assert_eq!((account.disabled_at, changed), (None, true));
    let (_, changed) = fx.store.set_user_disabled(ann.id, None).await.unwrap();
    assert!(!changed, "enabled already");

    let nobody = Uuid::now_v7();
    assert!(matches!(
        fx.store.set_user_admin(nobody, true).await,
        Err(StoreError::NotFound("user"))
    ));
    assert!(matches!(
        fx.store.set_user_disabled(nobody, Some(Utc::now())).await,
        Err(StoreError::NotFound("user"))
    ));
}

async fn a_disabled_account_cannot_start_a_session(fx: Fixture) {
    let ann = user(&fx, "ann").await;
    fx.store
        .create_session(&session_for(ann.id), &[1; 32])
        .await
        .unwrap();
    fx.store
        .set_user_disabled(ann.id, Some(Utc::now()))
        .await
        .unwrap();
    let refused = session_for(ann.id);
    assert!(matches!(
        fx.store.create_session(&refused, &[2; 32]).await,
        Err(StoreError::AccountDisabled)
    ));
    assert!(fx.store.session(refused.id).await.unwrap().is_none());
    assert!(matches!(
        fx.store
            .create_session(&session_for(Uuid::now_v7()), &[3; 32])
            .await,
        Err(StoreError::NotFound("user"))
    ));
    fx.store.set_user_disabled(ann.id, None).await.unwrap();
    fx.store
        .create_session(&session_for(ann.id), &[4; 32])
        .await
        .expect("enabled again");
}

async fn configured_usernames_are_promoted_in_any_case(fx: Fixture) {
    let _founder = user(&fx, "founder").await;
    let ops = user(&fx, "Ops.Lead").await;
    let dev = user(&fx, "dev").await;
    let names = vec!["ops.lead".to_owned(), "FOUNDER".into(), "absent".into()];
    let promoted = fx.store.promote_admins(&names).await.unwrap();
    assert_eq!(
        promoted.iter().map(|a| a.id).collect::<Vec<_>>(),
        [ops.id],
        "the founder was an admin already; absent names are skipped"
    );
    assert!(promoted[0].is_admin);
    assert!(fx.store.promote_admins(&names).await.unwrap().is_empty());
    assert!(fx.store.promote_admins(&[]).await.unwrap().is_empty());
    assert!(!fx.store.user_by_id(dev.id).await.unwrap().unwrap().is_admin);
}

async fn accounts_are_searched_and_counted(fx: Fixture) {
    let _founder = user(&fx, "founder").await;
    let mei = fx
        .store
        .create_user(&new_user("mei", Some("mei@corp.example")))
        .await
        .unwrap();
    let _wei = user(&fx, "wei_100").await;
    fx.store
        .set_user_disabled(mei.id, Some(Utc::now()))
        .await
        .unwrap();
    fx.store.set_last_seen(mei.id, Utc::now()).await.unwrap();

    let names = |accounts: Vec<domain::AccountSummary>| -> Vec<String> {
        accounts.into_iter().map(|a| a.username).collect()
    };
    assert_eq!(
        names(fx.store.accounts("", 10).await.unwrap()),
        ["founder", "mei", "wei_100"]
    );
    assert_eq!(names(fx.store.accounts("", 2).await.unwrap()).len(), 2);
    assert_eq!(
        names(fx.store.accounts("CORP.example", 10).await.unwrap()),
        ["mei"],
        "by email"
    );
    assert_eq!(
        names(fx.store.accounts("_", 10).await.unwrap()),
        ["wei_100"],
        "wildcards are literal"
    );
    let listed = fx.store.accounts("mei", 10).await.unwrap();
    assert!(listed[0].disabled_at.is_some() && listed[0].last_seen_at.is_some());
    assert_eq!(listed[0].email.as_deref(), Some("mei@corp.example"));

    let stats = fx
        .store
        .account_stats(Utc::now() - Duration::days(7))
        .await
        .unwrap();
    assert_eq!(
        stats,
        domain::UserStats {
            total: 3,
            admins: 1,
            disabled: 1,
            active_last_7_days: 1,
        }
    );
}
