//! One WebSocket connection: follows the user's conversations on the bus,
//! forwards their events, takes `send`/`chat`/`ping` frames, and ends the
//! connection when the session ends, the client goes silent, floods, or
//! stops reading.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use domain::audit::AuditKind;
use domain::close::POLICY;
use domain::ChatMessage;
use futures_util::{SinkExt, StreamExt};
use services::auth::{Authenticated, ClientInfo};
use services::conversations::{ConversationRef, Outgoing};
use services::events::{conversation_topic, user_topic, Envelope, Event, EventHeader};
use services::store::Posted;
use services::{ServiceError, Services};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use uuid::Uuid;

use super::follows::Follows;
use super::limits::TokenBucket;
use super::protocol::{AckError, ClientFrame, ServerFrame};
use super::{Gateway, UserSlot};
use crate::error::ApiError;

/// Close codes (RFC 6455 §7.4.1; 1008 is [`POLICY`]).
const GOING_AWAY: u16 = 1001;
const TOO_BIG: u16 = 1009;
const SERVER_ERROR: u16 = 1011;
/// "Service restart": the server is shutting down, reconnect (to another
/// process behind the load balancer) and resume.
const SERVICE_RESTART: u16 = 1012;

/// How long a closing connection waits for its close frame to be sent and
/// answered.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Refused sends in a row after which a flooding connection is closed.
const FLOOD_STRIKES: u32 = 50;
/// Most messages one `resume` replays per conversation.
const MAX_REPLAY: usize = 1000;
/// How long a connection opened with `?resume=1` holds live events while
/// waiting for the `resume` frame.
const RESUME_WAIT: Duration = Duration::from_secs(10);
/// Shortest interval between two typing notices of one conversation.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);
/// How long a typing notice lasts without another one.
const TYPING_TTL: Duration = Duration::from_secs(5);

/// A conversation the user is typing in.
struct Typing {
    /// When "typing" was last published.
    published: Instant,
    /// When it lapses without another notice.
    until: Instant,
}

/// Runs the connection until it ends.
/// What the handshake established.
pub(super) struct Opened {
    /// The user and session.
    pub auth: Authenticated,
    /// `?resume=1`: hold live events until the client's `resume` frame.
    pub resume: bool,
    /// Address and user agent, for the audit log.
    pub client: ClientInfo,
}

pub(super) async fn run(
    socket: WebSocket,
    services: Services,
    gateway: Arc<Gateway>,
    opened: Opened,
    _slot: UserSlot,
) {
    let Opened {
        auth,
        resume,
        client,
    } = opened;
    let opened_at = Instant::now();
    let client = Arc::new(client);
    audit(&services, AuditKind::Connected, auth.user_id, &client, None);
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
        frames: FrameBudget {
            limiter: config.frame_limiter.clone(),
            key: format!("ws:user:{}", auth.user_id),
            quota: config.frames,
        },
        strikes: 0,
        holding: resume,
        sent: HashMap::new(),
        typed: HashMap::new(),
    };
    let close = match conn.start().await {
        Ok(()) => conn.serve(&mut stream, &auth, &config).await,
        Err(err) => {
            tracing::error!(error = %err, "connection could not follow its conversations");
            Some((SERVER_ERROR, "the server could not start this connection"))
        }
    };
    let typing: Vec<Uuid> = conn.typed.keys().copied().collect();
    for conversation_id in typing {
        conn.stop_typing(conversation_id).await;
    }
    let detail = serde_json::json!({
        "seconds": opened_at.elapsed().as_secs(),
        "closed_by": if close.is_some() { "server" } else { "client" },
        "code": close.map(|(code, _)| code),
    });
    audit(
        &services,
        AuditKind::Disconnected,
        auth.user_id,
        &client,
        Some(detail),
    );
    if let Some((code, reason)) = close {
        tracing::debug!(code, reason, "closing connection");
        metrics::counter!("chatsphere_ws_disconnects_total", "reason" => reason).increment(1);
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = conn.out.try_send(Message::Close(Some(frame)));
    }
    drop(conn);
    let server_closed = close.is_some();
    let mut writer = writer;
    let finish = async {
        let _ = (&mut writer).await;
        // RFC 6455 §7.1.1: having sent its close frame, the server reads
        // until the client's: closing TCP with frames still unread would
        // reset the connection, and the client could lose the close frame.
        if server_closed {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        }
    };
    // A client that stopped reading never takes the close frame, nor
    // answers it: give up on it.
    if tokio::time::timeout(CLOSE_WAIT, finish).await.is_err() {
        writer.abort();
    }
}

