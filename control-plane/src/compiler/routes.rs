//! Outbound HTTP routes: one virtual host per HTTP service port, with the
//! service's default route or the rules of the VirtualService that claims it,
//! filtered for the calling proxy (source labels, namespace, gateways, port).

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::networking::{
    Destination, HttpDirectResponse, HttpMatchRequest, HttpRedirect, HttpRoute, VirtualServiceSpec,
};
use mesh_api::proxy::{
    Forward, Mirror, RegexRewrite, Route, RouteAction, RouteMatch, VirtualHost, WeightedCluster,
    outbound_cluster_name,
};

use super::policies;

use super::services::{
    Candidates, Rank, ServiceInfo, best_first, exported_to, namespace_of, resolve_host,
};

/// The gateway name that means "every sidecar".
pub(super) const MESH_GATEWAY: &str = "mesh";

/// The proxy routes are compiled for (the client side of every route).
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Its namespace (for `sourceNamespace`, `exportTo` and short names).
    pub namespace: &'a str,
    /// Its labels (for `sourceLabels`).
    pub labels: &'a BTreeMap<String, String>,
}

/// A VirtualService that sidecars apply, as the compiler keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct VsEntry {
    /// Its namespace (`default` when unset).
    pub namespace: String,
    /// Its name, for route names and origins.
    pub name: String,
    /// Its spec, as stored.
    pub spec: VirtualServiceSpec,
}

/// The VirtualServices that apply to sidecars (`gateways` empty or listing `mesh`)
/// and have HTTP rules, and for each service the ones naming it, best first (exact
/// host before wildcard, then resource order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VsIndex {
    entries: Vec<VsEntry>,
    by_service: BTreeMap<String, Vec<usize>>,
}

impl VsIndex {
    pub fn new(resources: &[Resource], services: &BTreeMap<String, ServiceInfo>) -> Self {
        let mut entries = Vec::new();
        let mut ranked = Candidates::new();
        for r in resources {
            let Resource::VirtualService(vs) = r else {
                continue;
            };
            let for_mesh =
                vs.spec.gateways.is_empty() || vs.spec.gateways.iter().any(|g| g == MESH_GATEWAY);
            if !for_mesh || (vs.spec.http.is_empty() && !super::tcp::has_l4_rules(&vs.spec)) {
                continue;
            }
            let namespace = namespace_of(r).to_owned();
            let idx = entries.len();
            let mut claimed: BTreeMap<&str, Rank> = BTreeMap::new();
            for host in &vs.spec.hosts {
                let pattern = resolve_host(host, &namespace, services);
                for fqdn in services.keys().filter(|f| pattern.matches(f)) {
                    let rank = pattern.rank();
                    let best = claimed.entry(fqdn.as_str()).or_insert(rank);
                    *best = (*best).min(rank);
                }
            }
            for (fqdn, rank) in claimed {
                ranked.entry(fqdn.to_owned()).or_default().push((rank, idx));
            }
            entries.push(VsEntry {
                namespace,
                name: vs.metadata.name.clone().unwrap_or_default(),
                spec: vs.spec.clone(),
            });
        }
        let by_service = best_first(ranked);
        VsIndex {
            entries,
            by_service,
        }
    }

    /// A delegate VirtualService (one without hosts) by name and namespace.
    pub fn delegate(&self, name: &str, namespace: &str) -> Option<&VsEntry> {
        self.entries
            .iter()
            .find(|e| e.name == name && e.namespace == namespace && e.spec.hosts.is_empty())
    }

    /// The VirtualService that routes `fqdn` for a proxy in namespace `ns`, if any.
    pub fn for_service(&self, fqdn: &str, ns: &str) -> Option<&VsEntry> {
        self.by_service
            .get(fqdn)?
            .iter()
            .filter_map(|i| self.entries.get(*i))
            .find(|vs| exported_to(&vs.spec.export_to, &vs.namespace, ns))
    }
}

