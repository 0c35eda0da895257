//! Server binaries started as child processes: on a port chosen up front (a
//! restart takes the same one), with SQLite in a data directory or with
//! PostgreSQL and Redis, all sharing one JWT secret so a token from one
//! process works on every other.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The JWT secret of every process started here.
const JWT_SECRET: &str = "two-process-test-secret-0123456789";

/// How long a process may take to answer `GET /health` with 200.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A server binary on its own port; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    child: Child,
}

impl ServerProcess {
    /// The process id (the load bench reads its memory and CPU time in `/proc`).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and reaps it.
    pub fn kill(self) {
        drop(self);
    }

    /// Sends SIGTERM (what an orchestrator sends to stop a process) without
    /// waiting for the exit.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM delivered");
    }

    /// The exit status if the process has exited (without waiting).
    #[allow(dead_code)] // the chaos tests' check that nothing crashed
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `deadline` for the process to exit; its status, or
    /// `None` if it is still running.
    pub async fn exit_within(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + deadline;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a server process runs on.
#[derive(Debug, Clone, Copy)]
pub struct Backend<'a> {
    /// `DATABASE_URL`; `None` for SQLite in the data directory.
    pub database_url: Option<&'a str>,
    /// `REDIS_URL` and `CHATSPHERE_REDIS_PREFIX`; `None` for the in-process bus.
    pub redis: Option<(&'a str, &'a str)>,
}

/// A free loopback port (free a moment ago: a server binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server binary on `port` with `backend`, the data directory
/// `data` and the `extra` variables, and waits until `GET /health` answers
/// 200. A process that exits before that (say the port was not free again
/// yet after a kill) is started again, until the deadline.
pub async fn server_process(
    port: u16,
    backend: Backend<'_>,
    data: &Path,
    extra: &[(&str, &str)],
) -> ServerProcess {
    server_process_logging_to(port, backend, data, extra, None).await
}

/// [`server_process`], with the process's standard output (its log) appended
/// to the file `log`.
pub async fn server_process_logging_to(
    port: u16,
    backend: Backend<'_>,
    data: &Path,
    extra: &[(&str, &str)],
    log: Option<&Path>,
) -> ServerProcess {
    let binary = Path::new(env!("CARGO_BIN_EXE_server"));
    server_process_from(binary, port, backend, data, extra, log).await
}

/// [`server_process_logging_to`] with another server binary (the load bench
/// runs an older build to compare before and after a change).
pub async fn server_process_from(
    binary: &Path,
    port: u16,
    backend: Backend<'_>,
    data: &Path,
    extra: &[(&str, &str)],
    log: Option<&Path>,
) -> ServerProcess {
    let address = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + START_DEADLINE;
    let mut exits = Vec::new();
    loop {
        let mut command = Command::new(binary);
        command
            .current_dir(data) // no .env from the checkout
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("CHATSPHERE_DATA_DIR", data)
            .env("CHATSPHERE_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            // The per-user rate (10 a second by default) would refuse sends.
            .env("CHATSPHERE_SEND_RATE", "1000")
            .env("CHATSPHERE_PRESENCE_GRACE", "0.5")
            .env("CHATSPHERE_PRESENCE_TTL", "3")
            .env("CHATSPHERE_RATE_LIMIT_API", "100000/min")
            .env("CHATSPHERE_RATE_LIMIT_AUTH", "100000/min")
            .stdout(match log {
                Some(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map(Stdio::from)
                    .expect("log file"),
                None => Stdio::null(),
            });
        match backend.database_url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env_remove("DATABASE_URL"),
        };
        match backend.redis {
            Some((url, prefix)) => command
                .env("REDIS_URL", url)
                .env("CHATSPHERE_REDIS_PREFIX", prefix),
            None => command
                .env_remove("REDIS_URL")
                .env_remove("CHATSPHERE_REDIS_PREFIX"),
        };
        command.envs(extra.iter().copied());
        let mut process = ServerProcess {
            address: address.clone(),
            child: command.spawn().expect("server binary starts"),
        };
        loop {
            if reqwest::get(format!("{address}/health"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                exits.push(status);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "server process on port {port} did not start (earlier attempts exited: {exits:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            Instant::now() < deadline,
            "server process on port {port} did not start: every attempt exited ({exits:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
