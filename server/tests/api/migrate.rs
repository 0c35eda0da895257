//! `server migrate-db`: a SQLite deployment filled through the API is
//! copied into PostgreSQL — interrupted once and resumed, refused when the
//! target holds data unless forced — and a server started on the copy
//! shows every user exactly what they saw before (conversations, unread
//! counts, read positions, history with replies, reactions and edits,
//! search), and signs them in with their password.

use std::ops::ControlFlow;
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};
use services::store::migrate::{sqlite_to_postgres, MigrateError, MigrateOptions, Progress};

use crate::helpers::{
    call, on_postgres_and_redis, room_id, say, user, TestApp, User, GOOD_PASSWORD,
};

/// What `who` sees: their conversations (unread counts, read positions),
/// each one's history, and a search.
async fn view(app: &TestApp, who: &User) -> Value {
    let (status, list) = call(app, who, Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(status, 200, "{list}");
    let mut histories = serde_json::Map::new();
    for conversation in list["conversations"].as_array().unwrap() {
        let id = conversation["id"].as_str().unwrap();
        let kind = match conversation["kind"].as_str().unwrap() {
            "direct" => "direct",
            _ => "group",
        };
        let (status, page) = call(
            app,
            who,
            Method::GET,
            &format!("/api/v1/messages/{kind}/{id}?limit=100"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        histories.insert(id.to_owned(), page["messages"].clone());
    }
    let mut searches = Vec::new();
    for query in ["lantern", "has:link"] {
        let (status, found) = call(
            app,
            who,
            Method::GET,
            &format!("/api/v1/search?q={query}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{found}");
        searches.push(found);
    }
    let links = searches.pop().unwrap();
    let found = searches.pop().unwrap();
    // Found the same messages (each backend ranks in its own way).
    let mut hits: Vec<String> = found["messages"]
        .as_array()
        .expect("search results")
        .iter()
        .map(|hit| hit["id"].as_str().unwrap().to_owned())
        .collect();
    hits.sort();
    assert!(!hits.is_empty(), "the search finds something: {found}");
    let links: Vec<&str> = links["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["id"].as_str().unwrap())
        .collect();
    let mut seen =
        json!({"conversations": list, "histories": histories, "search": hits, "links": links});
    to_micros(&mut seen);
    seen
}

/// `value` with every time cut to the microsecond (PostgreSQL's precision;
/// SQLite keeps nanoseconds).
fn to_micros(value: &mut Value) {
    use chrono::SubsecRound;
    match value {
        Value::String(text) => {
            if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
                *text = time
                    .with_timezone(&chrono::Utc)
                    .trunc_subsecs(6)
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_micros),
        Value::Object(fields) => fields.values_mut().for_each(to_micros),
        _ => {}
    }
}

/// Runs the server binary's `migrate-db`; its status, stdout and stderr.
fn migrate_db(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("migrate-db")
        .args(args)
        .output()
        .expect("server binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_deployment_moves_to_postgres_and_everyone_sees_what_they_saw() {
    if on_postgres_and_redis() {
        // Backend-independent (it always starts on SQLite): run once.
        return;
    }
    let Some(admin) = crate::support::service_url("TEST_DATABASE_URL") else {
        return;
    };
    // The source: filled through the API.
    let before = TestApp::spawn_with(&[]).await;
    let (ann, bob, cat) = (
        user(&before, "ann").await,
        user(&before, "bob").await,
        user(&before, "cat").await,
    );
    let crew = crate::groups::new_group(&before, &ann, "crew", &[&bob, &cat]).await;
    let (_, dm) = call(
        &before,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": bob.id})),
    )
    .await;
    let dm = dm["id"].as_str().unwrap().to_owned();
    let general = room_id(&before, &cat, "general").await;
    for who in [&ann, &cat] {
        let (status, _) = call(
            &before,
            who,
            Method::POST,
            &format!("/api/v1/rooms/{general}/join"),
            None,
        )
        .await;
        assert!(status == 200 || status == 204, "{status}");
    }
    let mut crew_messages = Vec::new();
    for i in 0..12 {
        let from = [&ann, &bob, &cat][i % 3];
        crew_messages.push(
            say(
                &before,
                from,
                &crew,
                &format!("crew note {i} about the lantern"),
            )
            .await,
        );
    }
    for i in 0..5 {
        say(&before, [&ann, &bob][i % 2], &dm, &format!("dm {i} 你好")).await;
    }
    say(
        &before,
        &cat,
        &general,
        "hello general, see https://example.com",
    )
    .await;
    // A reply, a reaction, an edit, a deletion.
    let (status, _) = call(
        &before,
        &bob,
        Method::POST,
        &format!("/api/v1/conversations/{crew}/messages"),
        Some(json!({"client_msg_id": "reply-1", "body": "replying", "reply_to": crew_messages[0]["id"]})),
    )
    .await;
    assert_eq!(status, 201);
    let message = |m: &Value| {
        format!(
            "/api/v1/conversations/{crew}/messages/{}",
            m["id"].as_str().unwrap()
        )
    };
    let (status, _) = call(
        &before,
        &cat,
        Method::PUT,
        &format!("{}/reactions/👍", message(&crew_messages[0])),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    let (status, _) = call(
        &before,
        &ann,
        Method::PATCH,
        &message(&crew_messages[3]),
        Some(json!({"body": "edited lantern note"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &before,
        &bob,
        Method::DELETE,
        &message(&crew_messages[4]),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    // Read positions: Bob read the crew up to its 6th message, Cat all of it.
    let (status, _) = call(
        &before,
        &bob,
        Method::POST,
        &format!("/api/v1/conversations/{crew}/read"),
        Some(json!({"seq": crew_messages[5]["seq"]})),
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");
    let (status, _) = call(
        &before,
        &cat,
        Method::POST,
        &format!("/api/v1/conversations/{crew}/read"),
        None,
    )
    .await;
    assert!(status == 200 || status == 204, "{status}");

    let mut seen = Vec::new();
    for who in [&ann, &bob, &cat] {
        seen.push(view(&before, who).await);
    }
    // A consistent copy of the running server's file (the server would be
    // stopped for a real move; a copy keeps this test's server alive).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("chatsphere.db");
    before
        .sql(&format!("vacuum into '{}'", copy.display()))
        .await;
    let from = format!("sqlite://{}", copy.display());
    let (to, name) = crate::support::create_pg_database(&admin).await;

    // Interrupted in the middle of the messages, then resumed by the command.
    let mut batches = 0;
    let stopped = sqlite_to_postgres(
        &from,
        &to,
        MigrateOptions {
            batch: 5,
            force: false,
        },
        // In the middle of the messages (19 of them, 5 a batch).
        |step| {
            if matches!(step, Progress::Copied { table, done, .. } if table == "messages" && *done > 0) {
                batches += 1;
            }
            if batches == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .await;
    assert!(
        matches!(stopped, Err(MigrateError::Interrupted)),
        "{stopped:?}"
    );
    let (ok, out, err) = migrate_db(&["--from", &from, "--to", &to, "--batch", "5"]);
    assert!(ok, "{out}{err}");
    assert!(err.contains("resuming"), "{err}");
    assert!(err.contains("messages: "), "progress is shown: {err}");
    assert!(out.contains("verified"), "{out}");
    // A server on PostgreSQL: the same tokens (sessions came along) see
    // the same; a password signs in.
    let after = TestApp::spawn_with(&[("DATABASE_URL", to.as_str())]).await;
    for (who, saw) in [&ann, &bob, &cat].into_iter().zip(&seen) {
        let sees = view(&after, who).await;
        assert_eq!(&sees, saw, "what {} sees after the move", who.id);
    }
    let login = after
        .post(
            "/api/v1/auth/login",
            &json!({"login": "bob", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    // And it goes on: the next message takes the next number.
    let next = say(&after, &ann, &crew, "after the move").await;
    assert_eq!(
        next["seq"].as_i64().unwrap(),
        crew_messages[11]["seq"].as_i64().unwrap() + 2
    );
    after.shutdown().await.unwrap();

    // Again: the target holds data now (stopped server, so none moves).
    let (ok, _, err) = migrate_db(&["--from", &from, "--to", &to]);
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");
    // Unless forced; a missing source is refused, not "migrated".
    let (ok, out, err) = migrate_db(&["--from", &from, "--to", &to, "--force"]);
    assert!(ok, "{out}{err}");
    let missing = format!("sqlite://{}", dir.path().join("nope.db").display());
    let (ok, _, err) = migrate_db(&["--from", &missing, "--to", &to, "--force"]);
    assert!(!ok && err.contains("no SQLite database"), "{err}");
    let (ok, _, err) = migrate_db(&["--from", &from]);
    assert!(!ok && err.contains("--to is required"), "{err}");

    drop(before);
    crate::support::drop_pg_database(&admin, &name).await;
}
