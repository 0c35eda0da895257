//! A simulated member of the group: connects over a WebSocket with
//! `?resume=1`, resumes from the highest sequence number it holds, re-sends
//! what was not acknowledged, sends a new message every [`SEND_EVERY`] and
//! connects again whenever its connection drops. What it sees goes into its
//! [`ClientLog`].

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::record::{take_frame, ClientLog, Connection, Sent};
use super::{RECONNECT_PAUSE, SEND_EVERY};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the clients share with the test.
pub struct Shared {
    /// `127.0.0.1:<port>` of each process.
    pub hosts: Vec<String>,
    /// The group everybody sends to.
    pub conversation: String,
    /// When sending started.
    pub epoch: Instant,
    /// 1 + the index of the process about to be killed (0: none): a client
    /// that sends a message to it says so through `sent_there`.
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

async fn send_frame(socket: &mut Socket, frame: &Value) -> bool {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
}

fn send_frame_for(conversation: &str, sent: &Sent, name: &str) -> Value {
    json!({
        "type": "send",
        "conversation_id": conversation,
        "client_msg_id": sent.client_msg_id,
        "body": format!("{name} says {}", sent.client_msg_id),
    })
}

/// One member: connects to a live process (round robin), resumes, re-sends
/// what was not acknowledged, sends a new message every [`SEND_EVERY`] until
/// told to stop, and reconnects whenever the connection drops; ends once
/// everything is acknowledged and received (or at `give_up`).
pub async fn client(
    shared: Arc<Shared>,
    first_host: usize,
    name: String,
    user_id: String,
    token: String,
) -> ClientLog {
    let mut log = ClientLog::new(name, u32::try_from(first_host % 3).unwrap(), user_id);
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
    });
    if !send_frame(&mut socket, &resume).await {
        return lost(log, "sending resume failed".into());
    }
    let resend: Vec<Value> = log
        .unacked()
        .map(|s| send_frame_for(&shared.conversation, s, &log.name))
        .collect();
    log.connections[index].resent = resend.len();
    let now = shared.now();
    for sent in log
        .sent
        .iter_mut()
        .filter(|s| s.ack.is_none() && s.refused.is_none())
    {
        sent.sent_at = now;
    }
    for frame in &resend {
        if !send_frame(&mut socket, frame).await {
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
    let phase = SEND_EVERY * log.phase / 3;
    let mut tick = tokio::time::interval_at((Instant::now() + phase).into(), SEND_EVERY);
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
                }
                Some(Ok(Message::Close(frame))) => {
                    return lost(log, format!("closed by the server: {frame:?}"));
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return lost(log, format!("socket error: {err}")),
                None => return lost(log, "socket ended".into()),
            },
            _ = tick.tick(), if !shared.stop_sending.load(Ordering::SeqCst) => {
                let number = log.sent.len();
                let client_msg_id = format!("{}-{number}", log.name);
                log.by_client_id.insert(client_msg_id.clone(), number);
                log.sent.push(Sent { client_msg_id, sent_at: shared.now(), ack: None, refused: None });
                let frame = send_frame_for(&shared.conversation, &log.sent[number], &log.name);
                if !send_frame(&mut socket, &frame).await {
                    return lost(log, "sending failed".into());
                }
                if shared.kill_armed.load(Ordering::SeqCst) == process + 1 {
                    shared.sent_there.notify_one();
                }
            }
            _ = check.tick() => {
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
