//! Configuration: one place, read from environment variables (and `.env`,
//! loaded by `main`). `.env.example` lists every variable.
//!
//! Secrets (`DATABASE_URL`, `REDIS_URL`, the JWT secret) are held as
//! [`SecretString`], whose `Debug` prints `[REDACTED]`, so a logged config
//! never shows them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Where the app runs: development is forgiving, production refuses to start
/// without real secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine (default).
    Development,
    /// A real deployment (`CHATSPHERE_ENV=production`).
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (development default).
    Pretty,
    /// One JSON object per line (production default).
    Json,
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub environment: Environment,
    /// Address to listen on (`LEPTOS_SITE_ADDR`, default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// Directory for the SQLite database and the development JWT secret.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: SecretString,
    /// Redis for fan-out and shared state between processes; `None` keeps
    /// everything in this process.
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key and channel, so installations can share a Redis.
    pub redis_prefix: String,
    /// Key that signs access tokens (HS256), at least 32 bytes.
    pub jwt_secret: SecretString,
    /// Origins (`scheme://host[:port]`) browsers may call from: checked on the
    /// WebSocket handshake and by CORS.
    pub allowed_origins: Vec<String>,
    /// Pretty or JSON log lines.
    pub log_format: LogFormat,
    /// Where cargo-leptos put the compiled site (`LEPTOS_SITE_ROOT`).
    pub site_root: String,
    /// The origin browsers use to reach the server (`CHATSPHERE_PUBLIC_URL`);
    /// OAuth redirect URIs are built from it. `None`: `http://<bound address>`.
    pub public_url: Option<String>,
    /// Identity providers for "Sign in with …" ([`oauth`] lists the variables).
    pub oauth_providers: Vec<services::auth::ProviderConfig>,
    /// Message limit, send rate and default rooms
    /// (`CHATSPHERE_MAX_MESSAGE_CHARS`, `CHATSPHERE_SEND_RATE`,
    /// `CHATSPHERE_DEFAULT_ROOMS`).
    pub chat: services::conversations::ChatPolicy,
    /// Presence timings: `CHATSPHERE_PRESENCE_GRACE` (seconds a user stays
    /// online after their last connection closed, default 15) and
    /// `CHATSPHERE_PRESENCE_TTL` (seconds a crashed process's users stay
    /// online, default 60; refreshed every third of it).
    pub presence: services::presence::PresenceConfig,
    /// The edge: rate limits, trusted proxies, body size, metrics, shutdown.
    pub edge: EdgeConfig,
}

/// Settings of the HTTP edge and of operations.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `CHATSPHERE_RATE_LIMIT_API`: REST API, server functions and WebSocket
    /// handshakes, per user or address (default `60/min`, the spec's).
    pub api_rate: services::ratelimit::Quota,
    /// `CHATSPHERE_RATE_LIMIT_AUTH`: sign-in, registration, token refresh,
    /// password change, per address (default `20/min`).
    pub auth_rate: services::ratelimit::Quota,
    /// `CHATSPHERE_RATE_LIMIT_WS`: frames other than messages per user over
    /// all their WebSocket connections, shared by every process through
    /// Redis when configured (default `60/2s`: a burst of 60, then 30 a
    /// second).
    pub ws_frame_rate: services::ratelimit::Quota,
    /// `CHATSPHERE_RATE_LIMITS=off` turns the request budgets off (behind a
    /// proxy that limits already); default on.
    pub rate_limits_enabled: bool,
    /// `CHATSPHERE_TRUSTED_PROXIES`: addresses or CIDR ranges whose
    /// `X-Forwarded-For` names the client (default: none).
    pub trusted_proxies: crate::middleware::TrustedProxies,
    /// `CHATSPHERE_MAX_BODY_BYTES`: largest request body (default 1 MiB).
    pub max_body_bytes: usize,
    /// `CHATSPHERE_METRICS_TOKEN`: bearer token for `GET /metrics`; unset,
    /// the endpoint answers 404 on the public listener.
    pub metrics_token: Option<SecretString>,
    /// `CHATSPHERE_SHUTDOWN_GRACE`: seconds in-flight requests get to finish
    /// after SIGTERM before the process exits (default 10).
    pub shutdown_grace: Duration,
    /// `CHATSPHERE_ADMINS`: usernames made admins at start-up (and when
    /// they register); the first account of an installation is one anyway.
    pub admins: Vec<String>,
    /// `CHATSPHERE_AUDIT_RETENTION_DAYS`: how long the audit log keeps
    /// events (default 90).
    pub audit_retention: chrono::Duration,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        use services::ratelimit::Quota;
        Self {
            api_rate: Quota::new(60, Duration::from_secs(60)),
            auth_rate: Quota::new(20, Duration::from_secs(60)),
            ws_frame_rate: Quota::new(60, Duration::from_secs(2)),
            rate_limits_enabled: true,
            trusted_proxies: crate::middleware::TrustedProxies::default(),
            max_body_bytes: 1024 * 1024,
            metrics_token: None,
            shutdown_grace: Duration::from_secs(10),
            admins: Vec::new(),
            audit_retention: services::audit::DEFAULT_RETENTION,
        }
    }
}

