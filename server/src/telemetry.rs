//! Logging: `tracing` to stdout, pretty or JSON, filtered by `RUST_LOG`.

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// The filter used when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = fmt().with_env_filter(filter).with_target(true);
    // A second call (tests starting several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// Sends panics to the log (with the request's span, as JSON in production)
/// instead of bare standard error. The panicking request itself answers a
/// 500 problem (see [`crate::middleware`]).
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic");
    }));
}
