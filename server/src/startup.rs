//! Building and running the server: connect the store and the bus, assemble
//! the router and its middleware, bind, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::auth::ssr::provide_request_auth;
use app::state::AppState;
use app::{shell, App};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use services::auth::AccessTokens;
use services::bus::{Bus, InProcessBus, RedisBus};
use services::kv::SharedKv;
use services::presence::Presence;
use services::{store, Services};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::routes;

/// The name cargo-leptos gives the site's JS/WASM/CSS files.
const OUTPUT_NAME: &str = match option_env!("LEPTOS_OUTPUT_NAME") {
    Some(name) => name,
    None => "chatsphere",
};

/// The `iss` claim of this server's access tokens.
pub const TOKEN_ISSUER: &str = "chatsphere";
/// The `aud` claim of this server's access tokens.
pub const TOKEN_AUDIENCE: &str = "chatsphere-api";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] services::StoreError),
    /// Redis could not be reached.
    #[error("redis: {0}")]
    Bus(#[from] services::BusError),
    /// The file store could not be opened (its directory created).
    #[error("files: {0}")]
    Files(String),
    /// The SMTP settings are unusable.
    #[error("{0}")]
    Notify(String),
    /// The configured admins could not be promoted.
    #[error("CHATSPHERE_ADMINS: {0}")]
    Admins(services::ServiceError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A server that is bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// Cancelled when shutdown begins: `/ready` fails, sockets close (1012).
    shutdown: tokio_util::sync::CancellationToken,
    /// How long in-flight requests get after shutdown begins.
    shutdown_grace: Duration,
}

impl Application {
    /// Connects to the database and the bus, then binds the address (port 0
    /// picks a free port, as the tests do).
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let store = store::connect(config.database_url.expose_secret()).await?;
        let (bus, kv, presence): (Arc<dyn Bus>, SharedKv, Presence) = match &config.redis_url {
            Some(url) => {
                let url = url.expose_secret();
                let bus: Arc<dyn Bus> =
                    Arc::new(RedisBus::connect(url, &config.redis_prefix).await?);
                let presence = Presence::redis(
                    url,
                    &config.redis_prefix,
                    store.clone(),
                    bus.clone(),
                    config.presence,
                )
                .await?;
                (
                    bus,
                    SharedKv::redis(url, &config.redis_prefix).await?,
                    presence,
                )
            }
            None => {
                let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
                let presence = Presence::local(store.clone(), bus.clone(), config.presence);
                (bus, SharedKv::local(), presence)
            }
        };
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.addr,
            source,
        })?;
        let assets = {
            let root = std::path::PathBuf::from(&config.site_root);
            tokio::task::spawn_blocking(move || {
                crate::assets::Assets::load(&root, "pkg", OUTPUT_NAME)
            })
            .await
            .expect("hashing the site's files does not panic")
        };
        let leptos_options = LeptosOptions::builder()
            .output_name(assets.output_name())
            .site_root(config.site_root.as_str())
            .site_addr(addr)
            .build();
        let file_store = services::files::storage::open(&config.files.storage)
            .map_err(|e| StartupError::Files(e.to_string()))?;
        let policy = config.session;
        let ttl = policy
            .access_ttl
            .to_std()
            .unwrap_or(Duration::from_secs(900));
        let secret = config.jwt_secret.expose_secret().as_bytes();
        let tokens = AccessTokens::new(secret, TOKEN_ISSUER, TOKEN_AUDIENCE, ttl);
        let site = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let mailer = crate::notify::mailer(&config.notify, &site).map_err(StartupError::Notify)?;
        let state = AppState {
            leptos_options,
            services: Services::new(store, bus, kv.clone(), tokens, policy, config.chat.clone())
                .with_files(file_store, config.files.limits.clone())
                .with_presence(presence)
                .with_notify(crate::notify::delivery(&config.notify, mailer.is_some()))
                .with_outgoing(crate::notify::outgoing(&config.notify))
                .with_oauth(config.oauth_providers.clone(), &site),
            // Served over HTTPS (the public URL says so; production always
            // is, directly or behind a proxy): `Secure`, `__Host-` cookies.
            secure_cookies: config.environment == crate::config::Environment::Production
                || config
                    .public_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://")),
        };
        state.services.auth.set_user_bots(config.user_bots);
        state
            .services
            .admin
            .ensure_admins(&config.edge.admins)
            .await
            .map_err(StartupError::Admins)?;
        spawn_hourly_pruning(
            state.services.audit.clone(),
            state.services.auth.clone(),
            config.edge.audit_retention,
        );
        spawn_index_build(state.services.search.clone());
        spawn_file_cleanup(state.services.files.clone());
        state.services.notify.start(mailer);
        state.services.webhooks.start();
        state.services.members.listen();
        state.services.profiles.listen();
        tracing::info!(
            %addr,
            database = state.services.store.backend().as_str(),
            bus = state.services.bus.kind().as_str(),
            "ChatSphere ready"
        );
        // With port 0 (tests), the defaults named port 0: use the real one.
        let mut origins = if config.allowed_origins == crate::config::default_origins(config.addr) {
            crate::config::default_origins(addr)
        } else {
            config.allowed_origins.clone()
        };
        if let Some(public) = &config.public_url {
            if !origins.contains(public) {
                origins.push(public.clone());
            }
        }
        let origins = crate::middleware::AllowedOrigins::new(origins);
        let mut gateway_config = crate::ws::GatewayConfig::new(origins.clone());
        gateway_config.limits = config.edge.ws_limits;
        gateway_config.frames = config
            .edge
            .rate_limits_enabled
            .then_some(config.edge.ws_frame_rate);
        gateway_config.heartbeat = config.edge.ws_heartbeat;
        gateway_config.frame_limiter = services::ratelimit::RateLimiter::new(&kv);
        let shutdown = gateway_config.shutdown.clone();
        let gateway = crate::ws::Gateway::new(gateway_config, state.services.clone());
        let edge = crate::middleware::Edge {
            https: config
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            allowed_origins: origins,
            secure_cookies: state.secure_cookies,
            trusted_proxies: config.edge.trusted_proxies.clone(),
            rate_limits: config
                .edge
                .rate_limits_enabled
                .then(|| crate::middleware::RateLimits {
                    limiter: services::ratelimit::RateLimiter::new(&kv),
                    auth: config.edge.auth_rate,
                    api: config.edge.api_rate,
                    tokens: state.services.auth.clone(),
                    secure_cookies: state.secure_cookies,
                }),
            max_body_bytes: config.edge.max_body_bytes,
            // The upload's own limit answers first, with its message.
            max_upload_body_bytes: usize::try_from(config.files.limits.max_upload_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(1024 * 1024),
            metrics: crate::metrics::MetricsEndpoint::new(config.edge.metrics_token.as_ref()),
        };
        Ok(Self {
            router: router(state.clone(), assets, gateway, edge),
            shutdown,
            shutdown_grace: config.edge.shutdown_grace,
            listener,
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (tests use it to arrange data through the services).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then shuts down gracefully: stops
    /// accepting, fails `/ready`, tells every WebSocket client to reconnect
    /// elsewhere (close 1012; clients resume without loss), lets in-flight
    /// requests finish within the grace period, and waits for the sockets'
    /// close frames to be written.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Connection info gives handlers the client address (session list).
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let token = self.shutdown.clone();
        let begun = tokio_util::sync::CancellationToken::new();
        let signal = {
            let begun = begun.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: closing WebSockets (1012), finishing requests");
                token.cancel();
                begun.cancel();
            }
        };
        // Small frames (messages, receipts, typing) go out at once: with
        // Nagle's algorithm one could wait for the ACK of the one before,
        // which the client may delay by up to 40 ms.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "could not set TCP_NODELAY");
            }
        });
        let serve = axum::serve(listener, service).with_graceful_shutdown(signal);
        let grace = self.shutdown_grace;
        let result = tokio::select! {
            result = serve => result,
            () = async { begun.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_seconds = grace.as_secs_f64(), "in-flight requests outlived the grace period");
                Ok(())
            }
        };
        // Upgraded connections are not tracked by the server: wait for them.
        let connections = &self.state.services.connections;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3).min(grace);
        while connections.active() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        result
    }
}