/// Why the configuration is unusable. Messages name the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{var}: {message}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The development secret file could not be read or written.
    #[error("JWT secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        message: message.into(),
    }
}

/// Shortest accepted JWT secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
const SECRET_FILE: &str = "jwt-secret";

impl Config {
    /// Reads the configuration from the process environment. Returns warnings
    /// to log once logging is set up.
    pub fn from_env() -> Result<(Self, Vec<String>), ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (tests pass a map).
    /// In development a missing JWT secret is generated once and kept in the
    /// data directory. This does blocking file I/O: call it before the async
    /// runtime starts.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut warnings = Vec::new();

        let environment = match get("CHATSPHERE_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    "CHATSPHERE_ENV",
                    format!("expected development or production, got {other:?}"),
                ))
            }
        };
        let addr: SocketAddr = get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| {
                invalid(
                    "LEPTOS_SITE_ADDR",
                    format!("not an address like 127.0.0.1:3000 ({e})"),
                )
            })?;
        let data_dir = PathBuf::from(get("CHATSPHERE_DATA_DIR").unwrap_or_else(|| "data".into()));

        let database_url = match get("DATABASE_URL") {
            Some(url) => {
                let scheme = url.split(':').next().unwrap_or_default();
                if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
                    return Err(invalid(
                        "DATABASE_URL",
                        format!("expected sqlite://… or postgres://…, got scheme {scheme:?}"),
                    ));
                }
                url
            }
            None => format!("sqlite://{}", data_dir.join("chatsphere.db").display()),
        };
        let redis_url = match get("REDIS_URL") {
            Some(url) if !(url.starts_with("redis://") || url.starts_with("rediss://")) => {
                return Err(invalid("REDIS_URL", "expected redis://… or rediss://…"));
            }
            other => other.map(SecretString::from),
        };
        let redis_prefix = get("CHATSPHERE_REDIS_PREFIX").unwrap_or_else(|| "chatsphere:".into());

        let jwt_secret = match get("CHATSPHERE_JWT_SECRET") {
            Some(secret) if secret.len() < MIN_SECRET_LEN => {
                return Err(invalid(
                    "CHATSPHERE_JWT_SECRET",
                    format!("must be at least {MIN_SECRET_LEN} bytes"),
                ));
            }
            Some(secret) => SecretString::from(secret),
            None if environment == Environment::Production => {
                return Err(invalid(
                    "CHATSPHERE_JWT_SECRET",
                    "is required when CHATSPHERE_ENV=production (generate one with `openssl rand -hex 32`)",
                ));
            }
            None => {
                let (secret, path, created) = development_secret(&data_dir)?;
                warnings.push(format!(
                    "CHATSPHERE_JWT_SECRET is not set: using the development secret {} {}; set it in production",
                    if created { "just generated in" } else { "kept in" },
                    path.display()
                ));
                secret
            }
        };

        let allowed_origins = match get("CHATSPHERE_ALLOWED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| parse_origin(o).map_err(|m| invalid("CHATSPHERE_ALLOWED_ORIGINS", m)))
                .collect::<Result<Vec<_>, _>>()?,
            None => default_origins(addr),
        };

        let log_format = match get("CHATSPHERE_LOG_FORMAT").as_deref() {
            None => match environment {
                Environment::Development => LogFormat::Pretty,
                Environment::Production => LogFormat::Json,
            },
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "CHATSPHERE_LOG_FORMAT",
                    format!("expected pretty or json, got {other:?}"),
                ))
            }
        };
        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into());
        let public_url = get("CHATSPHERE_PUBLIC_URL")
            .map(|u| parse_origin(&u).map_err(|m| invalid("CHATSPHERE_PUBLIC_URL", m)))
            .transpose()?;
        let oauth_providers = oauth::providers(&get)?;
        let mut chat = services::conversations::ChatPolicy::default();
        if let Some(raw) = get("CHATSPHERE_MAX_MESSAGE_CHARS") {
            chat.max_message_chars = raw
                .parse()
                .ok()
                .filter(|n| (1..=65_536).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "CHATSPHERE_MAX_MESSAGE_CHARS",
                        "expected a number from 1 to 65536",
                    )
                })?;
        }
        if let Some(raw) = get("CHATSPHERE_SEND_RATE") {
            chat.sends_per_second = raw.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                invalid(
                    "CHATSPHERE_SEND_RATE",
                    "expected a number of messages per second, at least 1",
                )
            })?;
        }
        if let Some(raw) = get("CHATSPHERE_DEFAULT_ROOMS") {
            chat.default_rooms = raw
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty() && *r != "-")
                .map(str::to_owned)
                .collect();
        }
        let mut presence = services::presence::PresenceConfig::default();
        if let Some(raw) = get("CHATSPHERE_PRESENCE_GRACE") {
            presence.grace = seconds(&raw, "CHATSPHERE_PRESENCE_GRACE")?;
        }
        if let Some(raw) = get("CHATSPHERE_PRESENCE_TTL") {
            presence.ttl = seconds(&raw, "CHATSPHERE_PRESENCE_TTL")?;
            presence.refresh = presence.ttl / 3;
        }
        let edge = edge(&get)?;
        if environment == Environment::Production
            && public_url.is_none()
            && !oauth_providers.is_empty()
        {
            return Err(invalid(
                "CHATSPHERE_PUBLIC_URL",
                "is required in production when a sign-in provider is configured (redirect URIs are built from it)",
            ));
        }

        let config = Self {
            environment,
            addr,
            data_dir,
            database_url: SecretString::from(database_url),
            presence,
            edge,
            redis_url,
            redis_prefix,
            jwt_secret,
            allowed_origins,
            log_format,
            site_root,
            public_url,
            oauth_providers,
            chat,
        };
        Ok((config, warnings))
    }

    /// The database backend's name, safe to log (the URL may hold a password).
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.expose_secret().starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// `http://<addr>`, plus `http://localhost:<port>` when bound to loopback.
/// A duration in seconds (decimals allowed), from 0.1 s to one day.
fn seconds(raw: &str, var: &'static str) -> Result<Duration, ConfigError> {
    raw.parse::<f64>()
        .ok()
        .filter(|s| (0.1..=86_400.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| invalid(var, "expected a number of seconds from 0.1 to 86400"))
}

/// The edge settings ([`EdgeConfig`]).
fn edge(get: &impl Fn(&str) -> Option<String>) -> Result<EdgeConfig, ConfigError> {
    use services::ratelimit::Quota;
    let mut edge = EdgeConfig::default();
    let rate = |var: &'static str, into: &mut Quota| -> Result<(), ConfigError> {
        if let Some(raw) = get(var) {
            *into = Quota::parse(&raw).map_err(|m| invalid(var, m))?;
        }
        Ok(())
    };
    rate("CHATSPHERE_RATE_LIMIT_API", &mut edge.api_rate)?;
    rate("CHATSPHERE_RATE_LIMIT_AUTH", &mut edge.auth_rate)?;
    rate("CHATSPHERE_RATE_LIMIT_WS", &mut edge.ws_frame_rate)?;
    edge.rate_limits_enabled = match get("CHATSPHERE_RATE_LIMITS").as_deref() {
        None | Some("on") => true,
        Some("off") => false,
        Some(other) => {
            return Err(invalid(
                "CHATSPHERE_RATE_LIMITS",
                format!("expected on or off, got {other:?}"),
            ))
        }
    };
    if let Some(raw) = get("CHATSPHERE_TRUSTED_PROXIES") {
        edge.trusted_proxies = crate::middleware::TrustedProxies::parse(&raw)
            .map_err(|m| invalid("CHATSPHERE_TRUSTED_PROXIES", m))?;
    }
    if let Some(raw) = get("CHATSPHERE_MAX_BODY_BYTES") {
        edge.max_body_bytes = raw
            .parse()
            .ok()
            .filter(|n| (1024..=64 * 1024 * 1024).contains(n))
            .ok_or_else(|| {
                invalid(
                    "CHATSPHERE_MAX_BODY_BYTES",
                    "expected a number of bytes from 1024 to 67108864",
                )
            })?;
    }
    if let Some(token) = get("CHATSPHERE_METRICS_TOKEN") {
        if token.len() < 16 {
            return Err(invalid(
                "CHATSPHERE_METRICS_TOKEN",
                "must be at least 16 characters",
            ));
        }
        edge.metrics_token = Some(SecretString::from(token));
    }
    if let Some(raw) = get("CHATSPHERE_SHUTDOWN_GRACE") {
        edge.shutdown_grace = seconds(&raw, "CHATSPHERE_SHUTDOWN_GRACE")?;
    }
    if let Some(raw) = get("CHATSPHERE_ADMINS") {
        edge.admins = raw
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
    }
    if let Some(raw) = get("CHATSPHERE_AUDIT_RETENTION_DAYS") {
        let days: i64 = raw
            .parse()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| {
                invalid(
                    "CHATSPHERE_AUDIT_RETENTION_DAYS",
                    "expected a number of days from 1 to 3650",
                )
            })?;
        edge.audit_retention = chrono::Duration::days(days);
    }
    Ok(edge)
}

