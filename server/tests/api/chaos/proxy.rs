//! A loopback TCP proxy in front of PostgreSQL that can lose the answer to
//! a COMMIT: it passes the COMMIT on, stops passing anything back, and cuts
//! the connection a moment later. The transaction is committed but the
//! server sees its connection break, as when the database or the network
//! fails between the commit and its answer; the send must then be answered
//! with an error that says to retry, and the retry must find the stored
//! message (a duplicate ack with its original id and sequence number).
//!
//! It reads the client's side of the wire protocol (a length-prefixed
//! start-up message, then messages of one type byte and a length), so the
//! connections through it must not use TLS (`sslmode=disable`); sqlx sends
//! COMMIT as a simple query (`Q`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long a cut connection stays silent before it is closed (the COMMIT
/// has long been carried out by then).
const SILENCE: Duration = Duration::from_millis(300);

/// The proxy; it stops when dropped.
pub struct PgProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: JoinHandle<()>,
}

struct Shared {
    /// `host:port` of PostgreSQL.
    upstream: String,
    /// The next COMMIT's answer is to be lost.
    armed: AtomicBool,
    /// Answers lost so far.
    cuts: AtomicUsize,
    /// Told after each cut.
    cut: Notify,
}

impl PgProxy {
    /// A proxy on a free loopback port in front of PostgreSQL at `upstream`
    /// (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            armed: AtomicBool::new(false),
            cuts: AtomicUsize::new(0),
            cut: Notify::new(),
        });
        let acceptor = tokio::spawn(accept(listener, shared.clone()));
        Self {
            port,
            shared,
            acceptor,
        }
    }

    /// `url` (a `postgres://` URL of the upstream) pointed at the proxy,
    /// without TLS.
    pub fn url(&self, url: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = url.replacen(
            &self.shared.upstream,
            &format!("127.0.0.1:{}", self.port),
            1,
        );
        format!("{url}{separator}sslmode=disable")
    }

    /// Loses the answer to the next COMMIT that passes, and waits until it
    /// did (`false` if none passed within `patience`).
    pub async fn lose_next_commit_answer(&self, patience: Duration) -> bool {
        let before = self.shared.cuts.load(Ordering::SeqCst);
        let cut = self.shared.cut.notified();
        tokio::pin!(cut);
        cut.as_mut().enable();
        self.shared.armed.store(true, Ordering::SeqCst);
        let _ = tokio::time::timeout(patience, cut).await;
        self.shared.armed.store(false, Ordering::SeqCst);
        self.shared.cuts.load(Ordering::SeqCst) > before
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(relay(client, shared.clone()));
    }
}

/// Relays one connection until either side closes it, or a COMMIT's answer
/// is lost.
async fn relay(client: TcpStream, shared: Arc<Shared>) {
    let Ok(upstream) = TcpStream::connect(&shared.upstream).await else {
        return; // the client sees its connection close, as with PostgreSQL down
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_upstream, mut to_upstream) = upstream.into_split();
    // Answers are passed back until `silenced`; after that they are read
    // and dropped, and the client's connection stays open but silent.
    let silenced = Arc::new(AtomicBool::new(false));
    let silent = silenced.clone();
    let answers = tokio::spawn(async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = match from_upstream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            if !silent.load(Ordering::SeqCst) && to_client.write_all(&buffer[..read]).await.is_err()
            {
                break;
            }
        }
    });
    // The start-up message has no type byte: its length comes first.
    let mut typed = false;
    loop {
        let mut header = [0u8; 5];
        let head = if typed {
            &mut header[..]
        } else {
            &mut header[1..]
        };
        if from_client.read_exact(head).await.is_err() {
            break;
        }
        let length = u32::from_be_bytes(header[1..5].try_into().unwrap()) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        if from_client.read_exact(&mut body).await.is_err() {
            break;
        }
        let commit = typed
            && header[0] == b'Q'
            && body.len() >= 6
            && body[..6].eq_ignore_ascii_case(b"COMMIT");
        let lose = commit && shared.armed.swap(false, Ordering::SeqCst);
        if lose {
            // Nothing more goes back to the client, from now on (it has
            // read every earlier answer: it waits for each before sending
            // the next statement of a transaction).
            silenced.store(true, Ordering::SeqCst);
        }
        let frame = if typed { &header[..] } else { &header[1..] };
        if to_upstream.write_all(frame).await.is_err()
            || to_upstream.write_all(&body).await.is_err()
        {
            break;
        }
        typed = true;
        if lose {
            tokio::time::sleep(SILENCE).await;
            break;
        }
    }
    // Dropping the halves closes both connections.
    answers.abort();
    if silenced.load(Ordering::SeqCst) {
        shared.cuts.fetch_add(1, Ordering::SeqCst);
        shared.cut.notify_waiters();
    }
}
