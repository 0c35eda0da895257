//! Resuming past the replay limit: more than 1,000 messages missed in one
//! conversation are replayed up to the limit, `resumed.truncated` names the
//! conversation, and paging the REST history fills the rest — nothing lost,
//! nothing repeated — before live delivery carries on.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{user, TestApp};
use crate::ws::{next_json, next_of, open_dm, send, try_connect};

/// Messages one `resume` replays per conversation (docs/protocol.md).
const REPLAY_LIMIT: i64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_past_the_replay_limit_names_the_conversation_and_history_fills_the_rest() {
    let app = TestApp::spawn().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let missed = REPLAY_LIMIT + 50;
    for n in 1..=missed {
        app.services
            .store
            .post_message(&services::store::NewMessage {
                conversation_id: dm.parse().unwrap(),
                sender_id: ann.id.parse().unwrap(),
                client_msg_id: &format!("m{n}"),
                body: &format!("missed {n}"),
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .await
            .unwrap();
    }

    let auth = format!("Bearer {}", ben.token);
    let mut socket = try_connect(&app, "?resume=1", &[("authorization", &auth)])
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "ready");
    send(
        &mut socket,
        json!({"type": "resume", "positions": {dm.clone(): 0}}),
    )
    .await;
    let mut replayed = Vec::new();
    let resumed = loop {
        let frame = next_json(&mut socket).await;
        match frame["type"].as_str() {
            Some("message") => replayed.push(frame["message"]["seq"].as_i64().unwrap()),
            Some("resumed") => break frame,
            _ => {}
        }
    };
    assert_eq!(
        replayed,
        (1..=REPLAY_LIMIT).collect::<Vec<_>>(),
        "the oldest 1,000, once each, in order"
    );
    assert_eq!(resumed["replayed"], REPLAY_LIMIT);
    assert_eq!(resumed["truncated"], json!([dm]), "{resumed}");

    // The client pages the history backwards until it meets what it holds.
    let mut held: BTreeSet<i64> = replayed.iter().copied().collect();
    let mut paged: Vec<i64> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let query = before.map_or("limit=100".to_owned(), |b| format!("limit=100&before={b}"));
        let page: Value = app
            .send(
                Method::GET,
                &format!("/api/v1/messages/direct/{}?{query}", ann.id),
                None,
                Some(&ben.token),
            )
            .await
            .json()
            .await
            .unwrap();
        let seqs: Vec<i64> = page["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("a history page: {page}"))
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert!(!seqs.is_empty(), "history ended before the gap was filled");
        paged.extend(&seqs);
        let oldest = *seqs.last().unwrap();
        if oldest <= REPLAY_LIMIT + 1 {
            break;
        }
        before = Some(oldest);
    }
    let mut sorted = paged.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        paged.len(),
        "no message on two pages: {paged:?}"
    );
    held.extend(paged.iter().copied().filter(|seq| *seq > REPLAY_LIMIT));
    assert_eq!(
        held.into_iter().collect::<Vec<_>>(),
        (1..=missed).collect::<Vec<_>>(),
        "replay and history together: every message"
    );

    // And live delivery carries on after the newest message: the gap came
    // from the history, the socket does not send it again.
    let sent = app
        .send(
            Method::POST,
            &format!("/api/v1/conversations/{dm}/messages"),
            Some(&json!({"client_msg_id": "live", "body": "live again"})),
            Some(&ann.token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let live = next_of(&mut socket, "message").await;
    assert_eq!(live["message"]["seq"], missed + 1, "{live}");
}
