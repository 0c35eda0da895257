//! Managing a group's members: the last owner leaving hands the group on
//! (it is never left without someone who may manage it); an account that
//! is disabled cannot be added, nor put in a new group or a direct
//! conversation. On both backends.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{call, user, TestApp, User};

/// The group's members and their roles, as the members panel reads them.
async fn roles(app: &TestApp, who: &User, group: &str) -> Vec<(String, String)> {
    let conversation = uuid::Uuid::parse_str(group).unwrap();
    let who = uuid::Uuid::parse_str(&who.id).unwrap();
    app.services
        .receipts
        .positions(who, conversation)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user.username, m.role.as_str().to_owned()))
        .collect()
}

/// A new group of `owner` with `members`; its id.
pub(crate) async fn new_group(
    app: &TestApp,
    owner: &User,
    name: &str,
    members: &[&User],
) -> String {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let (status, group) = call(
        app,
        owner,
        Method::POST,
        "/api/v1/conversations/groups",
        Some(json!({"name": name, "member_ids": ids})),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    group["id"].as_str().unwrap().to_owned()
}

async fn remove(app: &TestApp, group: &str, who: &User, whom: &User) -> (u16, serde_json::Value) {
    call(
        app,
        who,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", whom.id),
        None,
    )
    .await
}

pub(crate) async fn add(app: &TestApp, group: &str, who: &User, whom: &User) -> u16 {
    call(
        app,
        who,
        Method::POST,
        &format!("/api/v1/conversations/{group}/members"),
        Some(json!({"user_id": whom.id})),
    )
    .await
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_owner_leaving_hands_the_group_on_and_adding_is_bounded() {
    let app = TestApp::spawn().await;
    let root = user(&app, "root").await; // the first account: a platform admin
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    let dan = user(&app, "dan").await;
    let group = new_group(&app, &ann, "team", &[&ben, &cat]).await;

    // A disabled account is not found for adding.
    let (status, _) = call(
        &app,
        &root,
        Method::POST,
        &format!("/api/v1/admin/users/{}/disable", dan.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(add(&app, &group, &ann, &dan).await, 404);
    // Nor for a new group or a direct conversation.
    let (status, problem) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/groups",
        Some(json!({"name": "with dan", "member_ids": [ben.id, dan.id]})),
    )
    .await;
    assert_eq!(status, 404, "{problem}");
    let (status, problem) = call(
        &app,
        &ann,
        Method::POST,
        "/api/v1/conversations/direct",
        Some(json!({"user_id": dan.id})),
    )
    .await;
    assert_eq!(status, 404, "{problem}");

    // Ann, the only owner, leaves: the longest-standing member takes over
    // and may manage the group.
    let (status, _) = call(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", ann.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let now = roles(&app, &ben, &group).await;
    let owners: Vec<_> = now.iter().filter(|(_, r)| r == "owner").collect();
    assert_eq!(owners.len(), 1, "{now:?}");
    let owner = if owners[0].0 == "ben" { &ben } else { &cat };
    assert_eq!(
        add(&app, &group, owner, &ann).await,
        204,
        "the new owner adds Ann back"
    );
    let roles = roles(&app, owner, &group).await;
    assert_eq!(
        roles.iter().filter(|(_, r)| r == "owner").count(),
        1,
        "Ann came back as a member: {roles:?}"
    );
}

/// A group's members hear when its member list changes (added, removed,
/// left), so an open members panel reads it again; a room's do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_told_when_the_member_list_changes_in_groups_only() {
    use std::time::Duration;

    use crate::ws::{connect, drain, next_of, silent};

    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    let group = new_group(&app, &ann, "team", &[&ben]).await;
    let mut bens = connect(&app, &ben).await;
    drain(&mut bens, Duration::from_millis(300)).await;

    assert_eq!(add(&app, &group, &ann, &cat).await, 204);
    let frame = next_of(&mut bens, "members").await;
    assert_eq!(frame, json!({"type": "members", "conversation_id": group}));
    // The list, read again as the event says, with everyone's role.
    let (status, list) = call(
        &app,
        &ben,
        Method::GET,
        &format!("/api/v1/conversations/{group}/receipts"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let mut roles: Vec<_> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    roles.sort();
    let mut expected = [
        (ann.id.as_str(), "owner"),
        (ben.id.as_str(), "member"),
        (cat.id.as_str(), "member"),
    ];
    expected.sort();
    assert_eq!(roles, expected);

    // Cat leaves.
    let (status, _) = call(
        &app,
        &cat,
        Method::DELETE,
        &format!("/api/v1/conversations/{group}/members/{}", cat.id),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        next_of(&mut bens, "members").await["conversation_id"],
        group.as_str()
    );

    // Adding someone already in it changes nothing: nothing is announced.
    assert_eq!(add(&app, &group, &ann, &ben).await, 204);
    silent(&mut bens, Duration::from_millis(500)).await;
    // Nor does someone joining a public room.
    let (status, _) = call(&app, &cat, Method::POST, "/api/v1/rooms/general/join", None).await;
    assert!(status < 300, "{status}");
    drain(&mut bens, Duration::from_millis(200)).await;
    let (status, _) = call(
        &app,
        &cat,
        Method::POST,
        "/api/v1/rooms/general/leave",
        None,
    )
    .await;
    assert!(status < 300, "{status}");
    silent(&mut bens, Duration::from_millis(500)).await;
}

/// A group's admin removes members but not an owner; a member removes
/// nobody but themself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_may_not_remove_an_owner() {
    use domain::MemberRole;

    let app = TestApp::spawn().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    let dan = user(&app, "dan").await;
    let group = new_group(&app, &ann, "team", &[&cat, &dan]).await;
    let id = uuid::Uuid::parse_str(&group).unwrap();
    // No API names group admins yet: Ben is made one in the store.
    assert!(app
        .services
        .store
        .add_member(
            id,
            uuid::Uuid::parse_str(&ben.id).unwrap(),
            MemberRole::Admin
        )
        .await
        .unwrap());
    let (status, problem) = remove(&app, &group, &ben, &ann).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["detail"], "an admin may not remove an owner");
    let (status, problem) = remove(&app, &group, &dan, &cat).await;
    assert_eq!(status, 403, "a member removes nobody else: {problem}");
    assert_eq!(
        remove(&app, &group, &ben, &cat).await.0,
        204,
        "an admin removes a member"
    );
    let left = roles(&app, &ann, &group).await;
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        left.iter()
            .any(|(name, role)| name == "ann" && role == "owner"),
        "{left:?}"
    );
}
