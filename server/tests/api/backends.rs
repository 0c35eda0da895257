//! The same server on PostgreSQL and Redis, switched by configuration alone.

use serde_json::Value;

use crate::helpers::TestApp;
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn postgres_and_redis_urls_switch_backends_and_health_reports_both() {
    let (Some(admin), Some(redis)) = (
        support::service_url("TEST_DATABASE_URL"),
        support::service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = support::create_pg_database(&admin).await;
    let prefix = format!("chatsphere-api-test:{name}:");
    let app = TestApp::spawn_with(&[
        ("DATABASE_URL", &database_url),
        ("REDIS_URL", &redis),
        ("CHATSPHERE_REDIS_PREFIX", &prefix),
    ])
    .await;

    let health: Value = app.get("/health").await.json().await.unwrap();
    let rooms: Value = app.get("/api/v1/rooms").await.json().await.unwrap();
    app.shutdown().await.unwrap();
    support::drop_pg_database(&admin, &name).await;

    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["database_backend"], "postgres");
    assert_eq!(health["database"], "connected");
    assert_eq!(health["redis"], "connected");
    assert_eq!(rooms["rooms"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_stops_start_up_with_an_error() {
    let data = tempfile::tempdir().unwrap();
    let vars = std::collections::HashMap::from([
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_owned()),
        ("CHATSPHERE_DATA_DIR", data.path().display().to_string()),
        ("REDIS_URL", "redis://127.0.0.1:1".to_owned()),
    ]);
    let (config, _) = server::Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let err = server::Application::build(&config)
        .await
        .err()
        .expect("start-up fails");
    assert!(err.to_string().starts_with("redis"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_available, redis_available)),
    ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)"
)]
async fn two_processes_on_postgres_and_redis_share_sessions_deny_list_and_throttle() {
    let (Some(admin), Some(redis)) = (
        support::service_url("TEST_DATABASE_URL"),
        support::service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let (database_url, name) = support::create_pg_database(&admin).await;
    let prefix = format!("chatsphere-api-test:{name}:");
    let vars = [
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("CHATSPHERE_REDIS_PREFIX", prefix.as_str()),
    ];
    let body = async {
        let a = TestApp::spawn_with(&vars).await;
        let b = TestApp::spawn_with(&vars).await;
        let signed_in = a.register("shared").await;
        let token = signed_in["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = b
            .send(reqwest::Method::GET, "/api/v1/auth/me", None, Some(&token))
            .await;
        assert_eq!(
            me.status(),
            200,
            "a token from one process works on the other"
        );

        // A connection to B in that session.
        let who = crate::helpers::User {
            id: signed_in["user"]["id"].as_str().unwrap().to_owned(),
            token: token.clone(),
        };
        let mut socket = crate::ws::connect(&b, &who).await;

        // Sign out on A: B refuses the token at once (deny list in Redis)
        // and closes the session's connection (announced through Redis).
        let started = std::time::Instant::now();
        let out = a
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/logout",
                None,
                Some(&token),
            )
            .await;
        assert_eq!(out.status(), 204);
        let me = b
            .send(reqwest::Method::GET, "/api/v1/auth/me", None, Some(&token))
            .await;
        assert_eq!(me.status(), 401);
        assert_eq!(
            crate::ws::close_code(&mut socket, 5).await,
            Some(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Policy)
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "closed by the announcement: {:?}",
            started.elapsed()
        );

        // Failures on either process count against the same limit.
        let wrong = serde_json::json!({"login": "shared", "password": "wrong-password-x"});
        for app in [&a, &b, &a, &b, &a] {
            assert_eq!(app.post("/api/v1/auth/login", &wrong).await.status(), 401);
        }
        let right =
            serde_json::json!({"login": "shared", "password": crate::helpers::GOOD_PASSWORD});
        assert_eq!(b.post("/api/v1/auth/login", &right).await.status(), 429);
        a.shutdown().await.unwrap();
        b.shutdown().await.unwrap();
    };
    support::with_cleanup(body, support::drop_pg_database(&admin, &name)).await;
}
