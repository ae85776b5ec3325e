//! The live view behind `meshctl top` and `meshctl dashboard`: scrape every
//! sidecar's Istio metrics, keep the previous scrape, and compute per edge
//! (source workload -> destination service/workload) the request rate, success
//! rate, p50/p99 latency and mTLS status, beside each proxy's sync status from
//! the control plane. No Prometheus server is involved.
//!
//! `prom` parses the text format, `counters` reduces one scrape to edges,
//! `quantile` is `histogram_quantile`, `window` turns two scrapes into rates,
//! `snapshot` adds nodes, workloads and proxies, `sampler` does the I/O, and
//! `server` serves the dashboard page and its JSON.

pub mod counters;
pub mod prom;
pub mod quantile;
pub mod sampler;
pub mod server;
pub mod snapshot;
pub mod window;

pub use sampler::{SampleError, Sampler, SamplerOptions};
pub use snapshot::Snapshot;
