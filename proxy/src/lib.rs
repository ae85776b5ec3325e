//! mesh-proxy: meshctl's sidecar data plane.
//!
//! A [`Proxy`] runs three listeners: **outbound** (the app's `HTTP_PROXY`: routes
//! by authority and request to a cluster endpoint, which is a peer sidecar's
//! inbound listener), **inbound** (forwards peers' traffic to the app on loopback)
//! and **admin** (loopback only: `/config_dump`, `/ready`, `/clusters`,
//! `/stats/prometheus`, `/logging`, `/certs`). What it routes comes from the control plane
//! as four discovery types applied to its [`ConfigStore`]; each accepted push is
//! compiled and swapped in atomically, a rejected one is returned as an error for
//! the caller to NACK.
//!
//! Its workload identity (a SPIFFE certificate from the control plane's CA, for
//! a key it generated itself) is kept current by [`identity`]; [`tls`] builds the
//! rustls configs for mutual TLS from it.
//!
//! Locally failed requests carry Envoy's response flag in the
//! [`FLAGS_HEADER`] response header: `NR` (no route, 404), `NC` (unknown cluster,
//! 503), `UH` (no endpoints, 503), `UF` (connect failure, 503), `UT` (route
//! timeout, 504), `UC` (upstream connection terminated, 503), `UO` (connection
//! pool overflow, 503), `FI` (fault injected); `URX` (retries spent) and `DI`
//! (delay injected) mark upstream answers.

mod admin;
pub mod authz;
mod balance;
mod body;
mod cluster;
mod config;
pub mod discovery;
mod drain;
mod error;
mod forward;
pub mod identity;
mod inbound;
mod origin;
mod outbound;
mod policy;
mod server;
mod sni;
mod stats;
pub mod telemetry;
pub mod tls;
mod transport;
mod upstream;

pub use body::ProxyBody;
pub use config::{ConfigStore, TypeStatus};
pub use error::{ConfigError, ProxyError};
pub use forward::FLAGS_HEADER;
pub use server::{BoundProxy, LogControl, Proxy, ProxyOptions};
pub use stats::Flag;
pub use upstream::UpstreamBody;

/// A map read on the request path (routes by host, clusters, peers, services,
/// request metric label sets): hashed with foldhash, seeded per process like
/// std's SipHash but a fraction of its cost on the long keys these have (a
/// peer's exchange header is about 300 bytes).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
