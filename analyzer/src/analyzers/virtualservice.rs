//! VirtualService analyzers: destination hosts, ports and subsets, gateways,
//! conflicting mesh hosts, JWT claim routes.

use std::collections::{BTreeMap, HashMap, HashSet};

use mesh_api::networking::{Destination, VirtualService};
use mesh_api::{FieldPath, Kind};

use crate::context::{full_name, labels, name, ns, selects};
use crate::hosts::{self, HostMap};
use crate::messages::go_list;
use crate::{Entry, Reporter, Snapshot};

/// A route destination with the path it sits at.
struct Dest<'a> {
    dest: &'a Destination,
    at: FieldPath,
    mirror: bool,
}

/// A route entry without a destination (`- {}`): Istio reads it as host `""`.
static NO_DESTINATION: Destination = Destination {
    host: String::new(),
    subset: None,
    port: None,
};

/// TCP, TLS, then HTTP route destinations (Istio's `getRouteDestinations` order).
fn route_destinations(vs: &VirtualService) -> Vec<Dest<'_>> {
    let spec = FieldPath::root().field("spec");
    let mut out = Vec::new();
    fn dest<'a>(
        spec: &FieldPath,
        section: &str,
        i: usize,
        j: usize,
        d: Option<&'a Destination>,
    ) -> Dest<'a> {
        let at = spec
            .field(section)
            .index(i)
            .field("route")
            .index(j)
            .field("destination")
            .field("host");
        Dest {
            dest: d.unwrap_or(&NO_DESTINATION),
            at,
            mirror: false,
        }
    }
    for (i, r) in vs.spec.tcp.iter().enumerate() {
        for (j, d) in r.route.iter().enumerate() {
            out.push(dest(&spec, "tcp", i, j, d.destination.as_ref()));
        }
    }
    for (i, r) in vs.spec.tls.iter().enumerate() {
        for (j, d) in r.route.iter().enumerate() {
            out.push(dest(&spec, "tls", i, j, d.destination.as_ref()));
        }
    }
    for (i, r) in vs.spec.http.iter().enumerate() {
        for (j, d) in r.route.iter().enumerate() {
            out.push(dest(&spec, "http", i, j, d.destination.as_ref()));
        }
    }
    out
}

/// HTTP mirror destinations (`mirror` and `mirrors`).
fn mirror_destinations(vs: &VirtualService) -> Vec<Dest<'_>> {
    let http = FieldPath::root().field("spec").field("http");
    let mut out = Vec::new();
    for (i, r) in vs.spec.http.iter().enumerate() {
        if let Some(dest) = &r.mirror {
            let at = http.index(i).field("mirror").field("host");
            out.push(Dest {
                dest,
                at,
                mirror: true,
            });
        }
        for (j, m) in r.mirrors.iter().enumerate() {
            if let Some(dest) = &m.destination {
                let at = http
                    .index(i)
                    .field("mirrors")
                    .index(j)
                    .field("destination")
                    .field("host");
                out.push(Dest {
                    dest,
                    at,
                    mirror: true,
                });
            }
        }
    }
    out
}

fn subset(d: &Destination) -> &str {
    d.subset.as_deref().unwrap_or("")
}

