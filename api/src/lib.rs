//! mesh-api: the resource model of meshctl, shared by the CLI, the control plane and
//! the proxy.
//!
//! It holds Istio's resource kinds (VirtualService, DestinationRule, Gateway,
//! ServiceEntry, Sidecar, WorkloadEntry, WorkloadGroup, PeerAuthentication,
//! AuthorizationPolicy, RequestAuthentication, Telemetry) as typed Rust structs
//! accepting the same YAML users write for Istio, the Kubernetes objects mesh config
//! refers to, YAML loading that remembers the file and line of every field, and
//! validation with Istio's webhook rules.
//!
//! It is not for anything that runs: no sockets, no processes, no state. Loading and
//! validating are pure functions of their input, so every caller (`meshctl validate`,
//! `apply`, the control plane's store) judges a resource the same way.

pub mod common;
pub mod diagnostic;
pub mod exposition;
pub mod kind;
pub mod load;
pub mod mesh_config;
pub mod networking;
pub mod object;
pub mod path;
pub mod proxy;
pub mod resource;
pub mod security;
pub mod telemetry;
pub mod validation;
pub mod yaml;

pub use diagnostic::Diagnostic;
pub use kind::Kind;
pub use object::{Object, ResourceRef, Spec};
pub use path::FieldPath;
pub use resource::Resource;
pub use validation::{Finding, Report, Severity};

/// The discovery protocol's wire types and gRPC stubs (generated from
/// `proto/meshctl/discovery/v1/discovery.proto`).
pub mod discovery {
    #![allow(
        missing_docs,
        clippy::all,
        clippy::pedantic,
        missing_debug_implementations
    )]
    tonic::include_proto!("meshctl.discovery.v1");
}
