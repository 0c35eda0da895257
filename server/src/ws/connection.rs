//! One WebSocket connection: follows the user's conversations on the bus,
//! forwards their events, takes `send`/`chat`/`ping` frames, and ends the
//! connection when the session ends, the client goes silent, floods, or
//! stops reading.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use services::auth::Authenticated;
use services::bus::RecvError;
use services::conversations::{ConversationRef, Outgoing};
use services::events::{conversation_topic, user_topic, EventHeader};
use services::store::Posted;
use services::{ServiceError, Services};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::protocol::{AckError, ClientFrame, ServerFrame};
use super::{Gateway, UserSlot};
use crate::error::ApiError;

/// Close codes (RFC 6455 §7.4.1).
const GOING_AWAY: u16 = 1001;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
const SERVER_ERROR: u16 = 1011;

/// Refused sends in a row after which a flooding connection is closed.
const FLOOD_STRIKES: u32 = 50;

/// Runs the connection until it ends.
pub(super) async fn run(
    socket: WebSocket,
    services: Services,
    gateway: Arc<Gateway>,
    auth: Authenticated,
    _slot: UserSlot,
) {
    let _counted = services.connections.open();
    let _online = services.presence.connected(auth.user_id).await;
    let config = gateway.config.clone();
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(config.outgoing_queue);
    let writer = tokio::spawn(async move {
        while let Some(message) = out_rx.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let mut conn = Connection {
        services: services.clone(),
        user_id: auth.user_id,
        out,
        follows: Follows::new(services.clone(), config.outgoing_queue),
        bucket: TokenBucket::new(config.send_burst, config.sends_per_second),
        strikes: 0,
    };
    let close = match conn.start().await {
        Ok(()) => conn.serve(&mut stream, &auth, &config).await,
        Err(err) => {
            tracing::error!(error = %err, "connection could not follow its conversations");
            Some((SERVER_ERROR, "the server could not start this connection"))
        }
    };
    if let Some((code, reason)) = close {
        tracing::debug!(code, reason, "closing connection");
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = conn.out.try_send(Message::Close(Some(frame)));
    }
    drop(conn);
    // A client that stopped reading never takes the close frame: give up on it.
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

struct Connection {
    services: Services,
    user_id: Uuid,
    out: mpsc::Sender<Message>,
    follows: Follows,
    bucket: TokenBucket,
    strikes: u32,
}

type Close = Option<(u16, &'static str)>;

impl Connection {
    /// Follows the user's topic, then each of their conversations, and says ready.
    async fn start(&mut self) -> Result<(), ServiceError> {
        // The user topic first: a membership change made while the list is
        // read is still seen.
        self.follows.follow(None, user_topic(self.user_id)).await?;
        let ids = self.services.chat.conversation_ids(self.user_id).await?;
        for id in &ids {
            self.follows
                .follow(Some(*id), conversation_topic(*id))
                .await?;
        }
        self.reply(&ServerFrame::Ready {
            user_id: self.user_id,
            conversations: ids.len(),
        });
        Ok(())
    }

    async fn serve(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        auth: &Authenticated,
        config: &super::GatewayConfig,
    ) -> Close {
        let mut session_check = tokio::time::interval(config.session_check);
        session_check.tick().await;
        let mut heartbeat = tokio::time::interval(config.heartbeat);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        let overflow = self.follows.overflow.clone();
        loop {
            if self.out.capacity() == 0 {
                return Some((POLICY, "too slow: the client is not reading"));
            }
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        None | Some(Ok(Message::Close(_))) => return None,
                        Some(Err(err)) => return Some(read_error(&err)),
                        Some(Ok(Message::Text(text))) => {
                            if let Some(close) = self.on_text(text.as_str()).await {
                                return Some(close);
                            }
                        }
                        Some(Ok(Message::Binary(_))) => self.reply(&ServerFrame::Error {
                            detail: "binary frames are not supported; send JSON text".into(),
                        }),
                        Some(Ok(_)) => {} // ping/pong: answered by the library
                    }
                }
                event = self.follows.events.recv() => match event {
                    Some((key, bytes)) => self.on_event(key, bytes).await,
                    None => return Some((SERVER_ERROR, "the bus went away")),
                },
                () = overflow.notified() => return Some((POLICY, "too slow: the client is not reading")),
                _ = session_check.tick() => {
                    match self.services.auth.session_is_active(auth).await {
                        Ok(true) => {}
                        Ok(false) => return Some((POLICY, "the session has ended")),
                        Err(err) => tracing::warn!(error = %err, "session check failed; will retry"),
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > config.heartbeat * 3 {
                        return Some((GOING_AWAY, "no answer to pings"));
                    }
                    let _ = self.out.try_send(Message::Ping(Bytes::new()));
                }
            }
        }
    }

    /// Queues a frame for the client (dropped if the queue is full: the
    /// loop closes such a connection next).
    fn reply(&self, frame: &ServerFrame<'_>) {
        let _ = self.out.try_send(Message::Text(frame.to_text().into()));
    }

    async fn on_text(&mut self, text: &str) -> Close {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(err) => {
                self.reply(&ServerFrame::Error {
                    detail: format!("unreadable frame: {err}"),
                });
                return None;
            }
        };
        match frame {
            ClientFrame::Ping => self.reply(&ServerFrame::Pong),
            ClientFrame::Send {
                conversation_id,
                client_msg_id,
                body,
                reply_to,
            } => {
                let outgoing = Outgoing {
                    conversation_id,
                    client_msg_id,
                    body,
                    reply_to,
                };
                return self.send(Ok(outgoing)).await;
            }
            ClientFrame::Chat {
                content,
                room_id,
                client_msg_id,
            } => {
                let client_msg_id = client_msg_id.unwrap_or_else(|| Uuid::now_v7().to_string());
                let room = self
                    .services
                    .chat
                    .resolve(self.user_id, &ConversationRef::RoomName(room_id))
                    .await;
                let outgoing = room.map(|conversation_id| Outgoing {
                    conversation_id,
                    client_msg_id: client_msg_id.clone(),
                    body: content,
                    reply_to: None,
                });
                return self.send(outgoing.map_err(|e| (client_msg_id, e))).await;
            }
        }
        None
    }

    async fn send(&mut self, outgoing: Result<Outgoing, (String, ServiceError)>) -> Close {
        let (client_msg_id, result) = match outgoing {
            Err((id, err)) => (id, Err(err)),
            Ok(outgoing) if !self.bucket.take() => {
                self.strikes += 1;
                if self.strikes >= FLOOD_STRIKES {
                    return Some((POLICY, "too many messages"));
                }
                (
                    outgoing.client_msg_id,
                    Err(ServiceError::TooManyRequests { retry_after: 1 }),
                )
            }
            Ok(outgoing) => {
                self.strikes = 0;
                let id = outgoing.client_msg_id.clone();
                (id, self.services.chat.post(self.user_id, outgoing).await)
            }
        };
        let frame = match result {
            Ok(posted) => {
                let message = posted.message();
                ServerFrame::Ack {
                    client_msg_id: &client_msg_id,
                    message_id: Some(message.id),
                    conversation_id: Some(message.conversation_id),
                    seq: Some(message.seq),
                    duplicate: matches!(posted, Posted::Duplicate(_)),
                    error: None,
                }
            }
            Err(err) => {
                let api = ApiError::from(err);
                ServerFrame::Ack {
                    client_msg_id: &client_msg_id,
                    message_id: None,
                    conversation_id: None,
                    seq: None,
                    duplicate: false,
                    error: Some(AckError {
                        status: api.status().as_u16(),
                        detail: api.detail().to_owned(),
                    }),
                }
            }
        };
        self.reply(&frame);
        None
    }

    /// An event from the bus, forwarded as published. Events of a followed
    /// conversation (`key`) go straight through, unparsed: that is the path
    /// every message takes. Membership changes (the user topic, `None`) are
    /// read to follow or unfollow first.
    async fn on_event(&mut self, key: Option<Uuid>, bytes: Bytes) {
        match key {
            Some(conversation_id) => {
                if !self.follows.contains(conversation_id) {
                    return; // left a moment ago
                }
            }
            None => {
                let Ok(header) = serde_json::from_slice::<EventHeader>(&bytes) else {
                    return;
                };
                match header {
                    EventHeader::Joined { conversation_id } => {
                        let member = self
                            .services
                            .chat
                            .is_member(self.user_id, conversation_id)
                            .await
                            .unwrap_or(false);
                        if !member {
                            return;
                        }
                        if let Err(err) = self
                            .follows
                            .follow(Some(conversation_id), conversation_topic(conversation_id))
                            .await
                        {
                            tracing::warn!(error = %err, "could not follow a joined conversation");
                        }
                    }
                    EventHeader::Left { conversation_id } => self.follows.unfollow(conversation_id),
                }
            }
        }
        if let Ok(text) = Utf8Bytes::try_from(bytes) {
            let _ = self.out.try_send(Message::Text(text));
        }
    }
}

fn read_error(err: &axum::Error) -> (u16, &'static str) {
    let text = err.to_string();
    if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
        (TOO_BIG, "frame too large")
    } else {
        (POLICY, "protocol error")
    }
}

