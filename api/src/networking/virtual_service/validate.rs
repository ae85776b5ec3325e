//! Istio's `ValidateVirtualService`: hosts, gateways, delegation, TLS and TCP routes,
//! destinations and `exportTo`. HTTP routes are checked in `http.rs`, unreachable
//! rules in `analysis.rs`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{L4MatchAttributes, RouteDestination, TcpRoute, TlsMatchAttributes, TlsRoute};
use super::{VirtualServiceSpec, analysis, http};
use crate::networking::Destination;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// The gateway name that stands for every sidecar in the mesh.
pub(super) const MESH_GATEWAY: &str = "mesh";

/// Header-match keys of this form route on JWT claims (gateways only).
const JWT_CLAIM_PREFIX: &str = "@request.auth.claims.";

pub(super) fn validate_virtual_service(
    spec: &VirtualServiceSpec,
    meta: &ObjectMeta,
    r: &mut Report,
) {
    let at = FieldPath::spec();
    let delegate = spec.hosts.is_empty();
    if delegate {
        // A VirtualService without hosts can only be a delegate, which holds HTTP
        // routes only and is never bound to gateways.
        if !spec.gateways.is_empty() {
            r.error(
                &at.field("gateways"),
                "a delegate virtual service (one without hosts) must not list gateways: the root virtual service decides where its routes apply",
            );
        }
        if !spec.tls.is_empty() {
            r.error(
                &at.field("tls"),
                "a delegate virtual service (one without hosts) must not have tls routes: only http routes can be delegated",
            );
        }
        if !spec.tcp.is_empty() {
            r.error(
                &at.field("tcp"),
                "a delegate virtual service (one without hosts) must not have tcp routes: only http routes can be delegated",
            );
        }
    }

    let (applies_to_mesh, applies_to_gateway) = if spec.gateways.is_empty() {
        (true, false)
    } else {
        validate_gateway_names(&spec.gateways, &at.field("gateways"), r);
        let gw = is_gateway(spec);
        (!gw, gw)
    };

    if !applies_to_gateway {
        check_jwt_claim_routes(spec, &at, r);
    }
    validate_hosts(spec, applies_to_mesh, applies_to_gateway, &at, r);

    if spec.http.is_empty() && spec.tcp.is_empty() && spec.tls.is_empty() {
        r.error(
            &at,
            "a virtual service needs at least one route: set http, tcp or tls",
        );
    }
    for (i, route) in spec.http.iter().enumerate() {
        http::validate_http_route(route, delegate, &at.field("http").index(i), r);
    }
    for (i, route) in spec.tls.iter().enumerate() {
        validate_tls_route(route, spec, &at.field("tls").index(i), r);
    }
    for (i, route) in spec.tcp.iter().enumerate() {
        validate_tcp_route(route, &at.field("tcp").index(i), r);
    }
    rules::check_export_to(
        r,
        &at.field("exportTo"),
        meta.namespace.as_deref(),
        &spec.export_to,
        false,
    );
    analysis::analyze(spec, &at, r);
}

/// Istio's `isGateway`: true unless `mesh` is among the gateways (also when the list is
/// empty, which is how Istio treats SNI hosts of mesh-bound services).
fn is_gateway(spec: &VirtualServiceSpec) -> bool {
    !spec.gateways.iter().any(|g| g == MESH_GATEWAY)
}

fn is_sni_host(spec: &VirtualServiceSpec) -> bool {
    spec.tls
        .iter()
        .any(|t| t.matches.iter().any(|m| !m.sni_hosts.is_empty()))
}

fn check_jwt_claim_routes(spec: &VirtualServiceSpec, at: &FieldPath, r: &mut Report) {
    for (i, route) in spec.http.iter().enumerate() {
        for (j, m) in route.matches.iter().enumerate() {
            let here = at.field("http").index(i).field("match").index(j);
            for (field, map) in [
                ("headers", &m.headers),
                ("withoutHeaders", &m.without_headers),
            ] {
                for key in map.keys().filter(|k| is_jwt_claim_key(k)) {
                    r.error(
                        &here.field(field).key(key),
                        format!(
                            "JWT claim based routing ({key}) is only supported on gateways: list the ingress gateway in spec.gateways (and not only 'mesh')"
                        ),
                    );
                }
            }
        }
    }
}

pub(super) fn is_jwt_claim_key(key: &str) -> bool {
    key.strip_prefix(JWT_CLAIM_PREFIX)
        .is_some_and(|rest| !rest.is_empty())
}

