//! AdminService and the admin rules of AuthService, wired as the server
//! wires them ([`Services::new`]): who is an admin, disabled accounts
//! refused everywhere and enabled again, and what only admins may do. Run
//! over SQLite and (when configured) PostgreSQL; the deny list in Redis too
//! when `TEST_REDIS_URL` is set.

mod support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use domain::protocol::ServerFrame;
use domain::{AuditEvent, AuditKind};
use services::admin::AccountQuery;
use services::auth::{AccessTokens, ClientInfo, Registration, SessionPolicy, TokenPair};
use services::bus::InProcessBus;
use services::conversations::{Actor, ChatPolicy, Outgoing};
use services::events::{user_topic, Envelope};
use services::kv::SharedKv;
use services::store::{AuditQuery, User};
use services::{ServiceError, Services};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    the_first_account_is_an_admin_and_the_second_is_not,
    configured_admins_are_promoted_at_start_up_and_when_they_register,
    a_disabled_account_is_refused_everywhere_and_its_sessions_end,
    an_account_enabled_again_signs_in_but_its_old_tokens_stay_dead,
    only_enabled_admins_manage_accounts_and_never_their_own,
    admins_list_and_count_accounts,
    admins_create_retopic_and_delete_rooms_and_members_stop_following_them,
    live_counts_show_who_is_online_connections_and_recent_messages,
);

const PASSWORD: &str = "violet-harbour-71-kites";

fn services(fx: &Fixture, kv: SharedKv) -> Services {
    let tokens = AccessTokens::new(
        b"admin-service-test-secret-0123456789",
        "iss",
        "aud",
        StdDuration::from_secs(900),
    );
    Services::new(
        fx.store.clone(),
        Arc::new(InProcessBus::new()),
        kv,
        tokens,
        SessionPolicy::default(),
        ChatPolicy::default(),
    )
}

async fn register(s: &Services, name: &str) -> (User, TokenPair) {
    let input = Registration {
        username: name.into(),
        email: String::new(),
        display_name: String::new(),
        password: PASSWORD.into(),
    };
    s.auth.register(input, ClientInfo::default()).await.unwrap()
}

async fn login(s: &Services, name: &str) -> Result<TokenPair, ServiceError> {
    s.auth
        .login(name, PASSWORD, ClientInfo::default())
        .await
        .map(|(_, tokens)| tokens)
}

fn admin_desk() -> ClientInfo {
    ClientInfo {
        user_agent: Some("admin-console".into()),
        ip_address: Some("10.1.2.3".into()),
        device_token: None,
    }
}

async fn audit(s: &Services, kind: AuditKind) -> Vec<AuditEvent> {
    let query = AuditQuery {
        kind: Some(kind),
        ..Default::default()
    };
    s.audit.query(&query).await.unwrap()
}

fn disabled<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    assert!(
        matches!(result, Err(ServiceError::AccountDisabled)),
        "expected AccountDisabled, got {result:?}"
    );
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, ServiceError>) {
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "expected Forbidden, got {result:?}"
    );
}

