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
pub mod client;
pub mod compiler;
pub mod registry;
pub mod server;
pub mod store;
