//! Compressed answers decode: whatever a client accepts (gzip, br), every
//! response's `Content-Encoding` matches its body, errors built by the
//! layers below the handlers included.

use std::io::Read;

use serde_json::Value;

use crate::helpers::{media_type, user, TestApp};

/// The body of `response` decoded as its `Content-Encoding` says; a body
/// that does not decode fails the test.
async fn decoded_body(response: reqwest::Response) -> Vec<u8> {
    let encoding = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let raw = response.bytes().await.unwrap();
    let mut decoded = Vec::new();
    match encoding.as_deref() {
        None | Some("identity") => decoded.extend_from_slice(&raw),
        Some("gzip") => {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut decoded)
                .unwrap_or_else(|err| panic!("says gzip but is not: {err}; body {raw:?}"));
        }
        Some("br") => {
            brotli_decompressor::Decompressor::new(&raw[..], 4096)
                .read_to_end(&mut decoded)
                .unwrap_or_else(|err| panic!("says br but is not: {err}; body {raw:?}"));
        }
        Some(other) => panic!("an encoding the client did not accept: {other}"),
    }
    decoded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_lower_layers_decode_under_gzip_and_br() {
    let app = TestApp::spawn().await;
    let user = user(&app, "encoded").await;
    let group = app
        .send(
            reqwest::Method::POST,
            "/api/v1/conversations/groups",
            Some(&serde_json::json!({ "name": "Encoded" })),
            Some(&user.token),
        )
        .await;
    assert_eq!(group.status(), 201);
    let group = group.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Answers the handlers never see: a query or a path that does not parse.
    let paths = [
        format!("/api/v1/messages/group/{group}?limit=4294967296"),
        "/api/v1/conversations/not-a-uuid/receipts".to_owned(),
        format!("/api/v1/conversations/{group}/messages/not-a-uuid/receipts"),
    ];
    for path in &paths {
        for encoding in ["gzip", "br"] {
            let response = app
                .client
                .get(format!("{}{path}", app.address))
                .bearer_auth(&user.token)
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert!(status.is_client_error(), "{path} ({encoding}): {status}");
            assert_eq!(media_type(&response), "application/problem+json", "{path}");
            let body = decoded_body(response).await;
            let problem: Value = serde_json::from_slice(&body).unwrap_or_else(|err| {
                panic!("{path} ({encoding}): not JSON once decoded: {err}: {body:?}")
            });
            assert_eq!(problem["status"], status.as_u16(), "{path} ({encoding})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_answers_decode_under_gzip_and_br() {
    let app = TestApp::spawn().await;
    for encoding in ["gzip", "br"] {
        let response = app
            .client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-encoding"],
            encoding,
            "a large JSON answer is compressed"
        );
        let document: Value = serde_json::from_slice(&decoded_body(response).await).unwrap();
        assert!(document["paths"].is_object());
    }
}
