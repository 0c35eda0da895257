//! The contract of credentials, sessions, refresh-token rotation and the deny
//! list, on SQLite and (when `TEST_DATABASE_URL` is set) PostgreSQL.

mod support;

use chrono::{Duration, Utc};
use domain::{DisplayName, Email, Username};
use services::store::{NewUser, Profile, Rotation, Session, StoreError, User};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    login_finds_users_by_username_or_email_ignoring_case,
    password_hash_can_be_replaced,
    profile_update_replaces_fields_and_refuses_a_taken_email,
    session_is_created_with_its_first_refresh_token,
    rotation_replaces_the_token_and_records_the_use,
    presenting_a_used_token_revokes_the_whole_session,
    a_token_presented_again_within_the_grace_period_is_a_race_not_a_theft,
    unknown_refresh_token_changes_nothing,
    sessions_can_be_revoked_one_by_one_or_all_but_one,
    deny_list_holds_keys_until_they_expire,
    a_lifted_denial_no_longer_counts,
    credentials_that_ended_long_ago_are_forgotten_and_live_ones_kept,
);

async fn user(fx: &Fixture, name: &str, email: Option<&str>, hash: Option<&str>) -> User {
    fx.store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            email: email.map(|e| Email::parse(e).unwrap()),
            display_name: DisplayName::parse(name).unwrap(),
            password_hash: hash.map(str::to_owned),
        })
        .await
        .unwrap()
}

fn session_for(user: &User) -> Session {
    let now = Utc::now();
    Session {
        id: Uuid::now_v7(),
        user_id: user.id,
        user_agent: Some("Firefox on Linux".into()),
        ip_address: Some("127.0.0.1".into()),
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::days(30),
        revoked_at: None,
    }
}

fn hash(byte: u8) -> [u8; 32] {
    [byte; 32]
}

async fn login_finds_users_by_username_or_email_ignoring_case(fx: Fixture) {
    let li = user(
        &fx,
        "Li_Wei",
        Some("Li.Wei@Example.cn"),
        Some("$argon2id$fake"),
    )
    .await;
    let (by_name, hash) = fx
        .store
        .credentials_by_login("li_wei")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_name.id, hash.as_deref()),
        (li.id, Some("$argon2id$fake"))
    );
    let (by_email, _) = fx
        .store
        .credentials_by_login(" li.wei@example.CN ")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, li.id);
    assert!(fx
        .store
        .credentials_by_login("nobody")
        .await
        .unwrap()
        .is_none());
    let oauth_only = user(&fx, "oauth_only", None, None).await;
    let (_, none) = fx
        .store
        .credentials_by_login("oauth_only")
        .await
        .unwrap()
        .unwrap();
    assert!(none.is_none());
    assert!(fx
        .store
        .password_hash(oauth_only.id)
        .await
        .unwrap()
        .is_none());
}

async fn password_hash_can_be_replaced(fx: Fixture) {
    let u = user(&fx, "changer", None, Some("old")).await;
    fx.store.set_password_hash(u.id, "new").await.unwrap();
    assert_eq!(
        fx.store.password_hash(u.id).await.unwrap().as_deref(),
        Some("new")
    );
    let err = fx
        .store
        .set_password_hash(Uuid::now_v7(), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("user")), "{err:?}");
}

async fn profile_update_replaces_fields_and_refuses_a_taken_email(fx: Fixture) {
    let a = user(&fx, "profile_a", Some("a@example.com"), None).await;
    user(&fx, "profile_b", Some("b@example.com"), None).await;
    let updated = fx
        .store
        .update_profile(
            a.id,
            &Profile {
                display_name: DisplayName::parse("王芳").unwrap(),
                avatar_url: Some("https://img.example.com/a.png".into()),
                email: Some(Email::parse("a2@example.com").unwrap()),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.display_name, "王芳");
    assert_eq!(
        updated.avatar_url.as_deref(),
        Some("https://img.example.com/a.png")
    );
    assert_eq!(updated.email.as_deref(), Some("a2@example.com"));
    assert_eq!(fx.store.user_by_id(a.id).await.unwrap().unwrap(), updated);
    let taken = Profile {
        display_name: DisplayName::parse("A").unwrap(),
        avatar_url: None,
        email: Some(Email::parse("B@example.com").unwrap()),
    };
    let err = fx.store.update_profile(a.id, &taken).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
    let err = fx
        .store
        .update_profile(Uuid::now_v7(), &taken)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound("user") | StoreError::Conflict("email")
        ),
        "{err:?}"
    );
}

