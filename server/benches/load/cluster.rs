//! The server processes one scenario runs against: the release binary (or
//! `LOAD_SERVER_BIN`) on SQLite, or several processes on a throwaway
//! PostgreSQL database and a Redis prefix of their own, configured for load
//! (request budgets off, the send rate raised, JSON logs at `warn`).

use std::path::PathBuf;

use crate::machine::Usage;
use crate::processes::{free_port, server_process_from, Backend, ServerProcess};
use crate::settings::{BackendKind, Settings};

/// Variables every server process gets for a load run: no request budget
/// gets in the way, and presence keeps its production timings.
const LOAD_ENV: &[(&str, &str)] = &[
    ("CHATSPHERE_RATE_LIMITS", "off"),
    ("CHATSPHERE_SEND_RATE", "100000"),
    ("CHATSPHERE_RATE_LIMIT_WS", "100000/s"),
    ("CHATSPHERE_RATE_LIMIT_API", "1000000/min"),
    ("CHATSPHERE_RATE_LIMIT_AUTH", "1000000/min"),
    // Connections per user and process, at the setting's maximum (a
    // binary that does not know it ignores it and keeps its limit of 16).
    ("CHATSPHERE_WS_MAX_CONNECTIONS", "10000"),
    ("CHATSPHERE_PRESENCE_GRACE", "15"),
    ("CHATSPHERE_PRESENCE_TTL", "60"),
    ("CHATSPHERE_LOG_FORMAT", "json"),
    ("RUST_LOG", "warn"),
];

/// Running server processes and what they log.
pub struct Cluster {
    /// The processes (killed when the cluster is dropped).
    servers: Vec<ServerProcess>,
    /// Their ports, in the same order.
    ports: Vec<u16>,
    /// Each process's log file.
    logs: Vec<PathBuf>,
    /// The REST client.
    pub http: reqwest::Client,
    /// SQLite's file and the logs.
    data: tempfile::TempDir,
}

/// A PostgreSQL database and Redis for one scenario.
pub struct Shared<'a> {
    /// The database's URL.
    pub database_url: &'a str,
    /// `TEST_REDIS_URL`.
    pub redis_url: &'a str,
    /// Redis channel and key prefix, unique to the scenario.
    pub prefix: &'a str,
}

impl Cluster {
    /// Starts the processes of `kind` (with `shared` for PostgreSQL + Redis).
    pub async fn start(
        kind: BackendKind,
        shared: Option<&Shared<'_>>,
        settings: &Settings,
    ) -> Self {
        let data = tempfile::tempdir().expect("a data directory");
        let (backend, count) = match (kind, shared) {
            (BackendKind::Sqlite, _) => (
                Backend {
                    database_url: None,
                    redis: None,
                },
                1,
            ),
            (BackendKind::Postgres, Some(shared)) => (
                Backend {
                    database_url: Some(shared.database_url),
                    redis: Some((shared.redis_url, shared.prefix)),
                },
                settings.pg_processes,
            ),
            (BackendKind::Postgres, None) => unreachable!("PostgreSQL needs its database"),
        };
        let binary = settings
            .server_bin
            .clone()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_server")));
        let mut cluster = Self {
            servers: Vec::new(),
            ports: Vec::new(),
            logs: Vec::new(),
            http: reqwest::Client::new(),
            data,
        };
        for i in 0..count {
            let port = free_port();
            let log = cluster.data.path().join(format!("server-{i}.log"));
            let server = server_process_from(
                &binary,
                port,
                backend,
                cluster.data.path(),
                LOAD_ENV,
                Some(&log),
            )
            .await;
            cluster.servers.push(server);
            cluster.ports.push(port);
            cluster.logs.push(log);
        }
        cluster
    }

    /// How many processes run.
    pub fn processes(&self) -> usize {
        self.servers.len()
    }

    /// `http://127.0.0.1:<port>` of process `i` (modulo the count).
    pub fn address(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i % self.ports.len()])
    }

    /// The port of process `i` (modulo the count): client `i` connects there.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i % self.ports.len()]
    }

    /// Memory and CPU time of every process.
    pub fn usage(&self) -> Vec<Usage> {
        self.servers.iter().map(|s| Usage::of(s.pid())).collect()
    }

    /// What the processes logged (warnings and errors): a count and a few
    /// lines, cut short.
    pub fn log_summary(&self) -> String {
        let mut lines = Vec::new();
        for path in &self.logs {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            lines.extend(text.lines().map(str::to_owned));
        }
        if lines.is_empty() {
            return "nothing logged at warn or above".into();
        }
        let mut out = format!("{} lines logged at warn or above, e.g.", lines.len());
        let mut shown: Vec<&str> = Vec::new();
        for line in &lines {
            let message = message_of(line);
            if shown.len() < 3 && !shown.contains(&message) {
                shown.push(message);
                out.push_str(&format!(
                    "\n      {}",
                    domain::text::prefix_within(line, 240)
                ));
            }
        }
        out
    }
}

/// The `message` field of a JSON log line (or the line), to tell kinds apart.
fn message_of(line: &str) -> &str {
    line.split_once("\"message\":\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or(line, |(message, _)| message)
}

/// Memory growth and CPU use of the processes between two readings.
pub struct Delta {
    /// RSS growth over all processes, bytes.
    pub rss_growth: f64,
    /// RSS after, over all processes, bytes.
    pub rss_after: f64,
    /// CPU seconds used over all processes.
    pub cpu: f64,
}

impl Delta {
    /// From readings `before` and `after` of the same processes.
    pub fn between(before: &[Usage], after: &[Usage]) -> Self {
        let sum = |u: &[Usage], f: fn(&Usage) -> f64| u.iter().map(f).sum::<f64>();
        Self {
            rss_growth: sum(after, |u| u.rss) - sum(before, |u| u.rss),
            rss_after: sum(after, |u| u.rss),
            cpu: sum(after, |u| u.cpu) - sum(before, |u| u.cpu),
        }
    }

    /// CPU used as a percentage of one core over `seconds`.
    pub fn cpu_percent(&self, seconds: f64) -> f64 {
        100.0 * self.cpu / seconds.max(1e-9)
    }
}
