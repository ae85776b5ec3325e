//! Gateway analyzers: selectors and service ports, credentials, conflicting
//! gateways, duplicate certificates.

use std::collections::{BTreeMap, HashMap, HashSet};

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
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default()
}

/// The pods each distinct gateway selector selects (gateways mostly share a few
/// selectors, so each is matched against the pods once).
fn selected_pods<'a>(s: &Snapshot<'a>) -> HashMap<&'a BTreeMap<String, String>, Vec<&'a Entry>> {
    let mut out: HashMap<&BTreeMap<String, String>, Vec<&Entry>> = HashMap::new();
    for (_, g) in s.gateways() {
        out.entry(&g.spec.selector).or_insert_with(|| {
            s.pods()
                .filter(|(pe, _)| selects(&g.spec.selector, labels(pe)))
                .map(|(pe, _)| pe)
                .collect()
        });
    }
    out
}

/// `gateway.IngressGatewayPortAnalyzer`: a gateway selects pods, and the services in
/// front of those pods expose every port the gateway listens on.
pub fn ingress_gateway_ports(s: &Snapshot<'_>, r: &mut Reporter) {
    let selected = selected_pods(s);
    let mut ports_by_selector: HashMap<&BTreeMap<String, String>, HashSet<u32>> = HashMap::new();
    for (sel, pods) in &selected {
        let mut service_ports = HashSet::new();
        for pe in pods {
            let pl = labels(pe);
            for (se, svc) in s.services() {
                if ns(se) == ns(pe) && selects(&service_selector(svc), pl) {
                    service_ports.extend(tcp_ports(svc));
                }
            }
        }
        ports_by_selector.insert(sel, service_ports);
    }
    let empty = HashSet::new();
    for (e, g) in s.gateways() {
        let sel = &g.spec.selector;
        let matched = selected.get(sel).map_or(0, Vec::len);
        let service_ports = ports_by_selector.get(sel).unwrap_or(&empty);
        let at = selector_at(g);
        if matched == 0 {
            r.report(
                e,
                Some(&at),
                "IST0101",
                &["selector".into(), selector_string(sel)],
            );
            continue;
        }
        for server in &g.spec.servers {
            if let Some(p) = &server.port
                && !service_ports.contains(&p.number)
            {
                r.report(
                    e,
                    Some(&at),
                    "IST0162",
                    &[p.number.to_string(), selector_string(sel)],
                );
            }
        }
    }
}

