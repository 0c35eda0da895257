//! The deployment's nginx configuration in front of two server processes
//! that share PostgreSQL and Redis. Debian's nginx runs unprivileged on a
//! free loopback port with a configuration of this test's own (port, pid,
//! logs, temporary files, a loopback upstream list) whose server block
//! includes the repository's `deploy/nginx/chatsphere.conf` itself. Two
//! users then talk through nginx only, their WebSockets on different
//! processes.
//!
//! Skipped without PostgreSQL and Redis (like the other multi-process
//! tests) or without `/usr/sbin/nginx` (`scripts/setup.sh --test` installs
//! it); with `CI=true` all three are mandatory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{User, GOOD_PASSWORD};
use crate::processes::{server_process, Backend, ServerProcess};
use crate::support::{create_pg_database, drop_pg_database, required, service_url, with_cleanup};
use crate::ws::{drain, next_json, next_of, send, Socket};

/// Debian's nginx.
const NGINX: &str = "/usr/sbin/nginx";
/// How long nginx may take to answer `GET /health` through to a process.
const NGINX_START: Duration = Duration::from_secs(10);
/// How long nginx may take to stop after SIGTERM before it is killed.
const NGINX_STOP: Duration = Duration::from_secs(5);
/// Connections of the second user before its WebSocket must have landed on
/// the other process.
const SPLIT_TRIES: usize = 10;
/// How long a process's connection count may take to show a change.
const COUNT_SETTLES: Duration = Duration::from_secs(5);
/// The whole test, processes and nginx included.
const WHOLE_TEST: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn users_on_two_processes_chat_live_through_the_deployments_nginx() {
    let (Some(admin), Some(redis)) = (
        service_url("TEST_DATABASE_URL"),
        service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    if !nginx_installed() {
        return;
    }
    let (database_url, name) = create_pg_database(&admin).await;
    let test = tokio::time::timeout(WHOLE_TEST, chat_through_nginx(&database_url, &redis, &name));
    with_cleanup(test, drop_pg_database(&admin, &name))
        .await
        .expect("the nginx test finishes within two minutes");
}

/// Whether nginx is there; panics in CI when it is not.
fn nginx_installed() -> bool {
    if Path::new(NGINX).is_file() {
        return true;
    }
    assert!(
        !required(),
        "{NGINX} is missing: with CI=true the nginx test is mandatory \
         (scripts/setup.sh --test installs Debian's nginx package)"
    );
    eprintln!(
        "{NGINX} not installed: skipping the nginx test (scripts/setup.sh --test installs it)"
    );
    false
}

async fn chat_through_nginx(database_url: &str, redis: &str, name: &str) {
    let prefix = format!("chatsphere-nginx-test:{name}:");
    let data = tempfile::tempdir().unwrap();
    let [nginx_port, port_a, port_b] = distinct_free_ports();
    let origin = format!("http://127.0.0.1:{nginx_port}");
    let backend = Backend {
        database_url: Some(database_url),
        redis: Some((redis, &prefix)),
    };
    // As deployed: the processes know the origin users browse to (nginx's).
    let behind_nginx = [
        ("CHATSPHERE_PUBLIC_URL", origin.as_str()),
        ("CHATSPHERE_ALLOWED_ORIGINS", origin.as_str()),
        ("CHATSPHERE_TRUSTED_PROXIES", "127.0.0.1"),
    ];
    let processes = [
        server_process(port_a, backend, data.path(), &behind_nginx).await,
        server_process(port_b, backend, data.path(), &behind_nginx).await,
    ];
    let nginx = Nginx::start(nginx_port, &[port_a, port_b]).await;
    let http = reqwest::Client::new();

    // nginx gives a request without an id its own, which the app keeps and
    // returns; a client's id passes through.
    let response = http.get(format!("{origin}/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let id = request_id(&response);
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "nginx's $request_id reaches the app, got {id:?}"
    );
    let response = http
        .get(format!("{origin}/health"))
        .header("x-request-id", "from-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&response), "from-the-client");

    let ann = register(&http, &origin, "ann").await;
    let ben = register(&http, &origin, "ben").await;
    let dm = open_dm(&http, &origin, &ann, &ben).await;
    let (mut ann_socket, mut ben_socket) =
        connect_apart(&http, &origin, &processes, &ann, &ben).await;
    for socket in [&mut ann_socket, &mut ben_socket] {
        drain(socket, Duration::from_millis(300)).await; // presence changes
    }

    send(
        &mut ann_socket,
        json!({"type": "send", "conversation_id": dm, "client_msg_id": "n1", "body": "hi Ben, via nginx"}),
    )
    .await;
    let ack = next_of(&mut ann_socket, "ack").await;
    assert!(ack["error"].is_null(), "{ack}");
    let event = next_of(&mut ben_socket, "message").await;
    assert_eq!(event["message"]["body"], "hi Ben, via nginx");
    assert_eq!(event["message"]["id"], ack["message_id"]);

    let history: Value = http
        .get(format!("{origin}/api/v1/messages/direct/{}", ann.id))
        .bearer_auth(&ben.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("a history page: {history}"))
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["hi Ben, via nginx"]);

    // The spec's WebSocket form carries the token in the query string: the
    // access log has the path, never the query.
    let _ = http
        .get(format!("{origin}/ws?token={}", ann.token))
        .send()
        .await
        .unwrap();
    // nginx writes its access log after the response: wait for the line.
    let mut log = nginx.access_log();
    for _ in 0..40 {
        if log.contains("\"GET /ws HTTP/1.1\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        log = nginx.access_log();
    }
    assert!(
        log.contains("\"GET /ws HTTP/1.1\""),
        "the path is logged: {log}"
    );
    assert!(
        !log.contains(&ann.token),
        "a token reached nginx's access log"
    );
    assert!(
        !log.contains("token="),
        "a query string reached nginx's access log"
    );
}

/// Ann's and Ben's WebSockets through nginx, on different processes: Ben
/// connects again until nginx has put him on the process Ann is not on.
async fn connect_apart(
    http: &reqwest::Client,
    origin: &str,
    processes: &[ServerProcess; 2],
    ann: &User,
    ben: &User,
) -> (Socket, Socket) {
    let ann_socket = connect(origin, ann).await;
    let counts = settled_counts(http, processes, 1).await;
    let ann_on = counts.iter().position(|&c| c == 1).unwrap();
    for _ in 0..SPLIT_TRIES {
        let ben_socket = connect(origin, ben).await;
        if settled_counts(http, processes, 2).await[ann_on] == 1 {
            return (ann_socket, ben_socket);
        }
        drop(ben_socket);
        settled_counts(http, processes, 1).await;
    }
    panic!("nginx never put Ben's WebSocket on the other process in {SPLIT_TRIES} tries");
}

/// Each process's open WebSockets (its `/health`), once they add up to `total`.
async fn settled_counts(
    http: &reqwest::Client,
    processes: &[ServerProcess; 2],
    total: u64,
) -> [u64; 2] {
    let deadline = Instant::now() + COUNT_SETTLES;
    loop {
        let mut counts = [0; 2];
        for (count, process) in counts.iter_mut().zip(processes) {
            let health: Value = http
                .get(format!("{}/health", process.address))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            *count = health["active_connections"].as_u64().unwrap();
        }
        if counts.iter().sum::<u64>() == total {
            return counts;
        }
        assert!(
            Instant::now() < deadline,
            "the processes hold {counts:?} WebSockets, expected {total} in all"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `who`'s WebSocket through nginx as a browser on the site would
/// (its Origin), with a bearer token, and waits for `ready`.
async fn connect(origin: &str, who: &User) -> Socket {
    let url = format!("{}/ws", origin.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    let bearer = format!("Bearer {}", who.token);
    headers.insert("authorization", HeaderValue::from_str(&bearer).unwrap());
    headers.insert("origin", HeaderValue::from_str(origin).unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket handshake passes through nginx");
    let ready = next_json(&mut socket).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    socket
}

async fn register(http: &reqwest::Client, origin: &str, username: &str) -> User {
    let response = http
        .post(format!("{origin}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "registering {username}: {body}");
    User {
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn open_dm(http: &reqwest::Client, origin: &str, from: &User, to: &User) -> String {
    let response = http
        .post(format!("{origin}/api/v1/conversations/direct"))
        .bearer_auth(&from.token)
        .json(&json!({"user_id": to.id}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

fn request_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Three loopback ports that were free a moment ago, all different.
fn distinct_free_ports() -> [u16; 3] {
    let listeners: Vec<_> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let port = |i: usize| listeners[i].local_addr().unwrap().port();
    [port(0), port(1), port(2)]
}

/// nginx in the foreground with everything it writes in a temporary
/// directory; stopped when dropped.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx on `port` in front of the processes on `upstreams` and
    /// waits until a request reaches one of them.
    async fn start(port: u16, upstreams: &[u16]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Run as root, nginx's workers drop to `nobody`: they must be able
        // to reach their temporary directories in here.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), port, upstreams)).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Self { child, dir };
        let health = format!("http://127.0.0.1:{port}/health");
        let deadline = Instant::now() + NGINX_START;
        loop {
            if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                return nginx;
            }
            let exited = nginx.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "nginx did not serve /health (exit: {exited:?}); its error log:\n{}",
                nginx.error_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    /// SIGTERM (the master stops its workers too), SIGKILL if that is not
    /// enough in time.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + NGINX_STOP;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test's nginx.conf: everything nginx writes goes to `dir`, it listens
/// on loopback `port` and balances over `upstreams` like
/// deploy/nginx/upstreams.conf does; the server block is the repository's.
fn config(dir: &Path, port: u16, upstreams: &[u16]) -> String {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p};\n"))
        .collect();
    let site = quoted(&repository_file("deploy/nginx/chatsphere.conf"));
    let logging = quoted(&repository_file("deploy/nginx/logging.conf"));
    let at = |name: &str| quoted(&dir.join(name));
    format!(
        "worker_processes 1;
pid {pid};
error_log {error_log} warn;
events {{
    worker_connections 256;
}}
http {{
    include {logging};
    access_log {access_log} chatsphere;
    client_body_temp_path {body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
    upstream chatsphere {{
        least_conn;
{servers}        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {site};
    }}
}}
",
        pid = at("nginx.pid"),
        error_log = at("error.log"),
        access_log = at("access.log"),
        body = at("client_body"),
        proxy = at("proxy"),
        fastcgi = at("fastcgi"),
        uwsgi = at("uwsgi"),
        scgi = at("scgi"),
    )
}

/// A file of the checkout, by its path from the repository's root.
fn repository_file(path: &str) -> PathBuf {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    file.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// `path` as a quoted nginx argument.
fn quoted(path: &Path) -> String {
    let path = path.display().to_string();
    assert!(!path.contains(['"', '\\']), "unusual path {path}");
    format!("\"{path}\"")
}
