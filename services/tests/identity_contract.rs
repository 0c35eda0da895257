//! The identity part of the store contract (external accounts and pending
//! browser sign-ins), on SQLite and, when configured, PostgreSQL.

mod support;

use chrono::{Duration, Utc};
use domain::{DisplayName, Email, Username};
use services::store::{NewUser, PendingLogin, StoreError};
use support::StoreFixture as Fixture;

support::store_contract!(
    pending_login_is_taken_once,
    expired_pending_login_cannot_be_taken,
    user_created_with_an_identity_is_found_by_it_and_by_verified_email,
    a_password_account_email_is_not_verified_so_never_matches,
    an_identity_links_to_one_user_only,
    creating_with_a_taken_username_or_email_is_a_conflict_and_leaves_nothing,
);

fn new_user(username: &str, email: Option<&str>) -> NewUser {
    NewUser {
        username: Username::parse(username).unwrap(),
        email: email.map(|e| Email::parse(e).unwrap()),
        display_name: DisplayName::parse(username).unwrap(),
        password_hash: None,
    }
}

fn pending(state: u8, minutes: i64) -> PendingLogin {
    PendingLogin {
        state_hash: [state; 32],
        provider: "oidc".into(),
        pkce_verifier: "v".repeat(43),
        nonce: "nonce".into(),
        next: "/rooms?x=1".into(),
        expires_at: Utc::now() + Duration::minutes(minutes),
    }
}

async fn pending_login_is_taken_once(fx: Fixture) {
    let login = pending(1, 10);
    fx.store.save_pending_login(&login).await.unwrap();
    let taken = fx
        .store
        .take_pending_login(&[1; 32], Utc::now())
        .await
        .unwrap()
        .expect("first take finds it");
    assert_eq!(taken.provider, login.provider);
    assert_eq!(taken.pkce_verifier, login.pkce_verifier);
    assert_eq!(taken.nonce, login.nonce);
    assert_eq!(taken.next, login.next);
    assert!(fx
        .store
        .take_pending_login(&[1; 32], Utc::now())
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .store
        .take_pending_login(&[2; 32], Utc::now())
        .await
        .unwrap()
        .is_none());
}

async fn expired_pending_login_cannot_be_taken(fx: Fixture) {
    fx.store.save_pending_login(&pending(3, 1)).await.unwrap();
    let later = Utc::now() + Duration::minutes(2);
    assert!(fx
        .store
        .take_pending_login(&[3; 32], later)
        .await
        .unwrap()
        .is_none());
    // Purged, so not found even by a clock that went back.
    assert!(fx
        .store
        .take_pending_login(&[3; 32], Utc::now())
        .await
        .unwrap()
        .is_none());
}

async fn user_created_with_an_identity_is_found_by_it_and_by_verified_email(fx: Fixture) {
    let user = fx
        .store
        .create_user_with_identity(
            &new_user("lin", Some("Lin@Example.com")),
            "https://issuer",
            "sub-1",
        )
        .await
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("Lin@Example.com"));
    let found = fx
        .store
        .user_by_identity("https://issuer", "sub-1")
        .await
        .unwrap();
    assert_eq!(found, Some(user.clone()));
    assert!(fx
        .store
        .user_by_identity("https://other-issuer", "sub-1")
        .await
        .unwrap()
        .is_none());
    let by_email = fx
        .store
        .user_by_verified_email("lin@example.COM")
        .await
        .unwrap();
    assert_eq!(by_email, Some(user));
}

async fn a_password_account_email_is_not_verified_so_never_matches(fx: Fixture) {
    fx.store
        .create_user(&NewUser {
            password_hash: Some("$argon2id$...".into()),
            ..new_user("pat", Some("pat@example.com"))
        })
        .await
        .unwrap();
    assert!(fx
        .store
        .user_by_verified_email("pat@example.com")
        .await
        .unwrap()
        .is_none());
}

async fn an_identity_links_to_one_user_only(fx: Fixture) {
    let a = fx.store.create_user(&new_user("anna", None)).await.unwrap();
    let b = fx.store.create_user(&new_user("bert", None)).await.unwrap();
    fx.store
        .link_identity("https://github.com", "42", a.id, None)
        .await
        .unwrap();
    let err = fx
        .store
        .link_identity("https://github.com", "42", b.id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("identity")), "{err:?}");
    // The same subject at another provider is another identity.
    fx.store
        .link_identity(
            "https://accounts.google.com",
            "42",
            b.id,
            Some("b@example.com"),
        )
        .await
        .unwrap();
    assert_eq!(
        fx.store
            .user_by_identity("https://github.com", "42")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(a.id)
    );
    let err = fx
        .store
        .link_identity("https://github.com", "43", uuid::Uuid::now_v7(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn creating_with_a_taken_username_or_email_is_a_conflict_and_leaves_nothing(fx: Fixture) {
    fx.store
        .create_user(&new_user("taken", Some("taken@example.com")))
        .await
        .unwrap();
    let err = fx
        .store
        .create_user_with_identity(&new_user("TAKEN", None), "https://issuer", "s1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("username")), "{err:?}");
    let err = fx
        .store
        .create_user_with_identity(
            &new_user("fresh", Some("TAKEN@example.com")),
            "https://issuer",
            "s1",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("email")), "{err:?}");
    assert!(fx
        .store
        .user_by_identity("https://issuer", "s1")
        .await
        .unwrap()
        .is_none());
    let again = fx
        .store
        .create_user_with_identity(&new_user("fresh", None), "https://issuer", "s1")
        .await
        .unwrap();
    let err = fx
        .store
        .create_user_with_identity(&new_user("fresh2", None), "https://issuer", "s1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("identity")), "{err:?}");
    assert_eq!(
        fx.store
            .user_by_identity("https://issuer", "s1")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(again.id)
    );
}
