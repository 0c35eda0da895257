//! `GET /api/v1/rooms`, API errors and the OpenAPI document.

use domain::{DisplayName, MemberRole, Username};
use serde_json::Value;
use services::store::NewUser;

use crate::helpers::{media_type, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_api_lists_the_seed_rooms_with_live_member_counts() {
    let app = TestApp::spawn().await;
    let body: Value = app.get("/api/v1/rooms").await.json().await.unwrap();
    let names: Vec<&str> = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "random", "tech"]);
    assert!(body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["member_count"] == 0));

    let user = app
        .services
        .store
        .create_user(&NewUser {
            username: Username::parse("first").unwrap(),
            email: None,
            display_name: DisplayName::parse("First").unwrap(),
            password_hash: None,
        })
        .await
        .unwrap();
    let tech = app
        .services
        .store
        .public_room_by_name("tech")
        .await
        .unwrap()
        .unwrap();
    app.services
        .store
        .add_member(tech.id, user.id, MemberRole::Member)
        .await
        .unwrap();

    let body: Value = app.get("/api/v1/rooms").await.json().await.unwrap();
    let tech = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "tech")
        .unwrap();
    assert_eq!(tech["member_count"], 1);
    assert!(tech["id"].as_str().unwrap().len() == 36 && tech["topic"].is_string());
    assert_eq!(tech["online_count"], 0, "nobody is connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_path_is_a_problem_json_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/no-such-thing").await;
    assert_eq!(response.status(), 404);
    assert_eq!(media_type(&response), "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "/problems/not-found");
    assert_eq!(body["status"], 404);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("/api/v1/no-such-thing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_on_an_api_path_is_a_problem_json_405() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .delete(format!("{}/api/v1/rooms", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(media_type(&response), "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "/problems/method-not-allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_describes_the_rooms_endpoint() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/rooms"]["get"].is_object());
    assert!(doc["paths"]["/health"]["get"].is_object());
    assert!(doc["components"]["schemas"]["RoomSummary"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_server_function_returns_the_same_rooms() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(format!("{}/rpc/rooms", app.address))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let directory: app::pages::rooms::RoomDirectory = response.json().await.unwrap();
    let api: Value = app.get("/api/v1/rooms").await.json().await.unwrap();
    assert_eq!(
        directory.rooms.len(),
        api["rooms"].as_array().unwrap().len()
    );
    assert_eq!(directory.rooms[0].name, "general");
    // A visitor has joined nothing and may not join.
    assert!(directory.joined.is_empty() && !directory.signed_in);
}
