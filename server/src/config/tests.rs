use std::collections::HashMap;

use super::*;

/// The configuration from `vars`; without `CHATSPHERE_DATA_DIR`, a
/// temporary one (development writes its keys there, never into the
/// source tree).
fn load(vars: &[(&str, &str)]) -> Result<(Config, Vec<String>), ConfigError> {
    let scratch = tempfile::tempdir().unwrap();
    let mut map: HashMap<String, String> = HashMap::from([(
        "CHATSPHERE_DATA_DIR".to_owned(),
        scratch.path().display().to_string(),
    )]);
    map.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn defaults_need_no_services_and_keep_data_under_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (config, warnings) = load(&[("CHATSPHERE_DATA_DIR", data.to_str().unwrap())]).unwrap();
    assert_eq!(config.environment, Environment::Development);
    assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(
        config.database_url.expose_secret(),
        &format!("sqlite://{}/chatsphere.db", data.display())
    );
    assert_eq!(config.database_kind(), "sqlite");
    assert!(config.redis_url.is_none());
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(
        config.allowed_origins,
        ["http://127.0.0.1:3000", "http://localhost:3000"]
    );
    assert_eq!(config.site_root, "target/site");
    assert_eq!(warnings.len(), 1, "warns about the generated secret");
    assert!(warnings[0].contains("CHATSPHERE_JWT_SECRET"));
}

