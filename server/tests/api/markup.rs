//! Text people choose (display names, group names, room topics, message
//! bodies) never becomes markup on a page. Each page is rendered twice, for
//! the same scene with plain names and with hostile ones, and the two parsed
//! documents must have the same elements with the same attributes, in
//! `<head>` and `<body>` alike; the hostile text must be there, as text.

use reqwest::Method;
use scraper::{Html, Selector};
use serde_json::{json, Value};

use crate::helpers::{user, TestApp, User};

/// The names of one scene.
struct Names {
    display: &'static str,
    group: &'static str,
    topic: &'static str,
    body: &'static str,
}

const PLAIN: Names = Names {
    display: "Plain Person",
    group: "Plain group",
    topic: "A plain topic",
    body: "A plain message",
};

const HOSTILE: Names = Names {
    display: "</title><meta http-equiv=refresh content=0;url=//e.x>",
    group: "</title><script>alert(1)</script>",
    topic: "\"><img src=x onerror=alert(1)>",
    body: "</textarea><script>alert(2)</script>&amp;",
};

/// A rendered page: its path, HTML and the CSP nonce of its response.
struct Page {
    path: String,
    html: String,
    nonce: String,
}

/// Pages of one scene.
async fn render_scene(names: &Names) -> Vec<Page> {
    let app = TestApp::spawn().await;
    let admin = user(&app, "admin").await; // the first account is an admin
    let mallory = user(&app, "mallory").await;
    let (status, _) = call(
        &app,
        &mallory,
        Method::PUT,
        "/api/v1/auth/me",
        json!({"display_name": names.display}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, room) = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/rooms",
        json!({"name": "lobby", "topic": names.topic}),
    )
    .await;
    assert_eq!(status, 201, "{room}");
    let room = room["id"].as_str().unwrap().to_owned();
    let (status, group) = call(
        &app,
        &mallory,
        Method::POST,
        "/api/v1/conversations/groups",
        json!({"name": names.group, "member_ids": [admin.id]}),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    let (_, direct) = call(
        &app,
        &mallory,
        Method::POST,
        "/api/v1/conversations/direct",
        json!({"user_id": admin.id}),
    )
    .await;
    let direct = direct["id"].as_str().unwrap().to_owned();
    for conversation in [&group, &direct] {
        let (status, _) = call(
            &app,
            &mallory,
            Method::POST,
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_msg_id": "m", "body": names.body}),
        )
        .await;
        assert_eq!(status, 201);
    }

    let mut pages = Vec::new();
    for path in [
        "/".to_owned(),
        "/rooms".to_owned(),
        "/new".to_owned(),
        "/admin".to_owned(),
        "/settings/profile".to_owned(),
        format!("/c/{group}"),
        format!("/c/{direct}"),
        format!("/c/{room}"),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .header("cookie", format!("cs_access={}", admin.token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split('\'')
            .find_map(|part| part.strip_prefix("nonce-"))
            .unwrap_or_else(|| panic!("{path}: a nonce in {csp}"))
            .to_owned();
        let html = response.text().await.unwrap();
        pages.push(Page { path, html, nonce });
    }
    pages
}

async fn call(app: &TestApp, who: &User, method: Method, path: &str, body: Value) -> (u16, Value) {
    let response = app.send(method, path, Some(&body), Some(&who.token)).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every element of the document in order: its name and its attribute
/// names. The server's own scripts (those with the response's nonce: the
/// hydration script and the data of resources, whose number depends on
/// timing) are left out; any other script counts.
fn shape(html: &Html, nonce: &str) -> Vec<String> {
    // The "New messages" divider and the sidebar's unread badges follow the
    // reader's read position, which the two scenes' renders need not share
    // (opening a conversation marks it read through the receipts writer,
    // which may not have written it when the next page renders): they are
    // not part of the shape.
    let unread_divider = |node: &scraper::ElementRef<'_>| {
        let element = node.value();
        element.has_class("unread-divider", scraper::CaseSensitivity::CaseSensitive)
            || (element.has_class("badge", scraper::CaseSensitivity::CaseSensitive)
                && element.attr("aria-label").is_some())
    };
    html.root_element()
        .descendants()
        .filter(|node| {
            !std::iter::once(*node)
                .chain(node.ancestors())
                .filter_map(scraper::ElementRef::wrap)
                .any(|e| unread_divider(&e))
        })
        .filter_map(|node| node.value().as_element())
        .filter(|element| !(element.name() == "script" && element.attr("nonce") == Some(nonce)))
        .map(|element| {
            let mut attributes: Vec<&str> = element.attrs().map(|(name, _)| name).collect();
            attributes.sort_unstable();
            format!("{}[{}]", element.name(), attributes.join(","))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_topics_and_messages_render_as_text_on_every_page() {
    let plain = render_scene(&PLAIN).await;
    let hostile = render_scene(&HOSTILE).await;
    let title = Selector::parse("head > title").unwrap();
    for (plain, hostile) in plain.iter().zip(&hostile) {
        let path = &hostile.path;
        let plain_doc = Html::parse_document(&plain.html);
        let hostile_doc = Html::parse_document(&hostile.html);
        let plain_shape = shape(&plain_doc, &plain.nonce);
        let hostile_shape = shape(&hostile_doc, &hostile.nonce);
        let first_difference = plain_shape
            .iter()
            .zip(&hostile_shape)
            .position(|(a, b)| a != b)
            .unwrap_or(plain_shape.len().min(hostile_shape.len()));
        assert!(
            plain_shape == hostile_shape,
            "{path}: the hostile names changed the document's elements, from element \
             {first_difference}: plain {:?}, hostile {:?}",
            &plain_shape[first_difference..(first_difference + 3).min(plain_shape.len())],
            &hostile_shape[first_difference..(first_difference + 3).min(hostile_shape.len())],
        );
        let titles: Vec<String> = hostile_doc
            .select(&title)
            .map(|t| t.text().collect())
            .collect();
        assert_eq!(titles.len(), 1, "{path}: one <title>, got {titles:?}");
    }
    // The names are on the pages, as text.
    let text_of = |path_start: &str| -> String {
        let page = hostile
            .iter()
            .find(|p| p.path.starts_with(path_start))
            .unwrap();
        Html::parse_document(&page.html)
            .root_element()
            .text()
            .collect()
    };
    let group_page = hostile
        .iter()
        .find(|p| p.path.starts_with("/c/"))
        .map(|p| Html::parse_document(&p.html))
        .unwrap();
    let group_title: String = group_page.select(&title).next().unwrap().text().collect();
    assert!(
        group_title.contains(HOSTILE.group),
        "the group's name is its page's title, as text: {group_title:?}"
    );
    assert!(text_of("/rooms").contains(HOSTILE.topic));
    assert!(text_of("/new").contains(HOSTILE.display));
    let conversation_text = text_of("/c/");
    assert!(conversation_text.contains(HOSTILE.body));
    assert!(conversation_text.contains(HOSTILE.display));
}