fn validate_hosts(
    spec: &VirtualServiceSpec,
    applies_to_mesh: bool,
    applies_to_gateway: bool,
    at: &FieldPath,
    r: &mut Report,
) {
    let sni = is_sni_host(spec);
    let mut all_valid = true;
    for (i, host) in spec.hosts.iter().enumerate() {
        let here = at.field("hosts").index(i);
        let problem = if applies_to_gateway {
            gateway_host_problem(sni, host)
        } else {
            rules::wildcard_domain_problem(host)
        };
        if let Some(p) = problem {
            if !rules::is_ip(host) {
                r.error(&here, p);
                all_valid = false;
            }
        } else if applies_to_mesh && host == "*" {
            r.error(
                &here,
                "wildcard host '*' is not allowed for virtual services bound to the mesh: name the hosts, or bind the virtual service to gateways only",
            );
            all_valid = false;
        }
    }
    if !all_valid {
        return;
    }
    for (i, a) in spec.hosts.iter().enumerate() {
        for b in &spec.hosts[i + 1..] {
            if host_matches(a, b) {
                r.error(
                    &at.field("hosts").index(i),
                    format!(
                        "duplicate hosts in virtual service: {a} & {b} (a wildcard host covers the other); list each host once"
                    ),
                );
            }
        }
    }
}

/// Istio's `ValidateWildcardDomainForVirtualServiceBoundToGateway`: as a wildcard
/// domain, but SNI routing also accepts Istio's generated `outbound_.<port>_._.<host>`.
fn gateway_host_problem(sni: bool, host: &str) -> Option<String> {
    if sni && host.starts_with("outbound_") {
        let ok = host
            .strip_prefix("outbound_.")
            .and_then(|rest| rest.split_once("_._."))
            .is_some_and(|(port, name)| {
                port.bytes().any(|b| b.is_ascii_digit())
                    && name.bytes().any(|b| b.is_ascii_alphabetic())
            });
        return (!ok || host.len() > 255).then(|| {
            format!(
                "domain name {host:?} invalid: generated SNI hosts have the form outbound_.<port>_._.<hostname>"
            )
        });
    }
    rules::wildcard_domain_problem(host)
}

/// Istio's `host.Name.Matches`: equal, or one is a wildcard covering the other.
pub(super) fn host_matches(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(sa), Some(sb)) => sa.ends_with(sb) || sb.ends_with(sa),
        (Some(sa), None) => b.ends_with(sa),
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => a == b,
    }
}

/// Istio's `host.Name.SubsetOf`: every name `a` matches is matched by `b`.
pub(super) fn host_subset_of(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(sa), Some(sb)) => sa.ends_with(sb),
        (Some(_), None) => false,
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => a == b,
    }
}

/// Istio's `validateGatewayNames`: `name`, `namespace/name` or `mesh`. Like Istio, a
/// name without a namespace ends the check of the list.
pub(super) fn validate_gateway_names(names: &[String], at: &FieldPath, r: &mut Report) {
    for (i, name) in names.iter().enumerate() {
        let here = at.index(i);
        let Some((ns, gw)) = name.split_once('/') else {
            if name.contains('.') {
                let mut parts = name.split('.');
                let (first, second) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                r.warning(
                    &here,
                    format!(
                        "using legacy gateway name format {name:?}; prefer <namespace>/<name>: {:?}",
                        format!("{second}/{first}")
                    ),
                );
            }
            if let Some(p) = rules::fqdn_problem(name) {
                r.error(&here, format!("gateway name invalid: {p}"));
            }
            return;
        };
        if ns.is_empty() || gw.is_empty() {
            r.error(
                &here,
                format!("gateway {name:?} invalid: namespace and name cannot be empty in <namespace>/<name>"),
            );
        }
        if !rules::is_dns1123_label(ns) {
            r.error(
                &here,
                format!("gateway {name:?} invalid: namespace {ns:?} must be a DNS label (letters, digits and '-', at most 63 characters)"),
            );
        }
        if !rules::is_dns1123_label(gw) {
            r.error(
                &here,
                format!("gateway {name:?} invalid: name {gw:?} must be a DNS label (letters, digits and '-', at most 63 characters)"),
            );
        }
    }
}

fn validate_tls_route(route: &TlsRoute, spec: &VirtualServiceSpec, at: &FieldPath, r: &mut Report) {
    if route.matches.is_empty() {
        r.error(
            &at.field("match"),
            "a TLS route must have at least one match condition (with sniHosts)",
        );
    }
    for (i, m) in route.matches.iter().enumerate() {
        validate_tls_match(m, spec, &at.field("match").index(i), r);
    }
    if route.route.is_empty() {
        r.error(
            &at.field("route"),
            "a TLS route needs at least one route destination",
        );
    }
    validate_route_destinations(&route.route, &at.field("route"), r);
}

