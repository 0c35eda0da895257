//! A personal access token is for `Authorization: Bearer`: put into the
//! session cookie it gives nothing, on the REST API and the socket alike,
//! while a session's token there works as before.

use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Error as WsError;

use super::token_with;
use crate::helpers::{user, TestApp};
use crate::ws::try_connect;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_in_the_session_cookie_gives_nothing() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let token = token_with(&app, &ann, &["read", "post"]).await;
    let get = |cookie: String| {
        app.client
            .get(format!("{}/api/v1/conversations", app.address))
            .header("cookie", cookie)
            .send()
    };
    let refused = get(format!("cs_access={}", token.token)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization"),
        "{problem}"
    );
    // A session's token in the cookie, and the personal one as a bearer,
    // both work.
    let session = get(format!("cs_access={}", ann.token)).await.unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    let bearer = app
        .client
        .get(format!("{}/api/v1/conversations", app.address))
        .bearer_auth(&token.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);

    // The socket: the cookie counts only with this site's Origin.
    let origin = app.address.clone();
    let cookie = format!("cs_access={}", token.token);
    match try_connect(&app, "", &[("origin", &origin), ("cookie", &cookie)]).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a personal token in the cookie opened a socket"),
    }
    let cookie = format!("cs_access={}", ann.token);
    assert!(
        try_connect(&app, "", &[("origin", &origin), ("cookie", &cookie)])
            .await
            .is_ok()
    );
}
