//! Configuration: one place, read from environment variables (and `.env`,
//! loaded by `main`). `.env.example` lists every variable.
//!
//! Secrets (`DATABASE_URL`, `REDIS_URL`, the JWT secret) are held as
//! [`SecretString`], whose `Debug` prints `[REDACTED]`, so a logged config
//! never shows them.

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// WebSocket handshake, by CORS, and on every state-changing request made
    /// with the session cookie (see `middleware::csrf`).
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
    /// Message limit, send rate, edit window and default rooms
    /// (`CHATSPHERE_MAX_MESSAGE_CHARS`, `CHATSPHERE_SEND_RATE`,
    /// `CHATSPHERE_EDIT_WINDOW`, `CHATSPHERE_DEFAULT_ROOMS`).
    pub chat: services::conversations::ChatPolicy,
    /// Whether every user may create bot accounts (`CHATSPHERE_USER_BOTS`,
    /// `true` or `false`; default `false`: admins only).
    pub user_bots: bool,
    /// Files: where they are kept and what uploads may be (see
    /// [`FilesSettings`]).
    pub files: FilesSettings,
    /// Presence timings: `CHATSPHERE_PRESENCE_GRACE` (seconds a user stays
    /// online after their last connection closed, default 15) and
    /// `CHATSPHERE_PRESENCE_TTL` (seconds a crashed process's users stay
    /// online, default 60; refreshed every third of it).
    pub presence: services::presence::PresenceConfig,
    /// Token and session lifetimes: `CHATSPHERE_ACCESS_TTL` (seconds an
    /// access token, and a WebSocket opened with it, lasts; default 900).
    pub session: services::auth::SessionPolicy,
    /// The edge: rate limits, trusted proxies, body size, metrics, shutdown.
    pub edge: EdgeConfig,
    /// Notifications: Web Push and the email of what was missed (see
    /// [`NotifySettings`]).
    pub notify: NotifySettings,
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
        let user_bots = match get("CHATSPHERE_USER_BOTS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(invalid(
                    "CHATSPHERE_USER_BOTS",
                    format!(
                        "expected true or false, got {:?}",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        };
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
        if let Some(raw) = get("CHATSPHERE_MENTION_ALL_MAX") {
            chat.mention_all_max = raw.parse().map_err(|_| {
                invalid(
                    "CHATSPHERE_MENTION_ALL_MAX",
                    "expected the number of members up to which anyone may mention @all (0: only managers)",
                )
            })?;
        }
        if let Some(raw) = get("CHATSPHERE_EDIT_WINDOW") {
            chat.edit_window = edit_window(&raw)?;
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
        let mut session = services::auth::SessionPolicy::default();
        if let Some(raw) = get("CHATSPHERE_ACCESS_TTL") {
            let secs: i64 = raw
                .parse()
                .ok()
                .filter(|s| (2..=86_400).contains(s))
                .ok_or_else(|| {
                    invalid(
                        "CHATSPHERE_ACCESS_TTL",
                        "expected a whole number of seconds from 2 to 86400",
                    )
                })?;
            session.access_ttl = chrono::Duration::seconds(secs);
        }
        let edge = edge::from_lookup(&get, chat.max_message_chars)?;
        let files = files::from_lookup(&get, &data_dir)?;
        let notify = notify::from_lookup(
            &get,
            environment,
            &data_dir,
            public_url.as_deref(),
            &mut warnings,
        )?;
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
            session,
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
            files,
            notify,
            user_bots,
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

/// A duration in seconds (decimals allowed), from 0.1 s to one day.
fn seconds(raw: &str, var: &'static str) -> Result<Duration, ConfigError> {
    raw.parse::<f64>()
        .ok()
        .filter(|s| (0.1..=86_400.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| invalid(var, "expected a number of seconds from 0.1 to 86400"))
}

/// How long senders may edit their messages: `unlimited` (the default),
/// or whole seconds from 1 to a year.
fn edit_window(raw: &str) -> Result<Option<Duration>, ConfigError> {
    if raw.trim().eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=31_536_000).contains(s))
        .map(|s| Some(Duration::from_secs(s)))
        .ok_or_else(|| {
            invalid(
                "CHATSPHERE_EDIT_WINDOW",
                "expected `unlimited` or a number of seconds from 1 to 31536000 (a year)",
            )
        })
}

/// `http://<addr>`, plus `http://localhost:<port>` when bound to loopback.
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

mod edge;
mod files;
mod notify;
pub use files::FilesSettings;
pub use notify::NotifySettings;
pub mod oauth;
mod secret;

pub use edge::EdgeConfig;
use secret::development_secret;
#[cfg(test)]
mod tests;
