//! Reactions and replies over REST and the socket: who may react or reply,
//! what a reaction may be, what members see live and after a reconnect, and
//! the history around a message.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::groups::new_group;
use crate::helpers::{call, room_id, user, TestApp, User};
use crate::ws::{connect, next_of, send, silent, try_connect};

async fn post(
    app: &TestApp,
    who: &User,
    conversation: &str,
    body: &str,
    reply_to: Option<&Value>,
) -> (u16, Value) {
    let mut request = json!({"client_msg_id": uuid::Uuid::now_v7().to_string(), "body": body});
    if let Some(original) = reply_to {
        request["reply_to"] = original["id"].clone();
    }
    let (status, sent) = call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(request),
    )
    .await;
    (status, sent["message"].clone())
}

async fn said(app: &TestApp, who: &User, conversation: &str, body: &str) -> Value {
    let (status, message) = post(app, who, conversation, body, None).await;
    assert_eq!(status, 201, "{message}");
    message
}

async fn react(app: &TestApp, who: &User, message: &Value, emoji: &str, on: bool) -> (u16, Value) {
    let method = if on { Method::PUT } else { Method::DELETE };
    call(
        app,
        who,
        method,
        &format!(
            "/api/v1/conversations/{}/messages/{}/reactions/{}",
            message["conversation_id"].as_str().unwrap(),
            message["id"].as_str().unwrap(),
            urlencode(emoji)
        ),
        None,
    )
    .await
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// `[(emoji, [user ids])]` of a message.
fn reactions(message: &Value) -> Vec<(String, Vec<String>)> {
    message["reactions"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| {
                    let users = r["users"].as_array().unwrap();
                    (
                        r["emoji"].as_str().unwrap().to_owned(),
                        users
                            .iter()
                            .map(|u| u["id"].as_str().unwrap().to_owned())
                            .collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_react_once_per_emoji_and_nothing_else_is_a_reaction() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000")]).await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let otto = user(&app, "otto").await;
    let group = new_group(&app, &ann, "crew", &[&bob]).await;
    let message = said(&app, &ann, &group, "ship it?").await;

    let (status, first) = react(&app, &bob, &message, "👍", true).await;
    assert_eq!(status, 200, "{first}");
    let first = &first["message"];
    assert_eq!(first["change"], 1);
    assert_eq!(
        reactions(first),
        [("👍".to_owned(), vec![bob.id.to_string()])]
    );
    assert_eq!(first["reactions"][0]["users"][0]["name"], "bob");
    // Again: nothing changes. Another person and another emoji add up.
    assert_eq!(
        react(&app, &bob, &message, "👍", true).await.1["message"]["change"],
        1
    );
    react(&app, &ann, &message, "👍", true).await;
    // Written without its variation selector, ❤ is ❤️.
    let (_, hearts) = react(&app, &ann, &message, "❤", true).await;
    let shown = reactions(&hearts["message"]);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].1, [bob.id.to_string(), ann.id.to_string()]);
    assert_eq!(shown[1].0, "❤️");
    // Taken back.
    let (_, back) = react(&app, &bob, &message, "👍", false).await;
    assert_eq!(reactions(&back["message"])[0].1, [ann.id.to_string()]);
    assert_eq!(back["message"]["change"], 4);

    // Only one emoji is a reaction.
    for bad in ["ok", "👍👍", "a👍", "<b>", "好", &"👍".repeat(20)] {
        let (status, problem) = react(&app, &bob, &message, bad, true).await;
        assert_eq!(status, 422, "{bad:?}: {problem}");
        assert_eq!(problem["detail"], domain::messages::NOT_AN_EMOJI);
    }
    // Outsiders find nothing; a public room is joined first.
    assert_eq!(react(&app, &otto, &message, "👍", true).await.0, 404);
    let random = room_id(&app, &ann, "random").await;
    call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/rooms/{random}/join"),
        None,
    )
    .await;
    let in_room = said(&app, &ann, &random, "hello room").await;
    assert_eq!(react(&app, &otto, &in_room, "👍", true).await.0, 403);

    // At most fifty kinds on a message.
    let kinds: Vec<&str> = ["😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃"]
        .into_iter()
        .chain(["😉", "😊", "😇", "🥰", "😍", "🤩", "😘", "😗", "😚", "😙"])
        .chain(["😋", "😛", "😜", "🤪", "😝", "🤑", "🤗", "🤭", "🤫", "🤔"])
        .chain(["🤐", "🤨", "😐", "😑", "😶", "😏", "😒", "🙄", "😬", "🤥"])
        .chain(["😌", "😔", "😪", "🤤", "😴", "😷", "🤒", "🤕", "🤢", "🤮"])
        .collect();
    let crowded = said(&app, &ann, &group, "crowded").await;
    for emoji in &kinds {
        assert_eq!(
            react(&app, &bob, &crowded, emoji, true).await.0,
            200,
            "{emoji}"
        );
    }
    let (status, problem) = react(&app, &bob, &crowded, "🤧", true).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["detail"], domain::messages::TOO_MANY_REACTIONS);
    // One of those already there still takes another person.
    assert_eq!(react(&app, &ann, &crowded, "😀", true).await.0, 200);

    // A deleted message loses its reactions and takes no more.
    call(
        &app,
        &ann,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{group}/messages/{}",
            message["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(react(&app, &bob, &message, "👍", true).await.0, 404);
    let id = message["id"].as_str().unwrap().parse().unwrap();
    let stored = app.services.store.message(id).await.unwrap().unwrap();
    assert!(stored.reactions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_reach_members_live_over_the_socket_and_after_a_reconnect() {
    let app = TestApp::spawn().await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let otto = user(&app, "otto").await;
    let group = new_group(&app, &ann, "crew", &[&bob]).await;
    let message = said(&app, &ann, &group, "lunch?").await;
    let id = message["id"].as_str().unwrap();
    let mut watching = connect(&app, &ann).await;
    let mut reacting = connect(&app, &bob).await;

    send(
        &mut reacting,
        json!({"type": "react", "conversation_id": group, "message_id": id, "emoji": "🎉", "on": true}),
    )
    .await;
    let ack = next_of(&mut reacting, "change_ack").await;
    assert_eq!(ack["change"], 1, "{ack}");
    let seen = next_of(&mut watching, "changed").await["message"].clone();
    assert_eq!(
        reactions(&seen),
        [("🎉".to_owned(), vec![bob.id.to_string()])]
    );
    silent(&mut watching, Duration::from_millis(200)).await;

    // Refusals are change_acks with the status.
    send(
        &mut reacting,
        json!({"type": "react", "conversation_id": group, "message_id": id, "emoji": "nope", "on": true}),
    )
    .await;
    assert_eq!(
        next_of(&mut reacting, "change_ack").await["error"]["status"],
        422
    );
    let mut outsider = connect(&app, &otto).await;
    send(
        &mut outsider,
        json!({"type": "react", "conversation_id": group, "message_id": id, "emoji": "👍", "on": true}),
    )
    .await;
    assert_eq!(
        next_of(&mut outsider, "change_ack").await["error"]["status"],
        404
    );

    // Ann goes away holding change 1; Bob takes his back and reacts anew.
    drop(watching);
    react(&app, &bob, &message, "🎉", false).await;
    react(&app, &bob, &message, "👀", true).await;
    let auth = format!("Bearer {}", ann.token);
    let mut socket = try_connect(&app, "?resume=1", &[("authorization", &auth)])
        .await
        .unwrap();
    next_of(&mut socket, "ready").await;
    send(
        &mut socket,
        json!({"type": "resume", "positions": { &group: message["seq"] }, "changes": { &group: 1 }}),
    )
    .await;
    let replayed = next_of(&mut socket, "changed").await["message"].clone();
    assert_eq!(replayed["change"], 3, "the latest state, once");
    assert_eq!(
        reactions(&replayed),
        [("👀".to_owned(), vec![bob.id.to_string()])]
    );
    assert_eq!(next_of(&mut socket, "resumed").await["type"], "resumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_quote_their_original_and_only_within_the_conversation() {
    let app = TestApp::spawn().await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let group = new_group(&app, &ann, "crew", &[&bob]).await;
    let other = new_group(&app, &ann, "elsewhere", &[]).await;
    let original = said(&app, &ann, &group, "where do we meet?\nsecond line").await;
    let foreign = said(&app, &ann, &other, "not here").await;

    let (status, reply) = post(&app, &bob, &group, "at noon", Some(&original)).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["reply_to"], original["id"]);
    assert_eq!(reply["reply"]["seq"], original["seq"]);
    assert_eq!(reply["reply"]["sender_name"], "ann");
    assert_eq!(reply["reply"]["excerpt"], "where do we meet?");

    // A message of another conversation, or none, is not found — over
    // REST and over the socket.
    assert_eq!(post(&app, &bob, &group, "x", Some(&foreign)).await.0, 404);
    let nothing = json!({"id": uuid::Uuid::now_v7()});
    assert_eq!(post(&app, &bob, &group, "x", Some(&nothing)).await.0, 404);
    let mut socket = connect(&app, &bob).await;
    send(
        &mut socket,
        json!({"type": "send", "conversation_id": group, "client_msg_id": "r1", "body": "x", "reply_to": foreign["id"]}),
    )
    .await;
    let ack = next_of(&mut socket, "ack").await;
    assert_eq!(ack["error"]["status"], 404, "{ack}");

    // The quote follows the original: deleted, it shows no text.
    call(
        &app,
        &ann,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{group}/messages/{}",
            original["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let (_, page) = call(
        &app,
        &bob,
        Method::GET,
        &format!("/api/v1/messages/group/{group}"),
        None,
    )
    .await;
    let quoted = &page["messages"][0]["reply"];
    assert_eq!(quoted["deleted"], true, "{page}");
    assert_eq!(quoted["excerpt"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_around_a_message_holds_it_in_its_context() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000")]).await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let group = new_group(&app, &ann, "crew", &[]).await;
    for n in 1..=30 {
        said(&app, &ann, &group, &format!("m{n}")).await;
    }
    let page = |query: String| {
        let (app, ann, group) = (&app, &ann, &group);
        async move {
            call(
                app,
                ann,
                Method::GET,
                &format!("/api/v1/messages/group/{group}?{query}"),
                None,
            )
            .await
        }
    };
    let seqs = |page: &Value| -> Vec<i64> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };
    let (status, around) = page("around=10&limit=6".into()).await;
    assert_eq!(status, 200, "{around}");
    assert_eq!(
        seqs(&around),
        [12, 11, 10, 9, 8, 7],
        "newest first, half older"
    );
    assert_eq!(around["next_before"], 7);
    // Near the newest: more older ones fill the page.
    let (_, end) = page("around=29&limit=6".into()).await;
    assert_eq!(seqs(&end), [30, 29, 28, 27, 26, 25]);
    // Near the first: no older page.
    let (_, start) = page("around=1&limit=4".into()).await;
    assert_eq!(seqs(&start), [4, 3, 2, 1]);
    assert_eq!(start["next_before"], Value::Null);
    // With both cursors, `around` wins; a position below 1 is refused.
    let (status, both) = page("around=5&before=9&limit=3".into()).await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(seqs(&both), [6, 5, 4]);
    assert_eq!(page("around=0".into()).await.0, 400);
    assert_eq!(page("around=x".into()).await.0, 400);
}
