//! One WebSocket connection: follows the user's conversations on the bus,
//! forwards their events, takes `send`/`chat`/`ping` frames, and ends the
//! connection when its access token expires, its session ends (announced
//! on the user's topic: nothing is polled), the client goes silent,
//! floods, or stops reading.
//!
//! Here: the connection's life and the frames it takes; [`delivery`]: live
//! and replayed messages, once each and in order; [`signals`]: receipts
//! and typing notices.

mod delivery;
mod sender;
mod signals;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use domain::audit::AuditKind;
use domain::close::POLICY;
use futures_util::{SinkExt, StreamExt};
use services::auth::{Authenticated, ClientInfo};
use services::conversations::{ChangeAction, Outgoing};
use services::events::Stream;
use services::{ServiceError, Services};
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;
use uuid::Uuid;

use self::sender::{Send, Sender};
use self::signals::Typing;
use super::follows::Follows;
use super::hub::Topic;
use super::limits::FrameBudget;
use super::{Gateway, UserSlot};
use domain::protocol::{ClientFrame, ServerFrame};

/// Close codes (RFC 6455 §7.4.1; 1008 is [`POLICY`]).
const GOING_AWAY: u16 = 1001;
const TOO_BIG: u16 = 1009;
const SERVER_ERROR: u16 = 1011;
/// "Service restart": the server is shutting down, reconnect (to another
/// process behind the load balancer) and resume.
const SERVICE_RESTART: u16 = 1012;

/// Most frames written together before a flush (a bound on how long the
/// first of them waits behind the others).
const WRITE_BATCH: usize = 64;

/// How long a closing connection waits for its close frame to be sent and
/// answered.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Refused sends in a row after which a flooding connection is closed.
const FLOOD_STRIKES: u32 = 50;
/// How long a connection opened with `?resume=1` holds live events while
/// waiting for the `resume` frame.
const RESUME_WAIT: Duration = Duration::from_secs(10);

/// What the handshake established.
pub(super) struct Opened {
    /// The user and session.
    pub auth: Authenticated,
    /// `?resume=1`: hold live events until the client's `resume` frame.
    pub resume: bool,
    /// Address and user agent, for the audit log.
    pub client: ClientInfo,
}

