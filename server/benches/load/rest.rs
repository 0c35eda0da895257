//! What a scenario arranges over the REST API before it measures: users
//! (each new account joins `general`), the `general` room's id, groups.

use futures_util::{stream, StreamExt};
use serde_json::{json, Value};

use crate::cluster::Cluster;

/// A password the server's policy accepts.
const PASSWORD: &str = "correct horse battery staple 42";

/// Registrations under way at once (the server hashes one password per core).
const REGISTERING_IN_FLIGHT: usize = 4;

/// Groups being created at once.
const CREATING_IN_FLIGHT: usize = 8;

/// A registered user.
pub struct User {
    /// The user's id.
    pub id: String,
    /// An access token (valid for the server's access TTL, 15 min by default).
    pub token: String,
}

/// Registers `count` users named `<prefix><i>` on the first process.
pub async fn register_users(cluster: &Cluster, prefix: &str, count: usize) -> Vec<User> {
    let started = std::time::Instant::now();
    let address = cluster.address(0);
    let users: Vec<(usize, User)> = stream::iter(0..count)
        .map(|i| {
            let (http, address) = (&cluster.http, &address);
            async move { (i, register(http, address, &format!("{prefix}{i}")).await) }
        })
        .buffer_unordered(REGISTERING_IN_FLIGHT)
        .collect()
        .await;
    println!(
        "  registered {count} users in {:.1} s ({REGISTERING_IN_FLIGHT} at a time: the server \
         hashes each password with argon2id, one at a time per core)",
        started.elapsed().as_secs_f64()
    );
    let mut users = users;
    users.sort_by_key(|(i, _)| *i);
    users.into_iter().map(|(_, user)| user).collect()
}

async fn register(http: &reqwest::Client, address: &str, username: &str) -> User {
    let response = http
        .post(format!("{address}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    assert_eq!(status, 201, "registering {username}: {body}");
    User {
        id: body["user"]["id"].as_str().expect("user.id").to_owned(),
        token: body["tokens"]["access_token"]
            .as_str()
            .expect("tokens.access_token")
            .to_owned(),
    }
}

/// The id of the `general` room (every new account is a member).
pub async fn general_room(cluster: &Cluster, user: &User) -> String {
    let rooms: Value = cluster
        .http
        .get(format!("{}/api/v1/rooms", cluster.address(0)))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a room list");
    rooms["rooms"]
        .as_array()
        .expect("rooms")
        .iter()
        .find(|r| r["name"] == "general")
        .and_then(|r| r["id"].as_str())
        .expect("the general room")
        .to_owned()
}

/// A group to create.
pub struct NewGroup<'a> {
    /// Who creates it (its owner, a member).
    pub owner: &'a User,
    /// The ids of the other members.
    pub members: Vec<&'a str>,
}

/// Creates `groups` (group `i` through process `i`, modulo the count),
/// [`CREATING_IN_FLIGHT`] at a time: their ids, in order.
pub async fn create_groups(cluster: &Cluster, groups: &[NewGroup<'_>]) -> Vec<String> {
    let mut created: Vec<(usize, String)> = stream::iter(groups.iter().enumerate())
        .map(|(i, group)| {
            let (http, address) = (&cluster.http, cluster.address(i));
            async move {
                let response = http
                    .post(format!("{address}/api/v1/conversations/groups"))
                    .bearer_auth(&group.owner.token)
                    .json(&json!({"name": format!("Load group {i}"), "member_ids": group.members}))
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                let body: Value = response.json().await.unwrap_or_default();
                assert_eq!(status, 201, "creating group {i}: {body}");
                (i, body["id"].as_str().expect("the group's id").to_owned())
            }
        })
        .buffer_unordered(CREATING_IN_FLIGHT)
        .collect()
        .await;
    created.sort_by_key(|(i, _)| *i);
    created.into_iter().map(|(_, id)| id).collect()
}
