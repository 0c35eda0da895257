//! Receipts from live connections are coalesced per member and
//! conversation and written in batches: a burst of them costs a few writes
//! and events, and the last position always arrives.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{user, TestApp};
use crate::ws::{connect, next_of, open_dm, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_read_receipts_is_written_as_a_few_and_ends_at_the_highest() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_SEND_RATE", "1000")]).await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dm = open_dm(&app, &ann, &ben).await;
    let mut ann_socket = connect(&app, &ann).await;
    let mut ben_socket = connect(&app, &ben).await;
    const COUNT: i64 = 40;
    for i in 1..=COUNT {
        send(
            &mut ann_socket,
            json!({"type": "send", "conversation_id": dm, "client_msg_id": format!("m{i}"), "body": "hi"}),
        )
        .await;
        next_of(&mut ann_socket, "ack").await;
    }
    // Ben reads them one by one, as a client scrolling through would.
    for seq in 1..=COUNT {
        send(
            &mut ben_socket,
            json!({"type": "read", "conversation_id": dm, "seq": seq}),
        )
        .await;
    }
    let mut events = 0;
    let last = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let receipt = next_of(&mut ann_socket, "receipt").await;
            events += 1;
            if receipt["read_seq"] == COUNT {
                return receipt;
            }
        }
    })
    .await
    .expect("the highest position arrives");
    assert_eq!(last["delivered_seq"], COUNT);
    // Written one by one, every receipt would move the position and be
    // announced: forty events.
    assert!(
        events < COUNT / 2,
        "{events} receipt events for {COUNT} receipts"
    );
    let positions: serde_json::Value = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/conversations/{dm}/receipts"),
            None,
            Some(&ann.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let ben_row = positions["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "ben" || m["username"] == "ben")
        .cloned()
        .unwrap_or_default();
    assert!(
        ben_row
            .to_string()
            .contains(&format!("\"read_seq\":{COUNT}")),
        "stored: {positions}"
    );
}
