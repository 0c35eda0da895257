//! The settings of the HTTP edge and of operations: request budgets,
//! trusted proxies, body limit, metrics token, shutdown grace, admins and
//! audit retention.

use std::time::Duration;

use secrecy::SecretString;

use super::{invalid, seconds, ConfigError};

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
    /// `CHATSPHERE_WS_HEARTBEAT`: seconds between the server's pings on a
    /// WebSocket; a client silent for three of them (it vanished without
    /// closing) is disconnected and goes offline after the presence grace
    /// (default 30).
    pub ws_heartbeat: Duration,
    /// `CHATSPHERE_WS_MAX_FRAME_BYTES`, `CHATSPHERE_WS_MAX_CONNECTIONS`,
    /// `CHATSPHERE_WS_QUEUE`: the limits of one WebSocket connection.
    pub ws_limits: crate::ws::ConnectionLimits,
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
            ws_heartbeat: Duration::from_secs(30),
            ws_limits: crate::ws::ConnectionLimits::for_messages(
                domain::chat::DEFAULT_MAX_MESSAGE_CHARS,
            ),
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

/// The edge settings ([`EdgeConfig`]), for messages of at most
/// `max_message_chars` characters.
pub(super) fn from_lookup(
    get: &impl Fn(&str) -> Option<String>,
    max_message_chars: usize,
) -> Result<EdgeConfig, ConfigError> {
    use services::ratelimit::Quota;
    let mut edge = EdgeConfig {
        ws_limits: ws_limits(get, max_message_chars)?,
        ..EdgeConfig::default()
    };
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
    if let Some(raw) = get("CHATSPHERE_WS_HEARTBEAT") {
        edge.ws_heartbeat = seconds(&raw, "CHATSPHERE_WS_HEARTBEAT")?;
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

/// The WebSocket connection limits: each a whole number within its bounds;
/// a frame must hold the longest message.
fn ws_limits(
    get: &impl Fn(&str) -> Option<String>,
    max_message_chars: usize,
) -> Result<crate::ws::ConnectionLimits, ConfigError> {
    use crate::ws::ConnectionLimits;
    let number = |var: &'static str,
                  bounds: std::ops::RangeInclusive<usize>,
                  into: &mut usize|
     -> Result<(), ConfigError> {
        if let Some(raw) = get(var) {
            *into = raw
                .parse()
                .ok()
                .filter(|n| bounds.contains(n))
                .ok_or_else(|| {
                    invalid(
                        var,
                        format!(
                            "expected a whole number from {} to {}",
                            bounds.start(),
                            bounds.end()
                        ),
                    )
                })?;
        }
        Ok(())
    };
    let mut limits = ConnectionLimits::for_messages(max_message_chars);
    number(
        "CHATSPHERE_WS_MAX_FRAME_BYTES",
        ConnectionLimits::FRAME_BYTES,
        &mut limits.max_frame_bytes,
    )?;
    let needed = ConnectionLimits::frame_bytes_for(max_message_chars);
    if limits.max_frame_bytes < needed {
        return Err(invalid(
            "CHATSPHERE_WS_MAX_FRAME_BYTES",
            format!(
                "a frame must hold the longest message (CHATSPHERE_MAX_MESSAGE_CHARS): at least {needed}"
            ),
        ));
    }
    number(
        "CHATSPHERE_WS_MAX_CONNECTIONS",
        ConnectionLimits::CONNECTIONS,
        &mut limits.max_connections_per_user,
    )?;
    number(
        "CHATSPHERE_WS_QUEUE",
        ConnectionLimits::QUEUE,
        &mut limits.outgoing_queue,
    )?;
    Ok(limits)
}
