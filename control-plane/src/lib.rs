//! mesh-control-plane: meshctl's control plane.
//!
//! It keeps the mesh's configuration (the [`store`]), and will turn that
//! configuration and the registry of running workloads into each proxy's config and
//! stream it to them. It is not for data-path code: the proxy crate never depends on
//! this one.

pub mod compiler;
pub mod registry;
pub mod store;