/// Records a connection event without holding up the connection.
fn audit(
    services: &Services,
    kind: AuditKind,
    user: Uuid,
    client: &Arc<ClientInfo>,
    detail: Option<serde_json::Value>,
) {
    let (audit, client) = (services.audit.clone(), client.clone());
    tokio::spawn(async move {
        audit
            .record(kind, Some(user), None, Some(&client), detail)
            .await;
    });
}

struct Connection {
    services: Services,
    user_id: Uuid,
    out: mpsc::Sender<Message>,
    follows: Follows,
    bucket: TokenBucket,
    /// Budget of the other frames (receipts, typing, resume, ping).
    frames: FrameBudget,
    strikes: u32,
    /// Live events wait for the client's `resume` frame.
    holding: bool,
    /// Per conversation, the highest sequence number sent on this
    /// connection (known once a `resume` or the first message set it):
    /// older ones are not sent again, and a jump is filled from the store
    /// first, so each message arrives once and in order.
    sent: HashMap<Uuid, i64>,
    /// Conversations the user is typing in.
    typed: HashMap<Uuid, Typing>,
}

type Close = Option<(u16, &'static str)>;

/// The user's budget of frames other than messages, shared by all their
/// connections (on every process, when the limiter is Redis).
struct FrameBudget {
    limiter: services::ratelimit::RateLimiter,
    /// `ws:user:<id>`, formatted once.
    key: String,
    quota: services::ratelimit::Quota,
}

impl FrameBudget {
    /// Spends one frame; `false` when the budget is spent. A limiter that
    /// cannot be asked (Redis down) lets frames through.
    async fn spend(&self) -> bool {
        match self.limiter.check(&self.key, self.quota).await {
            Ok(decision) => {
                if !decision.allowed {
                    metrics::counter!("chatsphere_rate_limited_total", "budget" => "ws_frames")
                        .increment(1);
                }
                decision.allowed
            }
            Err(err) => {
                metrics::counter!("chatsphere_rate_limiter_errors_total").increment(1);
                tracing::warn!(error = %err, "frame budget unavailable; frame allowed");
                true
            }
        }
    }
}

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
        let shutdown = config.shutdown.clone();
        let resume_deadline = tokio::time::sleep(RESUME_WAIT);
        tokio::pin!(resume_deadline);
        loop {
            if self.out.capacity() == 0 {
                return Some((POLICY, "too slow: the client is not reading"));
            }
            let typing_lapses = self.typed.values().map(|t| t.until).min();
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
                event = self.follows.events.recv(), if !self.holding => match event {
                    Some((key, envelope)) => {
                        if let Some(close) = self.on_event(key, envelope).await {
                            return Some(close);
                        }
                    }
                    None => return Some((SERVER_ERROR, "the bus went away")),
                },
                () = shutdown.cancelled() => return Some((SERVICE_RESTART, "the server is restarting: reconnect")),
                () = &mut resume_deadline, if self.holding => self.holding = false,
                () = sleep_until(typing_lapses), if typing_lapses.is_some() => self.typing_lapsed().await,
                () = overflow.notified() => return Some((POLICY, "too slow: the client is not reading")),
                _ = session_check.tick() => {
                    match self.services.auth.session_is_active(auth).await {
                        Ok(true) => {}
                        Ok(false) => return Some((POLICY, domain::close::SESSION_ENDED)),
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
        if self
            .out
            .try_send(Message::Text(frame.to_text().into()))
            .is_err()
        {
            metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
        }
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
        let counted = !matches!(frame, ClientFrame::Send { .. } | ClientFrame::Chat { .. });
        if counted && !self.frames.spend().await {
            self.strikes += 1;
            if self.strikes >= FLOOD_STRIKES {
                return Some((POLICY, "too many frames"));
            }
            self.reply(&ServerFrame::Error {
                detail: "too many frames: slow down".into(),
            });
            return None;
        }
        match frame {
            ClientFrame::Ping => self.reply(&ServerFrame::Pong),
            ClientFrame::Delivered {
                conversation_id,
                seq,
            } => self.delivered(conversation_id, seq).await,
            ClientFrame::Read {
                conversation_id,
                seq,
            } => self.read(conversation_id, seq).await,
            ClientFrame::Receipts { delivered, read } => {
                for (conversation_id, seq) in delivered {
                    self.delivered(conversation_id, seq).await;
                }
                for (conversation_id, seq) in read {
                    self.read(conversation_id, seq).await;
                }
            }
            ClientFrame::Typing { conversation_id } => self.typing(conversation_id).await,
            ClientFrame::Resume { positions } => return self.resume(positions).await,
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
                self.stop_typing(outgoing.conversation_id).await;
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
    /// every message takes. By the sequence number on a message's envelope,
    /// one already sent is skipped and a jump is filled from the store (a
    /// message published late or never — its process died between storing
    /// and publishing). Events on the user topic (`None`) are read first:
    /// membership changes are followed.
    async fn on_event(&mut self, key: Option<Uuid>, envelope: Envelope) -> Close {
        match key {
            Some(conversation_id) => {
                if !self.follows.contains(conversation_id) {
                    return None; // left a moment ago
                }
                if envelope.seq > 0 {
                    match self.sent.get(&conversation_id).copied() {
                        Some(last) if envelope.seq <= last => return None, // sent already
                        // A jump: the missing ones come from the store first.
                        Some(last)
                            if envelope.seq > last + 1
                                && self
                                    .fill(conversation_id, last, envelope.seq)
                                    .await
                                    .is_err() =>
                        {
                            return None
                        }
                        _ => {}
                    }
                    self.sent.insert(conversation_id, envelope.seq);
                }
            }
            None => {
                let Ok(header) = serde_json::from_slice::<EventHeader>(&envelope.json) else {
                    return None;
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
                            return None;
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
                    EventHeader::AccountDisabled { user_id } if user_id == self.user_id => {
                        return Some((POLICY, domain::close::ACCOUNT_DISABLED));
                    }
                    EventHeader::AccountDisabled { .. } | EventHeader::Other => {}
                }
            }
        }
        let message = envelope.seq > 0;
        let age = envelope.age();
        if let Ok(text) = Utf8Bytes::try_from(envelope.json) {
            if self.out.try_send(Message::Text(text)).is_err() {
                metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
            } else if message {
                metrics::counter!("chatsphere_messages_delivered_total").increment(1);
                metrics::histogram!("chatsphere_fanout_seconds").record(age.as_secs_f64());
            }
        }
        None
    }

    /// This device received the conversation up to `seq` (ignored for
    /// conversations the user is not in).
    async fn delivered(&mut self, conversation_id: Uuid, seq: i64) {
        if !self.follows.contains(conversation_id) {
            return;
        }
        if let Err(err) = self
            .services
            .receipts
            .delivered(self.user_id, conversation_id, seq)
            .await
        {
            tracing::warn!(error = %err, "delivery receipt not stored");
        }
    }

    /// The user has seen the conversation up to `seq`.
    async fn read(&mut self, conversation_id: Uuid, seq: i64) {
        if let Err(err) = self
            .services
            .receipts
            .read(self.user_id, conversation_id, seq)
            .await
        {
            self.reply(&ServerFrame::Error {
                detail: ApiError::from(err).detail().to_owned(),
            });
        }
    }

    /// Publishes a typing notice, at most one per conversation every
    /// [`TYPING_INTERVAL`]; only for conversations the user is a member of.
    /// The notice lasts [`TYPING_TTL`] unless renewed.
    async fn typing(&mut self, conversation_id: Uuid) {
        if !self.follows.contains(conversation_id) {
            self.reply(&ServerFrame::Error {
                detail: "typing: not a member of this conversation".into(),
            });
            return;
        }
        let now = Instant::now();
        let publish = match self.typed.get_mut(&conversation_id) {
            Some(typing) => {
                typing.until = now + TYPING_TTL;
                now.duration_since(typing.published) >= TYPING_INTERVAL
            }
            None => true,
        };
        if publish {
            self.typed.insert(
                conversation_id,
                Typing {
                    published: now,
                    until: now + TYPING_TTL,
                },
            );
            self.publish_typing(conversation_id, true).await;
        }
    }

    /// Ends the typing notices that lapsed.
    async fn typing_lapsed(&mut self) {
        let now = Instant::now();
        let lapsed: Vec<Uuid> = self
            .typed
            .iter()
            .filter(|(_, t)| t.until <= now)
            .map(|(id, _)| *id)
            .collect();
        for conversation_id in lapsed {
            self.stop_typing(conversation_id).await;
        }
    }

    /// Ends the typing notice of a conversation, if any.
    async fn stop_typing(&mut self, conversation_id: Uuid) {
        if self.typed.remove(&conversation_id).is_some() {
            self.publish_typing(conversation_id, false).await;
        }
    }

    async fn publish_typing(&self, conversation_id: Uuid, active: bool) {
        if let Err(err) = self
            .services
            .receipts
            .typing(self.user_id, conversation_id, active)
            .await
        {
            tracing::warn!(error = %err, "typing notice not published");
        }
    }

    /// Sends a stored message as a `message` frame, waiting for room in
    /// the outgoing queue (replays and fills are paced by the client's reading).
    async fn send_stored(&self, message: &ChatMessage) -> Result<(), ()> {
        let envelope = Envelope::open(Event::Message { message }.to_bytes()).ok_or(())?;
        let text = Utf8Bytes::try_from(envelope.json).map_err(|_| ())?;
        self.out.send(Message::Text(text)).await.map_err(|_| ())
    }

    /// Sends the messages between `last` and `next` (both excluded) from
    /// the store. They are committed: sequence numbers are handed out in
    /// commit order, and `next` is.
    async fn fill(&mut self, conversation_id: Uuid, last: i64, next: i64) -> Result<(), ()> {
        let mut after = last;
        let mut filled = 0;
        while after + 1 < next && filled < MAX_REPLAY {
            let page = self
                .services
                .chat
                .since(self.user_id, conversation_id, after, 100)
                .await
                .map_err(|err| tracing::warn!(error = %err, "gap fill failed"))?;
            let Some(newest) = page.last().map(|m| m.seq) else {
                break;
            };
            for message in page.iter().filter(|m| m.seq < next) {
                self.send_stored(message).await?;
                filled += 1;
            }
            after = newest;
        }
        if filled > 0 {
            tracing::debug!(filled, "filled a gap in the live stream from the store");
        }
        Ok(())
    }

    /// Replays, from the store, every message after the client's position
    /// in each followed conversation, oldest first, then says `resumed` and
    /// lets live events through. Live copies of replayed messages are
    /// skipped, so nothing arrives twice.
    async fn resume(&mut self, positions: HashMap<Uuid, i64>) -> Close {
        let mut replayed = 0;
        let mut truncated = Vec::new();
        for (conversation_id, position) in positions {
            if !self.follows.contains(conversation_id) {
                continue;
            }
            let mut after = position.max(0);
            let mut sent = 0;
            loop {
                let page = match self
                    .services
                    .chat
                    .since(self.user_id, conversation_id, after, 100)
                    .await
                {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::warn!(error = %err, "replay failed");
                        return Some((SERVER_ERROR, "the server could not replay missed messages"));
                    }
                };
                let full = page.len() == 100;
                for message in &page {
                    if self.send_stored(message).await.is_err() {
                        return None;
                    }
                    after = message.seq;
                    sent += 1;
                }
                if !full {
                    break;
                }
                if sent >= MAX_REPLAY {
                    truncated.push(conversation_id);
                    break;
                }
            }
            replayed += sent;
            let last = self.sent.entry(conversation_id).or_insert(0);
            *last = (*last).max(after);
        }
        self.reply(&ServerFrame::Resumed {
            replayed,
            truncated,
        });
        self.holding = false;
        None
    }
}

/// Sleeps until `deadline` (the select branch is disabled when there is none).
async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(TokioInstant::from_std(deadline)).await;
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
