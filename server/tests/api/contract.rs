//! The OpenAPI document is the contract: it states the rules the server
//! applies (limits from `domain` and the configuration, every status), and
//! the server keeps to it — what the document allows is not refused as
//! invalid, what it forbids is not accepted. scripts/schemathesis.sh checks
//! the same against generated requests; these are the cases it found.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{call, user, TestApp, GOOD_PASSWORD};

async fn document(app: &TestApp) -> Value {
    app.get("/api/v1/openapi.json").await.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_states_the_limits_the_server_applies() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MAX_MESSAGE_CHARS", "321")]).await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // From the domain types...
    assert_eq!(schemas["Password"]["minLength"], domain::Password::MIN);
    assert_eq!(schemas["Password"]["maxLength"], domain::Password::MAX);
    assert_eq!(schemas["Username"]["pattern"], domain::Username::pattern());
    assert_eq!(schemas["Email"]["maxLength"], domain::Email::MAX);
    assert_eq!(schemas["RoomName"]["pattern"], domain::RoomName::pattern());
    // ...and from this server's configuration.
    assert_eq!(schemas["MessageBody"]["maxLength"], 321);
    let send = &schemas["SendRequest"]["properties"];
    assert_eq!(send["body"]["$ref"], "#/components/schemas/MessageBody");
    assert_eq!(send["client_msg_id"]["minLength"], 1);
    assert_eq!(
        send["client_msg_id"]["maxLength"],
        domain::chat::MAX_CLIENT_MSG_ID
    );
    assert_eq!(
        schemas["GroupRequest"]["properties"]["member_ids"]["maxItems"],
        services::conversations::MAX_GROUP_MEMBERS
    );
    // Query parameters are in the query (they were documented as required
    // path parameters) and say their range.
    let audit = doc["paths"]["/api/v1/admin/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = audit.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["required"], false);
    assert_eq!(limit["schema"]["maximum"], domain::audit::MAX_AUDIT_PAGE);
    assert_eq!(limit["schema"]["minimum"], 1);
    // A login is required in one of its fields, not blank.
    assert!(doc.to_string().contains(r#""required":["login"]"#));
    // Mark-read's body is optional, and ids are ids, not any string.
    let read = &doc["paths"]["/api/v1/conversations/{id}/read"]["post"];
    assert_eq!(read["requestBody"]["required"], Value::Null);
    assert!(schemas["DirectRequest"]["properties"]["user_id"]["pattern"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_the_statuses_it_can_answer() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let has = |status: &str| responses[status].is_object();
            let label = format!("{method} {path}");
            if operation["security"].is_array() {
                assert!(has("401") && has("403"), "{label}: 401 and 403");
                assert!(
                    responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                    "{label}"
                );
            }
            if operation["requestBody"].is_object() {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{label}: {status}");
                }
            }
            if operation["parameters"].is_array() {
                assert!(has("400"), "{label}: 400");
            }
            if path.starts_with("/api/") {
                assert!(has("429"), "{label}: 429");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_sizes_outside_their_range_are_refused_not_clamped() {
    let app = TestApp::spawn().await;
    let admin = user(&app, "pageadmin").await;
    for (path, max) in [
        (
            "/api/v1/messages/room/general",
            domain::chat::MAX_HISTORY_PAGE,
        ),
        ("/api/v1/admin/users", domain::admin::MAX_ACCOUNT_PAGE),
        ("/api/v1/admin/audit", domain::audit::MAX_AUDIT_PAGE),
    ] {
        for limit in [max, 1] {
            let (status, _) = call(
                &app,
                &admin,
                Method::GET,
                &format!("{path}?limit={limit}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{path}?limit={limit}");
        }
        for limit in [0, u64::from(max) + 1, 4_294_967_296] {
            let (status, problem) = call(
                &app,
                &admin,
                Method::GET,
                &format!("{path}?limit={limit}"),
                None,
            )
            .await;
            assert_eq!(status, 400, "{path}?limit={limit}: {problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains("limit"),
                "{problem}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_read_takes_no_body_null_or_json_and_nothing_else() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "readann").await;
    let (_, general) = call(&app, &ann, Method::POST, "/api/v1/rooms/general/join", None).await;
    let path = format!(
        "/api/v1/conversations/{}/read",
        general["id"].as_str().unwrap()
    );
    let post = |body: Option<(&'static str, &'static str)>| {
        let mut request = app
            .client
            .post(format!("{}{path}", app.address))
            .bearer_auth(&ann.token);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None).await, 204, "no body: everything");
    assert_eq!(post(Some(("application/json", "null"))).await, 204);
    assert_eq!(post(Some(("application/json", r#"{"seq": 0}"#))).await, 204);
    // JSON has one kind of number: 1.0 is the integer 1.
    assert_eq!(
        post(Some(("application/json", r#"{"seq": 1.0}"#))).await,
        204
    );
    for refused in [
        r#"{"seq": -1}"#,
        r#"{"seq": 1.5}"#,
        r#"{"seq": 9007199254740992}"#,
    ] {
        assert_eq!(
            post(Some(("application/json", refused))).await,
            422,
            "{refused}"
        );
    }
    assert_eq!(post(Some(("text/plain", r#"{"seq": 1}"#))).await, 415);
    assert_eq!(post(Some(("application/json", "{"))).await, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_formed_requests_the_server_refuses_are_not_called_invalid() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "wellann").await, user(&app, "wellben").await);
    let (_, general) = call(&app, &ann, Method::POST, "/api/v1/rooms/general/join", None).await;
    let general = general["id"].as_str().unwrap().to_owned();
    let (_, dm) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": ben.id})),
    )
    .await;
    let dm = dm["id"].as_str().unwrap().to_owned();
    // Members of a room are not added, they join: refused, not invalid.
    let (status, problem) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{general}/members"),
        Some(json!({"user_id": ben.id})),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    // A direct conversation keeps its two members.
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{dm}/members/{}", ben.id),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // A reply to a message that is not in this conversation names nothing.
    let (_, elsewhere) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{general}/messages"),
        Some(json!({"client_msg_id": "g1", "body": "in general"})),
    )
    .await;
    let (status, problem) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{dm}/messages"),
        Some(json!({"client_msg_id": "d1", "body": "hi", "reply_to": elsewhere["message"]["id"]})),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
    // A wrong current password is refused without calling the token bad.
    let response = app
        .send(
            Method::POST,
            "/api/v1/auth/password",
            Some(&json!({"current_password": "not-the-password", "new_password": GOOD_PASSWORD})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("www-authenticate").is_none());
    let (status, _) = call(&app, &ann, Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, 200, "the session is still good");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_and_queries_are_problems_that_say_which() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "idsann").await;
    for (path, names) in [
        ("/api/v1/conversations/not-a-uuid/receipts", "id"),
        ("/api/v1/users/search?q=a&q=b", "q"),
        ("/api/v1/admin/audit?since=yesterday", "since"),
    ] {
        let (status, problem) = call(&app, &ann, Method::GET, path, None).await;
        assert_eq!(status, 400, "{path}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(names) || detail.contains("UUID"),
            "{path}: {detail}"
        );
    }
}
