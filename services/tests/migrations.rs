//! Migrations that reshape a table keep the data already in it: a database
//! at an earlier version, with messages and a reply, is migrated by the
//! store's own start-up and then read back through the store.

mod support;

use std::path::Path;

use services::store;
use sqlx::migrate::Migrator;
use uuid::Uuid;

/// The version before messages' idempotency key became per conversation.
const BEFORE_PER_CONVERSATION_IDEMPOTENCY: i64 = 5;

/// The migrations of `backend` up to and including `version`.
async fn migrations_up_to(backend: &str, version: i64) -> Migrator {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    let mut migrator = Migrator::new(dir).await.expect("migrations");
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator
}

/// Writes, with the schema of the earlier version, a user, a group with
/// them as member, a message and a reply to it; gives their ids. `$p` is
/// the backend's placeholder prefix (`?` or `$`).
macro_rules! seed {
    ($pool:expr, $p:literal) => {{
        let [user, conversation, first, reply]: [Uuid; 4] =
            std::array::from_fn(|_| Uuid::now_v7());
        let p = |n: u8| format!("{}{n}", $p);
        let pool = $pool;
        let run = |sql: String, binds: Vec<Uuid>| async move {
            let mut query = sqlx::query(&sql);
            for bind in binds {
                query = query.bind(bind);
            }
            query.execute(pool).await.unwrap();
        };
        run(
            format!("insert into users (id, username, display_name) values ({}, 'ann', 'Ann')", p(1)),
            vec![user],
        )
        .await;
        run(
            format!("insert into conversations (id, kind, name, last_seq) values ({}, 'group', 'g', 2)", p(1)),
            vec![conversation],
        )
        .await;
        run(
            format!("insert into members (conversation_id, user_id) values ({}, {})", p(1), p(2)),
            vec![conversation, user],
        )
        .await;
        run(
            format!(
                "insert into messages (id, conversation_id, seq, sender_id, client_msg_id, body) \
                 values ({}, {}, 1, {}, 'c-1', '你好')",
                p(1), p(2), p(3)
            ),
            vec![first, conversation, user],
        )
        .await;
        run(
            format!(
                "insert into messages (id, conversation_id, seq, sender_id, client_msg_id, body, reply_to) \
                 values ({}, {}, 2, {}, 'c-2', 're: 你好', {})",
                p(1), p(2), p(3), p(4)
            ),
            vec![reply, conversation, user, first],
        )
        .await;
        [user, conversation, first, reply]
    }};
}

/// Reads back, through the store, what [`seed`] wrote before the migration.
async fn check_survived(url: &str, ids: [Uuid; 4]) {
    let [_, conversation, first, reply] = ids;
    let store = store::connect(url)
        .await
        .expect("store migrates the database");
    let history = store.history(conversation, None, 10).await.unwrap();
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["re: 你好", "你好"], "messages kept, newest first");
    let reply = store.message(reply).await.unwrap().expect("reply kept");
    assert_eq!(
        reply.reply_to,
        Some(first),
        "the reply still points at its message"
    );
    assert_eq!(reply.client_msg_id, "c-2");
}

#[tokio::test]
async fn sqlite_messages_and_replies_survive_the_per_conversation_idempotency_migration() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chat.db", dir.path().display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    migrations_up_to("sqlite", BEFORE_PER_CONVERSATION_IDEMPOTENCY)
        .await
        .run(&pool)
        .await
        .unwrap();
    let ids = seed!(&pool, "?");
    pool.close().await;
    check_survived(&url, ids).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_available),
    ignore = "needs TEST_DATABASE_URL (PostgreSQL)"
)]
async fn postgres_messages_and_replies_survive_the_per_conversation_idempotency_migration() {
    let Some(admin) = support::service_url("TEST_DATABASE_URL") else {
        return;
    };
    let (url, name) = support::create_pg_database(&admin).await;
    let body = async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrations_up_to("postgres", BEFORE_PER_CONVERSATION_IDEMPOTENCY)
            .await
            .run(&pool)
            .await
            .unwrap();
        let ids = seed!(&pool, "$");
        pool.close().await;
        check_survived(&url, ids).await;
    };
    support::with_cleanup(body, support::drop_pg_database(&admin, &name)).await;
}

/// The version before the search index.
const BEFORE_SEARCH: i64 = 9;

/// The bodies `user` finds for `raw`.
async fn found(store: &std::sync::Arc<dyn store::Store>, user: Uuid, raw: &str) -> Vec<String> {
    use domain::search::SearchQuery;
    use services::search::terms::Terms;
    use services::store::search::MessageSearch;
    let terms = Terms::of(&SearchQuery::parse(raw).unwrap());
    let search = MessageSearch::newest(user, &terms);
    let page = store.search_messages(&search).await.unwrap();
    page.messages.into_iter().map(|m| m.body).collect()
}

/// Messages stored before the search index are queued by its migration
/// and indexed in batches, oldest first; each batch stays done.
async fn check_indexed_in_batches(url: &str, ids: [Uuid; 4]) {
    let [user, ..] = ids;
    let store = store::connect(url)
        .await
        .expect("store migrates the database");
    assert!(
        found(&store, user, "你好").await.is_empty(),
        "not indexed yet"
    );
    assert_eq!(store.pending_index().await.unwrap(), 2);
    assert_eq!(store.index_pending(1).await.unwrap(), 1);
    assert_eq!(
        found(&store, user, "你好").await,
        ["你好"],
        "the oldest first"
    );
    // Interrupted here: a new start goes on where this one stopped.
    drop(store);
    let store = store::connect(url).await.unwrap();
    assert_eq!(store.pending_index().await.unwrap(), 1);
    assert_eq!(store.index_pending(10).await.unwrap(), 1);
    assert_eq!(store.index_pending(10).await.unwrap(), 0);
    assert_eq!(store.pending_index().await.unwrap(), 0);
    assert_eq!(found(&store, user, "你好").await, ["re: 你好", "你好"]);
    // A message sent now is indexed as it is stored.
    store
        .post_message(&store::NewMessage {
            conversation_id: ids[1],
            sender_id: user,
            client_msg_id: "c-3",
            body: "你好 again",
            reply_to: None,
            mentions: &[],
            mentions_all: false,
            attachments: &[],
            label: None,
        })
        .await
        .unwrap();
    assert_eq!(found(&store, user, "again").await, ["你好 again"]);
    assert_eq!(store.index_pending(10).await.unwrap(), 0);
}

#[tokio::test]
async fn sqlite_messages_stored_before_search_are_indexed_in_resumable_batches() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/chat.db", dir.path().display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    migrations_up_to("sqlite", BEFORE_SEARCH)
        .await
        .run(&pool)
        .await
        .unwrap();
    let ids = seed!(&pool, "?");
    pool.close().await;
    check_indexed_in_batches(&url, ids).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_available),
    ignore = "needs TEST_DATABASE_URL (PostgreSQL)"
)]
async fn postgres_messages_stored_before_search_are_indexed_in_resumable_batches() {
    let Some(admin) = support::service_url("TEST_DATABASE_URL") else {
        return;
    };
    let (url, name) = support::create_pg_database(&admin).await;
    let body = async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrations_up_to("postgres", BEFORE_SEARCH)
            .await
            .run(&pool)
            .await
            .unwrap();
        let ids = seed!(&pool, "$");
        pool.close().await;
        check_indexed_in_batches(&url, ids).await;
    };
    support::with_cleanup(body, support::drop_pg_database(&admin, &name)).await;
}
