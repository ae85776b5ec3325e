//! mesh-control-plane: meshctl's control plane.
//!
//! It keeps the mesh's configuration (the [`store`]), tracks the running workloads
//! (the [`registry`]), turns both into each proxy's config (the [`compiler`], a pure
//! function) and streams that config to the proxies, tracking what each one
//! acknowledged ([`server`]). The CLI talks to it through the admin API ([`api`],
//! [`client`]).
//!
//! Not for data-path code: the proxy crate never depends on this one.

pub mod api;
pub mod ca;
pub mod client;
pub mod compiler;
pub mod registry;
pub mod server;
pub mod store;

/// Seconds since the Unix epoch (0 if the clock is before it), for the times the
/// control plane records and reports.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
