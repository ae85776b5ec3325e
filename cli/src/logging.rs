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

/// The proxy's log level, changeable at runtime through its admin `/logging`.
struct Reloadable {
    handle: tracing_subscriber::reload::Handle<EnvFilter, tracing_subscriber::Registry>,
    current: std::sync::Mutex<String>,
}

impl mesh_proxy::LogControl for Reloadable {
    fn level(&self) -> String {
        self.current.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn set_level(&self, level: &str) -> Result<(), String> {
        let filter =
            EnvFilter::try_new(level).map_err(|e| format!("invalid level {level:?}: {e}"))?;
        self.handle.reload(filter).map_err(|e| e.to_string())?;
        if let Ok(mut c) = self.current.lock() {
            *c = level.to_owned();
        }
        Ok(())
    }
}

/// Like [`init`], returning a handle that changes the level later.
pub fn init_reloadable(level: &str) -> anyhow::Result<std::sync::Arc<dyn mesh_proxy::LogControl>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter =
        EnvFilter::try_new(level).with_context(|| format!("invalid log level {level:?}"))?;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .try_init()
        .map_err(|e| anyhow::anyhow!("install logger: {e}"))?;
    Ok(std::sync::Arc::new(Reloadable {
        handle,
        current: std::sync::Mutex::new(level.to_owned()),
    }))
}
