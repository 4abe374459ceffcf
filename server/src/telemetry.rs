//! Log output: readable lines on a terminal, JSON lines with `--log-format json`. Logs go to
//! stderr so stdout stays free for command output (`switchyard config`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. The filter was validated with the config.
///
/// `object_store` reports each retry of a request at `info`; the store reports the outcome
/// itself (in health and one warning), so those lines are kept at `warn` unless the filter
/// names `object_store`.
pub fn init(format: LogFormat, filter: &str) {
    let filter = if filter.contains("object_store") {
        filter.to_owned()
    } else {
        format!("{filter},object_store=warn")
    };
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
