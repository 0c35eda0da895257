//! A Redis of the test's own, so a chaos run can kill it and start it again
//! without touching the Redis other tests share: `redis-server` as a child
//! process on a free loopback port, with nothing saved to disk (a restart
//! comes back empty, as a Redis used only for pub/sub and counters may).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::processes::free_port;

/// How long a started Redis may take to answer PING.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// `redis-server` on its own port; killed when dropped.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits for it to
    /// answer. Panics when it is not installed: this test is compiled in only
    /// with `TEST_REDIS_URL` set, where a Redis server is expected.
    pub async fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart().await;
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: connections drop at once, nothing is
    /// saved) and reaps it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("redis-server is running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on the same port and waits until it answers
    /// PING (a port not free again yet is retried until the deadline).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "redis-server is already running");
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let mut child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port"])
                .arg(self.port.to_string())
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| {
                    panic!(
                        "redis-server could not be started ({err}): the Redis restart chaos \
                         test needs it installed beside the Redis of TEST_REDIS_URL"
                    )
                });
            loop {
                if answers_ping(self.port) {
                    self.child = Some(child);
                    return;
                }
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(
                        Instant::now() < deadline,
                        "redis-server on port {} keeps exiting: {status}",
                        self.port
                    );
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server on port {} did not answer PING",
                    self.port
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
    }
}

/// Whether a Redis on `port` answers `PING` with `+PONG`.
fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
