//! Istio's standard metrics for the sidecar: request counts, durations and
//! sizes, gRPC message counts, and TCP tunnel counters, labelled with both ends of each call, plus
//! the proxy's own health (connections, config pushes, control-plane
//! connection, certificate expiry). Served on the admin `/stats/prometheus`.
//!
//! Both sidecars of a call report (`reporter="source"` on the client's
//! outbound side, `"destination"` on the server's inbound side); each learns
//! who the other is through the metadata exchange header ([`PEER_HEADER`]).

mod accesslog;
mod call;
mod export;
mod grpc;
mod labels;
mod metrics;
mod observe;
mod peer;
mod trace;
mod upsert;

pub(crate) use call::{Call, GRPC_STATUS, TunnelMeter, UpstreamCluster};
pub use call::{Metered, PeerSecurity};
pub(crate) use grpc::MessageTap;
pub use labels::SecurityPolicy;
pub(crate) use metrics::Metrics;
pub(crate) use observe::{Downstream, RouteName, RtTelemetry, UpstreamInfo};
pub(crate) use peer::PEER;
pub use peer::{PEER_HEADER, UNKNOWN, Workload};
