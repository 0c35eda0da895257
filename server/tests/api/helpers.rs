//! [`TestApp`]: a real server on a free loopback port with a fresh database.

use std::collections::HashMap;

use server::{Application, Config};
use services::Services;
use tokio::sync::oneshot;

/// A password the server accepts.
pub const GOOD_PASSWORD: &str = "amber-lantern-58-walrus";

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The server's services, to arrange data directly.
    pub services: Services,
    /// An HTTP client that does not follow redirects.
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _data: tempfile::TempDir,
    /// `(admin URL, database)` of a PostgreSQL database to drop afterwards.
    pg_database: Option<(String, String)>,
    /// The PostgreSQL database's URL (`None`: SQLite in the data directory).
    pg_url: Option<String>,
}

/// Set to `postgres-redis` (scripts/test.sh does, in a second run) to run
/// every API test against a fresh PostgreSQL database and Redis instead of
/// SQLite and the in-process bus.
pub const BACKEND_VAR: &str = "CHATSPHERE_TEST_BACKEND";

/// Whether this run uses PostgreSQL + Redis.
pub fn on_postgres_and_redis() -> bool {
    std::env::var(BACKEND_VAR).is_ok_and(|v| v == "postgres-redis")
}

impl TestApp {
    /// The server's data directory (its SQLite file is `chatsphere.db`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    /// The PostgreSQL database's URL; `None` on SQLite (`chatsphere.db`
    /// in [`TestApp::data_dir`]).
    pub fn pg_url(&self) -> Option<&str> {
        self.pg_url.as_deref()
    }
}

impl TestApp {
    /// A server with a fresh database: SQLite and the in-process bus in a
    /// temporary directory, or PostgreSQL and Redis (see [`BACKEND_VAR`]).
    pub async fn spawn() -> Self {
        Self::spawn_configured(&[]).await
    }

    /// Like [`TestApp::spawn`] (same backend choice), with extra variables.
    pub async fn spawn_configured(extra: &[(&str, &str)]) -> Self {
        if !on_postgres_and_redis() {
            return Self::spawn_with(extra).await;
        }
        let admin =
            std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL with postgres-redis");
        let redis = std::env::var("TEST_REDIS_URL").expect("TEST_REDIS_URL with postgres-redis");
        let (url, name) = crate::support::create_pg_database(&admin).await;
        let prefix = format!("chatsphere-api-test:{name}:");
        let mut vars = vec![
            ("DATABASE_URL", url.as_str()),
            ("REDIS_URL", redis.as_str()),
            ("CHATSPHERE_REDIS_PREFIX", prefix.as_str()),
        ];
        vars.extend_from_slice(extra);
        let mut app = Self::spawn_with(&vars).await;
        app.pg_database = Some((admin, name));
        app.pg_url = Some(url);
        app
    }

    /// A server with extra configuration variables (e.g. `DATABASE_URL`).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut env: HashMap<String, String> = HashMap::from([
            ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
            (
                "CHATSPHERE_DATA_DIR".into(),
                data.path().display().to_string(),
            ),
            (
                "CHATSPHERE_JWT_SECRET".into(),
                "test-secret-test-secret-test-secret".into(),
            ),
            // Presence changes show within a test's patience.
            ("CHATSPHERE_PRESENCE_GRACE".into(), "0.3".into()),
            ("CHATSPHERE_PRESENCE_TTL".into(), "3".into()),
            // Tests make many requests from one address; edge.rs tests the budgets.
            ("CHATSPHERE_RATE_LIMIT_API".into(), "100000/min".into()),
            ("CHATSPHERE_RATE_LIMIT_AUTH".into(), "100000/min".into()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (config, _) = Config::from_lookup(|name| env.get(name).cloned()).expect("test config");
        let app = Application::build(&config).await.expect("server starts");
        let address = format!("http://{}", app.local_addr());
        let services = app.state().services.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            address,
            services,
            client,
            stop: Some(stop),
            server: Some(server),
            _data: data,
            pg_database: None,
            pg_url: None,
        }
    }

    /// Runs one SQL statement on the server's database, for what no API
    /// does (a verified email address: only sign-in providers verify).
    pub async fn sql(&self, statement: &str) {
        use sqlx::Connection as _;
        match &self.pg_url {
            Some(url) => {
                let mut db = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(statement).execute(&mut db).await.unwrap();
            }
            None => {
                let url = format!(
                    "sqlite://{}",
                    self.data_dir().join("chatsphere.db").display()
                );
                let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(statement).execute(&mut db).await.unwrap();
            }
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// Sends `method path` with a JSON body and an optional bearer token.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        bearer: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body), None)
            .await
    }

    /// Registers `username` with a good password; returns the sign-in JSON.
    pub async fn register(&self, username: &str) -> serde_json::Value {
        let body = serde_json::json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": GOOD_PASSWORD,
        });
        let response = self.post("/api/v1/auth/register", &body).await;
        assert_eq!(response.status(), 201, "registering {username}");
        response.json().await.unwrap()
    }

    /// Asks the server to stop and waits until it has.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server
            .take()
            .expect("running")
            .await
            .expect("server task")
    }
}

