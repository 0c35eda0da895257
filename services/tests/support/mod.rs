//! Shared helpers for the contract tests: backends to run them against.
#![allow(dead_code, unused_macros, unused_imports)] // each test binary uses a part

pub mod s3;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use services::store::{self, Backend, Store};
use std::sync::Arc;

/// Whether the PostgreSQL/Redis variants must run (CI) rather than be skipped.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The value of an optional test-service variable; panics in CI when unset,
/// so a missing service never turns into a silent skip there.
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => {
            panic!("{var} must be set when CI=true (PostgreSQL/Redis tests are mandatory in CI)")
        }
        _ => {
            eprintln!("{var} not set: skipping this backend");
            None
        }
    }
}

/// Runs `body`, then `cleanup` even if `body` panicked, then re-raises the panic.
pub async fn with_cleanup<T, C>(
    body: impl Future<Output = T>,
    cleanup: impl Future<Output = C>,
) -> T {
    let outcome = AssertUnwindSafe(body).catch_unwind().await;
    cleanup.await;
    match outcome {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A fresh, uniquely named PostgreSQL database on the server of `admin_url`;
/// returns its URL. Drop it with [`drop_pg_database`].
pub async fn create_pg_database(admin_url: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("chatsphere_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    (with_database(admin_url, &name), name)
}

/// Drops a database made by [`create_pg_database`].
pub async fn drop_pg_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
            .execute(&mut admin)
            .await;
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A fresh database for one store test.
pub struct StoreFixture {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// Its database URL (to connect a second time).
    pub url: String,
}

impl StoreFixture {
    /// Creates an account named `name` (no email, no password).
    #[allow(dead_code)] // not every test file creates accounts
    pub async fn user(&self, name: &str) -> services::store::User {
        self.store
            .create_user(&services::store::NewUser {
                username: domain::Username::parse(name).unwrap(),
                email: None,
                display_name: domain::DisplayName::parse(name).unwrap(),
                password_hash: None,
            })
            .await
            .unwrap()
    }
}

impl StoreFixture {
    /// Stores `body` from `sender` in `conversation` (a new client id, no
    /// reply, no mentions) and returns it; a duplicate fails the test.
    #[allow(dead_code)] // not every test file posts
    pub async fn post(
        &self,
        conversation: uuid::Uuid,
        sender: uuid::Uuid,
        body: &str,
    ) -> domain::ChatMessage {
        let client = uuid::Uuid::now_v7().to_string();
        match self
            .store
            .post_message(&services::store::NewMessage {
                conversation_id: conversation,
                sender_id: sender,
                client_msg_id: &client,
                body,
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap()
        {
            services::store::Posted::New(m) => m,
            services::store::Posted::Duplicate(_) => panic!("a new client id is new"),
        }
    }
}

/// Runs a store test on a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(StoreFixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/chat.db", dir.path().display());
    let store = store::connect(&url).await.expect("sqlite store");
    assert_eq!(store.backend(), Backend::Sqlite);
    test(StoreFixture { store, url }).await;
}

/// Runs a store test on a fresh PostgreSQL database (when configured).
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(StoreFixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin) = service_url("TEST_DATABASE_URL") else {
        return;
    };
    let (url, name) = create_pg_database(&admin).await;
    let body = async {
        let store = store::connect(&url).await.expect("postgres store");
        assert_eq!(store.backend(), Backend::Postgres);
        test(StoreFixture {
            store,
            url: url.clone(),
        })
        .await;
    };
    with_cleanup(body, drop_pg_database(&admin, &name)).await;
}

/// Declares each named `async fn(StoreFixture)` as a test on SQLite and on PostgreSQL.
macro_rules! store_contract {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { crate::support::on_sqlite(super::$name).await })+
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(not(postgres_available), ignore = "needs TEST_DATABASE_URL (PostgreSQL)")]
                async fn $name() { crate::support::on_postgres(super::$name).await }
            )+
        }
    };
}
pub(crate) use store_contract;
