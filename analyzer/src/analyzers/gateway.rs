//! Gateway analyzers: selectors and service ports, credentials, conflicting
//! gateways, duplicate certificates.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::core::v1::Service;
use mesh_api::networking::{Gateway, ServerTlsSettings};
use mesh_api::{FieldPath, Kind, Resource};

use super::cert;
use crate::context::{full_name, labels, ns, selector_string, selects};
use crate::{Entry, Reporter, Snapshot};

/// Where a finding about a gateway's selector goes: its first label.
fn selector_at(g: &Gateway) -> FieldPath {
    let at = FieldPath::root().field("spec").field("selector");
    match g.spec.selector.keys().next() {
        Some(k) => at.key(k),
        None => at,
    }
}

/// The TCP ports of a service and their numeric target ports (a port without a
/// protocol is TCP).
fn tcp_ports(svc: &Service) -> impl Iterator<Item = u32> + '_ {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    svc.spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .filter(|p| p.protocol.as_deref().is_none_or(|p| p == "TCP"))
        .flat_map(|p| {
            let target = match p.target_port {
                Some(IntOrString::Int(t)) => Some(t.max(0) as u32),
                _ => None,
            };
            std::iter::once(p.port.max(0) as u32).chain(target)
        })
}

fn service_selector(svc: &Service) -> BTreeMap<String, String> {
    svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default()
}

/// `gateway.IngressGatewayPortAnalyzer`: a gateway selects pods, and the services in
/// front of those pods expose every port the gateway listens on.
pub fn ingress_gateway_ports(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, g) in s.gateways() {
        let sel = &g.spec.selector;
        let mut service_ports: HashSet<u32> = HashSet::new();
        let mut matched = 0;
        for (pe, _) in s.pods() {
            let pl = labels(pe);
            if !selects(sel, pl) {
                continue;
            }
            matched += 1;
            for (se, svc) in s.services() {
                if ns(se) == ns(pe) && selects(&service_selector(svc), pl) {
                    service_ports.extend(tcp_ports(svc));
                }
            }
        }
        let at = selector_at(g);
        if matched == 0 {
            r.report(e, Some(&at), "IST0101", &["selector".into(), selector_string(sel)]);
            continue;
        }
        for server in &g.spec.servers {
            if let Some(p) = &server.port
                && !service_ports.contains(&p.number)
            {
                r.report(e, Some(&at), "IST0162", &[p.number.to_string(), selector_string(sel)]);
            }
        }
    }
}