/// The one-time message a response hands to the next page (its `cs_flash`
/// cookie), if it sets one.
pub fn flash(response: &reqwest::Response) -> Option<app::flash::Flash> {
    use axum_extra::extract::cookie::Cookie;
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| Cookie::parse_encoded(v.to_owned()).ok())
        .rfind(|c| c.name() == "cs_flash" && !c.value().is_empty())
        .and_then(|c| app::flash::ssr::parse(c.value()))
}

/// The media type of a response, without parameters.
pub fn media_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
        .unwrap_or_default()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_database.take() {
            // Drop runs inside the test's runtime: clean up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(crate::support::drop_pg_database(&admin, &name));
            })
            .join();
        }
    }
}

/// A registered, signed-in user: id and access token.
pub struct User {
    /// The user's id.
    pub id: String,
    /// An access token for `Authorization: Bearer`.
    pub token: String,
}

/// Registers `name` on `app` and returns their id and token.
pub async fn user(app: &TestApp, name: &str) -> User {
    let signed_in = app.register(name).await;
    User {
        id: signed_in["user"]["id"].as_str().unwrap().to_owned(),
        token: signed_in["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

/// `method path` as `who` (with a JSON body, if any): the status and the
/// JSON answer (`null` when there is none). Every refusal must be a
/// problem document.
pub async fn call(
    app: &TestApp,
    who: &User,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let response = app
        .send(method, path, body.as_ref(), Some(&who.token))
        .await;
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(media_type(&response), "application/problem+json", "{path}");
    }
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Sends `body` to `conversation` as `who` over the REST API (a new client
/// id each time) and returns the stored message; anything but 201 fails.
pub async fn say(app: &TestApp, who: &User, conversation: &str, body: &str) -> serde_json::Value {
    let (status, sent) = call(
        app,
        who,
        reqwest::Method::POST,
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(serde_json::json!({"client_msg_id": uuid::Uuid::now_v7().to_string(), "body": body})),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    sent["message"].clone()
}

/// The newest page of a group's history as `who` reads it (anything but
/// 200 fails), newest first.
pub async fn group_history(
    app: &TestApp,
    who: &User,
    conversation: &str,
) -> Vec<serde_json::Value> {
    let (status, page) = call(
        app,
        who,
        reqwest::Method::GET,
        &format!("/api/v1/messages/group/{conversation}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["messages"].as_array().unwrap().clone()
}

/// The id of the public room named `name`, as `who` finds it in the directory.
pub async fn room_id(app: &TestApp, who: &User, name: &str) -> String {
    let (status, rooms) = call(app, who, reqwest::Method::GET, "/api/v1/rooms", None).await;
    assert_eq!(status, 200, "{rooms}");
    rooms["rooms"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["name"] == name))
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no room {name} in {rooms}"))
        .to_owned()
}
