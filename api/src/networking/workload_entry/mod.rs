//! WorkloadEntry (`workload_entry.proto`): one non-Kubernetes workload (a VM, a bare
//! metal host) with its address, ports and labels; and WorkloadGroup
//! (`workload_group.proto`): the template WorkloadEntries are created from.
//!
//! The entry spec is shared: a ServiceEntry's `endpoints` and a WorkloadGroup's
//! `template` are WorkloadEntry specs, validated by [`validate_workload_entry`]
//! with the rules of the place they appear in ([`EndpointUse`]).

mod group;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::{Report, rules};

pub use group::*;

/// The prefix of a Unix domain socket address (`unix:///var/run/app.sock`,
/// `unix://@abstract`).
pub const UNIX_ADDRESS_PREFIX: &str = "unix://";

/// A workload outside Kubernetes: where it is, which ports it serves, its labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadEntrySpec {
    /// IP address, fully-qualified host name (DNS resolution only) or
    /// `unix:///path` socket; may be empty when `network` is set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Service port name to the port this workload listens on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, u32>,
    /// Labels of the workload, matched by workload selectors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The L3 network the workload lives in (multi-network meshes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// Failure domain such as `us/us-east-1/az-1/r11`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub locality: String,
    /// Load-balancing weight relative to the other endpoints.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: u32,
    /// The service account of the workload's sidecar.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account: String,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Spec for WorkloadEntrySpec {
    const KIND: Kind = Kind::WorkloadEntry;

    /// Istio's `ValidateWorkloadEntry`: address required (unless a network is
    /// given), an IP, FQDN or Unix socket; valid port names and numbers; valid labels.
    fn validate(&self, _meta: &ObjectMeta, r: &mut Report) {
        validate_workload_entry(self, &FieldPath::spec(), r, EndpointUse::WorkloadEntry);
    }
}

/// A WorkloadEntry resource.
pub type WorkloadEntry = Object<WorkloadEntrySpec>;

