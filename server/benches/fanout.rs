//! Prints what live fan-out costs through the real server binary: the
//! members of one room connected over WebSockets, some of them sending at a
//! steady pace; send → ack and send → delivery latency, deliveries per
//! second, and the server's memory and CPU read from its own `/metrics`.
//!
//! SQLite with the in-process bus (one process) always; with
//! `TEST_DATABASE_URL` and `TEST_REDIS_URL` also PostgreSQL + Redis with two
//! processes, the members split between them. Loopback only, bounded in
//! count and time. Figures, not assertions: the machines here are noisy, and
//! the clients share the machine's cores with the server.
//!
//! `cargo bench -p server --bench fanout`; `FANOUT_MEMBERS` (default 100),
//! `FANOUT_SENDERS` (10), `FANOUT_RATE` (messages per second per sender, 5)
//! and `FANOUT_SECONDS` (10) change the load; `FANOUT_IN_STEP=1` makes the
//! senders send at the same instants (bursts) instead of spread out.

#[allow(dead_code)] // the test harness's process control; the bench uses part of it
#[path = "../tests/api/processes.rs"]
mod processes;
// Throwaway PostgreSQL databases, shared with the tests.
#[path = "../../services/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::stream::{self, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use processes::{free_port, server_process, Backend, ServerProcess};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const METRICS_TOKEN: &str = "fanout-bench-metrics-token";
const PASSWORD: &str = "correct horse battery staple 42";
/// How long the deliveries may take to arrive after the last send.
const DRAIN: Duration = Duration::from_secs(15);

/// The load of one run.
#[derive(Debug, Clone, Copy)]
struct Load {
    members: usize,
    senders: usize,
    rate: u32,
    seconds: u64,
    /// Senders send at the same instants.
    in_step: bool,
}

impl Load {
    fn from_env() -> Self {
        let get = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        let members = get("FANOUT_MEMBERS", 100).min(2_000) as usize;
        Self {
            members,
            senders: (get("FANOUT_SENDERS", 10) as usize).min(members),
            // The server lets one connection send 10 a second.
            rate: get("FANOUT_RATE", 5).min(10) as u32,
            seconds: get("FANOUT_SECONDS", 10).min(120),
            in_step: std::env::var("FANOUT_IN_STEP").is_ok_and(|v| v == "1"),
        }
    }
}

/// Microseconds since the bench started: the clock in every message body.
fn now_us() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let load = Load::from_env();
    println!(
        "fan-out: {} members of one room, {} sending {} messages a second each for {} s{}",
        load.members,
        load.senders,
        load.rate,
        load.seconds,
        if load.in_step { ", in step" } else { "" }
    );
    let data = tempfile::tempdir().unwrap();
    let sqlite = Backend {
        database_url: None,
        redis: None,
    };
    run(
        "SQLite, in-process bus, 1 process",
        sqlite,
        1,
        data.path(),
        load,
    )
    .await;

    let (Ok(admin), Ok(redis)) = (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("TEST_REDIS_URL"),
    ) else {
        println!("(set TEST_DATABASE_URL and TEST_REDIS_URL for the PostgreSQL + Redis run)");
        return;
    };
    let (url, name) = support::create_pg_database(&admin).await;
    let prefix = format!("{name}:");
    let data = tempfile::tempdir().unwrap();
    let shared = Backend {
        database_url: Some(&url),
        redis: Some((&redis, &prefix)),
    };
    let bench = run(
        "PostgreSQL + Redis, 2 processes",
        shared,
        2,
        data.path(),
        load,
    );
    support::with_cleanup(bench, support::drop_pg_database(&admin, &name)).await;
}

