//! The store contract: every test runs against SQLite and, when
//! `TEST_DATABASE_URL` is set (always in CI), PostgreSQL — so the two SQL
//! dialects can never mean two behaviours.

mod support;

use domain::{DisplayName, Email, MemberRole, Username};
use services::store::{self, NewUser, StoreError};
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    fresh_database_lists_the_seed_rooms_by_name_with_no_members,
    ping_answers_on_a_live_database,
    migrations_apply_once_and_reconnecting_is_harmless,
    room_lookup_by_name_ignores_case_and_misses_unknown_names,
    created_user_is_returned_and_found_by_id,
    username_taken_in_another_case_is_a_conflict,
    email_taken_in_another_case_is_a_conflict_but_many_users_may_have_none,
    member_count_counts_each_member_once,
    adding_a_member_to_a_missing_conversation_or_user_is_not_found,
    lookups_by_text_with_a_nul_character_find_nothing,
);

fn new_user(username: &str, email: Option<&str>) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        email: email.map(|e| Email::parse(e).unwrap()),
        display_name: DisplayName::parse(&format!("{username} 显示名")).unwrap(),
        password_hash: None,
    }
}

async fn fresh_database_lists_the_seed_rooms_by_name_with_no_members(fx: Fixture) {
    let rooms = fx.store.list_public_rooms().await.unwrap();
    let names: Vec<&str> = rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["general", "random", "tech"]);
    assert!(rooms
        .iter()
        .all(|r| r.member_count == 0 && !r.topic.is_empty()));
    let ids: std::collections::HashSet<Uuid> = rooms.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 3, "room ids are distinct");
}

async fn ping_answers_on_a_live_database(fx: Fixture) {
    fx.store.ping().await.unwrap();
}

async fn migrations_apply_once_and_reconnecting_is_harmless(fx: Fixture) {
    fx.store
        .create_user(&new_user("keeper", None))
        .await
        .unwrap();
    let again = store::connect(&fx.url)
        .await
        .expect("second connect runs migrations again");
    assert_eq!(
        again.list_public_rooms().await.unwrap().len(),
        3,
        "seed rooms are not duplicated"
    );
    let err = again
        .create_user(&new_user("keeper", None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("username")),
        "data survived: {err:?}"
    );
}

async fn room_lookup_by_name_ignores_case_and_misses_unknown_names(fx: Fixture) {
    let general = fx
        .store
        .public_room_by_name("GENERAL")
        .await
        .unwrap()
        .expect("general exists");
    assert_eq!(general.name, "general");
    assert!(fx
        .store
        .public_room_by_name("no-such-room")
        .await
        .unwrap()
        .is_none());
}

/// Clients can send a NUL character in any text (`\u0000` in JSON, `%00` in
/// a URL); PostgreSQL's text cannot hold one, so no stored value contains
/// it. Looking one up finds nothing on both backends — never an error (it
/// was a 500 on PostgreSQL).
async fn lookups_by_text_with_a_nul_character_find_nothing(fx: Fixture) {
    fx.store
        .create_user(&new_user("nul_probe", Some("nul@example.com")))
        .await
        .unwrap();
    for text in ["nul_probe\0", "\0", "nul@example.com\0"] {
        assert!(
            fx.store.credentials_by_login(text).await.unwrap().is_none(),
            "{text:?}"
        );
        assert!(fx.store.public_room_by_name(text).await.unwrap().is_none());
        assert!(fx.store.search_users(text, 10).await.unwrap().is_empty());
        assert!(fx.store.accounts(text, 10).await.unwrap().is_empty());
    }
}

async fn created_user_is_returned_and_found_by_id(fx: Fixture) {
    let created = fx
        .store
        .create_user(&new_user("Zhang_Wei", Some("wei@example.cn")))
        .await
        .unwrap();
    assert_eq!(created.username, "Zhang_Wei");
    assert_eq!(created.email.as_deref(), Some("wei@example.cn"));
    assert_eq!(created.display_name, "Zhang_Wei 显示名");
    assert!(
        (chrono::Utc::now() - created.created_at)
            .num_seconds()
            .abs()
            < 60
    );
    let found = fx
        .store
        .user_by_id(created.id)
        .await
        .unwrap()
        .expect("found by id");
    assert_eq!(found, created);
    assert!(fx.store.user_by_id(Uuid::now_v7()).await.unwrap().is_none());
}

async fn username_taken_in_another_case_is_a_conflict(fx: Fixture) {
    fx.store
        .create_user(&new_user("alice", None))
        .await
        .unwrap();
    let err = fx
        .store
        .create_user(&new_user("ALICE", None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("username")), "{err:?}");
}

async fn email_taken_in_another_case_is_a_conflict_but_many_users_may_have_none(fx: Fixture) {
    fx.store
        .create_user(&new_user("bob", Some("bob@example.com")))
        .await
        .unwrap();
    let err = fx
        .store
        .create_user(&new_user("bobby", Some("BOB@example.com")))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
    fx.store
        .create_user(&new_user("carol", None))
        .await
        .unwrap();
    fx.store.create_user(&new_user("dave", None)).await.unwrap();
}

async fn member_count_counts_each_member_once(fx: Fixture) {
    let general = fx
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    let a = fx
        .store
        .create_user(&new_user("member_a", None))
        .await
        .unwrap();
    let b = fx
        .store
        .create_user(&new_user("member_b", None))
        .await
        .unwrap();
    assert!(fx
        .store
        .add_member(general.id, a.id, MemberRole::Member)
        .await
        .unwrap());
    assert!(fx
        .store
        .add_member(general.id, b.id, MemberRole::Admin)
        .await
        .unwrap());
    assert!(
        !fx.store
            .add_member(general.id, a.id, MemberRole::Owner)
            .await
            .unwrap(),
        "second add is a no-op"
    );
    let rooms = fx.store.list_public_rooms().await.unwrap();
    let counts: Vec<(&str, u32)> = rooms
        .iter()
        .map(|r| (r.name.as_str(), r.member_count))
        .collect();
    assert_eq!(counts, [("general", 2), ("random", 0), ("tech", 0)]);
    assert_eq!(
        fx.store
            .public_room_by_name("general")
            .await
            .unwrap()
            .unwrap()
            .member_count,
        2
    );
}

async fn adding_a_member_to_a_missing_conversation_or_user_is_not_found(fx: Fixture) {
    let general = fx
        .store
        .public_room_by_name("general")
        .await
        .unwrap()
        .unwrap();
    let user = fx
        .store
        .create_user(&new_user("lonely", None))
        .await
        .unwrap();
    let err = fx
        .store
        .add_member(Uuid::now_v7(), user.id, MemberRole::Member)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = fx
        .store
        .add_member(general.id, Uuid::now_v7(), MemberRole::Member)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn unsupported_url_scheme_is_refused_with_a_clear_error() {
    let err = store::connect("mysql://localhost/chat")
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(err, StoreError::UnsupportedScheme(ref s) if s == "mysql"),
        "{err:?}"
    );
    assert!(err.to_string().contains("sqlite: or postgres:"));
}

#[test]
fn test_database_url_rewrite_keeps_host_and_query() {
    assert_eq!(
        support::with_database(
            "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
            "x"
        ),
        "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
    );
    assert_eq!(
        support::with_database("postgres://localhost", "y"),
        "postgres://localhost/y"
    );
}
