//! Istio's `ValidateServiceEntry`, plus the CEL and size rules of the ServiceEntry
//! CRD schema (which the API server enforces before the webhook runs).

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Location, Resolution, ServiceEntrySpec};
use crate::networking::protocol::{PORT_PROTOCOL_NAMES, PortProtocol};
use crate::networking::workload_entry::{EndpointUse, validate_workload_entry};
use crate::path::FieldPath;
use crate::validation::rules::fqdn_problem;
use crate::validation::{Report, rules};

/// The label with which a ServiceEntry opts out of automatic VIP allocation.
const AUTOALLOCATE_LABEL: &str = "networking.istio.io/enable-autoallocate-ip";

pub(super) fn validate(se: &ServiceEntrySpec, meta: &ObjectMeta, r: &mut Report) {
    let at = FieldPath::spec();
    let resolution = se.resolution();
    check_selector(se, &at, r);
    check_hosts(se, &at, r);
    check_addresses(se, &at, r);
    let port_names = check_ports(se, meta, &at, r);
    check_endpoints(se, &port_names, &at, r);

    // Plain TCP cannot tell several hosts apart; only NONE ignores the hosts.
    let untellable = se.ports.iter().enumerate().find(|(_, p)| {
        let proto = PortProtocol::parse(&p.protocol);
        !proto.is_http() && !proto.is_tls()
    });
    if resolution != Resolution::None
        && se.hosts.len() > 1
        && let Some((i, p)) = untellable
    {
        r.error(
            &at.field("ports").index(i).field("protocol"),
            format!(
                "multiple hosts provided with non-HTTP, non-TLS ports: port {} (protocol {:?}) cannot tell the {} hosts apart; use an HTTP or TLS protocol, one host per ServiceEntry, or resolution NONE",
                p.number,
                p.protocol,
                se.hosts.len()
            ),
        );
    }
    rules::check_export_to(
        r,
        &at.field("exportTo"),
        meta.namespace.as_deref(),
        &se.export_to,
        true,
    );
}

/// Istio's `ValidateAlphaWorkloadSelector` and the selector/endpoints exclusion.
fn check_selector(se: &ServiceEntrySpec, at: &FieldPath, r: &mut Report) {
    let Some(sel) = &se.workload_selector else {
        return;
    };
    let sat = at.field("workloadSelector");
    if sel.labels.is_empty() {
        r.warning(
            &sat,
            "service entry: workload selector specified without labels, will be applied to all services in namespace",
        );
    }
    for (k, v) in &sel.labels {
        let here = sat.field("labels").key(k);
        if k.is_empty() {
            r.error(
                &here,
                format!("empty key is not supported in selector: \"={v}\""),
            );
        }
        if k.contains('*') || v.contains('*') {
            r.error(
                &here,
                format!(
                    "wildcard is not supported in selector: \"{k}={v}\": give exact label values"
                ),
            );
        }
    }
    if !se.endpoints.is_empty() {
        r.error(
            &sat,
            "only one of workloadSelector or endpoints is allowed in a service entry",
        );
    }
}

fn check_hosts(se: &ServiceEntrySpec, at: &FieldPath, r: &mut Report) {
    let hat = at.field("hosts");
    if se.hosts.is_empty() {
        r.error(
            &hat,
            "service entry must have at least one host, such as api.example.com or *.example.com",
        );
    }
    if se.hosts.len() > 256 {
        r.error(
            &hat,
            format!("{} hosts given, at most 256 are allowed", se.hosts.len()),
        );
    }
    for (i, h) in se.hosts.iter().enumerate() {
        let here = hat.index(i);
        if h == "*" {
            r.error(
                &here,
                "invalid host \"*\": a service entry cannot match every host; use a domain such as *.example.com",
            );
            continue;
        }
        rules::check_wildcard_host(r, &here, h);
        if h.contains('*') && !h.starts_with("*.") {
            r.warning(
                &here,
                format!("partial wildcard {h:?} not allowed: use a whole-label wildcard such as \"*.example.com\""),
            );
        }
    }
}

fn check_addresses(se: &ServiceEntrySpec, at: &FieldPath, r: &mut Report) {
    let aat = at.field("addresses");
    if se.addresses.len() > 256 {
        r.error(
            &aat,
            format!(
                "{} addresses given, at most 256 are allowed",
                se.addresses.len()
            ),
        );
    }
    let mut cidr = None;
    for (i, a) in se.addresses.iter().enumerate() {
        let here = aat.index(i);
        if a.contains('/') && cidr.is_none() {
            cidr = Some(i);
        }
        if a.len() > 64 {
            r.error(&here, format!("address {a:?} is longer than 64 characters"));
        } else if let Some(p) = rules::ip_or_cidr_problem(a) {
            r.error(&here, p);
        }
    }
    let resolution = se.resolution();
    if let Some(i) = cidr
        && !matches!(resolution, Resolution::None | Resolution::Static)
    {
        r.error(
            &aat.index(i),
            format!(
                "CIDR addresses are allowed only for NONE/STATIC resolution types, resolution is {}",
                resolution.as_str()
            ),
        );
    }
}