/// `gateway.SecretAnalyzer`: every credentialName names a Secret in the namespace of
/// the gateway's pods, holding a valid, unexpired certificate and its key.
pub fn secrets(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, g) in s.gateways() {
        let Some(gw_ns) = s.pods().find(|(pe, _)| selects(&g.spec.selector, labels(pe))).map(|(pe, _)| ns(pe)) else {
            r.report(e, Some(&selector_at(g)), "IST0101", &["selector".into(), selector_string(&g.spec.selector)]);
            continue;
        };
        for (i, server) in g.spec.servers.iter().enumerate() {
            let Some(cn) = server.tls.as_ref().map(|t| t.credential_name.as_str()).filter(|c| !c.is_empty()) else {
                continue;
            };
            let (sns, sname) = super::virtualservice::short_or_full(gw_ns, cn);
            let at = FieldPath::root().field("spec").field("servers").index(i).field("tls").field("credentialName");
            match s.find(Kind::Secret, sns, sname).map(|x| &x.resource) {
                None => r.report(e, Some(&at), "IST0101", &["credentialName".into(), cn.into()]),
                Some(Resource::Secret(secret)) => {
                    if cert::check_tls_secret(secret, s.now).is_err() {
                        r.report(e, Some(&at), "IST0161", &[crate::context::name(e).into(), gw_ns.into()]);
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// `gateway.ConflictingGatewayAnalyzer`: two gateways on the same workloads and port
/// must not serve the same host.
pub fn conflicting_gateways(s: &Snapshot<'_>, r: &mut Reporter) {
    // selector~port -> gateway -> host -> bind
    type Hosts = BTreeMap<String, String>;
    let mut by_key: BTreeMap<(String, u32), BTreeMap<String, Hosts>> = BTreeMap::new();
    for (e, g) in s.gateways() {
        let sel = selector_string(&g.spec.selector);
        for server in &g.spec.servers {
            let port = server.port.as_ref().map_or(0, |p| p.number);
            let hb: Hosts = server.hosts.iter().map(|h| (h.clone(), server.bind.clone())).collect();
            by_key.entry((sel.clone(), port)).or_default().insert(full_name(e), hb);
        }
    }
    for (e, g) in s.gateways() {
        let name = full_name(e);
        let sel = selector_string(&g.spec.selector);
        let mut hit: Vec<(&(String, u32), &BTreeMap<String, Hosts>)> = Vec::new();
        for (key, gws) in &by_key {
            let other = &key.0;
            let matched = *other == sel
                || ((other.contains(&sel) || sel.contains(other.as_str()))
                    && s.pods().any(|(pe, _)| {
                        let pl = labels(pe);
                        selects(&g.spec.selector, pl) && selects(&parse_selector(other), pl)
                    }));
            if matched {
                hit.push((key, gws));
            }
        }
        if !sel.is_empty() && hit.is_empty() {
            r.report(e, Some(&selector_at(g)), "IST0101", &["selector".into(), sel]);
            continue;
        }
        for server in &g.spec.servers {
            let port = server.port.as_ref().map_or(0, |p| p.number);
            let mut conflicts: Vec<&str> = Vec::new();
            for (key, gws) in &hit {
                if key.1 != port {
                    continue;
                }
                for (other, hosts) in *gws {
                    let dup = server.hosts.iter().any(|h| hosts.get(h) == Some(&server.bind));
                    if *other != name && dup {
                        conflicts.push(other);
                    }
                }
            }
            if !conflicts.is_empty() {
                conflicts.sort_unstable();
                r.report(e, None, "IST0145", &[conflicts.join(","), sel.clone(), port.to_string(), server.hosts.join(",")]);
            }
        }
    }
}

fn parse_selector(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `gateway.CertificateAnalyzer`: two gateways on the same workloads must not use the
/// same certificate (clients reusing HTTP/2 connections get 404s).
pub fn certificates(s: &Snapshot<'_>, r: &mut Reporter) {
    let gws: Vec<(&Entry, &Gateway)> = s.gateways().collect();
    let at = FieldPath::root().field("metadata").field("name");
    for (e, g) in &gws {
        for (oe, og) in &gws {
            if full_name(e) == full_name(oe) || !selector_subset(&g.spec.selector, &og.spec.selector) {
                continue;
            }
            for cs in &g.spec.servers {
                for os in &og.spec.servers {
                    if let (Some(a), Some(b)) = (&cs.tls, &os.tls)
                        && same_certificate(a, b)
                    {
                        r.report(e, Some(&at), "IST0138", &[crate::messages::go_list(&[full_name(e), full_name(oe)])]);
                    }
                }
            }
        }
    }
}

/// Whether every label of `x` is in `y` with the same value (an empty `x` is a subset
/// of everything).
fn selector_subset(x: &BTreeMap<String, String>, y: &BTreeMap<String, String>) -> bool {
    x.iter().all(|(k, v)| y.get(k) == Some(v))
}

fn same_certificate(a: &ServerTlsSettings, b: &ServerTlsSettings) -> bool {
    match (a.credential_name.is_empty(), b.credential_name.is_empty()) {
        (false, false) => a.credential_name == b.credential_name,
        (true, true) => {
            !a.server_certificate.is_empty()
                && a.server_certificate == b.server_certificate
                && !a.private_key.is_empty()
                && a.private_key == b.private_key
        }
        _ => false,
    }
}
