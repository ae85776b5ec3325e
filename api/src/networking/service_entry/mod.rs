//! ServiceEntry (`service_entry.proto`): adds a service to Istio's registry (an
//! external API, VMs, a database), with its hosts, addresses, ports and how its
//! endpoints are found.

#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::{Port, WorkloadEntrySpec};
use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::validation::Report;

/// A service added to the mesh's registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceEntrySpec {
    /// Host names of the service, possibly with a wildcard prefix (`*.example.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Virtual IPs or CIDR blocks of the service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// The service's ports (number, protocol, name, targetPort).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    /// Whether the service is outside the mesh (the default) or part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How the proxy finds the endpoints' addresses (default `NONE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The service's endpoints; only one of `endpoints` and `workloadSelector`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<WorkloadEntrySpec>,
    /// Selects pods and WorkloadEntries as the endpoints (MESH_INTERNAL services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<ServiceEntryWorkloadSelector>,
    /// Namespaces the service is visible in: `.` (its own), `*` (all, the default),
    /// `~` (none) or namespace names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_to: Vec<String>,
    /// Subject alternative names the server certificate must carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
}

/// Whether a ServiceEntry's service is inside the mesh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Location {
    /// Outside the mesh: no mTLS, consumed through APIs.
    #[default]
    MeshExternal,
    /// Part of the mesh (VMs and other workloads with sidecars).
    MeshInternal,
}

/// How the proxy resolves a ServiceEntry's endpoint addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    /// Connections keep the destination IP the application chose.
    #[default]
    None,
    /// The endpoints' static IP addresses (or `workloadSelector`).
    Static,
    /// Resolve the endpoints' (or the hosts') names with DNS, using all addresses.
    Dns,
    /// Resolve with DNS, using the first address for each new connection.
    DnsRoundRobin,
    /// Resolve the name of each request's Host/SNI (wildcard hosts, MESH_EXTERNAL).
    DynamicDns,
}

impl Resolution {
    /// The name Istio's YAML uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::None => "NONE",
            Resolution::Static => "STATIC",
            Resolution::Dns => "DNS",
            Resolution::DnsRoundRobin => "DNS_ROUND_ROBIN",
            Resolution::DynamicDns => "DYNAMIC_DNS",
        }
    }
}

/// Selects workloads by labels (`workloadSelector.labels`, Istio's networking
/// `WorkloadSelector`, unlike the `matchLabels` of security and telemetry kinds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceEntryWorkloadSelector {
    /// Labels a pod or WorkloadEntry must all carry to be an endpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ServiceEntrySpec {
    /// The resolution, `NONE` when unset.
    pub fn resolution(&self) -> Resolution {
        self.resolution.unwrap_or_default()
    }

    /// The location, `MESH_EXTERNAL` when unset.
    pub fn location(&self) -> Location {
        self.location.unwrap_or_default()
    }
}

impl Spec for ServiceEntrySpec {
    const KIND: Kind = Kind::ServiceEntry;

    /// Istio's `ValidateServiceEntry` plus the rules of the ServiceEntry CRD schema.
    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        validate::validate(self, meta, r);
    }
}

/// A ServiceEntry resource.
pub type ServiceEntry = Object<ServiceEntrySpec>;