/// The complete router: health, REST API, Leptos pages and server functions,
/// static files, and the middleware around them all.
pub fn router(
    state: AppState,
    assets: crate::assets::Assets,
    gateway: Arc<crate::ws::Gateway>,
    edge: crate::middleware::Edge,
) -> Router {
    // The route list depends on the App alone: generate it once per process.
    // Generating renders the App; doing so while another server in the same
    // process rendered pages stalled about one render in forty (seen only
    // in the API tests, which run many servers in one process).
    static PAGES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    let pages = PAGES.get_or_init(|| generate_route_list(App)).clone();
    let router = Router::new()
        .route("/health", get(routes::health::health))
        .route(
            "/ready",
            get(routes::health::ready).layer(axum::Extension(gateway.config.shutdown.clone())),
        )
        .route(
            "/metrics",
            get(crate::metrics::serve).layer(axum::Extension(edge.metrics.clone())),
        )
        .route(
            "/ws",
            get(crate::ws::upgrade).layer(axum::Extension(gateway)),
        )
        .nest(
            "/api/v1",
            routes::api_v1(crate::openapi::Document::new(
                state.services.chat.policy().max_message_chars,
            )),
        )
        .merge(routes::oauth_browser::router())
        .merge(routes::files::plain_router())
        .merge(routes::pwa::router())
        .merge(routes::integrations::hooks())
        .route(
            "/pkg/{file}",
            get(crate::assets::serve).with_state(assets.clone()),
        )
        .leptos_routes_with_context(&state, pages, page_context, {
            let options = state.leptos_options.clone();
            let stylesheet = assets.stylesheet().to_owned();
            move || shell(options.clone(), stylesheet.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context, {
            let stylesheet = assets.stylesheet().to_owned();
            move |options| shell(options, stylesheet.clone())
        }))
        .route_layer(axum::middleware::from_fn(
            crate::middleware::observe::record_route,
        ));
    crate::middleware::apply(router.with_state(state), edge)
}

/// The context of every page render and server function: the signed-in
/// user, and for pages the Content-Security-Policy with this response's nonce.
fn page_context() {
    provide_request_auth();
    crate::middleware::provide_page_policy();
}

/// How long sessions and personal access tokens are kept once they ended
/// (a revoked token stays in its owner's list this long).
const ENDED_CREDENTIALS_KEPT: chrono::Duration = chrono::Duration::days(30);
/// Rows of each kind one step of that pruning deletes.
const ENDED_CREDENTIALS_BATCH: u32 = 500;

/// Deletes audit events older than `retention`, and credentials that ended
/// more than [`ENDED_CREDENTIALS_KEPT`] ago, now and every hour.
fn spawn_hourly_pruning(
    audit: services::audit::AuditService,
    auth: services::AuthService,
    retention: chrono::Duration,
) {
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match audit.prune(retention).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "old audit events deleted"),
                Err(err) => tracing::warn!(error = %err, "audit pruning failed; will retry"),
            }
            match auth
                .prune_ended(ENDED_CREDENTIALS_KEPT, ENDED_CREDENTIALS_BATCH)
                .await
            {
                Ok(pruned) if pruned == services::store::Pruned::default() => {}
                Ok(pruned) => tracing::info!(
                    sessions = pruned.sessions,
                    refresh_tokens = pruned.refresh_tokens,
                    tokens = pruned.tokens,
                    denials = pruned.denials,
                    "ended sessions and tokens forgotten"
                ),
                Err(err) => {
                    tracing::warn!(error = %err, "pruning ended sessions failed; will retry")
                }
            }
        }
    });
}