#[test]
fn development_secret_is_generated_once_then_reused_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap())];
    let (first, warnings) = load(&vars).unwrap();
    assert!(warnings[0].contains("just generated"));
    let (second, warnings) = load(&vars).unwrap();
    assert!(warnings[0].contains("kept in"));
    assert_eq!(
        first.jwt_secret.expose_secret(),
        second.jwt_secret.expose_secret()
    );
    assert!(first.jwt_secret.expose_secret().len() >= MIN_SECRET_LEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "secret file is readable by its owner only");
    }
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(&[
        ("CHATSPHERE_ENV", "production"),
        ("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap()),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("CHATSPHERE_JWT_SECRET"), "{err}");
    assert!(
        !dir.path().join("jwt-secret").exists(),
        "nothing is generated in production"
    );
}

#[test]
fn production_with_a_secret_starts_and_logs_json() {
    let secret = "s".repeat(40);
    let key = services::notify::VapidKey::generate().private_base64();
    let (config, warnings) = load(&[
        ("CHATSPHERE_ENV", "production"),
        ("CHATSPHERE_JWT_SECRET", &secret),
        ("CHATSPHERE_VAPID_PRIVATE_KEY", &key),
    ])
    .unwrap();
    assert_eq!(config.environment, Environment::Production);
    assert_eq!(config.log_format, LogFormat::Json);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        config.notify.vapid_key.map(|k| k.private_base64()),
        Some(key)
    );
}

#[test]
fn production_without_a_vapid_key_starts_without_push_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s".repeat(40);
    let (config, warnings) = load(&[
        ("CHATSPHERE_ENV", "production"),
        ("CHATSPHERE_JWT_SECRET", &secret),
        ("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap()),
    ])
    .unwrap();
    assert!(config.notify.vapid_key.is_none());
    assert!(
        !dir.path().join("vapid-key").exists(),
        "nothing is generated in production"
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("CHATSPHERE_VAPID_PRIVATE_KEY"),
        "{warnings:?}"
    );
}

#[test]
fn development_keeps_one_vapid_key_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap())];
    let (first, _) = load(&vars).unwrap();
    let (again, _) = load(&vars).unwrap();
    let public = |c: &Config| c.notify.vapid_key.as_ref().unwrap().public().to_owned();
    assert_eq!(public(&first), public(&again));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("vapid-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn notification_settings_are_checked() {
    for (var, value) in [
        ("CHATSPHERE_VAPID_PRIVATE_KEY", "not-a-key"),
        ("CHATSPHERE_VAPID_SUBJECT", "http://chat.example.com"),
        ("CHATSPHERE_PUSH_DELAY", "-1"),
        ("CHATSPHERE_PUSH_DELAY", "3601"),
        ("CHATSPHERE_OUTBOUND_ALLOW", "10.0.0.0/8, intranet"),
        ("CHATSPHERE_HOOK_ALLOW", "localhost"),
        ("CHATSPHERE_HOOK_RETRY", "0"),
        ("CHATSPHERE_HOOK_RETRY", "soon"),
        ("CHATSPHERE_SMTP_URL", "http://mail.example.com"),
        ("CHATSPHERE_SMTP_FROM", "not an address"),
        ("CHATSPHERE_EMAIL_NOTIFY_AFTER", "0"),
        ("CHATSPHERE_EMAIL_NOTIFY_AFTER", "8d"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let err = load(&[
            (var, value),
            ("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap()),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with(var), "{var}={value}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = load(&[
        ("CHATSPHERE_DATA_DIR", dir.path().to_str().unwrap()),
        ("CHATSPHERE_OUTBOUND_ALLOW", "10.0.0.0/8, 127.0.0.1"),
        ("CHATSPHERE_HOOK_RETRY", "2.5"),
        ("CHATSPHERE_PUSH_DELAY", "0"),
        ("CHATSPHERE_EMAIL_NOTIFY_AFTER", "2h"),
        (
            "CHATSPHERE_SMTP_URL",
            "smtp://mail.example.com:587?tls=required",
        ),
    ])
    .unwrap();
    assert_eq!(config.notify.outbound_allow.len(), 2);
    assert!(config.notify.hook_allow.is_empty(), "a list of its own");
    assert_eq!(
        config.notify.hook_retry,
        std::time::Duration::from_millis(2500)
    );
    assert_eq!(config.notify.push_delay, std::time::Duration::ZERO);
    assert_eq!(
        config.notify.email_after,
        std::time::Duration::from_secs(7200)
    );
    assert!(config.notify.smtp_url.is_some());
    assert_eq!(config.notify.smtp_from, "ChatSphere <noreply@localhost>");
}

#[test]
fn short_jwt_secret_is_rejected() {
    let err = load(&[("CHATSPHERE_JWT_SECRET", "short")]).unwrap_err();
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
}

#[test]
fn explicit_values_are_honoured() {
    let secret = "k".repeat(32);
    let (config, _) = load(&[
        ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
        ("DATABASE_URL", "postgres://chat:pw@db:5432/chat"),
        ("REDIS_URL", "redis://cache:6379"),
        ("CHATSPHERE_JWT_SECRET", &secret),
        (
            "CHATSPHERE_ALLOWED_ORIGINS",
            "https://Chat.Example.com/, http://10.0.0.5:8080",
        ),
        ("CHATSPHERE_LOG_FORMAT", "json"),
        ("LEPTOS_SITE_ROOT", "/srv/site"),
        ("CHATSPHERE_ACCESS_TTL", "120"),
        ("CHATSPHERE_WS_HEARTBEAT", "2.5"),
        ("CHATSPHERE_WS_MAX_CONNECTIONS", "400"),
        ("CHATSPHERE_WS_QUEUE", "2048"),
        ("CHATSPHERE_WS_MAX_FRAME_BYTES", "32768"),
    ])
    .unwrap();
    assert_eq!(
        config.edge.ws_limits,
        crate::ws::ConnectionLimits {
            max_frame_bytes: 32_768,
            max_connections_per_user: 400,
            outgoing_queue: 2048,
        }
    );
    assert_eq!(config.session.access_ttl, chrono::Duration::seconds(120));
    assert_eq!(
        config.edge.ws_heartbeat,
        std::time::Duration::from_millis(2500)
    );
    assert_eq!(config.addr.to_string(), "0.0.0.0:8080");
    assert_eq!(config.database_kind(), "postgres");
    assert_eq!(
        config.redis_url.as_ref().unwrap().expose_secret(),
        "redis://cache:6379"
    );
    assert_eq!(
        config.allowed_origins,
        ["https://chat.example.com", "http://10.0.0.5:8080"]
    );
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.site_root, "/srv/site");
}

#[test]
fn the_edit_window_is_unlimited_unless_set() {
    let secret = "k".repeat(32);
    let window = |value: Option<&str>| {
        let mut vars = vec![("CHATSPHERE_JWT_SECRET", secret.as_str())];
        vars.extend(value.map(|v| ("CHATSPHERE_EDIT_WINDOW", v)));
        load(&vars).unwrap().0.chat.edit_window
    };
    assert_eq!(window(None), None);
    assert_eq!(window(Some("unlimited")), None);
    assert_eq!(
        window(Some("900")),
        Some(std::time::Duration::from_secs(900))
    );
}

#[test]
fn bad_values_name_the_variable_to_fix() {
    let secret = "k".repeat(32);
    for (var, value) in [
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("DATABASE_URL", "mysql://db/chat"),
        ("REDIS_URL", "http://cache"),
        ("CHATSPHERE_ALLOWED_ORIGINS", "chat.example.com"),
        (
            "CHATSPHERE_ALLOWED_ORIGINS",
            "https://chat.example.com/path",
        ),
        ("CHATSPHERE_LOG_FORMAT", "xml"),
        ("CHATSPHERE_ENV", "staging"),
        ("CHATSPHERE_ACCESS_TTL", "1"),
        ("CHATSPHERE_ACCESS_TTL", "15m"),
        ("CHATSPHERE_WS_HEARTBEAT", "0"),
        ("CHATSPHERE_WS_MAX_CONNECTIONS", "0"),
        ("CHATSPHERE_WS_QUEUE", "8"),
        ("CHATSPHERE_WS_MAX_FRAME_BYTES", "64k"),
        // Smaller than the default longest message (4,000 characters) needs.
        ("CHATSPHERE_WS_MAX_FRAME_BYTES", "8192"),
        ("CHATSPHERE_EDIT_WINDOW", "0"),
        ("CHATSPHERE_EDIT_WINDOW", "15m"),
        ("CHATSPHERE_EDIT_WINDOW", "31536001"),
    ] {
        let err = load(&[(var, value), ("CHATSPHERE_JWT_SECRET", &secret)]).unwrap_err();
        assert!(err.to_string().starts_with(var), "{var}={value}: {err}");
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let secret = "super-secret-signing-key-0123456789";
    let (config, _) = load(&[
        ("CHATSPHERE_JWT_SECRET", secret),
        ("DATABASE_URL", "postgres://chat:db-password@db/chat"),
        ("REDIS_URL", "redis://:redis-password@cache:6379"),
    ])
    .unwrap();
    let printed = format!("{config:?}");
    for leaked in [secret, "db-password", "redis-password"] {
        assert!(!printed.contains(leaked), "{leaked} leaked in {printed}");
    }
}

#[test]
fn providers_are_on_only_with_both_id_and_secret_and_never_print_secrets() {
    let secret = "k".repeat(32);
    let (config, _) = load(&[("CHATSPHERE_JWT_SECRET", &secret)]).unwrap();
    assert!(config.oauth_providers.is_empty());
    assert!(config.public_url.is_none());

    let (config, _) = load(&[
        ("CHATSPHERE_JWT_SECRET", &secret),
        ("GOOGLE_CLIENT_ID", "g-id"),
        ("GOOGLE_CLIENT_SECRET", "google-client-secret"),
        ("GITHUB_CLIENT_ID", "gh-id"),
        ("GITHUB_CLIENT_SECRET", "github-client-secret"),
        ("GITHUB_URL", "https://git.example.com"),
        ("GITHUB_API_URL", "https://git.example.com/api/v3"),
        ("OIDC_ISSUER", "https://sso.example.com/realms/acme"),
        ("OIDC_CLIENT_ID", "chat"),
        ("OIDC_CLIENT_SECRET", "oidc-client-secret"),
        ("OIDC_NAME", "Acme SSO"),
        ("CHATSPHERE_PUBLIC_URL", "https://Chat.Example.com/"),
    ])
    .unwrap();
    let ids: Vec<&str> = config
        .oauth_providers
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids, ["google", "github", "oidc"]);
    assert_eq!(
        config.oauth_providers[1].namespace(),
        "https://git.example.com"
    );
    assert_eq!(
        config.oauth_providers[2].namespace(),
        "https://sso.example.com/realms/acme"
    );
    assert_eq!(config.oauth_providers[2].name, "Acme SSO");
    assert_eq!(
        config.public_url.as_deref(),
        Some("https://chat.example.com")
    );
    let printed = format!("{config:?}");
    for leaked in [
        "google-client-secret",
        "github-client-secret",
        "oidc-client-secret",
    ] {
        assert!(!printed.contains(leaked), "{leaked} leaked");
    }
}

#[test]
fn half_configured_providers_name_the_missing_variable() {
    let secret = "k".repeat(32);
    for (vars, missing) in [
        (vec![("GOOGLE_CLIENT_ID", "x")], "GOOGLE_CLIENT_SECRET"),
        (vec![("GITHUB_CLIENT_SECRET", "x")], "GITHUB_CLIENT_ID"),
        (
            vec![("OIDC_CLIENT_ID", "x"), ("OIDC_CLIENT_SECRET", "y")],
            "OIDC_ISSUER",
        ),
        (
            vec![("OIDC_ISSUER", "https://sso.example.com")],
            "OIDC_CLIENT_ID",
        ),
        (
            vec![
                ("OIDC_ISSUER", "sso.example.com"),
                ("OIDC_CLIENT_ID", "x"),
                ("OIDC_CLIENT_SECRET", "y"),
            ],
            "OIDC_ISSUER",
        ),
        (
            vec![("CHATSPHERE_PUBLIC_URL", "chat.example.com")],
            "CHATSPHERE_PUBLIC_URL",
        ),
    ] {
        let mut all = vars.clone();
        all.push(("CHATSPHERE_JWT_SECRET", &secret));
        let err = load(&all).unwrap_err();
        assert!(err.to_string().starts_with(missing), "{vars:?}: {err}");
    }
    // Production needs the public URL to build redirect URIs.
    let err = load(&[
        ("CHATSPHERE_ENV", "production"),
        ("CHATSPHERE_JWT_SECRET", &secret),
        ("GOOGLE_CLIENT_ID", "x"),
        ("GOOGLE_CLIENT_SECRET", "y"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().starts_with("CHATSPHERE_PUBLIC_URL"),
        "{err}"
    );
}

#[test]
fn websocket_frames_grow_with_the_longest_message_and_budgets_follow_rate_limits() {
    let secret = "k".repeat(32);
    let (config, _) = load(&[("CHATSPHERE_JWT_SECRET", &secret)]).unwrap();
    assert_eq!(config.edge.ws_limits.max_frame_bytes, 64 * 1024);
    assert_eq!(config.edge.ws_limits.max_connections_per_user, 16);
    let (config, _) = load(&[
        ("CHATSPHERE_JWT_SECRET", &secret),
        ("CHATSPHERE_MAX_MESSAGE_CHARS", "65536"),
    ])
    .unwrap();
    assert_eq!(
        config.edge.ws_limits.max_frame_bytes,
        crate::ws::ConnectionLimits::frame_bytes_for(65_536)
    );
}