async fn the_first_account_is_an_admin_and_the_second_is_not(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let (first, _) = register(&s, "founder").await;
    let (second, _) = register(&s, "second").await;
    assert!(first.is_admin);
    assert!(!second.is_admin);
    let promoted = audit(&s, AuditKind::RoleChanged).await;
    assert_eq!(promoted.len(), 1);
    assert_eq!(promoted[0].user_id, Some(first.id));
    assert_eq!(
        promoted[0].detail.as_deref(),
        Some(r#"{"is_admin":true,"source":"first_account"}"#)
    );
}

async fn configured_admins_are_promoted_at_start_up_and_when_they_register(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    register(&s, "founder").await;
    let (ops, _) = register(&s, "ops").await;
    assert!(!ops.is_admin);
    let names = vec!["OPS".to_owned(), "security".to_owned()];
    let promoted = s.admin.ensure_admins(&names).await.unwrap();
    assert_eq!(promoted.iter().map(|a| a.id).collect::<Vec<_>>(), [ops.id]);
    assert!(s.admin.require_admin(ops.id).await.is_ok());
    assert!(s.admin.ensure_admins(&names).await.unwrap().is_empty());

    // A name configured before its account exists: admin once registered.
    let (security, _) = register(&s, "Security").await;
    assert!(security.is_admin);
    let (other, _) = register(&s, "other").await;
    assert!(!other.is_admin);
    let role_changes = audit(&s, AuditKind::RoleChanged).await;
    assert_eq!(role_changes.len(), 3, "first account, ops, security");
    assert!(role_changes.iter().all(|e| e.actor_id.is_none()));
}

async fn a_disabled_account_is_refused_everywhere_and_its_sessions_end(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let (admin, _) = register(&s, "founder").await;
    let (mallory, laptop) = register(&s, "mallory").await;
    let phone = login(&s, "mallory").await.unwrap();
    let mut topic = s.bus.subscribe(&user_topic(mallory.id)).await.unwrap();

    let account = s
        .admin
        .set_disabled(admin.id, mallory.id, true, &admin_desk())
        .await
        .unwrap();
    assert!(account.disabled_at.is_some());

    disabled(login(&s, "mallory").await);
    disabled(s.auth.refresh(&phone.refresh_token).await);
    disabled(s.auth.refresh_allowing_race(&laptop.refresh_token).await);
    disabled(s.auth.authenticate(&laptop.access_token).await);
    disabled(s.auth.authenticate(&phone.access_token).await);
    let now = chrono::Utc::now();
    assert!(fx
        .store
        .active_sessions(mallory.id, now)
        .await
        .unwrap()
        .is_empty());

    let payload = tokio::time::timeout(StdDuration::from_secs(5), topic.recv())
        .await
        .expect("announced on the user's topic")
        .unwrap();
    let envelope = Envelope::open(payload).unwrap();
    let header: ServerFrame<'_> = serde_json::from_slice(&envelope.json).unwrap();
    assert!(matches!(header, ServerFrame::AccountDisabled { user_id } if user_id == mallory.id));

    let events = audit(&s, AuditKind::UserDisabled).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        (event.user_id, event.actor_id),
        (Some(mallory.id), Some(admin.id))
    );
    assert_eq!(event.ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(event.detail.as_deref(), Some(r#"{"sessions_ended":2}"#));
    let refused = audit(&s, AuditKind::SignInFailed).await;
    assert_eq!(refused.len(), 1, "the refused sign-in is audited");
    assert!(refused[0]
        .detail
        .as_deref()
        .unwrap()
        .contains("account_disabled"));

    // Disabling again changes nothing and records nothing.
    s.admin
        .set_disabled(admin.id, mallory.id, true, &admin_desk())
        .await
        .unwrap();
    assert_eq!(audit(&s, AuditKind::UserDisabled).await.len(), 1);
}

async fn an_account_enabled_again_signs_in_but_its_old_tokens_stay_dead(fx: Fixture) {
    for kv in kvs().await {
        let s = services(&fx, kv);
        let suffix = &Uuid::now_v7().simple().to_string()[24..];
        let (admin, _) = register(&s, &format!("boss-{suffix}")).await;
        s.admin
            .ensure_admins(std::slice::from_ref(&admin.username))
            .await
            .unwrap();
        let name = format!("back-{suffix}");
        let (user, old) = register(&s, &name).await;
        s.admin
            .set_disabled(admin.id, user.id, true, &admin_desk())
            .await
            .unwrap();
        disabled(login(&s, &name).await);

        let account = s
            .admin
            .set_disabled(admin.id, user.id, false, &admin_desk())
            .await
            .unwrap();
        assert_eq!(account.disabled_at, None);
        let fresh = login(&s, &name).await.expect("signs in again");
        let me = s.auth.authenticate(&fresh.access_token).await.unwrap();
        assert_eq!(me.user_id, user.id);
        s.auth.refresh(&fresh.refresh_token).await.unwrap();
        assert!(matches!(
            s.auth.authenticate(&old.access_token).await,
            Err(ServiceError::Unauthorized(_))
        ));
        assert!(matches!(
            s.auth.refresh(&old.refresh_token).await,
            Err(ServiceError::Unauthorized(_))
        ));
        let enabled = audit(&s, AuditKind::UserEnabled).await;
        assert!(enabled
            .iter()
            .any(|e| e.user_id == Some(user.id) && e.actor_id == Some(admin.id)));
    }
}

/// The deny lists to run a test with: in the database, and in Redis when configured.
async fn kvs() -> Vec<SharedKv> {
    let mut kvs = vec![SharedKv::local()];
    if let Some(url) = support::service_url("TEST_REDIS_URL") {
        let prefix = format!("chatsphere-test:{}:", Uuid::now_v7().simple());
        kvs.push(SharedKv::redis(&url, &prefix).await.expect("redis kv"));
    }
    kvs
}

async fn only_enabled_admins_manage_accounts_and_never_their_own(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let (root, _) = register(&s, "founder").await;
    let (ann, _) = register(&s, "ann").await;
    let (ben, _) = register(&s, "ben").await;
    let desk = admin_desk();

    forbidden(s.admin.users(ann.id, &AccountQuery::default()).await);
    forbidden(s.admin.stats(ann.id).await);
    forbidden(s.admin.audit_events(ann.id, &AuditQuery::default()).await);
    forbidden(s.admin.set_admin(ann.id, ann.id, true, &desk).await);
    forbidden(s.admin.set_disabled(ann.id, ben.id, true, &desk).await);
    forbidden(s.admin.set_disabled(root.id, root.id, true, &desk).await);
    forbidden(s.admin.set_admin(root.id, root.id, false, &desk).await);
    assert!(matches!(
        s.admin
            .set_admin(root.id, Uuid::now_v7(), true, &desk)
            .await,
        Err(ServiceError::NotFound("user"))
    ));

    let account = s
        .admin
        .set_admin(root.id, ann.id, true, &desk)
        .await
        .unwrap();
    assert!(account.is_admin);
    let changes = audit(&s, AuditKind::RoleChanged).await;
    assert_eq!(changes[0].user_id, Some(ann.id));
    assert_eq!(changes[0].actor_id, Some(root.id));
    assert_eq!(changes[0].actor_username.as_deref(), Some("founder"));
    assert_eq!(changes[0].detail.as_deref(), Some(r#"{"is_admin":true}"#));

    // The new admin may act, and may even disable the one who promoted them;
    // a disabled admin then may not.
    assert!(!s
        .admin
        .audit_events(ann.id, &AuditQuery::default())
        .await
        .unwrap()
        .is_empty());
    s.admin
        .set_disabled(ann.id, root.id, true, &desk)
        .await
        .unwrap();
    forbidden(s.admin.stats(root.id).await);
    let demoted = s
        .admin
        .set_admin(ann.id, root.id, false, &desk)
        .await
        .unwrap();
    assert!(!demoted.is_admin);
    assert_eq!(audit(&s, AuditKind::RoleChanged).await.len(), 3);
}

async fn admins_list_and_count_accounts(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let (root, _) = register(&s, "founder").await;
    for name in ["mei", "wei", "meiling"] {
        register(&s, name).await;
    }
    let search = |text: &str, limit| AccountQuery {
        search: text.into(),
        limit,
    };
    let names = |accounts: Vec<domain::AccountSummary>| -> Vec<String> {
        accounts.into_iter().map(|a| a.username).collect()
    };
    assert_eq!(
        names(s.admin.users(root.id, &search("MEI", 0)).await.unwrap()),
        ["mei", "meiling"]
    );
    assert_eq!(
        s.admin.users(root.id, &search("", 2)).await.unwrap().len(),
        2
    );
    assert_eq!(
        s.admin.users(root.id, &search("", 0)).await.unwrap().len(),
        4
    );
    // A search longer than any email address (the longest thing it can
    // match) is refused rather than run.
    match s.admin.users(root.id, &search(&"m".repeat(255), 0)).await {
        Err(ServiceError::Invalid(msg)) => assert!(msg.contains("254"), "{msg}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let stats = s.admin.stats(root.id).await.unwrap();
    assert_eq!((stats.total, stats.admins, stats.disabled), (4, 1, 0));
}

async fn admins_create_retopic_and_delete_rooms_and_members_stop_following_them(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let desk = admin_desk();
    let (root, _) = register(&s, "founder").await;
    let (ann, _) = register(&s, "ann").await;
    forbidden(s.admin.create_room(ann.id, "design", "", &desk).await);
    for bad in ["x", "two words", "-dash"] {
        assert!(matches!(
            s.admin.create_room(root.id, bad, "", &desk).await,
            Err(ServiceError::InvalidName(e)) if e.field == "name"
        ));
    }
    assert!(matches!(
        s.admin.create_room(root.id, "GENERAL", "", &desk).await,
        Err(ServiceError::Conflict("room name"))
    ));

    let room = s
        .admin
        .create_room(root.id, " #design ", " Reviews ", &desk)
        .await
        .unwrap();
    assert_eq!(
        (room.name.as_str(), room.topic.as_str()),
        ("design", "Reviews")
    );
    assert!(s
        .rooms
        .list_public_rooms()
        .await
        .unwrap()
        .iter()
        .any(|r| r.id == room.id));
    forbidden(s.admin.set_room_topic(ann.id, room.id, "mine", &desk).await);
    let changed = s
        .admin
        .set_room_topic(root.id, room.id, "Critique, kindly", &desk)
        .await
        .unwrap();
    assert_eq!(changed.topic, "Critique, kindly");

    s.chat.join_room(ann.id, "design").await.unwrap();
    let mut topic = s.bus.subscribe(&user_topic(ann.id)).await.unwrap();
    forbidden(s.admin.delete_room(ann.id, room.id, &desk).await);
    s.admin.delete_room(root.id, room.id, &desk).await.unwrap();
    let payload = tokio::time::timeout(StdDuration::from_secs(5), topic.recv())
        .await
        .expect("the member is told")
        .unwrap();
    let header: ServerFrame<'_> =
        serde_json::from_slice(&Envelope::open(payload).unwrap().json).unwrap();
    assert!(matches!(header, ServerFrame::Left { conversation_id } if conversation_id == room.id));
    assert!(!s.chat.is_member(ann.id, room.id).await.unwrap());
    assert!(matches!(
        s.chat.join_room(ann.id, "design").await,
        Err(ServiceError::NotFound("room"))
    ));
    assert!(matches!(
        s.admin.delete_room(root.id, room.id, &desk).await,
        Err(ServiceError::NotFound("room"))
    ));

    for (kind, detail) in [
        (AuditKind::RoomCreated, r#""topic":"Reviews""#),
        (AuditKind::RoomChanged, r#""topic":"Critique, kindly""#),
        (AuditKind::RoomDeleted, r#""members":1"#),
    ] {
        let events = audit(&s, kind).await;
        assert_eq!(events.len(), 1, "{kind:?}");
        let event = &events[0];
        assert_eq!((event.user_id, event.actor_id), (None, Some(root.id)));
        assert_eq!(event.ip.as_deref(), Some("10.1.2.3"));
        let text = event.detail.as_deref().unwrap();
        assert!(
            text.contains(r#""name":"design""#) && text.contains(detail),
            "{text}"
        );
    }
}

async fn live_counts_show_who_is_online_connections_and_recent_messages(fx: Fixture) {
    let s = services(&fx, SharedKv::local());
    let (root, _) = register(&s, "founder").await;
    let (ann, _) = register(&s, "ann").await;
    forbidden(s.admin.live(ann.id, &s.presence, &s.connections).await);

    let quiet = s
        .admin
        .live(root.id, &s.presence, &s.connections)
        .await
        .unwrap();
    assert_eq!((quiet.online_users, quiet.connections), (0, 0));
    assert_eq!(quiet.messages_last_minute, 0);
    assert_eq!(quiet.per_minute.len(), domain::admin::ACTIVITY_MINUTES);
    assert!(quiet.per_minute.iter().all(|m| m.messages == 0));

    let _online = s.presence.connected(ann.id).await;
    let _socket = s.connections.open();
    let general = s
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    for n in 0..3 {
        let outgoing = Outgoing {
            conversation_id: general.id,
            client_msg_id: format!("live-{n}"),
            body: "hello".into(),
            reply_to: None,
            attachments: Vec::new(),
            label: None,
        };
        s.chat.post(Actor::session(ann.id), outgoing).await.unwrap();
    }
    let live = s
        .admin
        .live(root.id, &s.presence, &s.connections)
        .await
        .unwrap();
    assert_eq!((live.online_users, live.connections), (1, 1));
    assert_eq!(live.messages_last_minute, 3);
    // Sent now: in the current minute, or the one before if it just turned.
    let recent: u32 = live.per_minute[28..].iter().map(|m| m.messages).sum();
    assert_eq!(recent, 3);
    let minutes: Vec<_> = live.per_minute.iter().map(|m| m.minute).collect();
    assert!(minutes
        .windows(2)
        .all(|w| w[1] - w[0] == chrono::Duration::minutes(1)));
    assert!(*minutes.last().unwrap() <= chrono::Utc::now());
}
