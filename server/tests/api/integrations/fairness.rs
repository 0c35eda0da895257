//! A slow receiver holds a few of the server's senders, not all of them:
//! one hook's deliveries go at most `MAX_CONCURRENT_PER_HOOK` at a time,
//! and another hook's delivery goes while they wait.

use std::time::Duration;

use domain::integrations::outgoing::MAX_CONCURRENT_PER_HOOK;

use super::outgoing::hook_to;
use super::receiver::Receiver;
use crate::helpers::{say, user, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_does_not_hold_up_other_hooks() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32")]).await;
    let receiver = Receiver::start().await;
    // Each answer to the slow hook takes 3 s (the timeout is 10 s).
    receiver.slow("slow", Duration::from_secs(3));
    let ann = user(&app, "ann").await;
    let busy = crate::groups::new_group(&app, &ann, "busy", &[]).await;
    let quiet = crate::groups::new_group(&app, &ann, "quiet", &[]).await;
    for (group, path) in [(&busy, "slow"), (&quiet, "fast")] {
        hook_to(&app, &ann, group, path, &receiver.url(path)).await;
    }

    // Twice as many messages as the hook may have in flight.
    let cap = usize::try_from(MAX_CONCURRENT_PER_HOOK).unwrap();
    for n in 0..2 * cap {
        say(&app, &ann, &busy, &format!("build {n}")).await;
    }
    assert_eq!(
        receiver.wait_for("slow", cap).await.len(),
        cap,
        "no more are sent while the first {cap} are being answered"
    );
    say(&app, &ann, &quiet, "hello").await;
    let fast = receiver.wait_for("fast", 1).await;
    assert_eq!(fast.len(), 1);

    // The quiet hook's message went while the first slow ones were still
    // being answered: before the slow hook's next one was sent.
    let slow = receiver.wait_for("slow", 2 * cap).await;
    assert_eq!(slow.len(), 2 * cap, "every message is delivered");
    assert!(
        fast[0].at < slow[cap].at,
        "the other hook's delivery waited for the slow receiver"
    );
    assert_eq!(
        receiver.peak("slow"),
        cap,
        "at most {cap} requests at once to one hook's receiver"
    );
}

/// A hook's deliveries held back by the limit go as soon as a place is
/// free, not when the sender next looks at the queue (every 5 s by
/// default): the end of each request wakes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_held_back_go_as_soon_as_a_place_is_free() {
    let app = TestApp::spawn_configured(&[("CHATSPHERE_HOOK_ALLOW", "127.0.0.1/32")]).await;
    let receiver = Receiver::start().await;
    receiver.slow("steady", Duration::from_millis(500));
    let ann = user(&app, "ann").await;
    let group = crate::groups::new_group(&app, &ann, "ops", &[]).await;
    hook_to(&app, &ann, &group, "steady", &receiver.url("steady")).await;
    let cap = usize::try_from(MAX_CONCURRENT_PER_HOOK).unwrap();
    for n in 0..2 * cap {
        say(&app, &ann, &group, &format!("build {n}")).await;
    }
    let got = receiver.wait_for("steady", 2 * cap).await;
    assert_eq!(got.len(), 2 * cap, "every message is delivered");
    // Two rounds of half-second answers, and the sending: about 1.5 s;
    // waiting for the sender's next look would take 5 s or more.
    let span = got[2 * cap - 1].at - got[0].at;
    assert!(
        span < Duration::from_secs(4),
        "the second round waited {span:?} for the queue to be looked at"
    );
}
