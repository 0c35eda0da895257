//! Mentions: which names count (members only), `@all` where it is allowed,
//! and the mention badge the server keeps with the read positions.

use reqwest::Method;
use serde_json::{json, Value};

use crate::groups::new_group;
use crate::helpers::{call, room_id, say, user, TestApp, User};

/// (unread, mentions) of a conversation in the user's list.
async fn badge(app: &TestApp, who: &User, conversation: &str) -> (u64, u64) {
    let (status, list) = call(app, who, Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(status, 200, "{list}");
    let found = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation)
        .unwrap_or_else(|| panic!("{conversation} in {list}"))
        .clone();
    (
        found["unread"].as_u64().unwrap(),
        found["mentions"].as_u64().unwrap(),
    )
}

async fn read_all(app: &TestApp, who: &User, conversation: &str, seq: &Value) {
    let (status, body) = call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{conversation}/read"),
        Some(json!({ "seq": seq })),
    )
    .await;
    assert!(status < 300, "{status} {body}");
}

fn ids(message: &Value) -> Vec<String> {
    message["mentions"]
        .as_array()
        .map(|l| l.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_named_are_mentioned_and_counted_until_read() {
    let app = TestApp::spawn().await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let cat = user(&app, "cat").await;
    let group = new_group(&app, &ann, "crew", &[&bob]).await;

    // @bob is a member; @cat is not (nothing); code and emails are no mentions.
    let first = say(
        &app,
        &ann,
        &group,
        "@Bob can you look? cc @cat `@ann` ann@example.com",
    )
    .await;
    assert_eq!(ids(&first), [bob.id.to_string()]);
    assert_eq!(first.get("mentions_all"), None);
    say(&app, &ann, &group, "no mention here").await;
    let third = say(&app, &ann, &group, "**@bob** again").await;
    assert_eq!(badge(&app, &bob, &group).await, (3, 2));
    // Not for the sender, nor for the others.
    assert_eq!(badge(&app, &ann, &group).await.1, 0);

    // Read up to the first: one is left; all read: none.
    read_all(&app, &bob, &group, &first["seq"]).await;
    assert_eq!(badge(&app, &bob, &group).await.1, 1);
    read_all(&app, &bob, &group, &third["seq"]).await;
    assert_eq!(badge(&app, &bob, &group).await, (0, 0));

    // A deleted message mentions nobody any more.
    let gone = say(&app, &ann, &group, "@bob oops").await;
    assert_eq!(badge(&app, &bob, &group).await.1, 1);
    call(
        &app,
        &ann,
        Method::DELETE,
        &format!(
            "/api/v1/conversations/{group}/messages/{}",
            gone["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(badge(&app, &bob, &group).await.1, 0);
    // Naming oneself is kept, and counts for nobody.
    let own = say(&app, &bob, &group, "note to self, @bob").await;
    assert_eq!(ids(&own), [bob.id.to_string()]);
    assert_eq!(badge(&app, &ann, &group).await.1, 0);
    let _ = cat;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_is_called_in_small_groups_and_by_managers_in_large_rooms() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_MENTION_ALL_MAX", "2")]).await;
    let admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let cat = user(&app, "cat").await;

    let pair = new_group(&app, &ann, "pair", &[&bob]).await;
    let all = say(&app, &ann, &pair, "@all standup now").await;
    assert_eq!(all["mentions_all"], true);
    assert_eq!(badge(&app, &bob, &pair).await.1, 1);
    assert_eq!(badge(&app, &ann, &pair).await.1, 0);

    // Three members: over the limit of two. A member's @here does nothing;
    // the owner's calls everyone.
    let three = new_group(&app, &ann, "three", &[&bob, &cat]).await;
    let by_member = say(&app, &bob, &three, "@here lunch?").await;
    assert_eq!(by_member.get("mentions_all"), None);
    let by_owner = say(&app, &ann, &three, "@here release at 5").await;
    assert_eq!(by_owner["mentions_all"], true);
    assert_eq!(badge(&app, &cat, &three).await.1, 1);

    // A public room (everyone joins #general): its server admin manages it.
    let (_, rooms) = call(&app, &ann, Method::GET, "/api/v1/rooms", None).await;
    let general = rooms["rooms"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        say(&app, &ann, &general, "@all hi")
            .await
            .get("mentions_all"),
        None
    );
    assert_eq!(
        say(&app, &admin, &general, "@all maintenance tonight").await["mentions_all"],
        true
    );

    // A direct conversation has no "everyone".
    let (_, direct) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({ "user_id": bob.id })),
    )
    .await;
    let direct = direct["id"].as_str().unwrap().to_owned();
    assert_eq!(
        say(&app, &ann, &direct, "@all hey")
            .await
            .get("mentions_all"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_are_for_members_and_leave_out_the_asker() {
    let app = TestApp::spawn().await;
    let _admin = user(&app, "root").await;
    let ann = user(&app, "ann").await;
    let bob = user(&app, "bob").await;
    let otto = user(&app, "otto").await;
    let random = room_id(&app, &ann, "random").await;
    for who in [&ann, &bob] {
        let (status, _) = call(
            &app,
            who,
            Method::POST,
            &format!("/api/v1/rooms/{random}/join"),
            None,
        )
        .await;
        assert!(status < 300, "{status}");
    }
    let room: uuid::Uuid = random.parse().unwrap();
    let chat = &app.services.chat;
    let (ann_id, otto_id): (uuid::Uuid, uuid::Uuid) =
        (ann.id.parse().unwrap(), otto.id.parse().unwrap());
    let found = chat.mention_candidates(ann_id, room, "").await.unwrap();
    let names: Vec<&str> = found.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["bob"]);
    assert_eq!(
        chat.mention_candidates(ann_id, room, "BO")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(chat
        .mention_candidates(ann_id, room, "zed")
        .await
        .unwrap()
        .is_empty());
    // A visitor of the public room does not list its members.
    assert!(chat.mention_candidates(otto_id, room, "").await.is_err());
}
