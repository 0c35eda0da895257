//! A simulated member of the group: connects over a WebSocket with
//! `?resume=1`, resumes from the highest sequence number it holds, re-sends
//! what was not acknowledged, creates a new message every `send_every` and
//! connects again whenever its connection drops. How its messages go out
//! is in [`sending`](super::sending); what it sees goes into its
//! [`ClientLog`].

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::record::{take_frame, Change, ClientLog, Connection};
use super::sending::{self, send_frame, send_frame_for, Sending};
use super::RECONNECT_PAUSE;

/// A client's WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `kill_armed` when a send to any process is awaited (before stopping
/// Redis or PostgreSQL).
pub const ANY_PROCESS: usize = usize::MAX;

/// What the clients share with the test.
pub struct Shared {
    /// `127.0.0.1:<port>` of each process.
    pub hosts: Vec<String>,
    /// The group everybody sends to.
    pub conversation: String,
    /// How many members send.
    pub members: usize,
    /// Pause between two new messages of one member.
    pub send_every: Duration,
    /// When messages go out.
    pub sending: Sending,
    /// When sending started.
    pub epoch: Instant,
    /// 1 + the index of the process about to be killed (0: none;
    /// [`ANY_PROCESS`]: any): a client that sends a message to it says so
    /// through `sent_there`.
    pub kill_armed: AtomicUsize,
    /// A message was just sent to the process about to be killed.
    pub sent_there: tokio::sync::Notify,
    /// Clients stop creating new messages.
    pub stop_sending: AtomicBool,
    /// The highest acknowledged sequence number.
    pub max_acked: AtomicI64,
    /// Clients with all their messages acknowledged after `stop_sending`.
    pub settled: AtomicUsize,
    /// The conversation's last sequence number once nobody sends any more
    /// (0 until then): clients wait to have received up to it.
    pub final_seq: AtomicI64,
    /// The conversation's last change number then (set before `final_seq`).
    pub final_change: AtomicI64,
    /// Members edit and delete some of their messages too (not where the
    /// fault is a lost COMMIT answer: it must land on a send's commit).
    pub edits: bool,
    /// Clients give up here.
    pub give_up: Instant,
}

