//! Senders that post over the REST API (`POST
//! /api/v1/conversations/{id}/messages`) instead of a WebSocket: they are
//! members of the conversation but not connected, so none of the fan-out
//! comes back to them. The REST handler posts through the same service
//! call as the gateway (`ConversationService::post`, whose group commit
//! stores the sends that arrive together in one transaction), and answers
//! 201 once the message is committed: the answer is the ack.
//!
//! Open loop like the WebSocket senders: each message is posted when due,
//! whatever the earlier ones are waiting for, with at most
//! [`IN_FLIGHT`] requests open at once (one HTTP/1.1 connection each). A
//! message that waits for a free request is charged for the wait: latency
//! counts from the time it was due.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cluster::Cluster;
use crate::machine::{epoch, now_us};
use crate::member::{latency, Log};
use crate::plan::Plan;
use crate::rest::User;

/// Requests open at once, over all senders.
const IN_FLIGHT: usize = 512;

/// The senders: who posts, where.
pub struct Posters {
    /// The REST client.
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>` of each server process.
    addresses: Vec<String>,
    /// Each sender's access token.
    tokens: Vec<String>,
}

impl Posters {
    /// `senders` posting to `cluster`, sender `s` through process `s`
    /// (modulo the count).
    pub fn new(cluster: &Cluster, senders: &[User]) -> Self {
        Self {
            http: cluster.http.clone(),
            addresses: (0..cluster.processes())
                .map(|i| cluster.address(i))
                .collect(),
            tokens: senders.iter().map(|u| u.token.clone()).collect(),
        }
    }
}

/// Posts `plan`'s messages, then waits for `done`: what the answers were
/// (each recorded as it comes; those still open at `done` are dropped and
/// count as unanswered).
pub async fn run(posters: Posters, plan: Arc<Plan>, done: CancellationToken) -> Log {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let log = Arc::new(Mutex::new(Log::default()));
    let mut requests = JoinSet::new();
    for m in 0..plan.messages {
        let due = epoch() + Duration::from_micros(plan.due_us(m));
        let ready = async {
            tokio::time::sleep_until(due.into()).await;
            permits.clone().acquire_owned().await.expect("never closed")
        };
        let permit = tokio::select! {
            () = done.cancelled() => break,
            permit = ready => permit,
        };
        while requests.try_join_next().is_some() {}
        let route = plan.route(m).expect("a message of the plan");
        let address = &posters.addresses[route.sender % posters.addresses.len()];
        let request = posters
            .http
            .post(format!(
                "{address}/api/v1/conversations/{}/messages",
                plan.conversations[route.conversation]
            ))
            .bearer_auth(&posters.tokens[route.sender])
            .header("content-type", "application/json")
            .body(plan.post_body(m));
        let (plan_, log_) = (plan.clone(), log.clone());
        requests.spawn(async move {
            let answer = match request.send().await {
                // Read the body so the connection can be reused.
                Ok(response) => {
                    let status = response.status().as_u16();
                    response
                        .bytes()
                        .await
                        .map(|_| status)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            drop(permit);
            record(&log_, &plan_, m, answer);
        });
        plan.sent.fetch_add(1, Ordering::Relaxed);
    }
    done.cancelled().await;
    requests.shutdown().await;
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    std::mem::take(&mut *log)
}

/// Counts one answer, as it comes.
fn record(log: &Mutex<Log>, plan: &Plan, m: usize, answer: Result<u16, String>) {
    let now = now_us();
    plan.answered.fetch_add(1, Ordering::Relaxed);
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    match answer {
        Ok(201) => {
            log.acks.push(latency(now, plan.due_us(m)));
            log.last_ack_us = now;
            plan.acknowledged(m);
        }
        // The same client id again: never expected, nothing is resent.
        Ok(200) => log.duplicate_acks += 1,
        Ok(status) => log.refused.add(format!("refused {status}")),
        Err(error) => log.refused.add(format!("failed: {error}")),
    }
}
