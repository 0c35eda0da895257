//! A PostgreSQL of the test's own, so a chaos run can stop it and start it
//! again without touching the cluster other tests share: `initdb` into a
//! temporary directory (trust authentication, loopback only, its socket in
//! that directory), then `pg_ctl` to start it on a free port and again on
//! the same port after the test stopped it in immediate mode (SIGQUIT to the
//! postmaster: every backend killed at once, as in a crash; the restart
//! runs crash recovery).
//!
//! PostgreSQL refuses to run as root; when the tests do (CI does), its
//! programs run as the `postgres` user through `runuser`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::processes::free_port;

/// A throwaway PostgreSQL instance; stopped when dropped, its directory removed.
pub struct PgServer {
    /// `initdb`, `pg_ctl` and friends.
    bin: PathBuf,
    /// Holds the data directory, the socket and the server's log.
    dir: tempfile::TempDir,
    port: u16,
    /// `Some("postgres")` when the tests run as root.
    run_as: Option<&'static str>,
    running: bool,
}

impl PgServer {
    /// Creates a cluster in a temporary directory and starts it on a free
    /// loopback port. Panics with the reason when PostgreSQL's server
    /// programs are missing: this test is compiled in only with
    /// `TEST_DATABASE_URL` set, where a PostgreSQL installation is expected.
    pub async fn start() -> Self {
        let bin = server_bin_dir().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's initdb was found neither in /usr/lib/postgresql/*/bin nor on \
                 PATH: the PostgreSQL restart chaos test needs the server programs"
            )
        });
        let run_as = running_as_root().then_some("postgres");
        let dir = tempfile::tempdir().expect("temporary directory");
        if let Some(user) = run_as {
            let status = std::process::Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "the tests run as root, so PostgreSQL must run as the '{user}' user, \
                 which could not be given {}",
                dir.path().display()
            );
        }
        let mut server = Self {
            bin,
            dir,
            port: free_port(),
            run_as,
            running: false,
        };
        let data = server.data();
        server
            .run(
                "initdb",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
            )
            .await;
        server.restart().await;
        server
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server in immediate mode, as `pg_ctl -m immediate stop`
    /// does but without its start-up delay (the signal goes straight to the
    /// postmaster, so the stop lands closer to the moment chosen): every
    /// backend is killed at once, transactions in flight are lost, and the
    /// next start recovers from the write-ahead log as after a crash.
    /// Returns once the postmaster is gone.
    pub async fn crash(&mut self) {
        assert!(self.running, "PostgreSQL is running");
        let pid_file = self.data().join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.lines().next().map(str::to_owned))
            .expect("postmaster.pid names the postmaster");
        let status = Command::new("kill")
            .args(["-QUIT", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(
            status.success(),
            "SIGQUIT delivered to the postmaster {pid}"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while pid_file.exists() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not stop after SIGQUIT:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.running = false;
    }

    /// Starts the server (again) on its port and waits until it accepts
    /// connections.
    pub async fn restart(&mut self) {
        assert!(!self.running, "PostgreSQL is already running");
        let data = self.data();
        let log = self.dir.path().join("postgres.log");
        // fsync is off: an immediate stop is not a power cut, so what was
        // committed is in the operating system's cache and survives it.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
        .await;
        self.running = true;
    }

    /// The last 60 lines of the server's log, for a failure's diagnosis.
    pub fn log(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of PostgreSQL's programs (as the `postgres` user when the
    /// tests run as root) and panics with its output when it fails.
    async fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|err| panic!("{} could not be run: {err}", path.display()));
        assert!(
            output.status.success(),
            "{program} {args:?} failed ({}): {}{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data();
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = std::process::Command::new("runuser");
                command.args(["-u", user, "--"]).arg(pg_ctl);
                command
            }
            None => std::process::Command::new(pg_ctl),
        };
        let _ = command
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The directory of the newest installed PostgreSQL's server programs
/// (Debian keeps them in `/usr/lib/postgresql/<version>/bin`, off PATH),
/// else the one holding `initdb` on PATH.
fn server_bin_dir() -> Option<PathBuf> {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    newest.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        })
    })
}

/// Whether this process runs as root.
fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