/// `virtualservice.DestinationHostAnalyzer`: every destination host exists, with the
/// port named (or needed); subsets of mesh routes do not apply at ingress.
pub fn destination_hosts(s: &Snapshot<'_>, r: &mut Reporter) {
    let hosts = HostMap::new(s);
    for (e, vs) in s.virtual_services() {
        let vs_ns = ns(e);
        for d in route_destinations(vs)
            .into_iter()
            .chain(mirror_destinations(vs))
        {
            let host = d.dest.host.as_str();
            let Some(known) = hosts.lookup(vs_ns, &vs.spec.export_to, host) else {
                let kind = if d.mirror { "mirror host" } else { "host" };
                r.report(e, Some(&d.at), "IST0101", &[kind.into(), host.into()]);
                continue;
            };
            match &d.dest.port {
                None if known.ports.len() > 1 => {
                    let ports: Vec<String> = known.ports.iter().map(|p| p.0.to_string()).collect();
                    r.report(e, Some(&d.at), "IST0112", &[host.into(), go_list(&ports)]);
                }
                None => {}
                Some(p) if !known.ports.iter().any(|k| k.0 == p.number) => {
                    r.report(
                        e,
                        Some(&d.at),
                        "IST0101",
                        &["host:port".into(), format!("{host}:{}", p.number)],
                    );
                }
                Some(_) => {}
            }
        }
    }
    // Subsets in mesh VirtualServices do not apply to requests an ingress gateway routes.
    let mut with_subsets: Vec<(String, Vec<&Destination>)> = Vec::new();
    for (e, vs) in s.virtual_services() {
        let dests: Vec<&Destination> = vs
            .spec
            .http
            .iter()
            .flat_map(|h| h.route.iter().filter_map(|d| d.destination.as_ref()))
            .filter(|d| !subset(d).is_empty() && vs.spec.hosts.contains(&d.host))
            .collect();
        if !dests.is_empty() {
            with_subsets.push((full_name(e), dests));
        }
    }
    for (e, vs) in s.virtual_services() {
        if vs.spec.gateways.is_empty() {
            continue;
        }
        for (i, h) in vs.spec.http.iter().enumerate() {
            for (j, d) in h.route.iter().enumerate() {
                let Some(dest) = d.destination.as_ref().filter(|d| subset(d).is_empty()) else {
                    continue;
                };
                for (other, dests) in &with_subsets {
                    for od in dests {
                        if od.host == dest.host {
                            let at = FieldPath::root()
                                .field("spec")
                                .field("http")
                                .index(i)
                                .field("route")
                                .index(j)
                                .field("destination")
                                .field("host");
                            r.report(e, Some(&at), "IST0140", &[other.clone(), full_name(e)]);
                        }
                    }
                }
            }
        }
    }
}

/// `virtualservice.DestinationRuleAnalyzer`: every subset a route names is defined
/// by a DestinationRule for its host.
pub fn destination_rules(s: &Snapshot<'_>, r: &mut Reporter) {
    let mut defined: HashSet<(String, String, String)> = HashSet::new();
    for (e, dr) in s.destination_rules() {
        let host = hosts::fqdn(ns(e), &dr.spec.host);
        let (hns, hname) = hosts::resource_of_host(ns(e), &host);
        for ss in &dr.spec.subsets {
            defined.insert((hns.to_owned(), hname.to_owned(), ss.name.clone()));
        }
    }
    for (e, vs) in s.virtual_services() {
        for d in route_destinations(vs)
            .into_iter()
            .chain(mirror_destinations(vs))
        {
            let sub = subset(d.dest);
            if sub.is_empty() {
                continue;
            }
            let (hns, hname) = hosts::resource_of_host(ns(e), &d.dest.host);
            if !defined.contains(&(hns.to_owned(), hname.to_owned(), sub.to_owned())) {
                let what = if d.mirror {
                    "mirror+subset in destinationrule"
                } else {
                    "host+subset in destinationrule"
                };
                r.report(
                    e,
                    Some(&d.at),
                    "IST0101",
                    &[what.into(), format!("{}+{sub}", d.dest.host)],
                );
            }
        }
    }
}

/// `ns/name` or a short name in `default_ns`.
pub(crate) fn short_or_full<'a>(default_ns: &'a str, name: &'a str) -> (&'a str, &'a str) {
    name.split_once('/').unwrap_or((default_ns, name))
}

fn display_full(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

/// `virtualservice.GatewayAnalyzer`: every gateway a VirtualService binds to exists
/// and serves at least one of its hosts.
pub fn gateways(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, vs) in s.virtual_services() {
        let vs_ns = ns(e);
        for (i, gw_name) in vs.spec.gateways.iter().enumerate() {
            if gw_name == "mesh" {
                continue;
            }
            let at = FieldPath::root().field("spec").field("gateways").index(i);
            let (gns, gname) = short_or_full(vs_ns, gw_name);
            let gw = s.find(Kind::Gateway, gns, gname);
            if gw.is_none() {
                r.report(
                    e,
                    Some(&at),
                    "IST0101",
                    &["gateway".into(), gw_name.clone()],
                );
            }
            if !host_in_gateway(gw, &vs.spec.hosts, vs_ns) {
                r.report(
                    e,
                    Some(&at),
                    "IST0132",
                    &[
                        go_list(&vs.spec.hosts),
                        full_name(e),
                        display_full(gns, gname),
                    ],
                );
            }
        }
    }
}

