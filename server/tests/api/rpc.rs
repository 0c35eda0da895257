//! Server functions (`/rpc/*`) answer refusals with the REST API's statuses,
//! and the body still decodes as the error the browser shows.

use serde_json::Value;

use crate::helpers::{user, TestApp, User, GOOD_PASSWORD};
use crate::ws::open_dm;

/// Calls a server function as a browser would (a same-origin form post),
/// signed in as `who` when given; returns the status, `Retry-After` and body.
async fn rpc(
    app: &TestApp,
    endpoint: &str,
    who: Option<&User>,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .post(format!("{}/rpc/{endpoint}", app.address))
        .header("origin", &app.address)
        .form(form);
    if let Some(who) = who {
        request = request.header("cookie", format!("cs_access={}", who.token));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_refusals_with_the_rest_apis_statuses() {
    let app = TestApp::spawn().await;
    let root = user(&app, "root").await; // the first account: an admin
    let (ann, ben, cid) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cid").await,
    );
    let theirs = open_dm(&app, &ben, &cid).await;
    let own = open_dm(&app, &ann, &ben).await;

    let send = |conversation: &str, body: &str| -> Vec<(&str, String)> {
        vec![
            ("conversation_id", conversation.to_owned()),
            ("client_msg_id", "c-1".to_owned()),
            ("body", body.to_owned()),
        ]
    };
    // (endpoint, signed in as, form, expected status, error variant)
    type Case<'a> = (
        &'a str,
        Option<&'a User>,
        Vec<(&'a str, String)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        ("chat/send", Some(&ann), send(&own, "hi"), 200, "sent"),
        (
            "chat/send",
            Some(&ann),
            send(&theirs, "hi"),
            404,
            "NotFound",
        ),
        (
            "chat/send",
            Some(&ann),
            send(&own, "   "),
            422,
            "InvalidName",
        ),
        (
            "chat/send",
            Some(&ann),
            send("not-a-uuid", "hi"),
            400,
            "Malformed",
        ),
        ("chat/send", None, send(&own, "hi"), 401, "Unauthorized"),
        (
            "admin/update_account",
            Some(&ann),
            vec![("user_id", ben.id.clone()), ("change", "disable".into())],
            403,
            "Forbidden",
        ),
        (
            "auth/sign_in",
            None,
            vec![
                ("login", "ann".into()),
                ("password", "not-her-password".into()),
            ],
            401,
            "Unauthorized",
        ),
        (
            "auth/sign_up",
            None,
            vec![
                ("username", "ann".into()),
                ("email", "someone.new@example.com".into()),
                ("display_name", "Another Ann".into()),
                ("password", GOOD_PASSWORD.into()),
            ],
            409,
            "Conflict",
        ),
    ];
    for (endpoint, who, pairs, status, variant) in cases {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (got, _, body) = rpc(&app, endpoint, who, &pairs).await;
        assert_eq!(got, status, "{endpoint} ({variant}): {body}");
        if status >= 400 {
            assert!(
                body.get(variant).is_some() || body == Value::String(variant.into()),
                "{endpoint}: the body is the encoded {variant} error: {body}"
            );
        }
    }
    let _ = root;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_server_function_says_when_to_try_again() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1")]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let id = format!("c-{n}");
        let form = [
            ("conversation_id", dm.as_str()),
            ("client_msg_id", &id),
            ("body", "hi"),
        ];
        let (status, retry_after, body) = rpc(&app, "chat/send", Some(&ann), &form).await;
        statuses.push(status);
        if status == 429 {
            assert!(body.get("TooManyRequests").is_some(), "{body}");
            let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
            assert!(seconds >= 1);
            return;
        }
    }
    panic!("one message a second: the second within the second is refused, got {statuses:?}");
}

/// What a lower layer answers for a server function — a wrong method, a
/// body too large — is a problem like the REST API's, not an empty body; a
/// server function's own refusal keeps its encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lower_layers_refusals_of_server_functions_are_problems() {
    // A small limit: a body past it is written whole before the answer.
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MAX_BODY_BYTES", "4096")]).await;
    // A refusal of the function itself is still its encoded error.
    let (status, _, error) = rpc(
        &app,
        "auth/sign_in",
        None,
        &[("login", "nobody"), ("password", GOOD_PASSWORD)],
    )
    .await;
    assert_eq!(status, 401, "{error}");
    assert!(error.get("type").is_none(), "not a problem: {error}");

    // The oversized body last: the server answers without reading it and
    // closes that connection.
    let sign_in = format!("{}/rpc/auth/sign_in", app.address);
    let too_large = vec![b'a'; 16 << 10];
    let cases = [
        ("a wrong method", app.client.get(&sign_in), 405),
        (
            "a body too large",
            app.client
                .post(&sign_in)
                .header("origin", &app.address)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(too_large),
            413,
        ),
    ];
    for (case, request, expected) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let media_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let problem: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expected, "{case}: {problem}");
        assert_eq!(media_type, "application/problem+json", "{case}");
        assert_eq!(problem["status"], status, "{case}: {problem}");
        assert!(problem["detail"].is_string(), "{case}: {problem}");
    }

    // A plain form post gets no JSON to show as its page. (A connection
    // of its own: the last one was answered before its body was read.)
    let page = reqwest::Client::new()
        .post(&sign_in)
        .header("origin", &app.address)
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 16 << 10])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 413);
    assert!(!page
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().contains("json")));
}

/// A body a server function cannot read — not UTF-8, or past the size limit
/// while it streams in (no `Content-Length` to refuse it by) — is the
/// caller's mistake: 400, not 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_body_is_a_bad_request_not_a_server_failure() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn_configured(&[("CHATSPHERE_MAX_BODY_BYTES", "4096")]).await;
    let latin1 = app
        .client
        .post(format!("{}/rpc/auth/sign_in", app.address))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"login=Jos\xe9&password=x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(latin1.status(), 400, "{}", latin1.text().await.unwrap());

    // Chunked, 16 KiB in all: only the reading finds it too large.
    let host = app.address.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut request = format!(
        "POST /rpc/auth/sign_in HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address
    )
    .into_bytes();
    let chunk = "a".repeat(1024);
    request.extend_from_slice(b"11\r\nlogin=a&password=\r\n");
    for _ in 0..16 {
        request.extend_from_slice(format!("400\r\n{chunk}\r\n").as_bytes());
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer before it has read everything.
    let _ = socket.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(
        status_line.contains(" 400 ") || status_line.contains(" 413 "),
        "{answer}"
    );
}