pub(crate) fn default_origins(addr: SocketAddr) -> Vec<String> {
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", addr.port()));
    }
    origins
}

/// Normalises an origin: `scheme://host[:port]`, lowercase, no path.
fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, host)) = origin.split_once("://") else {
        return Err(format!(
            "{raw:?} is not an origin like https://chat.example.com"
        ));
    };
    if !matches!(scheme, "http" | "https")
        || host.is_empty()
        || host.contains(['/', '?', '#', '@', ' '])
    {
        return Err(format!(
            "{raw:?} is not an origin like https://chat.example.com"
        ));
    }
    Ok(origin)
}

/// Reads the development JWT secret from the data directory, creating it
/// (readable by the owner only) on first run. Returns whether it was created.
fn development_secret(data_dir: &Path) -> Result<(SecretString, PathBuf, bool), ConfigError> {
    use rand::RngCore;
    let path = data_dir.join(SECRET_FILE);
    let io_err = |source| ConfigError::SecretFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= MIN_SECRET_LEN => {
            return Ok((SecretString::from(existing.trim().to_owned()), path, false));
        }
        Ok(_) => {} // too short or empty: replace it
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_err(err)),
    }
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret).map_err(io_err)?;
    Ok((SecretString::from(secret), path, true))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

pub mod oauth;
#[cfg(test)]
mod tests;
