//! The Redis bus: several server processes sharing one Redis act as one.
//!
//! Each process keeps exactly one subscriber connection, owned by a
//! background task that SUBSCRIBEs to a Redis channel (`<prefix><topic>`) for
//! each topic with local subscribers and feeds incoming payloads into the
//! local broadcast channels. Publishing uses a separate, auto-reconnecting
//! connection. If the subscriber connection drops, the task reconnects with
//! backoff and subscribes to every live topic again; payloads published in
//! between are lost to this process (clients catch up from the store).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink};
use tokio::sync::{mpsc, oneshot};

use super::topics::{Joined, Release, TopicTable};
use super::{Bus, BusError, BusKind, Subscription};

/// How long `subscribe` waits for Redis to confirm.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bound on connecting to Redis and on each command's answer.
const REDIS_TIMEOUT: Duration = Duration::from_secs(3);

/// A bus over Redis pub/sub.
#[derive(Clone)]
pub struct RedisBus {
    shared: Arc<Shared>,
    publisher: ConnectionManager,
}

struct Shared {
    table: TopicTable,
    prefix: String,
    commands: mpsc::UnboundedSender<Command>,
    /// Whether the subscriber connection is up.
    subscribed: AtomicBool,
}

enum Command {
    Subscribe {
        topic: String,
        done: oneshot::Sender<Result<(), BusError>>,
    },
    Unsubscribe {
        topic: String,
    },
}

impl Release for Shared {
    fn release(&self, topic: &str) {
        if self.table.remove_if_unused(topic) {
            // The task re-checks before unsubscribing, in case the topic was
            // subscribed again meanwhile. A send error means the task is gone.
            let _ = self.commands.send(Command::Unsubscribe {
                topic: topic.to_owned(),
            });
        }
    }
}

impl RedisBus {
    /// Connects to Redis at `url`; every channel name starts with `prefix`
    /// (e.g. `chatsphere:`), so installations can share a Redis.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        // Fails fast (no retries) when Redis is unreachable at start-up.
        let first = client.get_async_pubsub().await?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_max_delay(MAX_BACKOFF);
        let publisher = ConnectionManager::new_with_config(client.clone(), config).await?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            table: TopicTable::default(),
            prefix: prefix.to_owned(),
            commands,
            subscribed: AtomicBool::new(false),
        });
        tokio::spawn(run_subscriber(
            client,
            first,
            Arc::downgrade(&shared),
            receiver,
        ));
        Ok(Self { shared, publisher })
    }

    fn channel(&self, topic: &str) -> String {
        channel_name(&self.shared.prefix, topic)
    }
}

fn channel_name(prefix: &str, topic: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + topic.len());
    name.push_str(prefix);
    name.push_str(topic);
    name
}

#[async_trait]
impl Bus for RedisBus {
    fn kind(&self) -> BusKind {
        BusKind::Redis
    }

    async fn ping(&self) -> Result<(), BusError> {
        let mut conn = self.publisher.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        if !self.shared.subscribed.load(Ordering::Relaxed) {
            return Err(BusError::Unavailable("subscriber connection is down"));
        }
        Ok(())
    }

    async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        let mut conn = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(self.channel(topic))
            .arg(payload.as_ref())
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, BusError> {
        let (receiver, joined) = self.shared.table.subscribe(topic);
        // Built first, so an error below drops it and releases the topic.
        let subscription = Subscription::new(topic, receiver, self.shared.clone());
        if let Joined::Later(mut ready) = joined {
            // Another local subscriber is still waiting for Redis to confirm.
            return match tokio::time::timeout(SUBSCRIBE_TIMEOUT, ready.wait_for(|r| *r)).await {
                Ok(Ok(_)) => Ok(subscription),
                _ => Err(BusError::Unavailable(
                    "redis did not confirm the subscription in time",
                )),
            };
        }
        {
            let (done, confirmed) = oneshot::channel();
            self.shared
                .commands
                .send(Command::Subscribe {
                    topic: topic.to_owned(),
                    done,
                })
                .map_err(|_| BusError::Unavailable("subscriber task stopped"))?;
            match tokio::time::timeout(SUBSCRIBE_TIMEOUT, confirmed).await {
                Ok(Ok(result)) => {
                    result?;
                    self.shared.table.confirm(topic);
                }
                Ok(Err(_)) => return Err(BusError::Unavailable("subscriber task stopped")),
                Err(_) => {
                    return Err(BusError::Unavailable(
                        "redis did not confirm the subscription in time",
                    ))
                }
            }
        }
        Ok(subscription)
    }
}

/// Owns the subscriber connection for the bus's lifetime (until every
/// `RedisBus` clone is dropped), reconnecting with backoff.
async fn run_subscriber(
    client: redis::Client,
    first: redis::aio::PubSub,
    shared: std::sync::Weak<Shared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut connection = Some(first);
    let mut backoff = Duration::from_millis(100);
    loop {
        let pubsub = match connection.take() {
            Some(pubsub) => pubsub,
            None => match client.get_async_pubsub().await {
                Ok(pubsub) => pubsub,
                Err(err) => {
                    tracing::warn!(error = %err, "redis bus: reconnect failed, retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        let Some(live) = shared.upgrade() else { return };
        let (mut sink, mut stream) = pubsub.split();
        let topics: Vec<String> = live
            .table
            .topics()
            .iter()
            .map(|t| channel_name(&live.prefix, t))
            .collect();
        if !topics.is_empty() {
            if let Err(err) = sink.subscribe(&topics).await {
                tracing::warn!(error = %err, "redis bus: resubscribe failed, retrying in {backoff:?}");
                drop(live);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        live.subscribed.store(true, Ordering::Relaxed);
        backoff = Duration::from_millis(100);
        drop(live);
        tracing::debug!("redis bus: subscriber connected");

        let stop = loop {
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break true };
                    let Some(live) = shared.upgrade() else { break true };
                    if let Err(err) = apply(&live, &mut sink, command).await {
                        tracing::warn!(error = %err, "redis bus: subscriber connection failed");
                        break false;
                    }
                }
                message = stream.next() => {
                    let Some(message) = message else { break false };
                    let Some(live) = shared.upgrade() else { break true };
                    let channel = message.get_channel_name();
                    if let Some(topic) = channel.strip_prefix(live.prefix.as_str()) {
                        live.table.deliver(topic, Bytes::copy_from_slice(message.get_payload_bytes()));
                    }
                }
            }
        };
        if let Some(live) = shared.upgrade() {
            live.subscribed.store(false, Ordering::Relaxed);
        }
        if stop {
            return;
        }
        tracing::warn!("redis bus: subscriber connection lost, reconnecting");
    }
}

async fn apply(
    shared: &Shared,
    sink: &mut PubSubSink,
    command: Command,
) -> Result<(), redis::RedisError> {
    match command {
        Command::Subscribe { topic, done } => {
            let result = sink.subscribe(channel_name(&shared.prefix, &topic)).await;
            let reply = result.as_ref().map(|_| ()).map_err(|e| {
                BusError::Unavailable(if e.is_io_error() {
                    "redis connection lost"
                } else {
                    "redis refused the subscription"
                })
            });
            let _ = done.send(reply);
            result
        }
        Command::Unsubscribe { topic } => {
            if shared.table.contains(&topic) {
                return Ok(()); // subscribed again since
            }
            sink.unsubscribe(channel_name(&shared.prefix, &topic)).await
        }
    }
}
