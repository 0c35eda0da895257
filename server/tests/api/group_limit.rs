//! A group holds its owner and at most `MAX_GROUP_MEMBERS` members, people
//! and webhooks' bots alike, however many ask for the last place at once.
//! On both backends.

use domain::{DisplayName, MemberRole, Username};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;
use services::conversations::MAX_GROUP_MEMBERS;
use services::store::NewUser;
use uuid::Uuid;

use crate::groups::{add, new_group};
use crate::helpers::{call, user, TestApp, User};

/// `n` new accounts made through the store (registering hundreds over the
/// API would spend most of a test hashing passwords), with no token.
async fn accounts(app: &TestApp, n: usize) -> Vec<User> {
    let mut made = Vec::with_capacity(n);
    for _ in 0..n {
        let name = format!("m{}", &Uuid::now_v7().simple().to_string()[20..]);
        let account = app
            .services
            .store
            .create_user(&NewUser {
                username: Username::parse(&name).unwrap(),
                email: None,
                display_name: DisplayName::parse(&name).unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        made.push(User {
            id: account.id.to_string(),
            token: String::new(),
        });
    }
    made
}

/// Adds `n` new accounts to the group through the store.
async fn fill(app: &TestApp, group: Uuid, n: usize) {
    for member in accounts(app, n).await {
        let member = Uuid::parse_str(&member.id).unwrap();
        assert!(app
            .services
            .store
            .add_member(group, member, MemberRole::Member)
            .await
            .unwrap());
    }
}

/// A group holds its owner and at most `MAX_GROUP_MEMBERS` members: one
/// more is refused with 422 and nothing is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_group_refuses_one_more_member() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let last = user(&app, "last").await;
    let late = user(&app, "late").await;
    let group = new_group(&app, &ann, "crowd", &[]).await;
    let id = uuid::Uuid::parse_str(&group).unwrap();
    fill(&app, id, MAX_GROUP_MEMBERS - 1).await;
    // The last place is taken; then the group is full.
    assert_eq!(add(&app, &group, &ann, &last).await, 204);
    let (status, problem) = call(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/conversations/{group}/members"),
        Some(json!({"user_id": late.id})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&MAX_GROUP_MEMBERS.to_string()),
        "{problem}"
    );
    assert_eq!(
        app.services.store.member_ids(id).await.unwrap().len(),
        MAX_GROUP_MEMBERS + 1
    );

    // A webhook's bot is a member too: none for a full group; once a
    // place is free, the bot takes it.
    let hooks = format!("/api/v1/conversations/{group}/webhooks");
    let hook = |name: &str| {
        call(
            &app,
            &ann,
            Method::POST,
            &hooks,
            Some(json!({ "name": name })),
        )
    };
    let (status, problem) = hook("ci").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        app.services.store.member_ids(id).await.unwrap().len(),
        MAX_GROUP_MEMBERS + 1
    );
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", last.id),
        None,
    )
    .await;
    assert!(status < 300, "{status}");
    let (status, created) = hook("ci").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(add(&app, &group, &ann, &late).await, 422);
}

/// Many owners' requests for a group's last place at once, people and
/// webhooks mixed: exactly one gets it, the others are told the group is
/// full, and the group ends at its limit (counting and adding are one step,
/// not a count that every request passes before any of them adds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_racing_for_the_last_place_get_it_once() {
    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let group = new_group(&app, &ann, "crowd", &[]).await;
    let id = Uuid::parse_str(&group).unwrap();
    fill(&app, id, MAX_GROUP_MEMBERS - 1).await;
    let waiting = accounts(&app, 6).await;
    let hooks = format!("/api/v1/conversations/{group}/webhooks");
    let people = waiting.iter().map(|whom| add(&app, &group, &ann, whom));
    let bots = (0..3).map(|n| {
        let hooks = &hooks;
        let ann = &ann;
        let app = &app;
        async move {
            call(
                app,
                ann,
                Method::POST,
                hooks,
                Some(json!({ "name": format!("ci{n}") })),
            )
            .await
            .0
        }
    });
    let (people, bots) = tokio::join!(join_all(people), join_all(bots));
    let mut statuses: Vec<u16> = people.into_iter().chain(bots).collect();
    statuses.sort_unstable();
    let won = statuses.iter().filter(|&&s| s < 300).count();
    assert_eq!(won, 1, "one request gets the last place: {statuses:?}");
    assert!(
        statuses.iter().all(|&s| s < 300 || s == 422),
        "the others are told the group is full: {statuses:?}"
    );
    assert_eq!(
        app.services.store.member_ids(id).await.unwrap().len(),
        MAX_GROUP_MEMBERS + 1
    );
}