fn validate_tls_match(
    m: &TlsMatchAttributes,
    spec: &VirtualServiceSpec,
    at: &FieldPath,
    r: &mut Report,
) {
    if m.sni_hosts.is_empty() {
        r.error(
            &at.field("sniHosts"),
            "a TLS match must have at least one SNI host",
        );
    }
    for (i, sni) in m.sni_hosts.iter().enumerate() {
        validate_sni_host(sni, spec, &at.field("sniHosts").index(i), r);
    }
    validate_l4_common(
        &m.destination_subnets,
        m.port,
        &m.source_labels,
        &m.gateways,
        at,
        r,
    );
}

fn validate_sni_host(sni: &str, spec: &VirtualServiceSpec, at: &FieldPath, r: &mut Report) {
    let problem = if is_gateway(spec) {
        gateway_host_problem(true, sni)
    } else {
        rules::wildcard_domain_problem(sni)
    };
    if let Some(p) = problem {
        if rules::is_ip(sni) {
            r.warning(
                at,
                format!(
                    "using an IP address ({sni:?}) as an SNI host goes against the SNI spec and most clients do not support it"
                ),
            );
        } else {
            r.error(at, p);
        }
        return;
    }
    if !spec.hosts.iter().any(|h| host_subset_of(sni, h)) {
        r.error(
            at,
            format!(
                "SNI host {sni:?} is not a compatible subset of any of the virtual service hosts: [{}]",
                spec.hosts.join(", ")
            ),
        );
    }
}

fn validate_tcp_route(route: &TcpRoute, at: &FieldPath, r: &mut Report) {
    for (i, m) in route.matches.iter().enumerate() {
        validate_l4_match(m, &at.field("match").index(i), r);
    }
    if route.route.is_empty() {
        r.error(
            &at.field("route"),
            "a TCP route needs at least one route destination",
        );
    }
    validate_route_destinations(&route.route, &at.field("route"), r);
}

fn validate_l4_match(m: &L4MatchAttributes, at: &FieldPath, r: &mut Report) {
    validate_l4_common(
        &m.destination_subnets,
        m.port,
        &m.source_labels,
        &m.gateways,
        at,
        r,
    );
}

fn validate_l4_common(
    subnets: &[String],
    port: u32,
    source_labels: &BTreeMap<String, String>,
    gateways: &[String],
    at: &FieldPath,
    r: &mut Report,
) {
    for (i, s) in subnets.iter().enumerate() {
        rules::check_ip_or_cidr(r, &at.field("destinationSubnets").index(i), s);
    }
    if port != 0 {
        rules::check_port(r, &at.field("port"), port);
    }
    rules::check_labels(r, &at.field("sourceLabels"), source_labels);
    validate_gateway_names(gateways, &at.field("gateways"), r);
}

fn validate_route_destinations(dests: &[RouteDestination], at: &FieldPath, r: &mut Report) {
    for (i, d) in dests.iter().enumerate() {
        let here = at.index(i);
        validate_destination_and_weight(d.destination.as_ref(), d.weight, &here, r);
    }
    let weights: Vec<i64> = dests.iter().map(|d| i64::from(d.weight)).collect();
    check_total_weight(&weights, at, r);
}

/// Checks shared by HTTP and TCP/TLS route destinations.
pub(super) fn validate_destination_and_weight(
    dest: Option<&Destination>,
    weight: i32,
    at: &FieldPath,
    r: &mut Report,
) {
    match dest {
        None => r.error(&at.field("destination"), "destination is required"),
        Some(d) => d.validate(&at.field("destination"), r),
    }
    if weight < 0 {
        r.error(
            &at.field("weight"),
            format!("weight {weight} invalid: must not be negative (weights are relative shares, usually summing to 100)"),
        );
    }
}

/// Istio rejects several destinations whose weights are all 0. Weights are relative,
/// so a total other than 100 is valid; it is still worth a warning, since the split
/// users get is not the numbers they wrote.
pub(super) fn check_total_weight(weights: &[i64], at: &FieldPath, r: &mut Report) {
    if weights.len() < 2 || weights.iter().any(|w| *w < 0) {
        return;
    }
    let total: i64 = weights.iter().sum();
    if total == 0 {
        r.error(
            at,
            "total destination weight is 0: give at least one of the destinations a positive weight",
        );
    } else if total != 100 {
        let split: Vec<String> = weights
            .iter()
            .map(|w| format!("{:.1}%", *w as f64 * 100.0 / total as f64))
            .collect();
        r.warning(
            at,
            format!(
                "weights sum to {total}, not 100: traffic is split in proportion ({})",
                split.join(" / ")
            ),
        );
    }
}
