//! AuthService rules, run over SQLite and (when configured) PostgreSQL.

mod support;

use std::time::Duration as StdDuration;

use argon2::Params;
use chrono::Duration;
use domain::{AuditEvent, AuditKind};
use services::auth::{
    AccessTokens, AuthService, ClientInfo, LoginThrottle, PasswordHasher, ProfileChange, Refreshed,
    Registration, SessionPolicy, ThrottlePolicy,
};
use services::kv::SharedKv;
use services::store::AuditQuery;
use services::{AuditService, ServiceError};
use support::StoreFixture as Fixture;

support::store_contract!(
    register_then_sign_in_by_username_or_email,
    unknown_user_and_wrong_password_get_the_same_answer,
    registration_rejects_bad_input_and_common_passwords,
    a_taken_username_is_a_conflict_but_a_taken_email_is_not_told,
    refresh_rotates_and_a_replayed_token_ends_the_session,
    a_browser_racing_itself_keeps_its_session_but_a_late_replay_ends_it,
    a_replay_after_the_grace_period_ends_the_session_even_for_a_browser,
    logout_refuses_the_old_access_token_at_once,
    password_change_needs_the_current_one_and_ends_other_sessions,
    revoking_a_session_refuses_its_access_tokens,
    profile_changes_are_validated_and_stored,
    idle_session_cannot_refresh,
    repeated_failures_from_one_address_lock_that_address,
    sign_ins_and_refusals_are_audited_without_the_password,
    sign_out_password_change_and_revocations_are_audited,
    pruning_forgets_sessions_that_ended_longer_ago_than_kept,
);

fn service(fx: &Fixture) -> AuthService {
    service_with(fx, SessionPolicy::default())
}

fn service_with(fx: &Fixture, policy: SessionPolicy) -> AuthService {
    let hasher = PasswordHasher::with_params(Params::new(1024, 1, 1, None).unwrap(), 2);
    let tokens = AccessTokens::new(
        b"auth-service-test-secret-0123456789",
        "iss",
        "aud",
        StdDuration::from_secs(900),
    );
    let kv = SharedKv::local();
    let throttle = LoginThrottle::new(
        kv.clone(),
        ThrottlePolicy {
            per_account_address: 3,
            per_address: 5,
            ..Default::default()
        },
    );
    AuthService::new(fx.store.clone(), hasher, tokens, policy, throttle, kv)
}

fn registration(username: &str, email: &str, password: &str) -> Registration {
    Registration {
        username: username.into(),
        email: email.into(),
        display_name: String::new(),
        password: password.into(),
    }
}

const PASSWORD: &str = "violet-harbour-71-kites";

