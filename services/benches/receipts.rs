//! Prints what receipts and resume cost in the store, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL: `cargo bench -p services --bench receipts`.
//! Figures, not assertions: the machines here are noisy.

use std::time::{Duration, Instant};

use domain::{DisplayName, Username};
use services::store::search::QUEUE_BATCH;
use services::store::{self, NewMessage, NewUser, Store};
use std::sync::Arc;

// Throwaway PostgreSQL databases, shared with the tests.
#[path = "../tests/support/mod.rs"]
mod support;

const MESSAGES: i64 = 2_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = store::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
        .await
        .unwrap();
    run("sqlite", sqlite).await;
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        let (url, name) = support::create_pg_database(&admin).await;
        let bench = async { run("postgres", store::connect(&url).await.unwrap()).await };
        support::with_cleanup(bench, support::drop_pg_database(&admin, &name)).await;
    }
}

async fn run(backend: &str, store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for name in ["ann", "ben"] {
        let user = store
            .create_user(&NewUser {
                username: Username::parse(name).unwrap(),
                email: None,
                display_name: DisplayName::parse(name).unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        ids.push(user.id);
    }
    let (dm, _) = store.open_direct(ids[0], ids[1]).await.unwrap();
    let started = Instant::now();
    for i in 0..MESSAGES {
        store
            .post_message(&NewMessage {
                conversation_id: dm.id,
                sender_id: ids[0],
                client_msg_id: &format!("m{i}"),
                body: "a message of ordinary length, about sixty characters long.",
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
    }
    report(backend, "store a message", started.elapsed(), MESSAGES);
    // SQLite indexes new messages for search after their transactions, in
    // batches (PostgreSQL in the message's transaction: nothing queued).
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let n = store.index_queued(QUEUE_BATCH).await.unwrap();
        if n == 0 {
            break;
        }
        indexed += n;
    }
    if indexed > 0 {
        report(
            backend,
            "index them for search (batches)",
            started.elapsed(),
            indexed as i64,
        );
    }

    let started = Instant::now();
    for seq in 1..=MESSAGES {
        store.mark_delivered(dm.id, ids[1], seq).await.unwrap();
    }
    report(
        backend,
        "delivered receipt (moves)",
        started.elapsed(),
        MESSAGES,
    );
    let started = Instant::now();
    for seq in 1..=MESSAGES {
        store.mark_read(dm.id, ids[1], seq / 2).await.unwrap();
    }
    report(
        backend,
        "read receipt (half move)",
        started.elapsed(),
        MESSAGES,
    );
    let started = Instant::now();
    for _ in 0..MESSAGES {
        store.mark_read(dm.id, ids[1], 1).await.unwrap();
    }
    report(
        backend,
        "read receipt (no move)",
        started.elapsed(),
        MESSAGES,
    );

    let started = Instant::now();
    let mut replayed = 0;
    let mut after = 0;
    loop {
        let page = store.messages_after(dm.id, after, 100).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        replayed += page.len() as i64;
    }
    report(
        backend,
        "replay (per message, pages of 100)",
        started.elapsed(),
        replayed,
    );
    let started = Instant::now();
    for _ in 0..200 {
        store.conversations_of(ids[1]).await.unwrap();
    }
    report(
        backend,
        "conversation list with unread counts",
        started.elapsed(),
        200,
    );
}

fn report(backend: &str, what: &str, took: Duration, n: i64) {
    let per = took / u32::try_from(n).unwrap();
    println!(
        "{backend:>8} | {what:<38} | {n:>5} in {took:>9.1?} | {per:>8.1?} each | {:>8.0}/s",
        n as f64 / took.as_secs_f64()
    );
}