fn host_in_gateway(gw: Option<&Entry>, vs_hosts: &[String], vs_ns: &str) -> bool {
    let Some(e) = gw else { return false };
    let mesh_api::Resource::Gateway(g) = &e.resource else {
        return false;
    };
    let gw_ns = ns(e);
    let mut gw_hosts = Vec::new();
    for server in &g.spec.servers {
        let mut hs = server.hosts.clone();
        for h in hs.iter_mut() {
            if let Some((n, rest)) = h.split_once('/') {
                if n == "." {
                    *h = format!("{gw_ns}/{rest}");
                } else if n == "*" {
                    if rest == "*" {
                        hs = vec!["*".to_owned()];
                        break;
                    }
                    *h = rest.to_owned();
                }
            }
        }
        gw_hosts.extend(hs);
    }
    hosts::names_for_namespace(&gw_hosts, vs_ns)
        .into_iter()
        .any(|gh| vs_hosts.iter().any(|vh| hosts::matches(gh, vh)))
}

/// `virtualservice.ConflictingMeshGatewayHostsAnalyzer`: two VirtualServices bound
/// to the mesh gateway must not define the same host for the same namespaces.
pub fn conflicting_mesh_gateway_hosts(s: &Snapshot<'_>, r: &mut Reporter) {
    let mut by_host: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    for (e, vs) in s.virtual_services() {
        let mesh = vs.spec.gateways.is_empty() || vs.spec.gateways.iter().any(|g| g == "mesh");
        if !mesh {
            continue;
        }
        let export = &vs.spec.export_to;
        let scopes: Vec<&str> = if export.is_empty() || export.iter().any(|x| x == "*") {
            vec!["*"]
        } else {
            let mut v: Vec<&str> = export
                .iter()
                .map(|x| if x == "." { ns(e) } else { x.as_str() })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        for scope in scopes {
            for h in &vs.spec.hosts {
                by_host
                    .entry(format!("{scope}/{}", hosts::fqdn(ns(e), h)))
                    .or_default()
                    .push(e);
            }
        }
    }
    let global: Vec<(&str, &Vec<&Entry>)> = by_host
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("*/").map(|h| (h, v)))
        .collect();
    let mut reported: HashSet<String> = HashSet::new();
    let at = FieldPath::root().field("metadata").field("name");
    for (key, list) in &by_host {
        let mut list = list.clone();
        if let Some((scope, host)) = key.split_once('/')
            && scope != "*"
        {
            for (gh, gl) in &global {
                if hosts::matches(host, gh) {
                    list.extend(gl.iter().copied());
                }
            }
        }
        if list.len() < 2 {
            continue;
        }
        let names: Vec<String> = list.iter().map(|e| full_name(e)).collect();
        let names = names.join(",");
        for e in list {
            if reported.insert(full_name(e)) {
                r.report(e, Some(&at), "IST0109", &[names.clone(), key.clone()]);
            }
        }
    }
}

/// `virtualservice.JWTClaimRouteAnalyzer`: routing on JWT claims at a gateway needs a
/// RequestAuthentication for the gateway's pods.
pub fn jwt_claim_route(s: &Snapshot<'_>, r: &mut Reporter) {
    let mut ra_by_ns: HashMap<&str, Vec<&BTreeMap<String, String>>> = HashMap::new();
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    for (e, ra) in s.request_authentications() {
        let sel = ra
            .spec
            .selector
            .as_ref()
            .map_or(&EMPTY, |s| &s.match_labels);
        ra_by_ns.entry(ns(e)).or_default().push(sel);
    }
    let root = s.mesh.root_namespace();
    for (e, vs) in s.virtual_services() {
        let key = vs.spec.http.iter().flat_map(|h| &h.matches).find_map(|m| {
            m.headers
                .keys()
                .chain(m.without_headers.keys())
                .find(|k| k.starts_with("@request.auth.claims"))
        });
        let Some(key) = key else { continue };
        for gw_name in &vs.spec.gateways {
            if gw_name == "mesh" {
                continue;
            }
            let (gns, gname) = short_or_full(ns(e), gw_name);
            let Some(gw) = s.find(Kind::Gateway, gns, gname) else {
                continue;
            };
            let mesh_api::Resource::Gateway(g) = &gw.resource else {
                continue;
            };
            for (pe, _) in s.pods() {
                let pl = labels(pe);
                if !selects(&g.spec.selector, pl) {
                    continue;
                }
                let covered = ra_by_ns
                    .get(root)
                    .into_iter()
                    .chain(ra_by_ns.get(ns(pe)))
                    .flatten()
                    .any(|sel| selects(sel, pl));
                if !covered {
                    r.report(
                        e,
                        None,
                        "IST0149",
                        &[key.clone(), display_full(gns, gname), name(pe).to_owned()],
                    );
                }
            }
        }
    }
}