/// `gateway.SecretAnalyzer`: every credentialName names a Secret in the namespace of
/// the gateway's pods, holding a valid, unexpired certificate and its key.
pub fn secrets(s: &Snapshot<'_>, r: &mut Reporter) {
    let selected = selected_pods(s);
    for (e, g) in s.gateways() {
        let Some(gw_ns) = selected
            .get(&g.spec.selector)
            .and_then(|p| p.first())
            .map(|pe| ns(pe))
        else {
            r.report(
                e,
                Some(&selector_at(g)),
                "IST0101",
                &["selector".into(), selector_string(&g.spec.selector)],
            );
            continue;
        };
        for (i, server) in g.spec.servers.iter().enumerate() {
            let Some(cn) = server
                .tls
                .as_ref()
                .map(|t| t.credential_name.as_str())
                .filter(|c| !c.is_empty())
            else {
                continue;
            };
            let (sns, sname) = super::virtualservice::short_or_full(gw_ns, cn);
            let at = FieldPath::root()
                .field("spec")
                .field("servers")
                .index(i)
                .field("tls")
                .field("credentialName");
            match s.find(Kind::Secret, sns, sname).map(|x| &x.resource) {
                None => r.report(
                    e,
                    Some(&at),
                    "IST0101",
                    &["credentialName".into(), cn.into()],
                ),
                Some(Resource::Secret(secret)) => {
                    if cert::check_tls_secret(secret, s.now).is_err() {
                        r.report(
                            e,
                            Some(&at),
                            "IST0161",
                            &[crate::context::name(e).into(), gw_ns.into()],
                        );
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// A gateway selector (as `k=v,...`) and a port.
type GatewayKey = (String, u32);

/// A certificate: credential name, or certificate and key files.
type CertKey = (String, String, String);

/// `gateway.ConflictingGatewayAnalyzer`: two gateways on the same workloads and port
/// must not serve the same host.
pub fn conflicting_gateways(s: &Snapshot<'_>, r: &mut Reporter) {
    // selector~port -> gateway -> host -> bind
    type Hosts = BTreeMap<String, String>;
    let mut by_key: BTreeMap<GatewayKey, BTreeMap<String, Hosts>> = BTreeMap::new();
    for (e, g) in s.gateways() {
        let sel = selector_string(&g.spec.selector);
        for server in &g.spec.servers {
            let port = server.port.as_ref().map_or(0, |p| p.number);
            let hb: Hosts = server
                .hosts
                .iter()
                .map(|h| (h.clone(), server.bind.clone()))
                .collect();
            by_key
                .entry((sel.clone(), port))
                .or_default()
                .insert(full_name(e), hb);
        }
    }
    for (e, g) in s.gateways() {
        let name = full_name(e);
        let sel = selector_string(&g.spec.selector);
        let mut hit: Vec<(&GatewayKey, &BTreeMap<String, Hosts>)> = Vec::new();
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
            r.report(
                e,
                Some(&selector_at(g)),
                "IST0101",
                &["selector".into(), sel],
            );
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
                    let dup = server
                        .hosts
                        .iter()
                        .any(|h| hosts.get(h) == Some(&server.bind));
                    if *other != name && dup {
                        conflicts.push(other);
                    }
                }
            }
            if !conflicts.is_empty() {
                conflicts.sort_unstable();
                r.report(
                    e,
                    None,
                    "IST0145",
                    &[
                        conflicts.join(","),
                        sel.clone(),
                        port.to_string(),
                        server.hosts.join(","),
                    ],
                );
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
    // Gateways grouped by the certificates their servers use: only gateways that
    // share one can conflict.
    let mut by_cert: BTreeMap<CertKey, Vec<(&Entry, &Gateway)>> = BTreeMap::new();
    for (e, g) in s.gateways() {
        let mut keys: Vec<CertKey> = g
            .spec
            .servers
            .iter()
            .filter_map(|sv| sv.tls.as_ref())
            .filter_map(cert_key)
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            by_cert.entry(k).or_default().push((e, g));
        }
    }
    let at = FieldPath::root().field("metadata").field("name");
    for gws in by_cert.values().filter(|g| g.len() > 1) {
        for (e, g) in gws {
            for (oe, og) in gws {
                if std::ptr::eq(*e, *oe) || !selector_subset(&g.spec.selector, &og.spec.selector) {
                    continue;
                }
                r.report(
                    e,
                    Some(&at),
                    "IST0138",
                    &[crate::messages::go_list(&[full_name(e), full_name(oe)])],
                );
            }
        }
    }
}

/// What identifies a server's certificate (Istio's `haveSameCertificate`): its
/// credential name, or its certificate and key files.
fn cert_key(t: &ServerTlsSettings) -> Option<CertKey> {
    if !t.credential_name.is_empty() {
        return Some((t.credential_name.clone(), String::new(), String::new()));
    }
    (!t.server_certificate.is_empty() && !t.private_key.is_empty()).then(|| {
        (
            String::new(),
            t.server_certificate.clone(),
            t.private_key.clone(),
        )
    })
}

/// Whether every label of `x` is in `y` with the same value (an empty `x` is a subset
/// of everything).
fn selector_subset(x: &BTreeMap<String, String>, y: &BTreeMap<String, String>) -> bool {
    x.iter().all(|(k, v)| y.get(k) == Some(v))
}
