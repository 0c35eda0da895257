//! Backups as the README's Operations section takes them — `sqlite3
//! data/chatsphere.db ".backup …"` while the server runs, or `pg_dump -Fc`
//! and `pg_restore` — taken under live traffic and restored into a fresh
//! instance: every message acknowledged before the backup began is there,
//! and its people sign in as before.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, user, TestApp, User, GOOD_PASSWORD};

/// Runs a backup or restore command; anything but success fails the test
/// with what it printed.
fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|err| {
        panic!("{command:?} could not run ({err}): install it (scripts/setup.sh --test does)")
    });
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Takes the backup of `app`'s database into `dir` and restores it as a
/// new database; the variables that start a server on the copy.
async fn backup_and_restore(app: &TestApp, dir: &Path) -> (Vec<(String, String)>, Option<String>) {
    match app.pg_url() {
        None => {
            let source = app.data_dir().join("chatsphere.db");
            let copy = dir.join("backup.db");
            let (source, target) = (source.clone(), copy.clone());
            tokio::task::spawn_blocking(move || {
                run(Command::new("sqlite3")
                    .arg(&source)
                    .arg(format!(".backup '{}'", target.display())));
            })
            .await
            .unwrap();
            let url = format!("sqlite://{}", copy.display());
            (vec![("DATABASE_URL".into(), url)], None)
        }
        Some(url) => {
            let admin = std::env::var("TEST_DATABASE_URL").unwrap();
            let redis = std::env::var("TEST_REDIS_URL").unwrap();
            let (restored, name) = crate::support::create_pg_database(&admin).await;
            let dump = dir.join("chatsphere.dump");
            let (url, target) = (url.to_owned(), restored.clone());
            tokio::task::spawn_blocking(move || {
                run(Command::new("pg_dump")
                    .args(["-Fc", "-d", &url, "-f"])
                    .arg(&dump));
                run(Command::new("pg_restore")
                    .args(["--no-owner", "-d", &target])
                    .arg(&dump));
            })
            .await
            .unwrap();
            let prefix = format!("chatsphere-api-test:{name}:");
            let vars = vec![
                ("DATABASE_URL".into(), restored),
                ("REDIS_URL".into(), redis),
                ("CHATSPHERE_REDIS_PREFIX".into(), prefix),
            ];
            (vars, Some(name))
        }
    }
}

/// Every message id of a group, as `who` reads its whole history.
async fn all_ids(app: &TestApp, who: &User, group: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut before = String::new();
    loop {
        let path = format!("/api/v1/messages/group/{group}?limit=100{before}");
        let (status, page) = call(app, who, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().unwrap();
        let Some(oldest) = messages.last() else {
            return ids;
        };
        ids.extend(
            messages
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
        before = format!("&before={}", oldest["seq"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_live_traffic_restores_every_acknowledged_message() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000")]).await;
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;

    // A sender posts while the backup is taken; each acknowledgement is
    // noted with when it came.
    let acked = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = tokio::spawn({
        let (client, address, token) = (app.client.clone(), app.address.clone(), ann.token.clone());
        let (acked, stop, group) = (acked.clone(), stop.clone(), group.clone());
        async move {
            for n in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let response = client
                    .post(format!("{address}/api/v1/conversations/{group}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"client_msg_id": format!("m{n}"), "body": format!("live {n}")}))
                    .send()
                    .await
                    .unwrap();
                if response.status() == 201 {
                    let sent: Value = response.json().await.unwrap();
                    let id = sent["message"]["id"].as_str().unwrap().to_owned();
                    acked.lock().unwrap().push((Instant::now(), id));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    // Some traffic first, however slow the machine is today.
    let acked_count = || acked.lock().unwrap().len();
    let waiting = Instant::now();
    while acked_count() < 10 && waiting.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (vars, pg_name) = backup_and_restore(&app, dir.path()).await;
    // And some after it.
    let after = acked_count();
    let waiting = Instant::now();
    while acked_count() <= after && waiting.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    sender.await.unwrap();
    let before: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, id)| id.clone())
        .collect();
    let total = acked.lock().unwrap().len();
    assert!(
        before.len() >= 5,
        "traffic before the backup: {}",
        before.len()
    );
    assert!(total > before.len(), "traffic went on during and after it");

    // A fresh instance on the copy: Ann signs in as before and finds
    // every message acknowledged before the backup began.
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let restored = TestApp::spawn_with(&vars).await;
    let login = restored
        .post(
            "/api/v1/auth/login",
            &json!({"login": "ann", "password": GOOD_PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    let ann_again = User {
        id: ann.id.clone(),
        token: login["tokens"]["access_token"].as_str().unwrap().to_owned(),
    };
    let found = all_ids(&restored, &ann_again, &group).await;
    let missing: Vec<&String> = before.iter().filter(|id| !found.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not in it: {missing:?}"
    );
    // What was acknowledged after it is not required, but what is there is whole.
    assert!(found.len() >= before.len());
    restored.shutdown().await.unwrap();
    if let Some(name) = pg_name {
        let admin = std::env::var("TEST_DATABASE_URL").unwrap();
        crate::support::drop_pg_database(&admin, &name).await;
    }
}
