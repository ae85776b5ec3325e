//! PLACEHOLDER: mesh-proxy, the sidecar data plane.
