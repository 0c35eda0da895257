//! Data exports: a user's own (profile, conversations, every message they
//! sent, also where they left), and a whole conversation for an admin;
//! both written page by page, complete past a page.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, media_type, say, user, TestApp, User};

async fn download(app: &TestApp, who: &User, path: &str) -> (u16, Value) {
    let response = app.send(Method::GET, path, None, Some(&who.token)).await;
    let status = response.status().as_u16();
    if status != 200 {
        return (status, response.json().await.unwrap_or(Value::Null));
    }
    assert_eq!(media_type(&response), "application/json");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"chatsphere-"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).expect("the whole document is JSON"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_downloads_everything_they_put_here_and_an_admin_a_conversation() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000")]).await;
    let ann = user(&app, "ann").await; // the first account: an admin
    let bob = user(&app, "bob").await;
    let group = crate::groups::new_group(&app, &ann, "crew", &[&bob]).await;
    let (_, dm) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ann.id})),
    )
    .await;
    let dm = dm["id"].as_str().unwrap().to_owned();
    // More than a page (500) of Bob's, in the group and the direct one.
    for n in 0..505 {
        say(&app, &bob, &group, &format!("group {n}")).await;
    }
    say(&app, &bob, &dm, "你好 Ann").await;
    say(&app, &ann, &group, "from Ann").await;
    // Bob leaves the group: what he sent there is still his.
    let (status, _) = call(
        &app,
        &bob,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", bob.id),
        None,
    )
    .await;
    assert!(status == 200 || status == 204);

    let (status, export) = download(&app, &bob, "/api/v1/me/export").await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["format"], "chatsphere-export/1");
    assert_eq!(export["profile"]["username"], "bob");
    let conversations = export["conversations"].as_array().unwrap();
    assert!(conversations.iter().any(|c| c["id"] == dm.as_str()));
    assert!(
        conversations.iter().all(|c| c["id"] != group.as_str()),
        "he left it"
    );
    let messages = export["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 506);
    assert!(messages.iter().all(|m| m["sender_id"] == bob.id.as_str()));
    assert_eq!(messages[0]["body"], "group 0");
    assert_eq!(messages[504]["body"], "group 504");
    assert_eq!(messages[505]["body"], "你好 Ann");

    // Compressed on the way (a compressing layer polls the body once more
    // after its end): still whole.
    let compressed = app
        .client
        .get(format!("{}/api/v1/me/export", app.address))
        .bearer_auth(&bob.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.status(), 200);
    let bytes = compressed.bytes().await.expect("the whole body");
    assert!(bytes.len() > 100);

    // Ann's holds nothing of Bob's.
    let (_, theirs) = download(&app, &ann, "/api/v1/me/export").await;
    let bodies: Vec<&Value> = theirs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["body"])
        .collect();
    assert_eq!(bodies, [&json!("from Ann")]);
    // A read token may take it too.
    let reader = crate::integrations::token_with(&app, &ann, &["read"]).await;
    assert_eq!(download(&app, &reader, "/api/v1/me/export").await.0, 200);

    // An admin exports the whole group, in order; nobody else may.
    let path = format!("/api/v1/admin/conversations/{group}/export");
    let (status, _) = download(&app, &bob, &path).await;
    assert_eq!(status, 403);
    let (status, whole) = download(&app, &ann, &path).await;
    assert_eq!(status, 200);
    assert_eq!(whole["name"], "crew");
    assert_eq!(whole["member_ids"], json!([ann.id]));
    let seqs: Vec<i64> = whole["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=506).collect::<Vec<_>>());
    let (status, _) = download(
        &app,
        &ann,
        &format!(
            "/api/v1/admin/conversations/{}/export",
            uuid::Uuid::now_v7()
        ),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = download(&app, &reader, &path).await;
    assert_eq!(status, 403, "a token without the admin scope");
}