fn unauthorized(result: Result<impl std::fmt::Debug, ServiceError>) -> &'static str {
    match result {
        Err(ServiceError::Unauthorized(why)) => why,
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

async fn register_then_sign_in_by_username_or_email(fx: Fixture) {
    let auth = service(&fx);
    let (user, tokens) = auth
        .register(
            registration("mei", "mei@example.com", PASSWORD),
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        user.display_name, "mei",
        "display name defaults to the username"
    );
    let me = auth.authenticate(&tokens.access_token).await.unwrap();
    assert_eq!((me.user_id, me.session_id), (user.id, tokens.session_id));
    assert!(tokens.refresh_token.len() >= 43);

    let client = ClientInfo {
        user_agent: Some("curl/8".into()),
        ip_address: Some("127.0.0.1".into()),
        device_token: None,
    };
    let (by_name, _) = auth.login("MEI", PASSWORD, client.clone()).await.unwrap();
    let (by_email, second) = auth
        .login("mei@example.com", PASSWORD, client)
        .await
        .unwrap();
    assert_eq!((by_name.id, by_email.id), (user.id, user.id));
    let sessions = auth
        .sessions(&auth.authenticate(&second.access_token).await.unwrap())
        .await
        .unwrap();
    assert_eq!(sessions.len(), 3, "each sign-in is a session");
    assert!(sessions
        .iter()
        .any(|s| s.user_agent.as_deref() == Some("curl/8")));
}

async fn unknown_user_and_wrong_password_get_the_same_answer(fx: Fixture) {
    let auth = service(&fx);
    auth.register(registration("known", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let wrong = unauthorized(
        auth.login("known", "not-the-password", ClientInfo::default())
            .await,
    );
    let unknown = unauthorized(auth.login("unknown", PASSWORD, ClientInfo::default()).await);
    assert_eq!(wrong, unknown);
}

async fn registration_rejects_bad_input_and_common_passwords(fx: Fixture) {
    let auth = service(&fx);
    for (input, field) in [
        (registration("x", "", PASSWORD), "username"),
        (registration("okname", "not-an-email", PASSWORD), "email"),
        (registration("okname", "", "short"), "password"),
        (registration("okname", "", "password123"), "password"),
        (registration("okname", "", "okname2024"), "password"),
    ] {
        match auth.register(input, ClientInfo::default()).await {
            Err(ServiceError::Invalid(msg)) => {
                assert!(msg.starts_with(field), "{msg} should be about {field}")
            }
            Err(ServiceError::InvalidName(err)) => assert_eq!(err.field, field, "{err}"),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
}

async fn a_taken_username_is_a_conflict_but_a_taken_email_is_not_told(fx: Fixture) {
    let auth = service(&fx);
    auth.register(
        registration("taken", "taken@example.com", PASSWORD),
        ClientInfo::default(),
    )
    .await
    .unwrap();
    let err = auth
        .register(registration("TAKEN", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Conflict("username")), "{err:?}");
    // Usernames are public; email addresses are not: the answer is the
    // generic one for an address that cannot be used, never "taken".
    let err = auth
        .register(
            registration("other", "Taken@example.com", PASSWORD),
            ClientInfo::default(),
        )
        .await
        .unwrap_err();
    match err {
        ServiceError::Invalid(msg) => {
            assert_eq!(msg, domain::messages::EMAIL_UNAVAILABLE);
            assert!(!msg.contains("taken") && !msg.contains("exists"), "{msg}");
        }
        other => panic!("expected the generic email answer, got {other:?}"),
    }
    // The same for a signed-in account moving to someone's address.
    let (_, tokens) = auth
        .register(registration("mover2", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let me = auth.authenticate(&tokens.access_token).await.unwrap();
    let change = ProfileChange {
        email: Some("taken@example.com".into()),
        ..ProfileChange::default()
    };
    match auth.update_profile(&me, change).await {
        Err(ServiceError::Invalid(msg)) => assert_eq!(msg, domain::messages::EMAIL_UNAVAILABLE),
        other => panic!("expected the generic email answer, got {other:?}"),
    }
}

async fn refresh_rotates_and_a_replayed_token_ends_the_session(fx: Fixture) {
    let auth = service(&fx);
    let (_, first) = auth
        .register(registration("rotor", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.session_id, first.session_id);
    let third = auth.refresh(&second.refresh_token).await.unwrap();
    auth.authenticate(&third.access_token).await.unwrap();

    // The first token is replayed (stolen): the whole family dies.
    unauthorized(auth.refresh(&first.refresh_token).await);
    unauthorized(auth.refresh(&third.refresh_token).await);
    unauthorized(auth.authenticate(&third.access_token).await);
    unauthorized(auth.refresh("not-a-token").await);
}

/// The service forgets a signed-out session, its refresh tokens first (one
/// per renewal), once it ended longer ago than it keeps ended ones, a
/// bounded batch at a time; never a live one.
async fn pruning_forgets_sessions_that_ended_longer_ago_than_kept(fx: Fixture) {
    use services::store::Pruned;

    let auth = service(&fx);
    let (_, mut leaver) = auth
        .register(registration("leaver", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let (_, stayer) = auth
        .register(registration("stayer", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    // Two renewals: three refresh tokens in all.
    for _ in 0..2 {
        leaver = auth.refresh(&leaver.refresh_token).await.unwrap();
    }
    let me = auth.authenticate(&leaver.access_token).await.unwrap();
    auth.logout(&me).await.unwrap();
    assert_eq!(
        auth.prune_ended(chrono::Duration::days(30), 1)
            .await
            .unwrap(),
        Pruned::default(),
        "ended a moment ago: kept"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let pruned = auth.prune_ended(chrono::Duration::zero(), 1).await.unwrap();
    assert_eq!(
        (pruned.sessions, pruned.refresh_tokens, pruned.tokens),
        (1, 3, 0),
        "{pruned:?}"
    );
    assert!(fx.store.session(me.session_id).await.unwrap().is_none());
    let live = auth.authenticate(&stayer.access_token).await.unwrap();
    assert!(fx.store.session(live.session_id).await.unwrap().is_some());
    auth.refresh(&stayer.refresh_token).await.unwrap();
}

async fn logout_refuses_the_old_access_token_at_once(fx: Fixture) {
    let auth = service(&fx);
    let (_, tokens) = auth
        .register(registration("leaver", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let me = auth.authenticate(&tokens.access_token).await.unwrap();
    auth.logout(&me).await.unwrap();
    unauthorized(auth.authenticate(&tokens.access_token).await);
    unauthorized(auth.refresh(&tokens.refresh_token).await);
}

async fn password_change_needs_the_current_one_and_ends_other_sessions(fx: Fixture) {
    let auth = service(&fx);
    let (_, laptop) = auth
        .register(registration("careful", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let (_, phone) = auth
        .login("careful", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    let me = auth.authenticate(&laptop.access_token).await.unwrap();

    // Refused, but the caller's session is fine: forbidden, not unauthorized.
    assert!(matches!(
        auth.change_password(&me, "wrong-current", "sunlit-meadow-39-otters")
            .await,
        Err(ServiceError::Forbidden(
            domain::messages::WRONG_CURRENT_PASSWORD
        ))
    ));
    assert!(matches!(
        auth.change_password(&me, PASSWORD, "12345678").await,
        Err(ServiceError::Invalid(_))
    ));
    auth.change_password(&me, PASSWORD, "sunlit-meadow-39-otters")
        .await
        .unwrap();

    unauthorized(auth.authenticate(&phone.access_token).await);
    unauthorized(auth.refresh(&phone.refresh_token).await);
    auth.authenticate(&laptop.access_token)
        .await
        .expect("the current session stays");
    unauthorized(auth.login("careful", PASSWORD, ClientInfo::default()).await);
    auth.login("careful", "sunlit-meadow-39-otters", ClientInfo::default())
        .await
        .unwrap();
}

async fn revoking_a_session_refuses_its_access_tokens(fx: Fixture) {
    let auth = service(&fx);
    let (_, a) = auth
        .register(registration("revoker", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let (_, b) = auth
        .login("revoker", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    let me = auth.authenticate(&a.access_token).await.unwrap();
    auth.revoke_session(&me, b.session_id).await.unwrap();
    unauthorized(auth.authenticate(&b.access_token).await);
    assert!(matches!(
        auth.revoke_session(&me, b.session_id).await,
        Err(ServiceError::NotFound(_))
    ));
    // Someone else's session is "not found", never revoked.
    let (_, stranger) = auth
        .register(
            registration("stranger", "", PASSWORD),
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        auth.revoke_session(&me, stranger.session_id).await,
        Err(ServiceError::NotFound(_))
    ));
    auth.authenticate(&stranger.access_token).await.unwrap();
    assert_eq!(auth.sessions(&me).await.unwrap().len(), 1);
}

async fn profile_changes_are_validated_and_stored(fx: Fixture) {
    let auth = service(&fx);
    let (_, tokens) = auth
        .register(
            registration("painter", "p@example.com", PASSWORD),
            ClientInfo::default(),
        )
        .await
        .unwrap();
    let me = auth.authenticate(&tokens.access_token).await.unwrap();
    let change = ProfileChange {
        display_name: Some("画家".into()),
        avatar_url: Some("https://img.example.com/p.png".into()),
        email: None,
    };
    let user = auth.update_profile(&me, change).await.unwrap();
    assert_eq!(user.display_name, "画家");
    assert_eq!(
        user.email.as_deref(),
        Some("p@example.com"),
        "untouched field kept"
    );
    let cleared = auth
        .update_profile(
            &me,
            ProfileChange {
                email: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.email, None);
    assert_eq!(
        cleared.avatar_url.as_deref(),
        Some("https://img.example.com/p.png")
    );
    for bad in [
        ProfileChange {
            avatar_url: Some("javascript:alert(1)".into()),
            ..Default::default()
        },
        ProfileChange {
            display_name: Some(String::new()),
            ..Default::default()
        },
        ProfileChange {
            email: Some("nope".into()),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            auth.update_profile(&me, bad).await,
            Err(ServiceError::Invalid(_) | ServiceError::InvalidName(_))
        ));
    }
}

async fn idle_session_cannot_refresh(fx: Fixture) {
    let policy = SessionPolicy {
        idle_timeout: Duration::zero(),
        ..SessionPolicy::default()
    };
    let auth = service_with(&fx, policy);
    let (_, tokens) = auth
        .register(registration("sleepy", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    unauthorized(auth.refresh(&tokens.refresh_token).await);
}

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip_address: Some(ip.into()),
        ..ClientInfo::default()
    }
}

async fn repeated_failures_from_one_address_lock_that_address(fx: Fixture) {
    let auth = service(&fx);
    auth.register(registration("victim2", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    for i in 0..5 {
        // Spraying different accounts from one address.
        unauthorized(
            auth.login(&format!("guess{i}"), "wrong-password", from("192.0.2.9"))
                .await,
        );
    }
    assert!(matches!(
        auth.login("victim2", PASSWORD, from("192.0.2.9")).await,
        Err(ServiceError::TooManyRequests { .. })
    ));
    auth.login("victim2", PASSWORD, from("192.0.2.10"))
        .await
        .expect("another address is fine");
}

async fn a_browser_racing_itself_keeps_its_session_but_a_late_replay_ends_it(fx: Fixture) {
    let auth = service(&fx);
    let (_, first) = auth
        .register(registration("tabs", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    // Two requests of one page present the same refresh cookie.
    let winner = match auth
        .refresh_allowing_race(&first.refresh_token)
        .await
        .unwrap()
    {
        Refreshed::Rotated(pair) => pair,
        other => panic!("the first presentation rotates: {other:?}"),
    };
    match auth
        .refresh_allowing_race(&first.refresh_token)
        .await
        .unwrap()
    {
        Refreshed::Concurrent { access_token, .. } => {
            let loser = auth.authenticate(&access_token).await.unwrap();
            assert_eq!(loser.session_id, winner.session_id);
        }
        other => panic!("the second is a race: {other:?}"),
    }
    // The winner's refresh token carries on.
    let next = auth.refresh(&winner.refresh_token).await.unwrap();
    auth.authenticate(&next.access_token).await.unwrap();
    // An API client gets no grace: the same replay through `refresh` is theft.
    unauthorized(auth.refresh(&first.refresh_token).await);
    unauthorized(auth.authenticate(&next.access_token).await);
    unauthorized(auth.refresh(&next.refresh_token).await);
}

async fn a_replay_after_the_grace_period_ends_the_session_even_for_a_browser(fx: Fixture) {
    let policy = SessionPolicy {
        reuse_grace: Duration::zero(),
        ..SessionPolicy::default()
    };
    let auth = service_with(&fx, policy);
    let (_, first) = auth
        .register(
            registration("latecomer", "", PASSWORD),
            ClientInfo::default(),
        )
        .await
        .unwrap();
    let second = auth
        .refresh_allowing_race(&first.refresh_token)
        .await
        .unwrap();
    let Refreshed::Rotated(second) = second else {
        panic!("rotates")
    };
    unauthorized(auth.refresh_allowing_race(&first.refresh_token).await);
    unauthorized(auth.refresh(&second.refresh_token).await);
}

/// The audit log about `user` (every account when `None`), oldest first.
async fn audit_of(fx: &Fixture, user: Option<uuid::Uuid>) -> Vec<AuditEvent> {
    let query = AuditQuery {
        user_id: user,
        ..Default::default()
    };
    let mut events = AuditService::new(fx.store.clone())
        .query(&query)
        .await
        .unwrap();
    events.reverse();
    events
}

fn detail(event: &AuditEvent) -> serde_json::Value {
    serde_json::from_str(event.detail.as_deref().unwrap_or("null")).unwrap()
}

async fn sign_ins_and_refusals_are_audited_without_the_password(fx: Fixture) {
    let auth = service(&fx);
    let laptop = ClientInfo {
        user_agent: Some("Firefox/140".into()),
        ip_address: Some("198.51.100.4".into()),
        device_token: None,
    };
    let (user, _) = auth
        .register(registration("auditee", "", PASSWORD), laptop.clone())
        .await
        .unwrap();
    auth.login("AUDITEE", PASSWORD, laptop.clone())
        .await
        .unwrap();
    unauthorized(
        auth.login("auditee", "wrong-horse-battery", from("203.0.113.9"))
            .await,
    );
    unauthorized(
        auth.login("no-such-user", "wrong-horse-battery", from("203.0.113.9"))
            .await,
    );

    let events = audit_of(&fx, None).await;
    let kinds: Vec<AuditKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::RoleChanged, // the first account is an admin
            AuditKind::SignIn,
            AuditKind::SignIn,
            AuditKind::SignInFailed,
            AuditKind::SignInFailed,
        ]
    );
    let (registered, signed_in) = (&events[1], &events[2]);
    assert_eq!(detail(registered)["method"], "registration");
    assert_eq!(detail(signed_in)["method"], "password");
    for event in [registered, signed_in] {
        assert_eq!(event.user_id, Some(user.id));
        assert_eq!(event.username.as_deref(), Some("auditee"));
        assert_eq!(event.ip.as_deref(), Some("198.51.100.4"));
        assert_eq!(event.user_agent.as_deref(), Some("Firefox/140"));
        assert!(detail(event)["session_id"].is_string());
    }
    let (wrong, unknown) = (&events[3], &events[4]);
    assert_eq!(wrong.user_id, Some(user.id), "the account exists");
    assert_eq!(detail(wrong)["login"], "auditee");
    assert_eq!(detail(wrong)["reason"], "bad_credentials");
    assert_eq!(wrong.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(unknown.user_id, None);
    assert_eq!(detail(unknown)["login"], "no-such-user");
    for event in &events {
        let text = event.detail.as_deref().unwrap_or_default();
        assert!(
            !text.contains(PASSWORD) && !text.contains("wrong-horse"),
            "never a password: {text}"
        );
    }
}

async fn sign_out_password_change_and_revocations_are_audited(fx: Fixture) {
    let auth = service(&fx);
    let (user, laptop) = auth
        .register(registration("mover", "", PASSWORD), ClientInfo::default())
        .await
        .unwrap();
    let mut others = Vec::new();
    for _ in 0..3 {
        let (_, tokens) = auth
            .login("mover", PASSWORD, ClientInfo::default())
            .await
            .unwrap();
        others.push(tokens.session_id);
    }
    let me = auth.authenticate(&laptop.access_token).await.unwrap();
    auth.revoke_session(&me, others[0]).await.unwrap();
    assert_eq!(auth.revoke_other_sessions(&me).await.unwrap(), 2);
    let (_, phone) = auth
        .login("mover", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    auth.change_password(&me, PASSWORD, "sunlit-meadow-39-otters")
        .await
        .unwrap();
    auth.logout(&me).await.unwrap();

    let events: Vec<AuditEvent> = audit_of(&fx, Some(user.id))
        .await
        .into_iter()
        .filter(|e| !matches!(e.kind, AuditKind::SignIn | AuditKind::RoleChanged))
        .collect();
    let kinds: Vec<AuditKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::SessionRevoked,
            AuditKind::SessionRevoked,
            AuditKind::PasswordChanged,
            AuditKind::SignOut,
        ]
    );
    let laptop_id = laptop.session_id.to_string();
    assert_eq!(detail(&events[0])["session_id"], others[0].to_string());
    assert_eq!(detail(&events[0])["by_session_id"], laptop_id.as_str());
    assert_eq!(detail(&events[1])["others"], true);
    assert_eq!(detail(&events[1])["sessions_ended"], 2);
    assert_eq!(
        detail(&events[2])["sessions_ended"],
        1,
        "the phone's session"
    );
    assert_eq!(detail(&events[3])["session_id"], laptop_id.as_str());
    unauthorized(auth.refresh(&phone.refresh_token).await);
}
