//! Search through the REST API: only what the caller may read, Chinese and
//! English, snippets marked as data, filters typed and as parameters,
//! paging, edits and deletions at once, and every kind of bad input
//! answered with a problem (never a 500), on the API's request budget.

use reqwest::Method;
use serde_json::{json, Value};

use crate::groups::new_group;
use crate::helpers::{call, room_id, say, user, TestApp, User};

/// `/api/v1/search` with these parameters.
fn search_path(params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        query.append_pair(key, value);
    }
    format!("/api/v1/search?{}", query.finish())
}

async fn search(app: &TestApp, who: &User, params: &[(&str, &str)]) -> (u16, Value) {
    call(app, who, Method::GET, &search_path(params), None).await
}

/// The bodies' snippets (as plain text) of what `who` finds.
async fn found(app: &TestApp, who: &User, params: &[(&str, &str)]) -> Vec<String> {
    let (status, results) = search(app, who, params).await;
    assert_eq!(status, 200, "{params:?}: {results}");
    results["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["snippet"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["text"].as_str().unwrap())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_finds_exactly_what_they_may_read() {
    let app = TestApp::spawn().await;
    let (ann, bob, eve) = (
        user(&app, "ann").await,
        user(&app, "bob").await,
        user(&app, "eve").await,
    );
    let group = new_group(&app, &ann, "数据组", &[&bob]).await;
    let zh = say(&app, &bob, &group, "我们的<b>数据库</b>迁移完成了").await;
    say(&app, &ann, &group, "The database migration is **done**").await;
    let general = room_id(&app, &eve, "general").await;
    say(&app, &eve, &general, "数据库 backups run nightly").await;

    let (status, results) = search(&app, &bob, &[("q", "数据库")]).await;
    assert_eq!(status, 200, "{results}");
    let hits = results["messages"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{results}");
    // Newest first: eve's message in the room everyone joined, then the group's.
    assert_eq!(hits[1]["id"], zh["id"]);
    assert_eq!(hits[1]["conversation_name"], "数据组");
    assert_eq!(hits[1]["conversation_kind"], "group");
    assert_eq!(hits[1]["seq"], zh["seq"]);
    assert_eq!(hits[1]["sender_name"], "bob");
    assert_eq!(hits[1]["joined"], true);
    // The snippet is data: the text as written (tags are text), the hit marked.
    assert_eq!(
        hits[1]["snippet"],
        json!([{"text": "我们的<b>"}, {"text": "数据库", "hit": true}, {"text": "</b>迁移完成了"}])
    );
    // Eve is not in the group.
    assert_eq!(
        found(&app, &eve, &[("q", "数据库")]).await,
        ["数据库 backups run nightly"]
    );
    assert_eq!(
        found(&app, &eve, &[("q", "迁移")]).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&app, &ann, &[("q", "迁移")]).await,
        ["我们的<b>数据库</b>迁移完成了"]
    );
    // English word forms, formatting gone from the snippet.
    assert_eq!(
        found(&app, &ann, &[("q", "migrations databases")]).await,
        ["The database migration is done"]
    );
    assert!(found(&app, &eve, &[("q", "migration")]).await.is_empty());
    // People and conversations by name, on the first page.
    let (_, results) = search(&app, &ann, &[("q", "数据")]).await;
    assert_eq!(results["conversations"][0]["name"], "数据组");
    let (_, results) = search(&app, &eve, &[("q", "数据")]).await;
    assert_eq!(results["conversations"], json!([]), "not eve's group");
    let (_, results) = search(&app, &ann, &[("q", "bo")]).await;
    assert_eq!(results["people"][0]["username"], "bob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_or_being_removed_ends_finding_a_groups_messages() {
    let app = TestApp::spawn().await;
    let (ann, bob, cat) = (
        user(&app, "ann").await,
        user(&app, "bob").await,
        user(&app, "cat").await,
    );
    let group = new_group(&app, &ann, "plans", &[&bob, &cat]).await;
    say(&app, &ann, &group, "launch plans 发布计划").await;
    for who in [&ann, &bob, &cat] {
        assert_eq!(found(&app, who, &[("q", "发布")]).await.len(), 1);
    }
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", bob.id),
        None,
    )
    .await;
    assert!(status < 300, "{status}");
    let (status, _) = call(
        &app,
        &cat,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", cat.id),
        None,
    )
    .await;
    assert!(status < 300, "{status}");
    for who in [&bob, &cat] {
        assert!(found(&app, who, &[("q", "发布")]).await.is_empty());
        assert!(
            found(&app, who, &[("q", "launch"), ("conversation", &group)])
                .await
                .is_empty()
        );
        assert!(found(&app, who, &[("q", "launch in:plans")])
            .await
            .is_empty());
        let (_, results) = search(&app, who, &[("q", "plans")]).await;
        assert_eq!(
            results["conversations"],
            json!([]),
            "the group's name is not found either"
        );
    }
    assert_eq!(found(&app, &ann, &[("q", "发布")]).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_room_by_its_hash_name_is_never_a_group_named_like_it() {
    let app = TestApp::spawn().await;
    let (ann, mallory) = (user(&app, "ann").await, user(&app, "mallory").await);
    let general = room_id(&app, &ann, "general").await;
    say(&app, &ann, &general, "roadmap in the room").await;
    let fake = new_group(&app, &mallory, "General", &[&ann]).await;
    say(
        &app,
        &mallory,
        &fake,
        "roadmap elsewhere https://evil.example",
    )
    .await;
    assert_eq!(
        found(&app, &ann, &[("q", "roadmap in:#general")]).await,
        ["roadmap in the room"]
    );
    assert_eq!(
        found(&app, &ann, &[("q", "roadmap in:General")]).await,
        ["roadmap elsewhere https://evil.example"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_rooms_not_joined_only_when_asked_and_marked() {
    let app = TestApp::spawn().await;
    let (ann, eve) = (user(&app, "ann").await, user(&app, "eve").await);
    let tech = room_id(&app, &eve, "tech").await;
    let (status, _) = call(&app, &eve, Method::POST, "/api/v1/rooms/tech/join", None).await;
    assert!(status < 300, "{status}");
    say(&app, &eve, &tech, "kubernetes upgrade tonight").await;
    assert!(found(&app, &ann, &[("q", "kubernetes")]).await.is_empty());
    let (status, results) = search(&app, &ann, &[("q", "kubernetes"), ("public", "true")]).await;
    assert_eq!(status, 200);
    assert_eq!(results["messages"][0]["joined"], false);
    assert_eq!(results["messages"][0]["conversation_name"], "tech");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_typed_or_given_as_parameters_and_pages() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "100")]).await;
    let (ann, bob) = (user(&app, "ann").await, user(&app, "bob").await);
    let group = new_group(&app, &ann, "release team", &[&bob]).await;
    for i in 0..23 {
        let who = if i % 2 == 0 { &ann } else { &bob };
        let link = if i == 5 {
            " https://ci.example.com/5"
        } else {
            ""
        };
        say(&app, who, &group, &format!("build {i} green{link}")).await;
    }
    let (dm_status, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": bob.id})),
    )
    .await;
    assert!(dm_status < 300, "{dm}");
    let dm_id = dm["conversation"]["id"]
        .as_str()
        .or(dm["id"].as_str())
        .unwrap()
        .to_owned();
    say(&app, &bob, &dm_id, "build 99 for you").await;

    let (_, first) = search(&app, &ann, &[("q", "build")]).await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 20);
    assert_eq!(first["messages"][0]["conversation_kind"], "direct");
    assert_eq!(first["messages"][0]["conversation_name"], "bob");
    assert_eq!(first["messages"][0]["peer_id"], bob.id.as_str());
    let next = first["next"].as_str().expect("a next page").to_owned();
    let (_, second) = search(&app, &ann, &[("q", "build"), ("cursor", &next)]).await;
    let second = second["messages"].as_array().unwrap().clone();
    assert_eq!(second.len(), 4);
    let mut ids: Vec<&Value> = first["messages"]
        .as_array()
        .unwrap()
        .iter()
        .chain(&second)
        .map(|m| &m["id"])
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 24, "no message twice");

    assert_eq!(
        found(&app, &ann, &[("q", "build from:@bob in:\"release team\"")])
            .await
            .len(),
        11
    );
    assert_eq!(
        found(
            &app,
            &ann,
            &[("q", "build"), ("from", "bob"), ("conversation", &group)]
        )
        .await
        .len(),
        11
    );
    assert_eq!(
        found(&app, &ann, &[("q", "build in:@bob")]).await,
        ["build 99 for you"]
    );
    assert_eq!(
        found(&app, &ann, &[("q", "has:link")]).await,
        ["build 5 green https://ci.example.com/5"]
    );
    assert_eq!(
        found(&app, &ann, &[("q", "green"), ("has_link", "true")])
            .await
            .len(),
        1
    );
    assert!(found(&app, &ann, &[("q", "build after:2999-01-01")])
        .await
        .is_empty());
    assert!(
        found(&app, &ann, &[("q", "build"), ("before", "2000-01-01")])
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, &ann, &[("q", "build before:2999-01-01 \"build 7\"")]).await,
        ["build 7 green"]
    );
    // Names that name nothing find nothing.
    assert!(found(&app, &ann, &[("q", "build from:@nobody")])
        .await
        .is_empty());
    assert!(found(&app, &ann, &[("q", "build in:#nowhere")])
        .await
        .is_empty());
    let (_, by_rank) = search(&app, &ann, &[("q", "build"), ("sort", "relevance")]).await;
    assert_eq!(by_rank["messages"].as_array().unwrap().len(), 20);
    assert!(by_rank["next"].as_str().unwrap().starts_with('r'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_or_a_deletion_changes_what_is_found_at_once() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let general = room_id(&app, &ann, "general").await;
    let m = say(&app, &ann, &general, "quarterly numbers attached").await;
    let path = format!(
        "/api/v1/conversations/{general}/messages/{}",
        m["id"].as_str().unwrap()
    );
    let (status, _) = call(
        &app,
        &ann,
        Method::PATCH,
        &path,
        Some(json!({"body": "季度 numbers, corrected"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(found(&app, &ann, &[("q", "quarterly")]).await.is_empty());
    assert_eq!(
        found(&app, &ann, &[("q", "季度")]).await,
        ["季度 numbers, corrected"]
    );
    let (status, _) = call(&app, &ann, Method::DELETE, &path, None).await;
    assert!(status < 300);
    assert!(found(&app, &ann, &[("q", "季度")]).await.is_empty());
    assert!(found(&app, &ann, &[("q", "from:@ann")]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_text_or_a_problem_never_a_server_error() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let general = room_id(&app, &ann, "general").await;
    say(
        &app,
        &ann,
        &general,
        "plain words NEAR the end: a*b -c \"quoted\"",
    )
    .await;
    // Engine syntax is text.
    for q in [
        "NEAR(words end)",
        "a*",
        "-c",
        "\"quoted",
        "end:",
        "words\"",
        "'",
        "\\",
        "stems:words",
        "{stems words}: x",
        "NOT words",
        "words OR",
        "*",
        "🙂",
    ] {
        let (status, body) = search(&app, &ann, &[("q", q)]).await;
        assert_eq!(status, 200, "{q}: {body}");
    }
    assert_eq!(found(&app, &ann, &[("q", "NEAR(the")]).await.len(), 1);
    assert_eq!(found(&app, &ann, &[("q", "\"quoted")]).await.len(), 1);
    // Refused, with a problem the caller can read.
    let long = "数".repeat(domain::search::MAX_QUERY_CHARS + 1);
    let long_name = "a".repeat(40);
    let cases: [(&[(&str, &str)], u16); 15] = [
        (&[("q", "x after:9999-12-31")], 422),
        (&[("q", "x before:-0001-01-01")], 422),
        (&[("q", "x"), ("before", "-0001-01-01")], 422),
        (&[("q", "x"), ("after", "9999-12-31")], 422),
        (&[("q", "x"), ("from", &long_name)], 400),
        (&[], 422),
        (&[("q", "\"\"")], 422),
        (&[("q", "   ")], 422),
        (&[("q", &long)], 422),
        (&[("q", "before:yesterday")], 422),
        (&[("q", "x"), ("cursor", "d0")], 422),
        (&[("q", "x"), ("cursor", "zzz")], 422),
        (&[("q", "x"), ("after", "someday")], 400),
        (&[("q", "x"), ("conversation", "not-a-uuid")], 400),
        (&[("q", "x"), ("sort", "random")], 400),
    ];
    for (params, expected) in cases {
        let (status, problem) = search(&app, &ann, params).await;
        assert_eq!(status, expected, "{params:?}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{problem}"
        );
    }
    // NUL characters and names with @ find nothing, on either database.
    for params in [
        [("q", "a\0b"), ("from", "a\0")],
        [("q", "x from:a@b.c"), ("from", "")],
        [("q", "in:\0"), ("public", "true")],
    ] {
        let (status, body) = search(&app, &ann, &params).await;
        assert_eq!(status, 200, "{params:?}: {body}");
    }
    // Signed out: 401.
    let response = app
        .send(Method::GET, &search_path(&[("q", "x")]), None, None)
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_draws_on_the_api_budget_pages_included() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_RATE_LIMIT_API", "2/min")]).await;
    let ann = user(&app, "ann").await;
    for expected in [200, 200, 429] {
        let response = app
            .send(
                Method::GET,
                &search_path(&[("q", "x")]),
                None,
                Some(&ann.token),
            )
            .await;
        assert_eq!(response.status(), expected);
    }
    // The results page is the same search: it draws on the same budget.
    let response = app
        .send(Method::GET, "/search?q=x", None, Some(&ann.token))
        .await;
    assert_eq!(response.status(), 429);
}
