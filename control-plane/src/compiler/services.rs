//! The service catalog: every service the mesh knows, from Kubernetes Service
//! objects and from connected workloads, with its ports and their protocols; and
//! Istio's host resolution (short names relative to a namespace, wildcards).

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::proxy::{CLUSTER_DOMAIN, Protocol};

use crate::registry::Workload;

/// The namespace of a resource whose metadata names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// One service: `<name>.<namespace>.svc.cluster.local` and its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The short name (`reviews`).
    pub name: String,
    /// The namespace (`default`).
    pub namespace: String,
    /// `reviews.default.svc.cluster.local`.
    pub fqdn: String,
    /// Port number -> protocol, the union of the Service object's ports and the
    /// workloads' ports.
    pub ports: BTreeMap<u16, Protocol>,
    /// Set when a ServiceEntry declares the service (`api.external.test`).
    pub entry: Option<super::entries::EntryInfo>,
}

impl ServiceInfo {
    /// The only port of the service, when it has exactly one.
    pub fn only_port(&self) -> Option<u16> {
        let mut it = self.ports.keys();
        match (it.next(), it.next()) {
            (Some(p), None) => Some(*p),
            _ => None,
        }
    }
}

/// `<name>.<namespace>.svc.cluster.local`, lowercase.
pub fn service_fqdn(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.{CLUSTER_DOMAIN}").to_ascii_lowercase()
}

/// The namespace of a resource (`default` when unset).
pub fn namespace_of(r: &Resource) -> &str {
    r.metadata()
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE)
}

/// Every service, by FQDN. A port's protocol comes from the Service object's port
/// (appProtocol, else its name) when a Service declares it; otherwise from the
/// first workload (by proxy id) that declares one; otherwise HTTP.
///
/// `workloads` must be sorted by proxy id (for determinism).
pub fn catalog(resources: &[Resource], workloads: &[Workload]) -> BTreeMap<String, ServiceInfo> {
    let mut services: BTreeMap<String, ServiceInfo> = BTreeMap::new();
    let mut entry = |name: &str, namespace: &str| -> String {
        let fqdn = service_fqdn(name, namespace);
        services.entry(fqdn.clone()).or_insert_with(|| ServiceInfo {
            name: name.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            fqdn: fqdn.clone(),
            ports: BTreeMap::new(),
            entry: None,
        });
        fqdn
    };
    // Service objects first: their port protocols win.
    let mut declared: Vec<(String, u16, Protocol)> = Vec::new();
    for r in resources {
        let Resource::Service(svc) = r else { continue };
        let Some(name) = svc.metadata.name.as_deref().filter(|n| !n.is_empty()) else {
            continue;
        };
        let fqdn = entry(name, namespace_of(r));
        let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
        for p in ports.into_iter().flatten() {
            let Ok(number) = u16::try_from(p.port) else {
                continue;
            };
            if number == 0 {
                continue;
            }
            let protocol = Protocol::from_port_name(
                p.name.as_deref().unwrap_or(""),
                p.app_protocol.as_deref(),
            );
            declared.push((fqdn.clone(), number, protocol));
        }
    }
    let mut from_workloads: Vec<(String, u16, Option<Protocol>)> = Vec::new();
    for w in workloads {
        if w.service.is_empty() {
            continue;
        }
        let ns = if w.namespace.is_empty() {
            DEFAULT_NAMESPACE
        } else {
            &w.namespace
        };
        let fqdn = entry(&w.service, ns);
        for p in &w.ports {
            from_workloads.push((fqdn.clone(), p.port, p.protocol));
        }
    }
    for (fqdn, port, protocol) in declared {
        if let Some(s) = services.get_mut(&fqdn) {
            s.ports.entry(port).or_insert(protocol);
        }
    }
    // A declared workload protocol beats an undeclared one, whatever the order.
    for (fqdn, port, protocol) in &from_workloads {
        if let (Some(s), Some(p)) = (services.get_mut(fqdn), protocol) {
            s.ports.entry(*port).or_insert(*p);
        }
    }
    for (fqdn, port, _) in &from_workloads {
        if let Some(s) = services.get_mut(fqdn) {
            s.ports.entry(*port).or_insert(Protocol::Http);
        }
    }
    super::entries::add_services(resources, &mut services);
    services
}

/// How a resource's host names the services it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// One FQDN.
    Exact(String),
    /// Every host ending with this suffix (`.default.svc.cluster.local`; empty for `*`).
    Suffix(String),
}

impl HostPattern {
    /// Whether the pattern selects `fqdn`.
    pub fn matches(&self, fqdn: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == fqdn,
            HostPattern::Suffix(s) => fqdn.ends_with(s.as_str()) && fqdn.len() > s.len(),
        }
    }

    /// Sort key: exact hosts first, then the most specific (longest) wildcard.
    pub fn rank(&self) -> Rank {
        match self {
            HostPattern::Exact(_) => (0, 0),
            HostPattern::Suffix(s) => (1, usize::MAX - s.len()),
        }
    }
}

/// A rule's precedence for one service: its host's [`HostPattern::rank`].
pub type Rank = (u8, usize);

/// The rules (by index) naming each service, with their rank.
pub type Candidates = BTreeMap<String, Vec<(Rank, usize)>>;

/// The rules naming each service, best first: by rank, then in resource order.
pub fn best_first(candidates: Candidates) -> BTreeMap<String, Vec<usize>> {
    candidates
        .into_iter()
        .map(|(fqdn, mut v)| {
            // A stable sort: equal ranks keep resource order.
            v.sort_by_key(|(rank, _)| *rank);
            (fqdn, v.into_iter().map(|(_, i)| i).collect())
        })
        .collect()
}

/// Resolve a host as written in a resource of namespace `namespace`, as Istio does:
/// a short name (`reviews`) is relative to the namespace; `name.ns` is taken as
/// `name.ns.svc.cluster.local` when that service exists (meshctl's convenience, as
/// Kubernetes DNS would); FQDNs as written; `*`-prefixed hosts are wildcards.
pub fn resolve_host(
    host: &str,
    namespace: &str,
    services: &BTreeMap<String, ServiceInfo>,
) -> HostPattern {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = host.strip_prefix('*') {
        return HostPattern::Suffix(suffix.to_owned());
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return HostPattern::Exact(host);
    }
    let labels = host.split('.').count();
    if labels == 1 {
        return HostPattern::Exact(service_fqdn(&host, namespace));
    }
    if labels == 2 {
        let full = format!("{host}.{CLUSTER_DOMAIN}");
        if services.contains_key(&full) {
            return HostPattern::Exact(full);
        }
    }
    HostPattern::Exact(host)
}

/// Whether a resource in `owner_ns` with this `exportTo` is visible to a proxy in
/// `proxy_ns`: absent or `*` is everyone, `.` is the owner's namespace, names list
/// namespaces.
pub fn exported_to(export_to: &[String], owner_ns: &str, proxy_ns: &str) -> bool {
    export_to.is_empty()
        || export_to.iter().any(|e| match e.as_str() {
            "*" => true,
            "." => owner_ns == proxy_ns,
            ns => ns == proxy_ns,
        })
}
