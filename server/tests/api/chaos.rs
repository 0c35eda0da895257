//! The chaos test of issue 6: three members of a group send continuously
//! over WebSockets (`?resume=1`) while a server process is killed with
//! SIGKILL and restarted, so their connections drop and they reconnect,
//! resume from the highest sequence number they hold and re-send what was
//! not acknowledged. Afterwards every acknowledged message must have reached
//! every member exactly once (no frame twice, no gap), with the stored ids,
//! in each sender's order, and the stored history must be exactly that.
//!
//! Once on SQLite with the only server process killed twice; once on
//! PostgreSQL + Redis with two processes, each killed once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::processes::{free_port, server_process, Backend, ServerProcess};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the clients create new messages.
const CHAOS: Duration = Duration::from_secs(8);
/// How long they then have to get everything acknowledged and delivered.
const SETTLE: Duration = Duration::from_secs(30);
/// Pause between two new messages of one client. A connection may send 20
/// at once and then 10 a second (not configurable), so this is as fast as a
/// client can go without being refused.
const SEND_EVERY: Duration = Duration::from_millis(100);
/// Pause before connecting again after a failed attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

/// One SIGKILL of the chaos phase.
#[derive(Debug, Clone, Copy)]
struct Kill {
    /// When, from the start of sending.
    at: Duration,
    /// Which process.
    process: usize,
    /// How long it stays dead before it is started again on its port.
    down_for: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_sigkill_of_the_only_sqlite_process_exactly_once_in_order() {
    let backend = Backend {
        database_url: None,
        redis: None,
    };
    let kills = [
        Kill {
            at: Duration::from_millis(2000),
            process: 0,
            down_for: Duration::from_millis(700),
        },
        Kill {
            at: Duration::from_millis(5000),
            process: 0,
            down_for: Duration::from_millis(500),
        },
    ];
    chaos("sqlite, one process", backend, 1, &kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_sigkill_of_one_of_two_processes_exactly_once_in_order() {
    let (Some(admin), Some(redis)) = (
        crate::support::service_url("TEST_DATABASE_URL"),
        crate::support::service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = crate::support::create_pg_database(&admin).await;
    let prefix = format!("chatsphere-chaos-test:{name}:");
    let backend = Backend {
        database_url: Some(&database_url),
        redis: Some((&redis, &prefix)),
    };
    let kills = [
        Kill {
            at: Duration::from_millis(2000),
            process: 0,
            down_for: Duration::from_millis(700),
        },
        Kill {
            at: Duration::from_millis(5000),
            process: 1,
            down_for: Duration::from_millis(500),
        },
    ];
    let outcome = chaos("postgres + redis, two processes", backend, 2, &kills);
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    crate::support::drop_pg_database(&admin, &name).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Server processes on fixed ports, killed and started again.
struct Cluster<'a> {
    backend: Backend<'a>,
    data: &'a Path,
    ports: Vec<u16>,
    processes: Vec<Option<ServerProcess>>,
}

impl<'a> Cluster<'a> {
    async fn start(backend: Backend<'a>, data: &'a Path, count: usize) -> Self {
        let mut cluster = Self {
            backend,
            data,
            ports: (0..count).map(|_| free_port()).collect(),
            processes: (0..count).map(|_| None).collect(),
        };
        for index in 0..count {
            cluster.restart(index).await;
        }
        cluster
    }

    fn address(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[index])
    }

    fn kill(&mut self, index: usize) {
        self.processes[index]
            .take()
            .expect("the process is running")
            .kill();
    }

    async fn restart(&mut self, index: usize) {
        assert!(self.processes[index].is_none());
        let process = server_process(self.ports[index], self.backend, self.data, &[]).await;
        self.processes[index] = Some(process);
    }
}

/// What the clients share with the test.
struct Shared {
    /// `127.0.0.1:<port>` of each process.
    hosts: Vec<String>,
    /// The group everybody sends to.
    conversation: String,
    /// When sending started.
    epoch: Instant,
    /// 1 + the index of the process about to be killed (0: none): a client
    /// that sends a message to it says so through `sent_there`.
    kill_armed: AtomicUsize,
    /// A message was just sent to the process about to be killed.
    sent_there: tokio::sync::Notify,
    /// Clients stop creating new messages.
    stop_sending: AtomicBool,
    /// The highest acknowledged sequence number.
    max_acked: AtomicI64,
    /// Clients with all their messages acknowledged after `stop_sending`.
    settled: AtomicUsize,
    /// The conversation's last sequence number once nobody sends any more
    /// (0 until then): clients wait to have received up to it.
    final_seq: AtomicI64,
    /// Clients give up here.
    give_up: Instant,
}

impl Shared {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// The acknowledgement of a message.
#[derive(Debug, Clone)]
struct Ack {
    message_id: String,
    seq: i64,
    at: Duration,
    /// `"duplicate": true`: stored before, by an earlier send.
    duplicate: bool,
}

/// A message a client created.
#[derive(Debug)]
struct Sent {
    client_msg_id: String,
    /// When it was last sent.
    sent_at: Duration,
    ack: Option<Ack>,
    /// Refused with an error ack (then never sent again).
    refused: Option<Value>,
}

/// A `message` frame of the group, as it arrived.
#[derive(Debug, Clone)]
struct Received {
    seq: i64,
    id: String,
    client_msg_id: String,
    sender_id: String,
    /// Arrived before `resumed`: a replay.
    replayed: bool,
}

/// One connection, for the figures and for diagnosing a failure.
#[derive(Debug)]
struct Connection {
    host: String,
    opened: Duration,
    closed: Option<Duration>,
    /// The position sent in `resume`.
    resumed_from: i64,
    /// `replayed` of the `resumed` frame.
    replayed: Option<u64>,
    /// Unacknowledged messages sent again.
    resent: usize,
    /// Message frames of the group taken on it.
    messages: usize,
    /// How it ended, if not by the client.
    ended_by: Option<String>,
}

/// Everything one client did and saw.
struct ClientLog {
    name: String,
    /// Which third of [`SEND_EVERY`] this client sends in.
    phase: u32,
    user_id: String,
    sent: Vec<Sent>,
    by_client_id: HashMap<String, usize>,
    received: Vec<Received>,
    seen: HashSet<i64>,
    /// Message frames of a sequence number already received.
    duplicate_frames: Vec<i64>,
    /// Message frames with a lower sequence number than one held already.
    out_of_order: usize,
    highest: i64,
    connections: Vec<Connection>,
    failed_connects: usize,
    duplicate_acks: usize,
    /// Acks of a message acknowledged before with another id or seq.
    conflicting_acks: Vec<String>,
    /// Conversations a `resumed` frame said were cut short.
    truncated: Vec<Value>,
    settled: bool,
    gave_up: bool,
}

impl ClientLog {
    fn unacked(&self) -> impl Iterator<Item = &Sent> {
        self.sent
            .iter()
            .filter(|s| s.ack.is_none() && s.refused.is_none())
    }

    fn all_acked(&self) -> bool {
        self.unacked().next().is_none()
    }

    /// Everything acknowledged and everything up to the final seq received.
    fn done(&self, shared: &Shared) -> bool {
        let last = shared.final_seq.load(Ordering::SeqCst);
        last > 0 && self.all_acked() && (1..=last).all(|seq| self.seen.contains(&seq))
    }

    /// Tells the test once everything is acknowledged after the chaos.
    fn check_settled(&mut self, shared: &Shared) {
        if !self.settled && shared.stop_sending.load(Ordering::SeqCst) && self.all_acked() {
            self.settled = true;
            shared.settled.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn acked(&self) -> impl Iterator<Item = (&Sent, &Ack)> {
        self.sent
            .iter()
            .filter_map(|s| s.ack.as_ref().map(|a| (s, a)))
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
async fn client(
    shared: Arc<Shared>,
    first_host: usize,
    name: String,
    user_id: String,
    token: String,
) -> ClientLog {
    let mut log = ClientLog {
        name,
        phase: u32::try_from(first_host % 3).unwrap(),
        user_id,
        sent: Vec::new(),
        by_client_id: HashMap::new(),
        received: Vec::new(),
        seen: HashSet::new(),
        duplicate_frames: Vec::new(),
        out_of_order: 0,
        highest: 0,
        connections: Vec::new(),
        failed_connects: 0,
        duplicate_acks: 0,
        conflicting_acks: Vec::new(),
        truncated: Vec::new(),
        settled: false,
        gave_up: false,
    };
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

/// Records an ack, a message or the end of a replay.
fn take_frame(
    shared: &Shared,
    log: &mut ClientLog,
    index: usize,
    resumed: &mut bool,
    frame: &Value,
) {
    match frame["type"].as_str() {
        Some("ack") => {
            let client_msg_id = frame["client_msg_id"].as_str().unwrap_or_default();
            let Some(&number) = log.by_client_id.get(client_msg_id) else {
                panic!("{}: an ack of a message never sent: {frame}", log.name);
            };
            let sent = &mut log.sent[number];
            if !frame["error"].is_null() {
                sent.refused = Some(frame.clone());
                return;
            }
            let ack = Ack {
                message_id: frame["message_id"].as_str().unwrap_or_default().to_owned(),
                seq: frame["seq"].as_i64().unwrap_or_default(),
                at: shared.now(),
                duplicate: frame["duplicate"] == true,
            };
            if ack.duplicate {
                log.duplicate_acks += 1;
            }
            match &sent.ack {
                Some(first) if first.message_id != ack.message_id || first.seq != ack.seq => {
                    log.conflicting_acks.push(format!(
                        "{client_msg_id}: first {} (seq {}), then {frame}",
                        first.message_id, first.seq
                    ));
                }
                Some(_) => {}
                None => {
                    shared.max_acked.fetch_max(ack.seq, Ordering::SeqCst);
                    sent.ack = Some(ack);
                }
            }
            log.check_settled(shared);
        }
        Some("message") => {
            let message = &frame["message"];
            if message["conversation_id"] != shared.conversation.as_str() {
                return;
            }
            let received = Received {
                seq: message["seq"].as_i64().expect("a message has a seq"),
                id: message["id"].as_str().unwrap_or_default().to_owned(),
                client_msg_id: message["client_msg_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                sender_id: message["sender_id"].as_str().unwrap_or_default().to_owned(),
                replayed: !*resumed,
            };
            if received.seq < log.highest {
                log.out_of_order += 1;
            }
            if !log.seen.insert(received.seq) {
                log.duplicate_frames.push(received.seq);
            }
            log.highest = log.highest.max(received.seq);
            log.connections[index].messages += 1;
            log.received.push(received);
        }
        Some("resumed") => {
            *resumed = true;
            log.connections[index].replayed = frame["replayed"].as_u64();
            if frame["truncated"].as_array().is_some_and(|t| !t.is_empty()) {
                log.truncated.push(frame.clone());
            }
        }
        _ => {} // receipts, typing, presence, joined, pong, …
    }
}

/// Registers `username` on `address`: (id, access token).
async fn register(http: &reqwest::Client, address: &str, username: &str) -> (String, String) {
    let response = http
        .post(format!("{address}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": crate::helpers::GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "registering {username}: {body}");
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["tokens"]["access_token"].as_str().unwrap().to_owned(),
    )
}

/// The group's stored messages, oldest first, read page by page.
async fn history(http: &reqwest::Client, address: &str, token: &str, group: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut url = format!("{address}/api/v1/messages/group/{group}?limit=100");
        if let Some(before) = before {
            url.push_str(&format!("&before={before}"));
        }
        let response = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "reading the history");
        let page: Value = response.json().await.unwrap();
        messages.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    messages.reverse();
    messages
}

/// The number after the last `-` of a client message id.
fn number_of(client_msg_id: &str) -> u64 {
    client_msg_id
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected client_msg_id {client_msg_id}"))
}

/// Who sent the message with `seq` and how it was acknowledged.
fn describe(logs: &[ClientLog], seq: i64) -> String {
    logs.iter()
        .flat_map(|l| l.acked().map(move |(s, a)| (l, s, a)))
        .find(|(_, _, a)| a.seq == seq)
        .map_or(format!("seq {seq}: nobody's ack"), |(l, s, a)| {
            format!(
                "seq {seq} is {} of {}, acknowledged at {}{}",
                s.client_msg_id,
                l.name,
                secs(a.at),
                if a.duplicate {
                    " as a duplicate (stored by an earlier send)"
                } else {
                    ""
                }
            )
        })
}

/// A duration from zero up to `max`, different each call.
fn jitter(max: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    max.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

fn secs(at: Duration) -> String {
    format!("{:.3}s", at.as_secs_f64())
}

/// Runs the chaos on `processes` server processes with `backend` and checks
/// what the clients saw against each other and against the store.
async fn chaos(label: &str, backend: Backend<'_>, processes: usize, kills: &[Kill]) {
    let started = Instant::now();
    let data = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(backend, data.path(), processes).await;
    let http = reqwest::Client::new();
    let names = ["ann", "ben", "cat"];
    let mut users = Vec::new();
    for (i, name) in names.iter().enumerate() {
        users.push(register(&http, &cluster.address(i % processes), name).await);
    }
    let created = http
        .post(format!(
            "{}/api/v1/conversations/groups",
            cluster.address(0)
        ))
        .bearer_auth(&users[0].1)
        .json(&json!({"name": "chaos", "member_ids": [users[1].0, users[2].0]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "creating the group");
    let group = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let epoch = Instant::now();
    let shared = Arc::new(Shared {
        hosts: cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect(),
        conversation: group.clone(),
        epoch,
        kill_armed: AtomicUsize::new(0),
        sent_there: tokio::sync::Notify::new(),
        stop_sending: AtomicBool::new(false),
        max_acked: AtomicI64::new(0),
        settled: AtomicUsize::new(0),
        final_seq: AtomicI64::new(0),
        give_up: epoch + CHAOS + SETTLE,
    });
    let clients: Vec<_> = users
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, ((id, token), name))| {
            tokio::spawn(client(
                shared.clone(),
                i,
                name.to_owned(),
                id.clone(),
                token.clone(),
            ))
        })
        .collect();

    // The chaos: (process, killed at, started again at, delay after the send) of each kill.
    let mut outages = Vec::new();
    for kill in kills {
        // Just after a message went to that process: while it is being
        // received, stored or acknowledged, or just after (a different
        // moment each run).
        tokio::time::sleep_until((epoch + kill.at).into()).await;
        // (A permit left over from the kill before is taken first.)
        let _ = futures_util::FutureExt::now_or_never(shared.sent_there.notified());
        shared.kill_armed.store(kill.process + 1, Ordering::SeqCst);
        let _ = tokio::time::timeout(SEND_EVERY * 3, shared.sent_there.notified()).await;
        shared.kill_armed.store(0, Ordering::SeqCst);
        let delay = jitter(Duration::from_millis(5));
        std::thread::sleep(delay); // finer than the timer
        let killed = shared.now();
        cluster.kill(kill.process);
        tokio::time::sleep(kill.down_for).await;
        cluster.restart(kill.process).await;
        outages.push((kill.process, killed, shared.now(), delay));
    }
    tokio::time::sleep_until((epoch + CHAOS).into()).await;
    shared.stop_sending.store(true, Ordering::SeqCst);
    let stopped = shared.now();
    while shared.settled.load(Ordering::SeqCst) < clients.len() && Instant::now() < shared.give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_acked = shared.now();
    if shared.settled.load(Ordering::SeqCst) == clients.len() {
        // Nobody sends any more: this is the last message.
        shared
            .final_seq
            .store(shared.max_acked.load(Ordering::SeqCst), Ordering::SeqCst);
    }
    let mut logs = Vec::new();
    for handle in clients {
        logs.push(handle.await.expect("client task"));
    }
    let all_received = shared.now();
    let stored = history(&http, &cluster.address(0), &users[0].1, &group).await;

    // The figures.
    eprintln!("chaos ({label}): kills {}", {
        outages
            .iter()
            .map(|(p, k, r, d)| {
                format!(
                    "process {p} at {} ({} µs after a send to it; up again at {})",
                    secs(*k),
                    d.as_micros(),
                    secs(*r)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    eprintln!(
        "chaos ({label}): sending stopped at {}, all acknowledged at {}, all received at {}; {} stored; whole test {}",
        secs(stopped),
        secs(all_acked),
        secs(all_received),
        stored.len(),
        secs(started.elapsed()),
    );
    let mut latencies: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.acked().map(|(s, a)| a.at.saturating_sub(s.sent_at)))
        .collect();
    latencies.sort();
    if !latencies.is_empty() {
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_micros();
        eprintln!(
            "chaos ({label}): send → ack: median {} µs, 90% {} µs, max {} µs",
            at(0.5),
            at(0.9),
            at(1.0)
        );
    }
    for log in &logs {
        let replays: Vec<String> = log
            .connections
            .iter()
            .map(|c| format!("{}", c.replayed.map_or(-1, |r| r as i64)))
            .collect();
        eprintln!(
            "chaos ({label}): {}: sent {}, acked {} ({} duplicate acks, {} refused), re-sent {}, \
             received {} frames ({} replayed, {} duplicates, {} out of order), \
             {} connections ({} dropped, {} failed attempts), replayed per connection [{}]",
            log.name,
            log.sent.len(),
            log.acked().count(),
            log.duplicate_acks,
            log.sent.iter().filter(|s| s.refused.is_some()).count(),
            log.connections.iter().map(|c| c.resent).sum::<usize>(),
            log.received.len(),
            log.received.iter().filter(|r| r.replayed).count(),
            log.duplicate_frames.len(),
            log.out_of_order,
            log.connections.len(),
            log.connections
                .iter()
                .filter(|c| c.ended_by.is_some())
                .count(),
            log.failed_connects,
            replays.join(", "),
        );
        for (sent, ack) in log.acked().filter(|(_, a)| a.duplicate) {
            eprintln!(
                "    duplicate ack: {} is seq {}, acknowledged at {}",
                sent.client_msg_id,
                ack.seq,
                secs(ack.at)
            );
        }
        for c in &log.connections {
            eprintln!(
                "    {} {} .. {}: resumed from {}, {} messages, ended by {}",
                c.host,
                secs(c.opened),
                c.closed.map_or("-".into(), secs),
                c.resumed_from,
                c.messages,
                c.ended_by.as_deref().unwrap_or("the client"),
            );
        }
    }

    // Every message was acknowledged in the end, none refused, none twice
    // with different outcomes, no replay cut short.
    for log in &logs {
        let refused: Vec<&Value> = log.sent.iter().filter_map(|s| s.refused.as_ref()).collect();
        assert!(
            refused.is_empty(),
            "{}: sends refused: {refused:?}",
            log.name
        );
        let unacked: Vec<&str> = log.unacked().map(|s| s.client_msg_id.as_str()).collect();
        assert!(
            unacked.is_empty(),
            "{}: never acknowledged: {unacked:?}",
            log.name
        );
        assert!(
            log.conflicting_acks.is_empty(),
            "{}: acknowledged twice differently: {:?}",
            log.name,
            log.conflicting_acks
        );
        assert!(
            log.truncated.is_empty(),
            "{}: replay truncated: {:?}",
            log.name,
            log.truncated
        );
    }

    // The store: seq 1..=N without gaps, each (sender, client id) once, and
    // exactly the acknowledged messages.
    let stored_seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let last_seq = stored.len() as i64;
    assert_eq!(
        stored_seqs,
        (1..=last_seq).collect::<Vec<_>>(),
        "stored sequence numbers"
    );
    assert_eq!(
        shared.max_acked.load(Ordering::SeqCst),
        last_seq,
        "the last stored message is the last acknowledged one"
    );
    let mut stored_keys = HashSet::new();
    for message in &stored {
        let key = (
            message["sender_id"].as_str().unwrap().to_owned(),
            message["client_msg_id"].as_str().unwrap().to_owned(),
        );
        assert!(stored_keys.insert(key), "stored twice: {message}");
    }
    let acked_total: usize = logs.iter().map(|l| l.acked().count()).sum();
    assert_eq!(
        acked_total,
        stored.len(),
        "every stored message was acknowledged"
    );

    // Every member received every message exactly once.
    for log in &logs {
        assert!(
            log.duplicate_frames.is_empty(),
            "{}: received these seqs more than once: {:?}",
            log.name,
            log.duplicate_frames
        );
        let missing: Vec<i64> = (1..=last_seq).filter(|s| !log.seen.contains(s)).collect();
        assert!(
            missing.is_empty(),
            "{}: never received seqs {missing:?} (of 1..={last_seq}): {}{}",
            log.name,
            missing
                .iter()
                .map(|seq| describe(&logs, *seq))
                .collect::<Vec<_>>()
                .join("; "),
            if log.gave_up { "; gave up waiting" } else { "" }
        );
        let beyond: Vec<i64> = log.seen.iter().copied().filter(|s| *s > last_seq).collect();
        assert!(
            beyond.is_empty(),
            "{}: received seqs beyond the last: {beyond:?}",
            log.name
        );
    }

    // Every acknowledged message reached every member with its id and seq.
    for log in &logs {
        let by_seq: HashMap<i64, &Received> = log.received.iter().map(|r| (r.seq, r)).collect();
        for sender in &logs {
            for (sent, ack) in sender.acked() {
                let got = by_seq.get(&ack.seq).unwrap_or_else(|| {
                    panic!(
                        "{}: never received {} (seq {})",
                        log.name, sent.client_msg_id, ack.seq
                    )
                });
                assert_eq!(
                    (
                        got.id.as_str(),
                        got.client_msg_id.as_str(),
                        got.sender_id.as_str()
                    ),
                    (
                        ack.message_id.as_str(),
                        sent.client_msg_id.as_str(),
                        sender.user_id.as_str()
                    ),
                    "{}: seq {} is not what {} was acknowledged",
                    log.name,
                    ack.seq,
                    sent.client_msg_id
                );
            }
        }
    }

    // What each member received, in seq order, is the stored history.
    let stored_view: Vec<(i64, &str, &str)> = stored
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["id"].as_str().unwrap(),
                m["client_msg_id"].as_str().unwrap(),
            )
        })
        .collect();
    for log in &logs {
        let mut received: Vec<&Received> = log.received.iter().collect();
        received.sort_by_key(|r| r.seq);
        let view: Vec<(i64, &str, &str)> = received
            .iter()
            .map(|r| (r.seq, r.id.as_str(), r.client_msg_id.as_str()))
            .collect();
        assert_eq!(view, stored_view, "{}: received ≠ stored history", log.name);
    }

    // Each sender's messages are stored in the order they were created.
    let mut per_sender: BTreeMap<&str, Vec<(i64, u64)>> = BTreeMap::new();
    for message in &stored {
        per_sender
            .entry(message["sender_id"].as_str().unwrap())
            .or_default()
            .push((
                message["seq"].as_i64().unwrap(),
                number_of(message["client_msg_id"].as_str().unwrap()),
            ));
    }
    for (sender, messages) in &per_sender {
        for pair in messages.windows(2) {
            assert!(
                pair[0].1 < pair[1].1,
                "sender {sender}: message #{} (seq {}) stored before #{} (seq {})",
                pair[0].1,
                pair[0].0,
                pair[1].1,
                pair[1].0
            );
        }
    }
    for log in &logs {
        let count = per_sender.get(log.user_id.as_str()).map_or(0, Vec::len);
        assert_eq!(count, log.acked().count(), "{}: stored messages", log.name);
    }

    // The chaos was real: connections dropped at each kill, and messages
    // were acknowledged just before each kill and after each restart (and,
    // with another process alive, while it was down).
    let dropped: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.connections.iter())
        .filter(|c| c.ended_by.is_some())
        .filter_map(|c| c.closed)
        .collect();
    assert!(!dropped.is_empty(), "no connection was dropped");
    let acks: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.acked().map(|(_, a)| a.at))
        .collect();
    let acked_between =
        |from: Duration, to: Duration| acks.iter().filter(|at| **at > from && **at < to).count();
    for (n, (process, killed, restarted, _)) in outages.iter().enumerate() {
        let next = outages.get(n + 1).map_or(stopped, |o| o.1);
        let drops = dropped
            .iter()
            .filter(|at| **at >= *killed && **at < *killed + Duration::from_secs(2))
            .count();
        let before = acked_between(killed.saturating_sub(Duration::from_secs(1)), *killed);
        let during = acked_between(*killed, *restarted);
        let after = acked_between(*restarted, next);
        eprintln!(
            "chaos ({label}): kill {} of process {process}: {drops} connections dropped; \
             acks in the second before {before}, while down {during}, after the restart {after}",
            n + 1
        );
        assert!(drops > 0, "kill {}: no connection dropped", n + 1);
        assert!(
            before > 0,
            "kill {}: no message acknowledged just before it",
            n + 1
        );
        assert!(
            after > 0,
            "kill {}: no message acknowledged after the restart",
            n + 1
        );
        if processes > 1 {
            assert!(
                during > 0,
                "kill {}: nothing acknowledged by the other process",
                n + 1
            );
        }
    }
    drop(cluster);
}