/// The topics a connection follows, each forwarded by a small task into one
/// bounded channel.
struct Follows {
    services: Services,
    tx: mpsc::Sender<(Option<Uuid>, Bytes)>,
    events: mpsc::Receiver<(Option<Uuid>, Bytes)>,
    tasks: HashMap<Option<Uuid>, JoinHandle<()>>,
    overflow: Arc<Notify>,
}

impl Follows {
    fn new(services: Services, capacity: usize) -> Self {
        let (tx, events) = mpsc::channel(capacity);
        Self {
            services,
            tx,
            events,
            tasks: HashMap::new(),
            overflow: Arc::new(Notify::new()),
        }
    }

    fn contains(&self, conversation_id: Uuid) -> bool {
        self.tasks.contains_key(&Some(conversation_id))
    }

    /// Subscribes to `topic` (once per key) and forwards what arrives.
    async fn follow(&mut self, key: Option<Uuid>, topic: String) -> Result<(), ServiceError> {
        if self.tasks.contains_key(&key) {
            return Ok(());
        }
        let mut subscription = self.services.bus.subscribe(&topic).await?;
        let tx = self.tx.clone();
        let overflow = self.overflow.clone();
        let task = tokio::spawn(async move {
            loop {
                match subscription.recv().await {
                    Ok(bytes) => {
                        if tx.try_send((key, bytes)).is_err() {
                            overflow.notify_one();
                            break;
                        }
                    }
                    // Fell behind the bus: the client must catch up from history.
                    Err(RecvError::Lagged(_)) => {
                        overflow.notify_one();
                        break;
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        self.tasks.insert(key, task);
        Ok(())
    }

    fn unfollow(&mut self, conversation_id: Uuid) {
        if let Some(task) = self.tasks.remove(&Some(conversation_id)) {
            task.abort();
        }
    }
}

impl Drop for Follows {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}

/// Sends allowed: `burst` at once, then `per_second`.
struct TokenBucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(burst: u32, per_second: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            rate: f64::from(per_second),
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