impl Shared {
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// How a connection ended.
enum End {
    /// Dropped, refused or closed by the server: connect again.
    Lost,
    /// Done, or out of time.
    Finished,
}

/// One member: connects to a live process (round robin), resumes, re-sends
/// what was not acknowledged, creates a new message every `send_every`
/// until told to stop, and reconnects whenever the connection drops; ends once
/// everything is acknowledged and received (or at `give_up`).
pub async fn client(
    shared: Arc<Shared>,
    first_host: usize,
    name: String,
    user_id: String,
    token: String,
) -> ClientLog {
    let mut log = ClientLog::new(name, u32::try_from(first_host).unwrap(), user_id);
    let mut next_host = first_host;
    loop {
        if log.done(&shared) {
            break;
        }
        if Instant::now() >= shared.give_up {
            log.gave_up = true;
            break;
        }
        let process = next_host % shared.hosts.len();
        let host = shared.hosts[process].clone();
        next_host += 1;
        let url = format!("ws://{host}/ws?token={token}&resume=1");
        let socket = match tokio::time::timeout(
            Duration::from_secs(3),
            tokio_tungstenite::connect_async(url),
        )
        .await
        {
            Ok(Ok((socket, _))) => socket,
            _ => {
                log.failed_connects += 1;
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        match session(&shared, &mut log, socket, process).await {
            End::Lost => continue,
            End::Finished => {}
        }
    }
    log
}

/// One connection's life.
async fn session(shared: &Shared, log: &mut ClientLog, mut socket: Socket, process: usize) -> End {
    let host = shared.hosts[process].clone();
    // `ready` first.
    let ready = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str::<Value>(&text).ok();
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return None,
            }
        }
    })
    .await;
    match ready {
        Ok(Some(frame)) if frame["type"] == "ready" => {}
        _ => {
            log.failed_connects += 1;
            return End::Lost;
        }
    }
    let index = log.connections.len();
    log.connections.push(Connection {
        host,
        opened: shared.now(),
        closed: None,
        resumed_from: log.highest,
        replayed: None,
        resent: 0,
        resent_acknowledged: false,
        highest: 0,
        messages: 0,
        ended_by: None,
    });
    let lost = |log: &mut ClientLog, why: String| {
        let connection = &mut log.connections[index];
        connection.closed = Some(shared.now());
        connection.ended_by = Some(why);
        End::Lost
    };
    let resume = json!({
        "type": "resume",
        "positions": {shared.conversation.clone(): log.highest},
        "changes": {shared.conversation.clone(): log.highest_change},
    });
    if !send_frame(&mut socket, &resume).await {
        return lost(log, "sending resume failed".into());
    }
    // Nothing is waiting for an ack on this new connection. Pipelined, every
    // unacknowledged message goes again at once, in order; one at a time,
    // the oldest goes first (from `pump`).
    for sent in &mut log.sent {
        sent.waiting = false;
    }
    let resend: Vec<usize> = match shared.sending {
        Sending::Pipelined => log.open().collect(),
        Sending::OneAtATime => log.open().take(1).collect(),
    };
    log.connections[index].resent = resend.len();
    for number in resend {
        if !sending::send(shared, log, &mut socket, process, number).await {
            return lost(log, "re-sending failed".into());
        }
    }
    // After a lost connection, also send the latest acknowledged message
    // again, as a client that never saw its ack would: the ack must be a
    // duplicate with the original id and seq, and nobody may receive the
    // message twice. This forces the re-send path at every reconnect
    // instead of leaving it to a kill landing between commit and ack.
    if index > 0 {
        if let Some(latest) = log.sent.iter().rev().find(|s| s.ack.is_some()) {
            let frame = send_frame_for(&shared.conversation, latest, &log.name);
            if !send_frame(&mut socket, &frame).await {
                return lost(log, "re-sending an acknowledged message failed".into());
            }
            log.connections[index].resent_acknowledged = true;
        }
    }
    let mut resumed = false;
    // The clients' sends are spread over the period, not simultaneous.
    let every = shared.send_every;
    let phase = every * log.phase / u32::try_from(shared.members).unwrap();
    let mut tick = tokio::time::interval_at((Instant::now() + phase).into(), every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut check = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                        panic!("{}: unreadable frame {text}", log.name);
                    };
                    take_frame(shared, log, index, &mut resumed, &frame);
                    if frame["type"] == "ack"
                        && !sending::pump(shared, log, &mut socket, process).await
                    {
                        return lost(log, "sending failed".into());
                    }
                    // Edits and deletions go once: one lost with its
                    // connection simply did not happen (the final views are
                    // compared with the store, whatever happened).
                    for (message_id, change) in std::mem::take(&mut log.to_change) {
                        let conversation = &shared.conversation;
                        let frame = match change {
                            Change::Delete => json!({"type": "delete", "conversation_id": conversation, "message_id": message_id}),
                            Change::Edit => json!({"type": "edit", "conversation_id": conversation, "message_id": message_id,
                                   "body": format!("edited by {}", log.name)}),
                            Change::React => json!({"type": "react", "conversation_id": conversation, "message_id": message_id,
                                   "emoji": "👍", "on": true}),
                        };
                        log.changes_sent += 1;
                        if !send_frame(&mut socket, &frame).await {
                            return lost(log, "sending a change failed".into());
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return lost(log, format!("closed by the server: {frame:?}"));
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return lost(log, format!("socket error: {err}")),
                None => return lost(log, "socket ended".into()),
            },
            _ = tick.tick(), if !shared.stop_sending.load(Ordering::SeqCst) => {
                let number = sending::create(shared, log);
                let sent = match shared.sending {
                    Sending::Pipelined => {
                        sending::send(shared, log, &mut socket, process, number).await
                    }
                    Sending::OneAtATime => sending::pump(shared, log, &mut socket, process).await,
                };
                if !sent {
                    return lost(log, "sending failed".into());
                }
            }
            _ = check.tick() => {
                if !sending::pump(shared, log, &mut socket, process).await {
                    return lost(log, "sending failed".into());
                }
                log.check_settled(shared);
                if log.done(shared) || Instant::now() >= shared.give_up {
                    log.connections[index].closed = Some(shared.now());
                    let _ = socket.close(None).await;
                    return End::Finished;
                }
            }
        }
    }
}
