//! `GET` never changes state that matters: reading a direct history by the
//! other user's id does not open the conversation (opening is a `POST`),
//! and a conversation page marks messages read only when it is loaded as
//! the page a person sees, not as an image, a frame or a prefetch that a
//! page of a sibling subdomain could trigger with the reader's cookies.

use reqwest::header::COOKIE;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{media_type, user, TestApp, User};

async fn open_direct(app: &TestApp, from: &User, to: &User) -> String {
    let opened: Value = app
        .send(
            Method::POST,
            "/api/v1/conversations/direct",
            Some(&json!({"user_id": to.id})),
            Some(&from.token),
        )
        .await
        .json()
        .await
        .unwrap();
    opened["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_direct_history_never_opens_the_conversation() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let history = format!("/api/v1/messages/direct/{}", ben.id);
    let response = app
        .send(Method::GET, &history, None, Some(&ann.token))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(media_type(&response), "application/problem+json");
    for who in [&ann, &ben] {
        let list: Value = app
            .send(Method::GET, "/api/v1/conversations", None, Some(&who.token))
            .await
            .json()
            .await
            .unwrap();
        let directs = list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "direct")
            .count();
        assert_eq!(directs, 0, "no conversation was created: {list}");
    }
    // Opening is a POST; then the history is there (empty).
    let opened = open_direct(&app, &ann, &ben).await;
    let page: Value = app
        .send(Method::GET, &history, None, Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["conversation_id"], opened.as_str());
    assert_eq!(page["messages"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_page_marks_read_only_when_loaded_as_the_page_itself() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let dm = open_direct(&app, &ben, &ann).await;
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/messages"),
            Some(&json!({"client_msg_id": "b1", "body": "hi"})),
            Some(&ben.token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let read_seq = || async {
        let receipts: Value = app
            .send(
                Method::GET,
                &format!("/api/v1/conversations/{dm}/receipts"),
                None,
                Some(&ann.token),
            )
            .await
            .json()
            .await
            .unwrap();
        receipts["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == ann.id.as_str())
            .unwrap()["read_seq"]
            .as_i64()
            .unwrap()
    };
    let load = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = app
            .client
            .get(format!("{}/c/{dm}", app.address))
            .header(COOKIE, format!("cs_access={}", ann.token));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    for headers in [
        &[("sec-fetch-dest", "image"), ("sec-fetch-site", "same-site")][..],
        &[
            ("sec-fetch-dest", "iframe"),
            ("sec-fetch-site", "same-site"),
        ][..],
        &[("sec-fetch-dest", "document"), ("sec-purpose", "prefetch")][..],
        // A link on another site (or a sibling subdomain) followed to the
        // page: top-level, but not the reader's own navigation.
        &[
            ("sec-fetch-dest", "document"),
            ("sec-fetch-site", "cross-site"),
        ][..],
        &[
            ("sec-fetch-dest", "document"),
            ("sec-fetch-site", "same-site"),
        ][..],
    ] {
        assert_eq!(load(headers).await.unwrap().status(), 200, "{headers:?}");
        assert_eq!(read_seq().await, 0, "{headers:?} marked it read");
    }
    let page = load(&[("sec-fetch-dest", "document"), ("sec-fetch-site", "none")])
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(read_seq().await, 1, "read when shown");
}