/// Port names, numbers and protocols; returns the declared port names.
fn check_ports(
    se: &ServiceEntrySpec,
    meta: &ObjectMeta,
    at: &FieldPath,
    r: &mut Report,
) -> BTreeSet<String> {
    let pat = at.field("ports");
    if se.ports.len() > 256 {
        r.error(
            &pat,
            format!("{} ports given, at most 256 are allowed", se.ports.len()),
        );
    }
    let opted_out = meta
        .labels
        .as_ref()
        .and_then(|l| l.get(AUTOALLOCATE_LABEL))
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let auto_allocation = se.resolution() != Resolution::None && !opted_out;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut numbers: HashMap<u32, usize> = HashMap::new();
    for (i, p) in se.ports.iter().enumerate() {
        let here = pat.index(i);
        if let Some(first) = names.get(p.name.as_str()) {
            r.error(
                &here.field("name"),
                format!(
                    "service entry port name {:?} already defined by ports[{first}]",
                    p.name
                ),
            );
        } else {
            names.insert(&p.name, i);
        }
        if let Some(first) = numbers.get(&p.number) {
            r.error(
                &here.field("number"),
                format!(
                    "service entry port {} already defined by ports[{first}]",
                    p.number
                ),
            );
        } else {
            numbers.insert(p.number, i);
        }
        rules::check_port(r, &here.field("number"), p.number);
        if let Some(t) = p.target_port {
            rules::check_port(r, &here.field("targetPort"), t);
        }
        if !rules::is_dns1123_label(&p.name) {
            r.error(
                &here.field("name"),
                format!(
                    "invalid port name {:?}: letters, digits and '-', at most 63 characters, starting and ending with a letter or digit",
                    p.name
                ),
            );
        }
        if !p.protocol.is_empty() && PortProtocol::parse(&p.protocol) == PortProtocol::Unsupported {
            r.error(
                &here.field("protocol"),
                format!(
                    "unsupported protocol {:?}: use one of {PORT_PROTOCOL_NAMES}, or leave it empty for protocol sniffing",
                    p.protocol
                ),
            );
        }
        if se.addresses.is_empty()
            && !auto_allocation
            && (p.protocol.is_empty() || p.protocol == "TCP")
        {
            r.warning(
                &here.field("protocol"),
                "addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled: without an address, traffic to any IP on this port matches",
            );
        }
    }
    se.ports.iter().map(|p| p.name.clone()).collect()
}

/// The rules that depend on the resolution, and each endpoint's own checks.
fn check_endpoints(
    se: &ServiceEntrySpec,
    port_names: &BTreeSet<String>,
    at: &FieldPath,
    r: &mut Report,
) {
    let eat = at.field("endpoints");
    let resolution = se.resolution();
    if se.endpoints.len() > 4096 {
        r.error(
            &eat,
            format!(
                "{} endpoints given, at most 4096 are allowed",
                se.endpoints.len()
            ),
        );
    }
    let usage = match resolution {
        Resolution::None => {
            if !se.endpoints.is_empty() {
                r.error(
                    &eat,
                    "no endpoints should be provided for resolution type NONE: use STATIC or DNS to list endpoints",
                );
            }
            if se.workload_selector.is_some() {
                r.warning(
                    &at.field("workloadSelector"),
                    "workloadSelector should not be set when resolution mode is NONE",
                );
            }
            EndpointUse::Ignored
        }
        Resolution::Static => EndpointUse::StaticEndpoint(port_names),
        Resolution::Dns | Resolution::DnsRoundRobin => {
            check_dns(se, at, r);
            EndpointUse::DnsEndpoint(port_names)
        }
        Resolution::DynamicDns => {
            check_dynamic_dns(se, at, r);
            EndpointUse::Ignored
        }
    };
    for (i, e) in se.endpoints.iter().enumerate() {
        validate_workload_entry(e, &eat.index(i), r, usage);
    }
}

fn check_dns(se: &ServiceEntrySpec, at: &FieldPath, r: &mut Report) {
    let resolution = se.resolution();
    if se.endpoints.is_empty() {
        for (i, h) in se.hosts.iter().enumerate() {
            if h != "*" && fqdn_problem(h).is_some() && rules::wildcard_domain_problem(h).is_none()
            {
                r.error(
                    &at.field("hosts").index(i),
                    format!(
                        "hosts must be FQDN if no endpoints are provided for resolution mode {}: {h:?} cannot be resolved with DNS (list endpoints, or use resolution NONE for wildcard hosts)",
                        resolution.as_str()
                    ),
                );
            }
        }
    }
    if resolution == Resolution::DnsRoundRobin && se.endpoints.len() > 1 {
        r.error(
            &at.field("endpoints"),
            format!(
                "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN, got {}",
                se.endpoints.len()
            ),
        );
    }
    if !se.addresses.is_empty() && se.hosts.len() > 1 {
        let tcp = se
            .ports
            .iter()
            .position(|p| PortProtocol::parse(&p.protocol).is_tcp());
        if let Some(i) = tcp {
            r.warning(
                &at.field("ports").index(i),
                "service entry can not have more than one host specified simultaneously with address and tcp port",
            );
        }
    }
}

/// `DYNAMIC_DNS` as its API documentation describes it: wildcard hosts,
/// MESH_EXTERNAL only, endpoints ignored.
fn check_dynamic_dns(se: &ServiceEntrySpec, at: &FieldPath, r: &mut Report) {
    if !se.endpoints.is_empty() {
        r.warning(
            &at.field("endpoints"),
            "endpoints are ignored with resolution DYNAMIC_DNS: each request's Host or SNI is resolved",
        );
    }
    if se.location() == Location::MeshInternal {
        r.warning(
            &at.field("location"),
            "resolution DYNAMIC_DNS is only supported for MESH_EXTERNAL service entries",
        );
    }
    for (i, h) in se.hosts.iter().enumerate() {
        if !h.starts_with('*') {
            r.warning(
                &at.field("hosts").index(i),
                format!("resolution DYNAMIC_DNS is meant for wildcard hosts such as *.example.com, {h:?} is not one"),
            );
        }
    }
}
