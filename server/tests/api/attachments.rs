//! Files sent with messages: attached in the message's transaction (only
//! one's own unsent uploads to that conversation), shown with the message
//! in history and to every member, deleted with the message or its room
//! (records at once, bytes by the sweep), and the composer's form without
//! JavaScript.

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::files::{png, upload, walk};
use crate::groups::new_group;
use crate::helpers::{call, flash, group_history, user, TestApp, User};

/// Sends a message with `attachments` as `who`: the status and the answer.
async fn send(
    app: &TestApp,
    who: &User,
    conversation: &str,
    body: &str,
    attachments: &[&str],
) -> (u16, Value) {
    call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(json!({
            "client_msg_id": Uuid::now_v7().to_string(),
            "body": body,
            "attachments": attachments,
        })),
    )
    .await
}

async fn uploaded(
    app: &TestApp,
    who: &User,
    conversation: &str,
    name: &str,
    bytes: &[u8],
) -> String {
    let (status, file) = upload(app, who, conversation, name, bytes.to_vec()).await;
    assert_eq!(status, 201, "{file}");
    file["id"].as_str().unwrap().to_owned()
}

async fn fetch(app: &TestApp, who: &User, path: &str) -> (u16, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

#[tokio::test]
async fn files_sent_with_a_message_are_shown_with_it_to_every_member() {
    let app = TestApp::spawn().await;
    let (ann, bob, eve) = (
        user(&app, "ann").await,
        user(&app, "bob").await,
        user(&app, "eve").await,
    );
    let group = new_group(&app, &ann, "files", &[&bob]).await;
    let picture = png(640, 320);
    let image = uploaded(&app, &ann, &group, "chart.png", &picture).await;
    let pdf = uploaded(&app, &ann, &group, "notes.pdf", PDF).await;

    // Files alone make a message; they keep the order they were given in.
    let (status, sent) = send(&app, &ann, &group, "  ", &[&pdf, &image]).await;
    assert_eq!(status, 201, "{sent}");
    let message = &sent["message"];
    assert_eq!(message["body"], "");
    let files = message["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["id"], pdf.as_str());
    assert_eq!(files[0]["name"], "notes.pdf");
    assert_eq!(files[0]["content_type"], "application/pdf");
    assert_eq!(files[0]["size"], PDF.len());
    assert!(files[0].get("inline").is_none(), "{files:?}");
    assert_eq!(files[1]["id"], image.as_str());
    assert_eq!(files[1]["inline"], true);
    assert_eq!(
        (files[1]["width"].clone(), files[1]["height"].clone()),
        (json!(640), json!(320))
    );

    // Bob sees them in history and downloads the same bytes; Eve cannot.
    let seen = group_history(&app, &bob, &group).await;
    assert_eq!(seen[0]["files"], message["files"]);
    let (status, bytes) = fetch(&app, &bob, &format!("/api/v1/files/{image}")).await;
    assert_eq!(status, 200);
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&picture));
    assert_eq!(
        fetch(&app, &bob, &format!("/api/v1/files/{image}/thumbnail"))
            .await
            .0,
        200
    );
    assert_eq!(
        fetch(&app, &eve, &format!("/api/v1/files/{pdf}")).await.0,
        404
    );

    // A message with text and a file, answered like any other.
    let third = uploaded(&app, &bob, &group, "log.txt", b"line one\nline two\n").await;
    let (status, sent) = send(&app, &bob, &group, "the log", &[&third]).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["message"]["files"][0]["content_type"], "text/plain");
}

