//! Istio's `telemetry.istio.io` resources: Telemetry.

pub mod filter;
#[allow(clippy::module_inception)]
mod telemetry;

pub use telemetry::*;
