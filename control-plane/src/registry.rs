//! The service registry's entries: the workloads whose sidecars are connected.
//!
//! A workload joins when its sidecar opens a discovery stream (and says who it is)
//! and leaves when the stream ends, so the discovery server's table of open
//! streams is the registry. Services are declared by Kubernetes Service objects in
//! the store, or known only through their workloads.

use std::collections::BTreeMap;

use mesh_api::proxy::Protocol;
use serde::{Deserialize, Serialize};

/// One running workload, as its sidecar described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// Unique per sidecar instance (`reviews-v2-7f3c.default`).
    pub proxy_id: String,
    /// The service it belongs to (its short name: `reviews`).
    pub service: String,
    pub namespace: String,
    pub service_account: String,
    /// Includes Istio's canonical `app` and `version` labels.
    pub labels: BTreeMap<String, String>,
    /// Where other sidecars send this workload's traffic.
    pub inbound_address: String,
    /// The sidecar's outbound listener (the app's HTTP proxy).
    pub outbound_address: String,
    /// The sidecar's admin listener (loopback).
    pub admin_address: String,
    pub ports: Vec<WorkloadPort>,
    pub proxy_version: String,
    /// When the sidecar connected, in seconds since the Unix epoch.
    pub connected_unix: u64,
    /// Whether the app accepts connections on its ports: only ready workloads
    /// are endpoints of their service.
    #[serde(default = "ready_by_default")]
    pub app_ready: bool,
}

fn ready_by_default() -> bool {
    true
}

impl Workload {
    /// `<service>.<namespace>.svc.cluster.local`.
    pub fn service_fqdn(&self) -> String {
        format!(
            "{}.{}.{}",
            self.service,
            self.namespace,
            mesh_api::proxy::CLUSTER_DOMAIN
        )
    }
}

/// A service port the workload serves, and the app port behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadPort {
    pub port: u16,
    pub app_port: u16,
    /// Declared by `meshctl run`; `None` lets the Service object decide (HTTP when
    /// nothing does).
    pub protocol: Option<Protocol>,
    #[serde(default)]
    pub name: String,
}