async fn session_is_created_with_its_first_refresh_token(fx: Fixture) {
    let u = user(&fx, "sessions", None, None).await;
    let s = session_for(&u);
    fx.store.create_session(&s, &hash(1)).await.unwrap();
    let stored = fx.store.session(s.id).await.unwrap().unwrap();
    assert_eq!(stored.user_agent.as_deref(), Some("Firefox on Linux"));
    assert!(stored.revoked_at.is_none());
    assert!((stored.expires_at - s.expires_at).num_milliseconds().abs() < 5);
    assert_eq!(
        fx.store
            .active_sessions(u.id, Utc::now())
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn rotation_replaces_the_token_and_records_the_use(fx: Fixture) {
    let u = user(&fx, "rotator", None, None).await;
    let s = session_for(&u);
    fx.store.create_session(&s, &hash(1)).await.unwrap();
    let later = Utc::now() + Duration::minutes(10);
    match fx
        .store
        .rotate_refresh_token(&hash(1), &hash(2), later, later)
        .await
        .unwrap()
    {
        Rotation::Rotated(session) => {
            assert_eq!(session.id, s.id);
            assert!((session.last_used_at - later).num_milliseconds().abs() < 5);
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    // The new token works next.
    assert!(matches!(
        fx.store
            .rotate_refresh_token(&hash(2), &hash(3), later, later)
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
}

async fn presenting_a_used_token_revokes_the_whole_session(fx: Fixture) {
    let u = user(&fx, "victim", None, None).await;
    let s = session_for(&u);
    fx.store.create_session(&s, &hash(1)).await.unwrap();
    fx.store
        .rotate_refresh_token(&hash(1), &hash(2), Utc::now(), Utc::now())
        .await
        .unwrap();
    // An attacker replays the old token.
    match fx
        .store
        .rotate_refresh_token(&hash(1), &hash(9), Utc::now(), Utc::now())
        .await
        .unwrap()
    {
        Rotation::Reused(session) => assert!(session.revoked_at.is_some()),
        other => panic!("expected Reused, got {other:?}"),
    }
    assert!(fx
        .store
        .session(s.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert!(fx
        .store
        .active_sessions(u.id, Utc::now())
        .await
        .unwrap()
        .is_empty());
    // The legitimate holder's current token now belongs to a revoked session.
    match fx
        .store
        .rotate_refresh_token(&hash(2), &hash(3), Utc::now(), Utc::now())
        .await
        .unwrap()
    {
        Rotation::Rotated(session) => assert!(
            session.revoked_at.is_some(),
            "caller must see the revocation"
        ),
        Rotation::Reused(session) => assert!(session.revoked_at.is_some()),
        other => panic!("the current token rotates: {other:?}"),
    }
}

async fn unknown_refresh_token_changes_nothing(fx: Fixture) {
    assert_eq!(
        fx.store
            .rotate_refresh_token(&hash(7), &hash(8), Utc::now(), Utc::now())
            .await
            .unwrap(),
        Rotation::Unknown
    );
}

async fn sessions_can_be_revoked_one_by_one_or_all_but_one(fx: Fixture) {
    let u = user(&fx, "many_devices", None, None).await;
    let other = user(&fx, "someone_else", None, None).await;
    let sessions: Vec<Session> = (0..3).map(|_| session_for(&u)).collect();
    for (i, s) in sessions.iter().enumerate() {
        fx.store
            .create_session(s, &hash(10 + i as u8))
            .await
            .unwrap();
    }
    let foreign = session_for(&other);
    fx.store.create_session(&foreign, &hash(20)).await.unwrap();

    assert!(
        !fx.store
            .revoke_session(u.id, foreign.id, Utc::now())
            .await
            .unwrap(),
        "not theirs"
    );
    assert!(fx
        .store
        .revoke_session(u.id, sessions[0].id, Utc::now())
        .await
        .unwrap());
    assert!(
        !fx.store
            .revoke_session(u.id, sessions[0].id, Utc::now())
            .await
            .unwrap(),
        "already revoked"
    );

    let revoked = fx
        .store
        .revoke_other_sessions(u.id, Some(sessions[1].id), Utc::now())
        .await
        .unwrap();
    assert_eq!(revoked, vec![sessions[2].id]);
    let active: Vec<Uuid> = fx
        .store
        .active_sessions(u.id, Utc::now())
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(active, vec![sessions[1].id]);
    assert_eq!(
        fx.store
            .active_sessions(other.id, Utc::now())
            .await
            .unwrap()
            .len(),
        1,
        "others untouched"
    );

    let all = fx
        .store
        .revoke_other_sessions(u.id, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(all, vec![sessions[1].id]);
}

async fn deny_list_holds_keys_until_they_expire(fx: Fixture) {
    let now = Utc::now();
    fx.store
        .deny("jti:a", now + Duration::minutes(15))
        .await
        .unwrap();
    fx.store
        .deny("jti:a", now + Duration::minutes(5))
        .await
        .unwrap(); // harmless repeat
    fx.store
        .deny("sid:b", now - Duration::seconds(1))
        .await
        .unwrap(); // already expired
    assert!(fx.store.is_denied(&["jti:a"], now).await.unwrap());
    assert!(fx
        .store
        .is_denied(&["jti:zzz", "jti:a"], now)
        .await
        .unwrap());
    assert!(
        !fx.store.is_denied(&["sid:b"], now).await.unwrap(),
        "expired keys no longer count"
    );
    assert!(!fx.store.is_denied(&["jti:other"], now).await.unwrap());
    assert!(!fx.store.is_denied(&[], now).await.unwrap());
    assert!(
        fx.store
            .is_denied(&["jti:a"], now + Duration::minutes(14))
            .await
            .unwrap(),
        "the longer expiry is kept"
    );
}

async fn a_token_presented_again_within_the_grace_period_is_a_race_not_a_theft(fx: Fixture) {
    let u = user(&fx, "racer", None, None).await;
    let s = session_for(&u);
    fx.store.create_session(&s, &hash(1)).await.unwrap();
    let t0 = Utc::now();
    fx.store
        .rotate_refresh_token(&hash(1), &hash(2), t0, t0)
        .await
        .unwrap();
    // Five seconds later, with a ten-second grace: a parallel request.
    let t5 = t0 + Duration::seconds(5);
    match fx
        .store
        .rotate_refresh_token(&hash(1), &hash(8), t5, t5 - Duration::seconds(10))
        .await
        .unwrap()
    {
        Rotation::Raced(session) => {
            assert_eq!(session.id, s.id);
            assert!(session.revoked_at.is_none());
        }
        other => panic!("expected Raced, got {other:?}"),
    }
    // Nothing changed: the successor still rotates, the raced one left no token.
    assert!(matches!(
        fx.store
            .rotate_refresh_token(&hash(8), &hash(9), t5, t5)
            .await
            .unwrap(),
        Rotation::Unknown
    ));
    assert!(matches!(
        fx.store
            .rotate_refresh_token(&hash(2), &hash(3), t5, t5)
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    // Thirty seconds on, the same replay is theft.
    let t30 = t0 + Duration::seconds(30);
    match fx
        .store
        .rotate_refresh_token(&hash(1), &hash(7), t30, t30 - Duration::seconds(10))
        .await
        .unwrap()
    {
        Rotation::Reused(session) => assert!(session.revoked_at.is_some()),
        other => panic!("expected Reused, got {other:?}"),
    }
}

async fn a_lifted_denial_no_longer_counts(fx: Fixture) {
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    fx.store.deny("user:a", until).await.unwrap();
    fx.store.deny("user:b", until).await.unwrap();
    fx.store.lift_denial("user:a").await.unwrap();
    assert!(!fx.store.is_denied(&["user:a"], now).await.unwrap());
    assert!(
        fx.store.is_denied(&["user:b"], now).await.unwrap(),
        "others stay"
    );
    fx.store.lift_denial("never-denied").await.unwrap();
}

/// Sessions and personal access tokens that expired or were revoked before
/// the cut are forgotten (a session's refresh tokens with it); those that
/// ended after it, and live ones, stay; expired deny-list entries go,
/// current ones stay; a batch is bounded.
async fn credentials_that_ended_long_ago_are_forgotten_and_live_ones_kept(fx: Fixture) {
    use services::store::{NewTokenRow, Pruned};

    let ann = user(&fx, "ann", None, None).await;
    let now = Utc::now();
    let cut = now - Duration::days(30);
    let ended = |expires: chrono::DateTime<Utc>, revoked: Option<chrono::DateTime<Utc>>| Session {
        expires_at: expires,
        revoked_at: revoked,
        ..session_for(&ann)
    };
    let sessions = [
        (ended(now - Duration::days(40), None), false, 1u8), // expired long ago
        (
            ended(now + Duration::days(9), Some(now - Duration::days(31))),
            false,
            2,
        ),
        (ended(now - Duration::days(10), None), true, 3), // expired lately
        (
            ended(now + Duration::days(9), Some(now - Duration::days(1))),
            true,
            4,
        ),
        (session_for(&ann), true, 5), // live
    ];
    for (session, _, byte) in &sessions {
        let fresh = Session {
            revoked_at: None,
            ..session.clone()
        };
        fx.store.create_session(&fresh, &hash(*byte)).await.unwrap();
        if let Some(at) = session.revoked_at {
            assert!(fx
                .store
                .revoke_session(ann.id, session.id, at)
                .await
                .unwrap());
        }
    }
    let mut tokens = Vec::new();
    for (n, (expires, revoked)) in [
        (now - Duration::days(31), None),
        (now + Duration::days(5), Some(now - Duration::days(45))),
        (now - Duration::days(2), None),
        (now + Duration::days(5), Some(now - Duration::days(2))),
        (now + Duration::days(5), None),
    ]
    .into_iter()
    .enumerate()
    {
        let created = fx
            .store
            .insert_token(
                &NewTokenRow {
                    user_id: ann.id,
                    name: "script",
                    hash: hash(100 + u8::try_from(n).unwrap()),
                    scopes: domain::integrations::Scopes::ALL,
                    created_by: ann.id,
                    created_at: now - Duration::days(60),
                    expires_at: expires,
                },
                50,
            )
            .await
            .unwrap();
        if let Some(at) = revoked {
            fx.store.revoke_token(created.id, at).await.unwrap();
        }
        tokens.push((created.id, n >= 2));
    }
    fx.store
        .deny("jti:old", now - Duration::seconds(1))
        .await
        .unwrap();
    fx.store
        .deny("jti:new", now + Duration::minutes(15))
        .await
        .unwrap();

    // One at a time: the batch is bounded.
    let first = fx.store.prune_ended(cut, now, 1).await.unwrap();
    assert_eq!(
        first,
        Pruned {
            sessions: 1,
            refresh_tokens: 1,
            tokens: 1,
            denials: 1
        }
    );
    let rest = fx.store.prune_ended(cut, now, 100).await.unwrap();
    assert_eq!(
        rest,
        Pruned {
            sessions: 1,
            refresh_tokens: 1,
            tokens: 1,
            denials: 0
        }
    );
    for (session, kept, byte) in &sessions {
        assert_eq!(
            fx.store.session(session.id).await.unwrap().is_some(),
            *kept,
            "session {byte}"
        );
    }
    // A forgotten session's refresh token is unknown, not a reuse.
    assert!(matches!(
        fx.store
            .rotate_refresh_token(&hash(1), &hash(9), now, now)
            .await
            .unwrap(),
        Rotation::Unknown
    ));
    for (n, (id, kept)) in tokens.iter().enumerate() {
        assert_eq!(
            fx.store.token(*id).await.unwrap().is_some(),
            *kept,
            "token {n}"
        );
    }
    assert!(fx.store.is_denied(&["jti:new"], now).await.unwrap());
    assert_eq!(
        fx.store.prune_ended(cut, now, 100).await.unwrap(),
        Pruned::default(),
        "nothing more"
    );
}