async fn run(label: &str, backend: Backend<'_>, count: usize, data: &Path, load: Load) {
    let extra = [
        ("CHATSPHERE_METRICS_TOKEN", METRICS_TOKEN),
        ("CHATSPHERE_RATE_LIMITS", "off"),
    ];
    let mut servers = Vec::new();
    for _ in 0..count {
        servers.push(server_process(free_port(), backend, data, &extra).await);
    }
    let http = reqwest::Client::new();

    // Members register (new accounts join `general`), then connect, round
    // robin over the processes.
    let tokens: Vec<String> = stream::iter(0..load.members)
        .map(|i| register(&http, &servers[0].address, i))
        .buffer_unordered(4)
        .collect()
        .await;
    let room = general(&http, &servers[0].address, &tokens[0]).await;
    let idle = usage(&http, &servers).await;
    let started = Instant::now();
    let sockets: Vec<Socket> = stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| connect(&servers[i % count].address, token))
        .buffer_unordered(16)
        .collect()
        .await;
    let connect_time = started.elapsed();
    let connected = usage(&http, &servers).await;

    let counts = Arc::new(Counts::default());
    let mut receivers = Vec::new();
    let mut senders = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        receivers.push(tokio::spawn(receive(stream, counts.clone())));
        if i < load.senders {
            senders.push(tokio::spawn(send(sink, room.clone(), i, load)));
        } else {
            drop(sink);
        }
    }
    let cpu_before = usage(&http, &servers).await;
    let sending = Instant::now();
    let mut sent = 0;
    for sender in senders {
        sent += sender.await.unwrap();
    }
    let send_time = sending.elapsed();
    counts
        .expected
        .store(sent * load.members, Ordering::Relaxed);
    let mut ack_us = Vec::new();
    let mut delivery_us = Vec::new();
    let mut acks = 0;
    for receiver in receivers {
        let log = receiver.await.unwrap();
        acks += log.acks.len();
        ack_us.extend(log.acks);
        delivery_us.extend(log.deliveries);
    }
    let total_time = sending.elapsed();
    let after = usage(&http, &servers).await;
    drop(servers);

    let delivered = delivery_us.len();
    println!("\n{label}");
    println!(
        "  connect {} members: {:.2} s; sent {sent} messages in {:.1} s, {acks} acknowledged",
        load.members,
        connect_time.as_secs_f64(),
        send_time.as_secs_f64()
    );
    println!(
        "  delivered {delivered} of {} ({:.0} deliveries/s over {:.1} s)",
        sent * load.members,
        delivered as f64 / total_time.as_secs_f64(),
        total_time.as_secs_f64()
    );
    println!("  send -> ack      {}", percentiles(&mut ack_us));
    println!("  send -> delivery {}", percentiles(&mut delivery_us));
    for (i, ((idle, connected), (before, after))) in idle
        .iter()
        .zip(&connected)
        .zip(cpu_before.iter().zip(&after))
        .enumerate()
    {
        let per_connection =
            (connected.rss - idle.rss) / (load.members as f64 / count as f64).max(1.0);
        println!(
            "  process {i}: RSS {:.1} MiB with the members registered, {:.1} MiB connected \
             (~{:.1} KiB per connection), {:.1} MiB after; CPU {:.2} s while sending \
             ({:.0}% of one core)",
            idle.rss / 1048576.0,
            connected.rss / 1048576.0,
            per_connection / 1024.0,
            after.rss / 1048576.0,
            after.cpu - before.cpu,
            100.0 * (after.cpu - before.cpu) / total_time.as_secs_f64()
        );
    }
}