/// Runs the connection until it ends.
pub(super) async fn run(
    socket: WebSocket,
    services: Arc<Services>,
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
    let config = &gateway.config;
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(config.limits.outgoing_queue);
    let writer = tokio::spawn(async move {
        // Frames already queued go out together: one write (and one wake of
        // this task) for a batch, rather than a write and flush per frame.
        while let Some(first) = out_rx.recv().await {
            let mut closing = matches!(first, Message::Close(_));
            let mut batch = 1;
            let mut written = sink.feed(first).await.is_ok();
            while written && !closing && batch < WRITE_BATCH {
                let Ok(next) = out_rx.try_recv() else { break };
                closing = matches!(next, Message::Close(_));
                written = sink.feed(next).await.is_ok();
                batch += 1;
            }
            if !written || sink.flush().await.is_err() || closing {
                break;
            }
        }
    });
    let mut conn = Connection {
        services: services.clone(),
        user_id: auth.user_id,
        session_id: auth.session_id,
        scopes: auth.scopes,
        actor: auth.actor(),
        out,
        follows: Follows::new(gateway.hub.clone(), config.limits.outgoing_queue),
        sender: None,
        frames: FrameBudget::new(config.frame_limiter.clone(), auth.user_id, config.frames),
        strikes: 0,
        holding: resume,
        sent: HashMap::new(),
        typed: HashMap::new(),
    };
    // Online first, then following: the connection does not hear of its
    // own arrival.
    // Rare, large futures are boxed: an idle connection's task holds only
    // what waiting needs (its size is the connection's memory).
    let _online = Box::pin(services.presence.connected(auth.user_id)).await;
    let close = match Box::pin(conn.start()).await {
        Ok(conversations) => {
            // Ready once every event reaches here.
            conn.reply(&ServerFrame::Ready {
                user_id: auth.user_id,
                conversations,
            });
            conn.serve(&mut stream, &auth, config).await
        }
        Err(err) => {
            tracing::error!(error = %err, "connection could not follow its conversations");
            Some((SERVER_ERROR, "the server could not start this connection"))
        }
    };
    let typing: Vec<Uuid> = conn.typed.keys().copied().collect();
    for conversation_id in typing {
        Box::pin(conn.stop_typing(conversation_id)).await;
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
    /// Shared, not copied: `Services` is large (about 2 KiB), and an idle
    /// connection's task is its memory.
    services: Arc<Services>,
    user_id: Uuid,
    /// The session the connection was opened in: closed when it ends.
    session_id: Uuid,
    /// What its credentials may do: a token without the `post` scope
    /// only receives.
    scopes: domain::integrations::Scopes,
    /// The user, with an admin's powers only where the credentials carry
    /// them (what the connection sends acts as).
    actor: services::conversations::Actor,
    out: mpsc::Sender<Message>,
    follows: Follows,
    /// Posts the connection's sends; started with the first.
    sender: Option<Sender>,
    /// Budget of the other frames (receipts, typing, resume, ping).
    frames: FrameBudget,
    strikes: u32,
    /// Live events wait for the client's `resume` frame.
    holding: bool,
    /// Per conversation and stream, the highest sequence number (messages)
    /// or change number (edits, deletions) sent on this connection (known
    /// once a `resume` or the first event set it): older ones are not sent
    /// again, and a jump is filled from the store first, so each arrives
    /// once and in order.
    sent: HashMap<(Uuid, Stream), i64>,
    /// Conversations the user is typing in.
    typed: HashMap<Uuid, Typing>,
}

type Close = Option<(u16, &'static str)>;

impl Connection {
    /// Follows the user's topic, then all of their conversations at once;
    /// returns how many conversations.
    async fn start(&mut self) -> Result<usize, ServiceError> {
        // The user topic first: a membership change made while the list is
        // read is still seen.
        self.follows
            .follow(&[Topic::User(self.user_id), Topic::Presence])
            .await?;
        let ids = self.services.chat.conversation_ids(self.user_id).await?;
        let topics: Vec<Topic> = ids.iter().copied().map(Topic::Conversation).collect();
        self.follows.follow(&topics).await?;
        Ok(ids.len())
    }

    async fn serve(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        auth: &Authenticated,
        config: &super::GatewayConfig,
    ) -> Close {
        let mut heartbeat = tokio::time::interval(config.heartbeat);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        let overflow = self.follows.overflow.clone();
        let shutdown = config.shutdown.clone();
        let resume_deadline = tokio::time::sleep(RESUME_WAIT);
        tokio::pin!(resume_deadline);
        // The connection lasts as long as the token it was opened with: an
        // access token that could no longer open a connection does not keep
        // one open either. The client renews it and reconnects with resume.
        let token_expiry = tokio::time::sleep(auth.time_left().unwrap_or_default());
        tokio::pin!(token_expiry);
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
                            if let Some(close) = Box::pin(self.on_text(text.as_str())).await {
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
                    Some(delivery) => {
                        let (topic, envelope) = &*delivery;
                        if let Some(close) = self.on_event(*topic, envelope.clone()).await {
                            return Some(close);
                        }
                    }
                    None => return Some((SERVER_ERROR, "the bus went away")),
                },
                () = shutdown.cancelled() => return Some((SERVICE_RESTART, "the server is restarting: reconnect")),
                () = &mut token_expiry => return Some((POLICY, domain::close::ACCESS_EXPIRED)),
                () = &mut resume_deadline, if self.holding => self.holding = false,
                () = sleep_until(typing_lapses), if typing_lapses.is_some() => Box::pin(self.typing_lapsed()).await,
                () = overflow.notified() => return Some((POLICY, "too slow: the client is not reading")),
                () = flooding(self.sender.as_ref()) => return Some((POLICY, "too many messages")),
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
        // Sends and changes of messages count against the user's send rate.
        let counted = !matches!(
            frame,
            ClientFrame::Send { .. }
                | ClientFrame::Chat { .. }
                | ClientFrame::Edit { .. }
                | ClientFrame::Delete { .. }
                | ClientFrame::React { .. }
        );
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
        // Everything but keeping the connection up changes something
        // others see (messages, receipts, typing): the `post` scope's.
        let passive = matches!(frame, ClientFrame::Ping | ClientFrame::Resume { .. });
        if !passive && !self.scopes.allows(domain::integrations::TokenScope::Post) {
            self.reply(&ServerFrame::Error {
                detail: domain::messages::TOKEN_READ_ONLY.into(),
            });
            return None;
        }
        match frame {
            ClientFrame::Ping => self.reply(&ServerFrame::Pong),
            ClientFrame::Delivered {
                conversation_id,
                seq,
            } => self.delivered(conversation_id, seq),
            ClientFrame::Read {
                conversation_id,
                seq,
            } => self.read(conversation_id, seq).await,
            ClientFrame::Receipts { delivered, read } => {
                for (conversation_id, seq) in delivered {
                    self.delivered(conversation_id, seq);
                }
                for (conversation_id, seq) in read {
                    self.read(conversation_id, seq).await;
                }
            }
            ClientFrame::Typing {
                conversation_id,
                active: true,
            } => self.typing(conversation_id).await,
            ClientFrame::Typing {
                conversation_id,
                active: false,
            } => self.stop_typing(conversation_id).await,
            ClientFrame::Resume { positions, changes } => {
                return self.resume(positions, changes).await
            }
            ClientFrame::Edit {
                conversation_id,
                message_id,
                body,
            } => {
                let action = ChangeAction::Edit(body);
                self.change(conversation_id, message_id, action).await;
            }
            ClientFrame::Delete {
                conversation_id,
                message_id,
            } => {
                let action = ChangeAction::Delete;
                self.change(conversation_id, message_id, action).await;
            }
            ClientFrame::React {
                conversation_id,
                message_id,
                emoji,
                on,
            } => {
                let action = ChangeAction::React { emoji, on };
                self.change(conversation_id, message_id, action).await;
            }
            ClientFrame::Send {
                conversation_id,
                client_msg_id,
                body,
                reply_to,
                attachments,
            } => {
                let outgoing = Outgoing {
                    conversation_id,
                    client_msg_id,
                    body,
                    reply_to,
                    attachments,
                    label: None,
                };
                self.send(Send::Post(outgoing)).await;
            }
            ClientFrame::Chat {
                content,
                room_id,
                client_msg_id,
            } => {
                let client_msg_id = client_msg_id.unwrap_or_else(|| Uuid::now_v7().to_string());
                self.send(Send::Chat {
                    room: room_id,
                    client_msg_id,
                    body: content,
                })
                .await;
            }
        }
        None
    }

    /// Hands a change of a message to the connection's sender.
    async fn change(&mut self, conversation_id: Uuid, message_id: Uuid, action: ChangeAction) {
        self.send(Send::Change {
            conversation_id,
            message_id,
            action,
        })
        .await;
    }

    /// Hands a send to the connection's sender (started with the first),
    /// which posts it and acks it; too many waiting are refused at once.
    async fn send(&mut self, send: Send) {
        if let Send::Post(outgoing) = &send {
            self.stop_typing(outgoing.conversation_id).await;
        }
        let sender = self.sender.get_or_insert_with(|| {
            Sender::start(
                self.services.clone(),
                self.actor,
                self.out.clone(),
                sender::pending_sends(self.out.max_capacity()),
            )
        });
        if let Err(refused) = sender.queue(send) {
            if self.out.try_send(Message::Text(refused.into())).is_err() {
                metrics::counter!("chatsphere_ws_queue_drops_total").increment(1);
            }
        }
    }
}

/// Until the sender says the client floods (never without a sender).
async fn flooding(sender: Option<&Sender>) {
    match sender {
        Some(sender) => sender.flood.notified().await,
        None => std::future::pending().await,
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
