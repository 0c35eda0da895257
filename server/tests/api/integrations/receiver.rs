//! A receiver of outgoing webhooks on a free loopback port: it keeps what
//! it got per path and answers as scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub(super) struct Received {
    pub(super) at: Instant,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

type Answer = (u16, String);

#[derive(Default)]
struct Shared {
    /// Requests, per path.
    received: Vec<(String, Received)>,
    /// Answers to give, per path, in order; then 200 and an empty body.
    script: Vec<(String, VecDeque<Answer>)>,
    /// How long each answer takes, per path (none: at once).
    delays: Vec<(String, Duration)>,
    /// Requests being answered, and the most there were at once, per path.
    open: Vec<(String, usize, usize)>,
}

impl Shared {
    /// `path`'s open requests and their peak.
    fn open(&mut self, path: &str) -> &mut (String, usize, usize) {
        if let Some(i) = self.open.iter().position(|(p, ..)| p == path) {
            return &mut self.open[i];
        }
        self.open.push((path.to_owned(), 0, 0));
        self.open.last_mut().unwrap()
    }
}

/// A receiver of outgoing webhooks on a free loopback port.
pub(super) struct Receiver {
    pub(super) origin: String,
    shared: Arc<Mutex<Shared>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn take(
    State(shared): State<Arc<Mutex<Shared>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let (answer, delay) = {
        let mut shared = shared.lock().unwrap();
        record(&mut shared, &path, headers, body)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    shared.lock().unwrap().open(&path).1 -= 1;
    (StatusCode::from_u16(answer.0).unwrap(), answer.1)
}

/// Keeps a request; its answer, and how long to take.
fn record(
    shared: &mut Shared,
    path: &str,
    headers: HeaderMap,
    body: Bytes,
) -> (Answer, Option<Duration>) {
    let open = shared.open(path);
    open.1 += 1;
    open.2 = open.2.max(open.1);
    shared.received.push((
        path.to_owned(),
        Received {
            at: Instant::now(),
            headers,
            body,
        },
    ));
    let answer = shared
        .script
        .iter_mut()
        .find(|(p, _)| p == path)
        .and_then(|(_, answers)| answers.pop_front())
        .unwrap_or((200, String::new()));
    let delay = shared
        .delays
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, d)| *d);
    (answer, delay)
}

impl Receiver {
    pub(super) async fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/in/{path}", post(take))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            origin,
            shared,
            _task: task,
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/in/{path}", self.origin)
    }

    /// Answers `path`'s next requests with these.
    pub(super) fn answer(&self, path: &str, answers: &[(u16, &str)]) {
        self.shared.lock().unwrap().script.push((
            path.to_owned(),
            answers.iter().map(|(s, b)| (*s, (*b).to_owned())).collect(),
        ));
    }

    /// Takes `delay` over each answer to `path`.
    pub(super) fn slow(&self, path: &str, delay: Duration) {
        self.shared
            .lock()
            .unwrap()
            .delays
            .push((path.to_owned(), delay));
    }

    /// The most requests to `path` that were open at once.
    pub(super) fn peak(&self, path: &str) -> usize {
        self.shared.lock().unwrap().open(path).2
    }

    pub(super) fn received(&self, path: &str) -> Vec<Received> {
        let shared = self.shared.lock().unwrap();
        shared
            .received
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Waits (at most 20 s) until `path` got `count` requests.
    pub(super) async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.received(path);
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
