//! Istio's `telemetry.istio.io` resources: Telemetry.

#[allow(clippy::module_inception)]
mod telemetry;

pub use telemetry::*;