/// Registers member `i`: its access token.
async fn register(http: &reqwest::Client, address: &str, i: usize) -> String {
    let response = http
        .post(format!("{address}/api/v1/auth/register"))
        .json(&json!({"username": format!("member{i}"), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "registering member{i}");
    let body: Value = response.json().await.unwrap();
    body["tokens"]["access_token"].as_str().unwrap().to_owned()
}

/// The id of the `general` room.
async fn general(http: &reqwest::Client, address: &str, token: &str) -> String {
    let rooms: Value = http
        .get(format!("{address}/api/v1/rooms"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "general")
        .and_then(|r| r["id"].as_str())
        .expect("the general room")
        .to_owned()
}

/// Connects and waits for `ready`.
async fn connect(address: &str, token: &str) -> Socket {
    let url = format!("{}/ws?token={token}", address.replace("http", "ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if text.contains("\"ready\"") {
                return socket;
            }
        }
    }
    panic!("no ready frame");
}

/// Sends at the load's pace for its duration; how many were sent.
async fn send(
    mut sink: SplitSink<Socket, Message>,
    room: String,
    sender: usize,
    load: Load,
) -> usize {
    // Senders start spread over one period, as independent people would
    // (unless they are to send in step).
    let period = Duration::from_secs(1) / load.rate;
    let offset = if load.in_step {
        Duration::ZERO
    } else {
        period * sender as u32 / load.senders as u32
    };
    let mut pace = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
    let until = Instant::now() + Duration::from_secs(load.seconds);
    let mut n = 0;
    while Instant::now() < until {
        pace.tick().await;
        let at = now_us();
        // The send time goes in the id (for the ack) and the body (for deliveries).
        let frame = json!({
            "type": "send",
            "conversation_id": room,
            "client_msg_id": format!("{at}-{sender}-{n}"),
            "body": format!("{at} from member{sender}"),
        });
        if sink
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        n += 1;
    }
    n
}

/// What one member's connection saw: latencies in microseconds.
#[derive(Default)]
struct Received {
    acks: Vec<u64>,
    deliveries: Vec<u64>,
}

/// Deliveries expected (0 while sending) and made, over all members.
#[derive(Default)]
struct Counts {
    expected: AtomicUsize,
    delivered: AtomicUsize,
}

/// Reads until every expected delivery arrived everywhere or the drain
/// time after sending ended.
async fn receive(mut stream: SplitStream<Socket>, counts: Arc<Counts>) -> Received {
    let mut log = Received::default();
    let mut deadline: Option<Instant> = None;
    loop {
        let want = counts.expected.load(Ordering::Relaxed);
        if want > 0 {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + DRAIN);
            if counts.delivered.load(Ordering::Relaxed) >= want || Instant::now() > deadline {
                break;
            }
        }
        let frame = match tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) | Err(_) => continue,
            Ok(Some(Err(_)) | None) => break,
        };
        let now = now_us();
        let Ok(frame) = serde_json::from_str::<Value>(frame.as_str()) else {
            continue;
        };
        let sent_at = |s: &str| {
            s.split(['-', ' '])
                .next()
                .and_then(|t| t.parse::<u64>().ok())
        };
        match frame["type"].as_str() {
            Some("message") => {
                if let Some(at) = frame["message"]["body"].as_str().and_then(sent_at) {
                    log.deliveries.push(now.saturating_sub(at));
                    counts.delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some("ack") if frame["error"].is_null() => {
                if let Some(at) = frame["client_msg_id"].as_str().and_then(sent_at) {
                    log.acks.push(now.saturating_sub(at));
                }
            }
            _ => {}
        }
    }
    log
}

/// p50 / p90 / p99 / max of latencies in microseconds, in milliseconds.
fn percentiles(values: &mut [u64]) -> String {
    if values.is_empty() {
        return "none".into();
    }
    values.sort_unstable();
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    format!(
        "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        values.len()
    )
}

/// A process's resident memory (bytes) and CPU time (seconds).
struct Usage {
    rss: f64,
    cpu: f64,
}

/// Memory from the server's own `/metrics`; CPU time from `/proc` (the
/// metric counts whole seconds).
async fn usage(http: &reqwest::Client, servers: &[ServerProcess]) -> Vec<Usage> {
    let mut out = Vec::new();
    for server in servers {
        let text = http
            .get(format!("{}/metrics", server.address))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let rss = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("process_resident_memory_bytes ")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| {
                panic!("the server's /metrics has no process_resident_memory_bytes (renamed?)")
            });
        let cpu = cpu_seconds(server.pid())
            .unwrap_or_else(|| panic!("no CPU time in /proc/{}/stat", server.pid()));
        out.push(Usage { rss, cpu });
    }
    out
}

/// User + system CPU time of a process, from `/proc/<pid>/stat` (Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime and stime are fields 14 and 15, in clock ticks.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: f64 = fields.next()?.parse::<f64>().ok()? + fields.next()?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}