/// The virtual hosts of one service (one per HTTP port) as `client` sees them.
pub fn service_virtual_hosts(
    svc: &ServiceInfo,
    vs: Option<&VsEntry>,
    client: Client<'_>,
    services: &BTreeMap<String, ServiceInfo>,
    index: &VsIndex,
    out: &mut Vec<VirtualHost>,
) {
    let vs = vs.filter(|v| !v.spec.http.is_empty());
    for (&port, protocol) in &svc.ports {
        if !protocol.is_http() {
            continue;
        }
        let routes = match vs {
            None => vec![default_route(svc, port)],
            Some(vs) => vs_routes(vs, port, client, services, index),
        };
        out.push(VirtualHost {
            name: format!("{}:{port}", svc.fqdn),
            domains: domains(svc, port, client.namespace),
            port,
            routes,
        });
    }
}

/// Every name a client in `client_ns` can use for the service, alone and with the
/// port: the bare name only from the service's own namespace, as Kubernetes DNS
/// search paths resolve it.
pub fn domains(svc: &ServiceInfo, port: u16, client_ns: &str) -> Vec<String> {
    if svc.entry.is_some() {
        // A ServiceEntry's host is reached by its name only.
        let host = svc.fqdn.to_ascii_lowercase();
        return vec![host.clone(), format!("{host}:{port}")];
    }
    let mut names = vec![
        svc.fqdn.clone(),
        format!("{}.{}.svc", svc.name, svc.namespace),
        format!("{}.{}", svc.name, svc.namespace),
    ];
    if svc.namespace.eq_ignore_ascii_case(client_ns) {
        names.push(svc.name.clone());
    }
    let mut out: Vec<String> = names
        .into_iter()
        .flat_map(|n| {
            let n = n.to_ascii_lowercase();
            [format!("{n}:{port}"), n]
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A service's route when no VirtualService claims it: everything to its port.
fn default_route(svc: &ServiceInfo, port: u16) -> Route {
    Route {
        name: "default".to_owned(),
        matches: Vec::new(),
        action: RouteAction::Forward(Forward {
            clusters: vec![WeightedCluster {
                cluster: outbound_cluster_name(port, None, &svc.fqdn),
                weight: 100,
                ..WeightedCluster::default()
            }],
            retry: policies::retry_policy(None),
            ..Forward::default()
        }),
        fault: None,
        headers: Default::default(),
        cors: None,
        origin: None,
    }
}

/// The VirtualService's HTTP rules for one port of the service, as `client` sees them.
fn vs_routes(
    vs: &VsEntry,
    port: u16,
    client: Client<'_>,
    services: &BTreeMap<String, ServiceInfo>,
    index: &VsIndex,
) -> Vec<Route> {
    let mut routes = Vec::new();
    for (i, rule) in vs.spec.http.iter().enumerate() {
        let matches: Vec<RouteMatch> = rule
            .matches
            .iter()
            .filter(|m| match_applies(m, port, client))
            .map(route_match)
            .collect();
        if !rule.matches.is_empty() && matches.is_empty() {
            continue;
        }
        let name = if rule.name.is_empty() {
            format!("{}-{i}", vs.name)
        } else {
            rule.name.clone()
        };
        let origin = format!("VirtualService {}/{}", vs.namespace, vs.name);
        let Some(d) = &rule.delegate else {
            push_rule(rule, matches, vs, name, origin, port, services, &mut routes);
            continue;
        };
        // A delegate's rules take the root rule's place, each matching only
        // what both the root rule and its own match select.
        let ns = if d.namespace.is_empty() {
            &vs.namespace
        } else {
            &d.namespace
        };
        let Some(delegate) = index.delegate(&d.name, ns) else {
            continue;
        };
        for (j, drule) in delegate.spec.http.iter().enumerate() {
            let own: Vec<RouteMatch> = drule
                .matches
                .iter()
                .filter(|m| match_applies(m, port, client))
                .map(route_match)
                .collect();
            if !drule.matches.is_empty() && own.is_empty() {
                continue;
            }
            let merged = merge_matches(&matches, &own);
            let dname = if drule.name.is_empty() {
                format!("{}-{j}", delegate.name)
            } else {
                drule.name.clone()
            };
            let dorigin = format!(
                "{origin} -> VirtualService {}/{}",
                delegate.namespace, delegate.name
            );
            push_rule(
                drule,
                merged,
                delegate,
                format!("{name}/{dname}"),
                dorigin,
                port,
                services,
                &mut routes,
            );
        }
    }
    routes
}

/// Every pair of a root match and a delegate match, ANDed (the delegate's
/// conditions refine the root's); either side empty means "everything".
fn merge_matches(root: &[RouteMatch], own: &[RouteMatch]) -> Vec<RouteMatch> {
    match (root.is_empty(), own.is_empty()) {
        (true, _) => own.to_vec(),
        (false, true) => root.to_vec(),
        (false, false) => root
            .iter()
            .flat_map(|r| {
                own.iter().map(move |o| {
                    let mut m = r.clone();
                    m.uri = o.uri.clone().or(m.uri);
                    m.method = o.method.clone().or(m.method);
                    m.authority = o.authority.clone().or(m.authority);
                    m.scheme = o.scheme.clone().or(m.scheme);
                    m.headers.extend(o.headers.clone());
                    m.without_headers.extend(o.without_headers.clone());
                    m.query_params.extend(o.query_params.clone());
                    m.ignore_uri_case |= o.ignore_uri_case;
                    m
                })
            })
            .collect(),
    }
}

/// Adds one rule's route: its action (destinations resolved relative to `vs`)
/// and policies.
#[allow(clippy::too_many_arguments)]
fn push_rule(
    rule: &HttpRoute,
    matches: Vec<RouteMatch>,
    vs: &VsEntry,
    name: String,
    origin: String,
    port: u16,
    services: &BTreeMap<String, ServiceInfo>,
    routes: &mut Vec<Route>,
) {
    let Some(action) = route_action(rule, vs, port, services) else {
        return;
    };
    let forwards = matches!(action, RouteAction::Forward(_));
    routes.push(Route {
        name,
        matches,
        action,
        // Faults act on forwarded requests only, as in Envoy, where they
        // belong to the route's upstream path.
        fault: rule
            .fault
            .as_ref()
            .filter(|_| forwards)
            .and_then(policies::fault),
        headers: policies::header_ops(rule.headers.as_ref()),
        cors: rule.cors_policy.as_ref().map(policies::cors),
        origin: Some(origin),
    });
}

/// Whether a match can select requests of `client` arriving for `port`.
fn match_applies(m: &HttpMatchRequest, port: u16, client: Client<'_>) -> bool {
    (m.port == 0 || m.port == u32::from(port))
        && m.source_labels
            .iter()
            .all(|(k, v)| client.labels.get(k) == Some(v))
        && (m.source_namespace.is_empty() || m.source_namespace == client.namespace)
        && (m.gateways.is_empty() || m.gateways.iter().any(|g| g == MESH_GATEWAY))
}

fn route_match(m: &HttpMatchRequest) -> RouteMatch {
    let lower = |map: &BTreeMap<String, mesh_api::common::StringMatch>| {
        map.iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect()
    };
    RouteMatch {
        uri: m.uri.clone(),
        method: m.method.clone(),
        authority: m.authority.clone(),
        scheme: m.scheme.clone(),
        headers: lower(&m.headers),
        without_headers: lower(&m.without_headers),
        query_params: m.query_params.clone(),
        ignore_uri_case: m.ignore_uri_case,
    }
}

fn route_action(
    rule: &HttpRoute,
    vs: &VsEntry,
    port: u16,
    services: &BTreeMap<String, ServiceInfo>,
) -> Option<RouteAction> {
    if let Some(d) = &rule.direct_response {
        return direct_response(d);
    }
    if let Some(r) = &rule.redirect {
        return Some(redirect(r));
    }
    let single = rule.route.len() == 1;
    let clusters: Vec<WeightedCluster> = rule
        .route
        .iter()
        .filter_map(|rd| {
            let mut c = weighted_cluster(
                rd.destination.as_ref(),
                rd.weight,
                single,
                vs,
                port,
                services,
            )?;
            c.headers = policies::header_ops(rd.headers.as_ref());
            Some(c)
        })
        .collect();
    if clusters.is_empty() {
        return None;
    }
    let rewrite = rule.rewrite.as_ref();
    let mut mirrors: Vec<Mirror> = Vec::new();
    if let Some(dest) = &rule.mirror
        && let Some(cluster) = destination_cluster(dest, &vs.namespace, port, services)
    {
        mirrors.push(Mirror {
            cluster,
            percent: policies::mirror_share(rule.mirror_percentage.as_ref(), rule.mirror_percent),
        });
    }
    for m in &rule.mirrors {
        if let Some(cluster) = m
            .destination
            .as_ref()
            .and_then(|d| destination_cluster(d, &vs.namespace, port, services))
        {
            mirrors.push(Mirror {
                cluster,
                percent: m.percentage.as_ref().map_or(100.0, |p| p.value),
            });
        }
    }
    Some(RouteAction::Forward(Forward {
        clusters,
        timeout: rule.timeout,
        rewrite_uri: rewrite.map(|r| r.uri.clone()).filter(|u| !u.is_empty()),
        rewrite_authority: rewrite
            .map(|r| r.authority.clone())
            .filter(|a| !a.is_empty()),
        rewrite_regex: rewrite
            .and_then(|r| r.uri_regex_rewrite.as_ref())
            .map(|r| RegexRewrite {
                regex: r.regex.clone(),
                substitution: r.rewrite.clone(),
            }),
        retry: policies::retry_policy(rule.retries.as_ref()),
        mirrors,
    }))
}

/// A route destination with its weight; a single destination without a weight
/// takes all traffic (Istio's rule for HTTP, TCP and TLS routes alike).
pub(super) fn weighted_cluster(
    dest: Option<&Destination>,
    weight: i32,
    single: bool,
    vs: &VsEntry,
    port: u16,
    services: &BTreeMap<String, ServiceInfo>,
) -> Option<WeightedCluster> {
    let cluster = destination_cluster(dest?, &vs.namespace, port, services)?;
    let weight = match u32::try_from(weight).unwrap_or(0) {
        0 if single => 100,
        w => w,
    };
    Some(WeightedCluster {
        cluster,
        weight,
        ..WeightedCluster::default()
    })
}

/// The cluster a destination names: its host resolved relative to the
/// VirtualService's namespace; its port, else the service's only port, else the
/// virtual host's; its subset (even one no DestinationRule defines: the proxy
/// answers 503 for a cluster it does not know).
pub(super) fn destination_cluster(
    dest: &Destination,
    vs_ns: &str,
    vhost_port: u16,
    services: &BTreeMap<String, ServiceInfo>,
) -> Option<String> {
    if dest.host.trim().is_empty() {
        return None;
    }
    let host = match resolve_host(&dest.host, vs_ns, services) {
        super::services::HostPattern::Exact(h) => h,
        // Validation rejects wildcard destinations; keep what was written.
        super::services::HostPattern::Suffix(_) => dest.host.to_ascii_lowercase(),
    };
    let port = dest
        .port
        .as_ref()
        .and_then(|p| u16::try_from(p.number).ok())
        .filter(|p| *p != 0)
        .or_else(|| services.get(&host).and_then(ServiceInfo::only_port))
        .unwrap_or(vhost_port);
    let subset = dest.subset.as_deref().filter(|s| !s.is_empty());
    Some(outbound_cluster_name(port, subset, &host))
}

fn redirect(r: &HttpRedirect) -> RouteAction {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    RouteAction::Redirect {
        status: u16::try_from(r.redirect_code)
            .ok()
            .filter(|c| *c != 0)
            .unwrap_or(301),
        scheme: non_empty(&r.scheme),
        authority: non_empty(&r.authority),
        port: r
            .port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0),
        path: non_empty(&r.uri),
    }
}

fn direct_response(d: &HttpDirectResponse) -> Option<RouteAction> {
    let status = u16::try_from(d.status)
        .ok()
        .filter(|s| (100..=599).contains(s))?;
    let body = match &d.body {
        Some(b) => match (&b.string, &b.bytes) {
            (Some(s), _) => s.clone(),
            (None, Some(bytes)) => {
                String::from_utf8_lossy(&base64_decode(bytes).unwrap_or_default()).into_owned()
            }
            (None, None) => String::new(),
        },
        None => String::new(),
    };
    Some(RouteAction::DirectResponse { status, body })
}

/// Standard base64 (padding optional, whitespace ignored); `None` when malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}