#[tokio::test]
async fn only_ones_own_unsent_uploads_to_that_conversation_can_be_attached() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "100")]).await;
    let (ann, bob, eve) = (
        user(&app, "ann").await,
        user(&app, "bob").await,
        user(&app, "eve").await,
    );
    let group = new_group(&app, &ann, "files", &[&bob]).await;
    let other = new_group(&app, &ann, "elsewhere", &[&eve]).await;
    let mine = uploaded(&app, &ann, &group, "a.txt", b"mine").await;
    let bobs = uploaded(&app, &bob, &group, "b.txt", b"bob's").await;
    let elsewhere = uploaded(&app, &ann, &other, "c.txt", b"elsewhere").await;
    let unknown = Uuid::now_v7().to_string();

    for (who, files, why) in [
        (&ann, vec![bobs.as_str()], "someone else's upload"),
        (
            &ann,
            vec![elsewhere.as_str()],
            "an upload to another conversation",
        ),
        (
            &ann,
            vec![mine.as_str(), unknown.as_str()],
            "a file that does not exist",
        ),
    ] {
        let (status, problem) = send(&app, who, &group, "x", &files).await;
        assert_eq!(status, 404, "{why}: {problem}");
    }
    let (status, _) = send(&app, &ann, &group, "x", &[&mine, &mine]).await;
    assert_eq!(status, 422, "a file twice");
    let eleven: Vec<String> = (0..11).map(|_| Uuid::now_v7().to_string()).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    assert_eq!(
        send(&app, &ann, &group, "x", &eleven).await.0,
        422,
        "eleven files"
    );
    assert_eq!(
        send(&app, &ann, &group, " ", &[]).await.0,
        422,
        "nothing at all"
    );
    // Nothing was stored by the refusals, and the upload is still unsent.
    assert!(group_history(&app, &ann, &group).await.is_empty());
    assert_eq!(
        fetch(&app, &bob, &format!("/api/v1/files/{mine}")).await.0,
        404
    );

    let client = Uuid::now_v7().to_string();
    let path = format!("/api/v1/conversations/{group}/messages");
    let body = json!({"client_msg_id": client, "body": "", "attachments": [mine]});
    let retry = || call(&app, &ann, Method::POST, &path, Some(body.clone()));
    let (status, sent) = retry().await;
    assert_eq!(status, 201, "{sent}");
    // The same send again (its answer was lost): the original, not a 404.
    let (status, again) = retry().await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["message"]["id"], sent["message"]["id"]);
    // Sent once: a second message cannot take it.
    assert_eq!(send(&app, &ann, &group, "again", &[&mine]).await.0, 404);
    assert_eq!(
        fetch(&app, &bob, &format!("/api/v1/files/{mine}")).await.0,
        200
    );

    // Many senders at once (one group commit): each message gets its own
    // files, and a bad one fails alone.
    let mut uploads = Vec::new();
    for n in 0..6 {
        uploads.push(
            uploaded(
                &app,
                &ann,
                &group,
                &format!("{n}.txt"),
                format!("file {n}").as_bytes(),
            )
            .await,
        );
    }
    let results = futures_util::future::join_all(uploads.iter().enumerate().map(|(n, id)| {
        let app = &app;
        let ann = &ann;
        let group = &group;
        let bobs = &bobs;
        async move {
            if n == 3 {
                send(app, ann, group, "bad", &[id, bobs]).await
            } else {
                send(app, ann, group, &format!("m{n}"), &[id]).await
            }
        }
    }))
    .await;
    for (n, (status, sent)) in results.iter().enumerate() {
        if n == 3 {
            assert_eq!(*status, 404, "{sent}");
        } else {
            assert_eq!(*status, 201, "{sent}");
            assert_eq!(sent["message"]["files"][0]["id"], uploads[n].as_str());
        }
    }
}