/// Removes the bytes of deleted files every minute (a message or a room
/// deleted), and uploads never sent with a message every hour.
fn spawn_file_cleanup(files: services::files::FileService) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        for minute in 0u64.. {
            every.tick().await;
            if minute % 60 == 0 {
                match files.remove_unattached().await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "files: uploads never sent removed"),
                    Err(err) => {
                        tracing::warn!(error = %err, "files: removing uploads never sent failed")
                    }
                }
            }
            match files.sweep().await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "files: bytes of deleted files removed"),
                Err(err) => tracing::warn!(error = %err, "files: removing deleted files failed"),
            }
        }
    });
}

/// How often new messages are indexed in the background.
const NEW_MESSAGES_INDEXED_EVERY: Duration = Duration::from_millis(250);

/// Indexes for search the messages just stored (SQLite queues them), every
/// moment, and the messages stored before the index existed (a no-op once
/// done), at start and every ten minutes after (messages an older version
/// stored during a rolling upgrade), retrying after a failure.
fn spawn_index_build(search: services::search::SearchService) {
    let new_messages = search.clone();
    tokio::spawn(async move {
        // Messages just stored (SQLite queues them): a search indexes what
        // is left first, so this only keeps that short.
        let mut every = tokio::time::interval(NEW_MESSAGES_INDEXED_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut wait = Duration::from_secs(1);
        loop {
            every.tick().await;
            if let Err(err) = new_messages.index_new_messages().await {
                tracing::warn!(error = %err, "search index: indexing new messages failed; will retry");
                // Not a warning every quarter of a second while it lasts.
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(60));
            } else {
                wait = Duration::from_secs(1);
            }
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            let mut wait = Duration::from_secs(1);
            while let Err(err) = search.build_index().await {
                tracing::warn!(error = %err, "search index: building failed; will retry");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(60));
            }
        }
    });
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
