//! Log output: installs the process's one `tracing` subscriber from `[log]`
//! (text or JSON lines on stderr, filter from `log.level` unless `RUST_LOG` is
//! set) and sets the [`redact`] switch from `log.redact`.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};
use crate::redact;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// `RUST_LOG` is set but is not a filter (`log.level` is checked when the config loads).
    #[error("RUST_LOG is not a log filter such as `info` or `info,gateway=debug`: {source}")]
    BadRustLog {
        /// The filter parser's account.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// `log.level` is not a filter.
    #[error("log.level is not a log filter: {source}")]
    BadLevel {
        /// The filter parser's account.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// A subscriber was already installed in this process.
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled(#[source] tracing::subscriber::SetGlobalDefaultError),
}

/// Installs the global subscriber and the redaction switch. Call once, early in `main`.
pub fn init(config: &LogConfig) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = env_filter(&config.level, rust_log.as_deref())?;
    redact::set_enabled(config.redact);
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let subscriber = subscriber(config.format, filter, ansi, std::io::stderr);
    tracing::subscriber::set_global_default(subscriber).map_err(LoggingError::AlreadyInstalled)
}

/// The filter: `RUST_LOG` when set and not blank, else `level`.
pub fn env_filter(level: &str, rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    match rust_log.filter(|s| !s.trim().is_empty()) {
        Some(directives) => {
            EnvFilter::try_new(directives).map_err(|source| LoggingError::BadRustLog { source })
        }
        None => EnvFilter::try_new(level).map_err(|source| LoggingError::BadLevel { source }),
    }
}

/// A subscriber writing `format` lines to `writer`, filtered by `filter`;
/// `ansi` colours text lines (JSON never is).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync + 'static>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects everything written, for inspection.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Capture {
        fn text(&self) -> String {
            let bytes = self.0.lock().expect("no test thread panicked holding it");
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut bytes = self.0.lock().expect("no test thread panicked holding it");
            bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Capture {
        type Writer = Capture;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn emit(format: LogFormat, level: &str, rust_log: Option<&str>) -> String {
        let capture = Capture::default();
        let filter = env_filter(level, rust_log).expect("valid test filter");
        let subscriber = subscriber(format, filter, false, capture.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("call", call_id = "c1").in_scope(|| {
                tracing::info!(leg = "sip", "answered");
                tracing::debug!("detail");
            });
        });
        capture.text()
    }

    #[test]
    fn json_lines_carry_fields_and_span() {
        let out = emit(LogFormat::Json, "info", None);
        let line = out.lines().next().expect("one line");
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON object");
        assert_eq!(value["message"], "answered");
        assert_eq!(value["leg"], "sip");
        assert_eq!(value["span"]["call_id"], "c1");
        assert_eq!(out.lines().count(), 1, "debug filtered out: {out}");
    }

    #[test]
    fn text_lines_honour_the_level() {
        let out = emit(LogFormat::Text, "debug", None);
        assert!(out.contains("answered") && out.contains("detail"), "{out}");
        assert!(!out.trim_start().starts_with('{'), "{out}");
    }

    #[test]
    fn rust_log_wins_over_the_level() {
        let out = emit(LogFormat::Text, "info", Some("warn"));
        assert!(out.is_empty(), "{out}");
        let out = emit(LogFormat::Text, "warn", Some("  "));
        assert!(
            out.is_empty(),
            "blank RUST_LOG falls back to log.level: {out}"
        );
        let out = emit(LogFormat::Text, "warn", Some("debug"));
        assert!(out.contains("detail"), "{out}");
    }

    #[test]
    fn bad_filters_name_their_source() {
        let err = env_filter("info", Some("gateway=loud")).expect_err("bad RUST_LOG");
        assert!(matches!(err, LoggingError::BadRustLog { .. }), "{err}");
        let err = env_filter("gateway=loud", None).expect_err("bad level");
        assert!(matches!(err, LoggingError::BadLevel { .. }), "{err}");
    }
}
