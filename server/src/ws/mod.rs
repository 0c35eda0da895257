//! The WebSocket gateway at `/ws`: live messages for browsers (session
//! cookie, `Origin` checked exactly against the allowed list) and for API
//! clients (`Authorization: Bearer` or the spec's `?token=`; query strings
//! never reach the logs). Frames are `domain::protocol`; the per-connection
//! loop is in [`connection`].

mod connection;
mod follows;
pub mod hub;
mod limits;

pub use limits::ConnectionLimits;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::header::ORIGIN;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{access_cookie, bearer_token};

/// Bytes a connection reads from its socket at a time: one of every idle
/// connection's buffers, so it is kept small.
const READ_BUFFER: usize = 1024;

/// Limits and settings of the gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Origins browsers may connect from.
    pub allowed_origins: crate::middleware::AllowedOrigins,
    /// Frame size, connections per user, outgoing queue.
    pub limits: ConnectionLimits,
    /// Other frames (receipts, typing, resume, ping) a user may send, over
    /// all their connections on every process (`CHATSPHERE_RATE_LIMIT_WS`).
    /// Over it the client gets an error frame; a client that keeps going is
    /// disconnected (close 1008). `None`: off (`CHATSPHERE_RATE_LIMITS=off`).
    pub frames: Option<services::ratelimit::Quota>,
    /// Where the frame budgets are kept: in-process, or in Redis so every
    /// process spends from the same one.
    pub frame_limiter: services::ratelimit::RateLimiter,
    /// How often the server pings; a connection silent for three periods is closed.
    pub heartbeat: Duration,
    /// Cancelled when the server shuts down: every connection closes with
    /// 1012 so its client reconnects elsewhere and resumes.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl GatewayConfig {
    /// Defaults with the given allowed origins (frame budgets in-process).
    pub fn new(allowed_origins: crate::middleware::AllowedOrigins) -> Self {
        Self {
            allowed_origins,
            limits: ConnectionLimits::for_messages(domain::chat::DEFAULT_MAX_MESSAGE_CHARS),
            frames: Some(services::ratelimit::Quota::new(60, Duration::from_secs(2))),
            frame_limiter: services::ratelimit::RateLimiter::local(),
            heartbeat: Duration::from_secs(30),
            shutdown: tokio_util::sync::CancellationToken::new(),
        }
    }
}

/// The gateway's shared state: its settings, who is connected how often,
/// and the hub that feeds every connection of the process.
#[derive(Debug)]
pub struct Gateway {
    /// Settings.
    pub config: GatewayConfig,
    /// The process's subscriptions and who follows them; it also holds
    /// the services every connection shares (large: never copied per
    /// connection).
    pub hub: Arc<hub::Hub>,
    per_user: Mutex<HashMap<Uuid, usize>>,
}

impl Gateway {
    /// A gateway with these settings over these services.
    pub fn new(config: GatewayConfig, services: services::Services) -> Arc<Self> {
        Arc::new(Self {
            config,
            hub: hub::Hub::new(Arc::new(services)),
            per_user: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a connection slot of `user`, or `None` at the limit.
    fn take_slot(self: &Arc<Self>, user: Uuid) -> Option<UserSlot> {
        let mut map = self.per_user.lock().unwrap_or_else(PoisonError::into_inner);
        let count = map.entry(user).or_insert(0);
        if *count >= self.config.limits.max_connections_per_user {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            gateway: self.clone(),
            user,
        })
    }
}

/// One of a user's connection slots, given back when dropped.
struct UserSlot {
    gateway: Arc<Gateway>,
    user: Uuid,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self
            .gateway
            .per_user
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.user);
            }
        }
    }
}

/// The spec's `?token=` form.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    /// `?resume=1`: hold live events until the client's `resume` frame.
    #[serde(default)]
    resume: Option<String>,
}

/// `GET /ws`: checks the origin and the credentials, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(gateway): Extension<Arc<Gateway>>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    client: Option<Extension<crate::middleware::ClientIp>>,
    ws: WebSocketUpgrade,
) -> Response {
    if gateway.config.shutdown.is_cancelled() {
        // Draining: the client should try another process.
        return ApiError::unavailable("the server is restarting; connect again").into_response();
    }
    let client = services::auth::ClientInfo {
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip_address: client.map(|Extension(ip)| ip.0.to_string()),
        device_token: None,
    };
    let resume = query
        .resume
        .as_deref()
        .is_some_and(|r| !matches!(r, "0" | "false"));
    match authorize(&state, &gateway, query, &headers).await {
        Ok((auth, slot)) => {
            let services = gateway.hub.services().clone();
            let config = &gateway.config;
            let max_frame = config.limits.max_frame_bytes;
            ws.max_message_size(max_frame)
                .max_frame_size(max_frame)
                // Small buffers: most connections are idle most of the time,
                // and what clients send is small (a larger frame is read in
                // several steps).
                .read_buffer_size(READ_BUFFER)
                .write_buffer_size(4 * 1024)
                .max_write_buffer_size(max_frame * 4)
                .on_upgrade(move |socket| {
                    connection::run(
                        socket,
                        services,
                        gateway.clone(),
                        connection::Opened {
                            auth,
                            resume,
                            client,
                        },
                        slot,
                    )
                })
        }
        Err(err) => err.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    gateway: &Arc<Gateway>,
    query: TokenQuery,
    headers: &HeaderMap,
) -> Result<(services::auth::Authenticated, UserSlot), ApiError> {
    let origin = headers.get(ORIGIN);
    if origin.is_some_and(|o| !gateway.config.allowed_origins.allows(o)) {
        return Err(ApiError::forbidden(
            "this origin may not open a WebSocket here",
        ));
    }
    // The cookie counts only with an allowed Origin (a browser on our site):
    // without it, any page could ride the user's cookie.
    let cookie = || {
        origin?;
        access_cookie(headers, state.secure_cookies)
    };
    let token = bearer_token(headers)
        .or(query.token)
        .filter(|t| !t.is_empty())
        .or_else(cookie)
        .ok_or_else(|| ApiError::unauthorized("an access token is required"))?;
    let auth = state.services.auth.authenticate(&token).await?;
    if !auth.scopes.allows(domain::integrations::TokenScope::Read) {
        return Err(ApiError::forbidden(domain::messages::TOKEN_WRITE_ONLY));
    }
    // A connection ends when its token expires: one past it would open
    // only to close.
    if auth.time_left().is_none() {
        return Err(ApiError::unauthorized("the access token has expired"));
    }
    let slot = gateway.take_slot(auth.user_id).ok_or_else(|| {
        ApiError::too_many_requests(5).with_detail(format!(
            "at most {} connections per user",
            gateway.config.limits.max_connections_per_user
        ))
    })?;
    Ok((auth, slot))
}
