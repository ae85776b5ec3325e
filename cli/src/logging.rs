//! Logs of the long-running commands (control plane, proxy) go to stderr through
//! `tracing`; the level is set by flag and can be changed at runtime where a
//! component exposes it.

use anyhow::Context;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber at `level` (`info`, `debug`, or a filter such as
/// `mesh_proxy=debug,info`).
pub fn init(level: &str) -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_new(level).with_context(|| format!("invalid log level {level:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("install logger: {e}"))
}
