//! Server-rendered pages.

use crate::helpers::{media_type, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_page_html_lists_every_room_before_any_script_runs() {
    let app = TestApp::spawn().await;
    let response = app.get("/rooms").await;
    assert_eq!(response.status(), 200);
    assert_eq!(media_type(&response), "text/html");
    let html = response.text().await.unwrap();
    for room in ["general", "tech", "random"] {
        assert!(
            html.contains(&format!("data-room=\"{room}\"")),
            "{room} missing from the HTML"
        );
    }
    assert!(
        html.contains("Company-wide announcements"),
        "topics are rendered"
    );
    assert!(html.contains("<title>Public rooms · ChatSphere</title>"));
    assert!(
        html.contains("/pkg/chatsphere.js"),
        "the hydration script is referenced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_renders_the_app_shell() {
    let app = TestApp::spawn().await;
    let html = app.get("/").await.text().await.unwrap();
    for part in [
        "class=\"header\"",
        "class=\"sidebar\"",
        "class=\"main\"",
        "href=\"/rooms\"",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_page_is_an_html_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert_eq!(media_type(&response), "text/html");
    assert!(response.text().await.unwrap().contains("Page not found"));
}
