//! PLACEHOLDER: mesh-proxy, the sidecar data plane.

pub mod discovery;