#[tokio::test]
async fn deleting_a_message_or_its_room_deletes_its_files() {
    let app = TestApp::spawn().await;
    let root = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let group = new_group(&app, &ann, "files", &[&root]).await;
    let stored = app.data_dir().join("files");
    let a = uploaded(&app, &ann, &group, "a.png", &png(64, 64)).await;
    let b = uploaded(&app, &ann, &group, "b.txt", b"kept").await;
    let (_, sent) = send(&app, &ann, &group, "two files", &[&a]).await;
    let (_, kept) = send(&app, &ann, &group, "kept", &[&b]).await;
    let objects = walk(&stored);
    assert_eq!(
        objects, 4,
        "an image is kept three times (original, view, thumbnail), a text once"
    );

    let message = sent["message"]["id"].as_str().unwrap();
    let (status, deleted) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/messages/{message}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted["message"].get("files").is_none(), "{deleted}");
    for path in ["", "/view", "/thumbnail"] {
        assert_eq!(
            fetch(&app, &ann, &format!("/api/v1/files/{a}{path}"))
                .await
                .0,
            404
        );
    }
    assert_eq!(app.services.files.sweep().await.unwrap(), 1);
    assert_eq!(walk(&stored), 1, "only the other message's file is left");
    // Its retry (the answer to the send was lost): the tombstone, not a 404.
    let (status, again) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{group}/messages"),
        Some(json!({
            "client_msg_id": sent["message"]["client_msg_id"],
            "body": "two files",
            "attachments": [a],
        })),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["message"]["id"], message);
    assert!(again["message"]["deleted_at"].is_string(), "{again}");
    assert_eq!(app.services.files.sweep().await.unwrap(), 0, "swept once");
    assert_eq!(
        group_history(&app, &ann, &group).await[0]["files"],
        kept["message"]["files"]
    );

    // A room deleted by an admin takes its files with it.
    let (status, room) = call(
        &app,
        &root,
        Method::POST,
        "/api/v1/admin/rooms",
        Some(json!({"name": "ops"})),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let room = room["id"].as_str().unwrap().to_owned();
    let (status, joined) = call(&app, &root, Method::POST, "/api/v1/rooms/ops/join", None).await;
    assert!(status < 300, "{joined}");
    let in_room = uploaded(&app, &root, &room, "r.txt", b"room").await;
    let unsent = uploaded(&app, &root, &room, "u.txt", b"unsent").await;
    assert_eq!(send(&app, &root, &room, "", &[&in_room]).await.0, 201);
    assert_eq!(walk(&stored), 3);
    // A public room's files are read like its history: by anyone signed in
    // (Ann has not joined); an upload not sent, by its uploader only.
    assert_eq!(
        fetch(&app, &ann, &format!("/api/v1/files/{in_room}"))
            .await
            .0,
        200
    );
    assert_eq!(
        fetch(&app, &ann, &format!("/api/v1/files/{unsent}"))
            .await
            .0,
        404
    );
    let (status, _) = call(
        &app,
        &root,
        Method::DELETE,
        &format!("/api/v1/admin/rooms/{room}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        fetch(&app, &root, &format!("/api/v1/files/{unsent}"))
            .await
            .0,
        404
    );
    assert_eq!(app.services.files.sweep().await.unwrap(), 2);
    assert_eq!(walk(&stored), 1);
}

/// A `multipart/form-data` body of `fields` (name, file name, bytes).
fn form(boundary: &str, fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn the_composer_sends_a_file_without_javascript() {
    const SITE: &str = "http://chat.example.test";
    let app = TestApp::spawn_configured(&[("CHATSPHERE_ALLOWED_ORIGINS", SITE)]).await;
    let signed_in = app.register("ann").await;
    let ann = User {
        id: signed_in["user"]["id"].as_str().unwrap().to_owned(),
        token: signed_in["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let cookie = format!("cs_access={}", ann.token);
    let bob = user(&app, "bob").await;
    let group = new_group(&app, &ann, "files", &[&bob]).await;
    let boundary = "----chatsphere-test-boundary";
    let post = |origin: &str, fields: &[(&str, Option<&str>, &[u8])]| {
        app.client
            .post(format!("{}/c/{group}/attach", app.address))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("accept", "text/html")
            .header("accept-language", "zh-CN")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(form(boundary, fields))
            .send()
    };
    let client_id = Uuid::now_v7().to_string();
    let fields: [(&str, Option<&str>, &[u8]); 3] = [
        ("client_msg_id", None, client_id.as_bytes()),
        ("body", None, "会议记录".as_bytes()),
        ("file", Some("minutes.pdf"), PDF),
    ];

    // From another site: refused before anything is read.
    let refused = post("https://evil.example", &fields).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(group_history(&app, &ann, &group).await.is_empty());
    assert_eq!(
        app.services.files.sweep().await.unwrap(),
        0,
        "refused before the upload"
    );

    let response = post(SITE, &fields).await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], format!("/c/{group}"));
    assert!(flash(&response).is_none());
    assert_eq!(
        app.services.files.sweep().await.unwrap(),
        0,
        "the upload is kept"
    );
    let seen = group_history(&app, &bob, &group).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["body"], "会议记录");
    assert_eq!(seen[0]["client_msg_id"], client_id.as_str());
    assert_eq!(seen[0]["files"][0]["name"], "minutes.pdf");
    let file = seen[0]["files"][0]["id"].as_str().unwrap();
    assert_eq!(
        fetch(&app, &bob, &format!("/api/v1/files/{file}")).await.1,
        PDF
    );

    // The same form again (a reload): the same message, not a second, and
    // the upload it made is not kept.
    let again = post(SITE, &fields).await.unwrap();
    assert_eq!(again.status(), 303);
    assert_eq!(group_history(&app, &bob, &group).await.len(), 1);
    assert_eq!(app.services.files.sweep().await.unwrap(), 1);

    // A file larger than a form's usual limit (axum's 2 MiB), up to the
    // upload limit.
    let noise: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let id = Uuid::now_v7().to_string();
    let fields: [(&str, Option<&str>, &[u8]); 2] = [
        ("client_msg_id", None, id.as_bytes()),
        ("file", Some("noise.bin"), &noise),
    ];
    let response = post(SITE, &fields).await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(flash(&response).is_none(), "{:?}", flash(&response));
    let seen = group_history(&app, &bob, &group).await;
    assert_eq!(seen[0]["files"][0]["size"], noise.len());

    // A field after the file that is not the form's: refused, and the
    // upload it made is not kept.
    let odd: [(&str, Option<&str>, &[u8]); 2] =
        [("file", Some("odd.pdf"), PDF), ("extra", None, b"x")];
    let response = post(SITE, &odd).await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(flash(&response).is_some());
    assert_eq!(app.services.files.sweep().await.unwrap(), 1);

    // No file chosen: back to the conversation with the reason, in Chinese.
    let empty: [(&str, Option<&str>, &[u8]); 2] =
        [("body", None, b"just text"), ("file", Some(""), b"")];
    let response = post(SITE, &empty).await.unwrap();
    assert_eq!(response.status(), 303);
    let told = flash(&response).expect("a flash");
    assert_eq!(told.form, "send");
    assert_eq!(told.text, "请选择要发送的文件");
    assert_eq!(group_history(&app, &bob, &group).await.len(), 2);
}
