//! Istio's traffic resources (`networking.istio.io`): VirtualService,
//! DestinationRule, Gateway, ServiceEntry, Sidecar, WorkloadEntry, WorkloadGroup.

mod destination_rule;
mod gateway;
pub mod protocol;
mod service_entry;
mod shared;
mod sidecar;
mod tls;
mod virtual_service;
mod workload_entry;

pub use destination_rule::*;
pub use gateway::*;
pub use service_entry::*;
pub use shared::*;
pub use sidecar::*;
pub use tls::*;
pub use virtual_service::*;
pub use workload_entry::*;
