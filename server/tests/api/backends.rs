//! The same server on PostgreSQL and Redis, switched by configuration alone.

use serde_json::Value;

use crate::helpers::{service_url, TestApp};

#[tokio::test]
async fn postgres_and_redis_urls_switch_backends_and_health_reports_both() {
    let (Some(admin), Some(redis)) = (
        service_url("TEST_DATABASE_URL"),
        service_url("TEST_REDIS_URL"),
    ) else {
        return;
    };
    let name = format!("chatsphere_api_{}", uuid::Uuid::now_v7().simple());
    let database_url = create_database(&admin, &name).await;
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
    drop_database(&admin, &name).await;

    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["database_backend"], "postgres");
    assert_eq!(health["database"], "connected");
    assert_eq!(health["redis"], "connected");
    assert_eq!(rooms["rooms"].as_array().unwrap().len(), 3);
}

#[tokio::test]
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

async fn create_database(admin: &str, name: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("TEST_DATABASE_URL reachable");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = &base[..base
        .rfind('/')
        .filter(|&i| i > base.find("://").unwrap() + 2)
        .unwrap_or(base.len())];
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

async fn drop_database(admin: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
