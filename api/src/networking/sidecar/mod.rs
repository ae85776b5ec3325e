//! Sidecar (`networking.istio.io`): what a workload's proxy accepts (ingress
//! listeners) and which services it can reach (egress listeners), plus inbound
//! connection limits and the outbound traffic policy.

mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::networking::{ConnectionPoolSettings, Destination, ServerTlsSettings};
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::Report;

/// A Sidecar: scopes the configuration of the proxies of selected workloads.
pub type Sidecar = Object<SidecarSpec>;

/// The `spec` of a Sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SidecarSpec {
    /// The workloads this Sidecar applies to (all in the namespace when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<SidecarWorkloadSelector>,
    /// Listeners for traffic arriving at the workload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IstioIngressListener>,
    /// Listeners for traffic leaving the workload, and the hosts each can reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<IstioEgressListener>,
    /// Default connection limits for inbound traffic to the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_connection_pool: Option<ConnectionPoolSettings>,
    /// What to do with outbound traffic to hosts not in the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
}

/// Selects workloads by labels (a Sidecar writes `labels`, not `matchLabels`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SidecarWorkloadSelector {
    /// Labels a workload must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A listener for inbound traffic to the workload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioIngressListener {
    /// The port traffic arrives on (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<SidecarPort>,
    /// IP address the listener binds to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bind: String,
    /// How traffic reaches the listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<CaptureMode>,
    /// Where traffic is forwarded: `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`,
    /// `[::]:PORT` or `unix:///path`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_endpoint: String,
    /// TLS the listener terminates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTlsSettings>,
    /// Connection limits for this port (overrides `inboundConnectionPool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPoolSettings>,
}

/// A listener for outbound traffic, and the hosts reachable through it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioEgressListener {
    /// The port (or unix socket with number 0); unset for the catch-all listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<SidecarPort>,
    /// IP address or `unix://` socket the listener binds to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bind: String,
    /// How traffic reaches the listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<CaptureMode>,
    /// Reachable services as `namespace/dnsName` (`*`, `.` and `~` namespaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// A port of a Sidecar listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SidecarPort {
    /// Port number (0 for a unix domain socket egress listener).
    #[serde(default)]
    pub number: u32,
    /// Protocol (HTTP, HTTP2, GRPC, TCP...); detected when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    /// Port name (a DNS label).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Deprecated and ignored by Sidecars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
}

/// How traffic is captured into a listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaptureMode {
    /// The environment's default.
    #[default]
    Default,
    /// iptables redirection.
    Iptables,
    /// No capture: the application talks to the listener directly.
    None,
}

/// Outbound traffic policy for hosts outside the service registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundTrafficPolicy {
    /// `REGISTRY_ONLY` (default) or `ALLOW_ANY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<OutboundTrafficMode>,
    /// Send unknown traffic through this proxy (only with `ALLOW_ANY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_proxy: Option<Destination>,
}

/// Whether outbound traffic to unknown hosts is allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboundTrafficMode {
    /// Only hosts in the registry are reachable.
    #[default]
    RegistryOnly,
    /// Unknown hosts are passed through.
    AllowAny,
}

impl Spec for SidecarSpec {
    const KIND: Kind = Kind::Sidecar;

    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        validate::sidecar(self, meta.namespace.as_deref(), &FieldPath::spec(), r);
    }
}