/// Where a WorkloadEntry spec appears, which decides the rules it must follow.
#[derive(Debug, Clone, Copy)]
pub enum EndpointUse<'a> {
    /// A WorkloadEntry resource: the address may be an IP, a FQDN or a Unix socket.
    WorkloadEntry,
    /// An endpoint of a `STATIC` ServiceEntry: an IP or a Unix socket; port names
    /// must be among the ServiceEntry's port names (given here).
    StaticEndpoint(&'a BTreeSet<String>),
    /// An endpoint of a `DNS` or `DNS_ROUND_ROBIN` ServiceEntry: an IP or a FQDN;
    /// port names must be among the ServiceEntry's port names.
    DnsEndpoint(&'a BTreeSet<String>),
    /// An endpoint Istio does not use (resolution `NONE` or `DYNAMIC_DNS`): only the
    /// schema's checks apply.
    Ignored,
    /// A WorkloadGroup's `template`: the address is filled in per workload.
    Template,
}

/// Check a WorkloadEntry spec at `at` with the rules of `usage`: Istio's
/// `validateWorkloadEntry` and the ServiceEntry endpoint checks, plus the CRD
/// schema's rules (Unix socket form, port ranges, size limits).
pub fn validate_workload_entry(
    spec: &WorkloadEntrySpec,
    at: &FieldPath,
    r: &mut Report,
    usage: EndpointUse<'_>,
) {
    check_schema(spec, at, r, usage);
    let addr_at = at.field("address");
    let addr = spec.address.as_str();
    let unix = addr.starts_with(UNIX_ADDRESS_PREFIX);
    match usage {
        EndpointUse::Template => {
            if !addr.is_empty() {
                r.warning(
                    &addr_at,
                    "address should not be set in a WorkloadGroup template: each WorkloadEntry gets the address of its workload",
                );
            }
            if !spec.labels.is_empty() {
                r.warning(
                    &at.field("labels"),
                    "labels should be set in the WorkloadGroup's metadata, not in its template",
                );
            }
            return;
        }
        EndpointUse::Ignored => return,
        EndpointUse::WorkloadEntry | EndpointUse::StaticEndpoint(_) => {
            if addr.is_empty() && !spec.network.is_empty() {
                r.warning(
                    &addr_at,
                    format!(
                        "address is unset with network {:?}: the workload is reached through that network's gateway",
                        spec.network
                    ),
                );
            } else if !addr.is_empty() && !unix && !rules::is_ip(addr) {
                if matches!(usage, EndpointUse::StaticEndpoint(_)) {
                    r.error(
                        &addr_at,
                        format!(
                            "endpoint address {addr:?} is not a valid IP address: STATIC resolution needs IP addresses or unix:// sockets (use resolution DNS for host names)"
                        ),
                    );
                } else if let Some(p) = rules::fqdn_problem(addr) {
                    r.error(
                        &addr_at,
                        format!("address {addr:?} is not a valid FQDN or an IP address: {p}"),
                    );
                }
            }
        }
        EndpointUse::DnsEndpoint(_) => {
            if unix {
                r.error(
                    &addr_at,
                    format!(
                        "endpoint address {addr:?} invalid: Unix domain socket endpoints need resolution STATIC; DNS endpoints are FQDNs or IP addresses"
                    ),
                );
            } else if !addr.is_empty()
                && !rules::is_ip(addr)
                && let Some(p) = rules::fqdn_problem(addr)
            {
                r.error(
                    &addr_at,
                    format!("endpoint address {addr:?} is not a valid FQDN or an IP address: {p}"),
                );
            } else if addr.is_empty() && !spec.network.is_empty() {
                r.error(
                    &addr_at,
                    "endpoint address is required for DNS resolution: a FQDN or an IP address",
                );
            }
        }
    }
    if let EndpointUse::StaticEndpoint(service_ports) | EndpointUse::DnsEndpoint(service_ports) =
        usage
    {
        for (name, port) in &spec.ports {
            if !service_ports.contains(name) {
                r.error(
                    &at.field("ports").key(name),
                    format!(
                        "endpoint port {name:?} ({port}) is not defined by the service entry; declared port names: {}",
                        join_or_none(service_ports)
                    ),
                );
            }
        }
        if unix && matches!(usage, EndpointUse::StaticEndpoint(_)) && service_ports.len() != 1 {
            r.error(
                &addr_at,
                format!(
                    "exactly 1 service port is required for Unix domain socket endpoints, the service entry declares {}",
                    service_ports.len()
                ),
            );
        }
    }
    rules::check_labels(r, &at.field("labels"), &spec.labels);
}

fn join_or_none(names: &BTreeSet<String>) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The rules of the CRD schema, which the API server applies wherever a
/// WorkloadEntry spec appears.
fn check_schema(spec: &WorkloadEntrySpec, at: &FieldPath, r: &mut Report, usage: EndpointUse<'_>) {
    let addr_at = at.field("address");
    if spec.address.is_empty() && spec.network.is_empty() && !matches!(usage, EndpointUse::Template)
    {
        r.error(
            &addr_at,
            "address is required (an IP address, a host name or unix:///path), unless network is set",
        );
    }
    check_max_len(r, &addr_at, "address", &spec.address, 256);
    check_max_len(r, &at.field("network"), "network", &spec.network, 2048);
    check_max_len(r, &at.field("locality"), "locality", &spec.locality, 2048);
    check_max_len(
        r,
        &at.field("serviceAccount"),
        "serviceAccount",
        &spec.service_account,
        253,
    );
    if let Some(path) = spec.address.strip_prefix(UNIX_ADDRESS_PREFIX) {
        if let Some(p) = unix_address_problem(path) {
            r.error(&addr_at, p);
        }
        if !spec.ports.is_empty() {
            r.error(
                &at.field("ports"),
                format!(
                    "Unix domain socket endpoint {:?} must not include ports",
                    spec.address
                ),
            );
        }
    }
    if spec.ports.len() > 128 {
        r.error(
            &at.field("ports"),
            format!("{} ports given, at most 128 are allowed", spec.ports.len()),
        );
    }
    if spec.labels.len() > 256 {
        r.error(
            &at.field("labels"),
            format!(
                "{} labels given, at most 256 are allowed",
                spec.labels.len()
            ),
        );
    }
    for (name, port) in &spec.ports {
        let here = at.field("ports").key(name);
        if !rules::is_dns1123_label(name) {
            r.error(
                &here,
                format!(
                    "port name {name:?} invalid: letters, digits and '-', at most 63 characters, starting and ending with a letter or digit"
                ),
            );
        }
        rules::check_port(r, &here, *port);
    }
}

/// Report a string longer than the schema allows.
pub(crate) fn check_max_len(r: &mut Report, at: &FieldPath, what: &str, s: &str, max: usize) {
    if s.len() > max {
        r.error(
            at,
            format!(
                "{what} is {} characters long, at most {max} are allowed",
                s.len()
            ),
        );
    }
}

/// Istio's `ValidateUnixAddress` on the part after `unix://`: an absolute path to a
/// file (not a directory), or an abstract socket name starting with `@`.
pub(crate) fn unix_address_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some(
            "unix address must not be empty: use unix:///absolute/path or unix://@name".into(),
        );
    }
    if path.starts_with('@') {
        return None;
    }
    if !path.starts_with('/') || path.ends_with('/') {
        return Some(format!(
            "unix address {path:?} is not an absolute path to a file: use unix:///absolute/path or unix://@name"
        ));
    }
    None
}
