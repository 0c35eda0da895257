//! Logging: `tracing` to stdout, pretty or JSON, filtered by `RUST_LOG`.
//!
//! Logged values may carry what clients sent (names, provider answers,
//! error details). JSON lines escape them by nature; the readable format
//! escapes every control character in every field and message
//! ([`escaped_fields`]), so no value can start a forged line or move the
//! cursor of the terminal showing the log.

use std::fmt::{self, Write as _};

use tracing::field::Field;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{self, Compact, Format, Writer};
use tracing_subscriber::fmt::{FormatFields, MakeWriter, SubscriberBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter used when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second call (tests starting several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Pretty => readable(std::io::stdout).with_env_filter(filter).try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(true)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// The readable (one line per event) format, writing to `writer`.
pub fn readable<W>(
    writer: W,
) -> SubscriberBuilder<impl for<'w> FormatFields<'w> + 'static, Format<Compact>, LevelFilter, W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_target(true)
        .compact()
        .fmt_fields(escaped_fields())
        .with_writer(writer)
}

/// Fields as `name=value` separated by spaces (the message bare), with
/// control characters escaped: `\n`, `\r`, `\t`, and `\u{…}` for the rest
/// (ESC, C1 controls, Unicode line and paragraph separators).
pub fn escaped_fields() -> impl for<'w> FormatFields<'w> + 'static {
    format::debug_fn(
        |writer: &mut Writer<'_>, field: &Field, value: &dyn fmt::Debug| {
            let mut out = Escaping(writer);
            match field.name() {
                "message" => write!(out, "{value:?}"),
                name => write!(out, "{}={value:?}", name.trim_start_matches("r#")),
            }
        },
    )
    .delimited(" ")
}

/// Writes through to `W`, escaping control characters.
struct Escaping<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(needs_escape) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                other => write!(self.0, "\\u{{{:x}}}", u32::from(other))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Sends panics to the log (with the request's span, as JSON in production)
/// instead of bare standard error. The panicking request itself answers a
/// 500 problem (see [`crate::middleware`]).
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic");
    }));
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn values_with_line_breaks_and_escapes_stay_on_one_readable_line() {
        let captured = Captured::default();
        let subscriber = readable(captured.clone()).with_ansi(false).finish();
        let hostile = "ann\n2026-12-01T00:00:00Z  INFO forged: admin signed in\r\u{1b}[2J\u{2028}x";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", login = %hostile);
            let _entered = span.enter();
            tracing::warn!(provider = %hostile, debug = ?hostile, "refused {hostile}");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "one line: {text:?}");
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(text.contains("provider=ann\\n2026-12-01"), "{text:?}");
        assert!(text.contains("login=ann\\n"), "span fields too: {text:?}");
        assert!(text.contains("refused ann\\n"), "the message too: {text:?}");
        assert!(
            text.contains("\\u{1b}[2J") && text.contains("\\u{2028}x"),
            "{text:?}"
        );
    }
}
