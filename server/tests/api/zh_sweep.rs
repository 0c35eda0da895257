//! No English left in the Chinese UI: every page, rendered in zh-CN for a
//! signed-in admin (and the sign-in pages for a visitor), holds none of the
//! English UI texts — in its text, nor in what screen readers and tooltips
//! read (`aria-label`, `title`, `placeholder`, `alt`), nor in the `<head>`
//! (title, description). "The English UI texts" are every text of the
//! English tables that differs from its Chinese counterpart, so a text added
//! to the tables is checked without touching this test. Data shown as it is
//! stored (an audit event's JSON) is marked `translate="no"` and skipped.

use reqwest::Method;
use scraper::{Html, Node};
use serde_json::json;

use crate::helpers::{user, TestApp, User};

/// The quoted strings of a `Debug` rendering, in order (the text tables are
/// structs of `&'static str`, so this lists every text of one table).
fn debug_strings(debug: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = debug.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('u') => {
                        // \u{…}
                        let hex: String =
                            chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                        text.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
                    }
                    Some(other) => text.push(other),
                    None => {}
                },
                other => text.push(other),
            }
        }
        out.push(text);
    }
    out
}

/// The English texts to look for: the literal parts of each English text
/// (templates are cut at their `{placeholders}`) whose Chinese counterpart
/// differs, at least four characters long with a letter in them.
fn english_fragments() -> Vec<String> {
    use app::i18n::Locale;
    let tables = |locale: Locale| {
        let t = locale.texts();
        [
            format!("{t:?}"),
            format!("{:?}", t.chat()),
            format!("{:?}", t.actions()),
            format!("{:?}", t.search()),
            format!("{:?}", t.groups()),
            format!("{:?}", t.sessions()),
            format!("{:?}", t.rooms()),
            format!("{:?}", t.admin()),
            format!("{:?}", t.files()),
            format!("{:?}", t.notify()),
            format!("{:?}", t.integrations()),
        ]
        .iter()
        .flat_map(|debug| debug_strings(debug))
        .collect::<Vec<_>>()
    };
    let (en, zh) = (tables(Locale::En), tables(Locale::ZhCn));
    assert_eq!(en.len(), zh.len(), "the tables have the same texts");
    assert!(en.len() > 150, "the English tables were read: {}", en.len());
    let mut fragments: Vec<String> = en
        .iter()
        .zip(&zh)
        .filter(|(en, zh)| en != zh)
        .flat_map(|(en, _)| {
            en.split(['{', '}'])
                .step_by(2)
                .map(str::trim)
                .filter(|part| part.chars().count() >= 4 && part.chars().any(char::is_alphabetic))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    fragments.sort();
    fragments.dedup();
    fragments
}

/// What a reader meets on a page: its text outside scripts and styles, and
/// the attributes that are read aloud or shown.
fn readable(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let mut out = Vec::new();
    for node in document.tree.nodes() {
        match node.value() {
            Node::Text(text) => {
                let inside_code = node.ancestors().any(|a| {
                    a.value().as_element().is_some_and(|e| {
                        matches!(e.name(), "script" | "style") || e.attr("translate") == Some("no")
                    })
                });
                if !inside_code && !text.trim().is_empty() {
                    out.push(text.to_string());
                }
            }
            Node::Element(element) => {
                for name in ["aria-label", "title", "placeholder", "alt"] {
                    out.extend(element.attr(name).map(str::to_owned));
                }
                if element.name() == "meta" && element.attr("name") == Some("description") {
                    out.extend(element.attr("content").map(str::to_owned));
                }
            }
            _ => {}
        }
    }
    out
}

async fn page(app: &TestApp, path: &str, who: Option<&User>) -> String {
    let cookie = match who {
        Some(who) => format!("lang=zh-CN; cs_access={}", who.token),
        None => "lang=zh-CN".to_owned(),
    };
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert!(
        response.status() == 200 || response.status() == 404,
        "{path}: {}",
        response.status()
    );
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_english_ui_text_is_left_on_any_chinese_page() {
    let fragments = english_fragments();
    let app = TestApp::spawn().await;
    // Names that are no English word, so they cannot look like a UI text.
    let admin = user(&app, "zhangwei").await; // the first account is an admin
    let lihua = user(&app, "lihua").await;
    let send = |who: &User, method: Method, path: String, body: serde_json::Value| {
        let app = &app;
        let token = who.token.clone();
        async move {
            let response = app.send(method, &path, Some(&body), Some(&token)).await;
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let group = send(
        &lihua,
        Method::POST,
        "/api/v1/conversations/groups".into(),
        json!({"name": "项目组", "member_ids": [admin.id]}),
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let direct = send(
        &lihua,
        Method::POST,
        "/api/v1/conversations/direct".into(),
        json!({"user_id": admin.id}),
    )
    .await;
    let direct = direct["id"].as_str().unwrap().to_owned();
    for conversation in [&group, &direct] {
        send(
            &lihua,
            Method::POST,
            format!("/api/v1/conversations/{conversation}/messages"),
            json!({"client_msg_id": "m1", "body": "你好"}),
        )
        .await;
    }
    // Files in the group: an image (thumbnail, viewer) and a card.
    let mut files = Vec::new();
    for (name, bytes) in [
        ("图表.png", crate::files::png(64, 48)),
        ("纪要.txt", "会议纪要".as_bytes().to_vec()),
    ] {
        let (status, file) = crate::files::upload(&app, &lihua, &group, name, bytes).await;
        assert_eq!(status, 201, "{file}");
        files.push(file["id"].as_str().unwrap().to_owned());
    }
    send(
        &lihua,
        Method::POST,
        format!("/api/v1/conversations/{group}/messages"),
        json!({"client_msg_id": "m2", "body": "", "attachments": files}),
    )
    .await;
    let image = files[0].clone();
    let rooms: serde_json::Value = app
        .send(Method::GET, "/api/v1/rooms", None, Some(&admin.token))
        .await
        .json()
        .await
        .unwrap();
    let room = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();

    let signed_in = [
        "/".to_owned(),
        "/rooms".to_owned(),
        "/new".to_owned(),
        "/new?q=li".to_owned(),
        "/new?q=nobody".to_owned(),
        "/search?q=%E4%BD%A0%E5%A5%BD".to_owned(),
        "/search?q=nothing+at+all&has_link=on".to_owned(),
        "/search?q=before%3Ayesterday".to_owned(),
        "/search?q=x&cursor=zz".to_owned(),
        "/admin".to_owned(),
        "/settings/profile".to_owned(),
        "/settings/security".to_owned(),
        "/settings/notifications".to_owned(),
        "/settings/tokens".to_owned(),
        format!("/c/{group}/webhooks"),
        format!("/c/{group}"),
        format!("/c/{group}?add=zhang"),
        format!("/c/{group}?view={image}"),
        format!("/c/{direct}"),
        format!("/c/{room}"),
        "/no-such-page".to_owned(),
    ];
    let mut pages = Vec::new();
    for path in &signed_in {
        pages.push((path.clone(), page(&app, path, Some(&admin)).await));
    }
    for path in ["/login", "/register", "/", "/rooms"] {
        pages.push((format!("{path} (visitor)"), page(&app, path, None).await));
    }
    let mut found = Vec::new();
    for (path, html) in &pages {
        assert!(html.contains("lang=\"zh-CN\""), "{path} is in Chinese");
        for text in readable(html) {
            for fragment in &fragments {
                if text.contains(fragment.as_str()) {
                    found.push(format!("{path}: {fragment:?} in {text:?}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "English left in the Chinese UI:\n{}",
        found.join("\n")
    );
}
