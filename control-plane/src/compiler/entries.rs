//! ServiceEntry: each host of an entry is a service of the catalog (clients
//! reach it by that name through their sidecar), with the entry's ports and
//! endpoints. Endpoints need addresses the compiler can use as they are: IP
//! literals and `localhost`. Other names need DNS, which this pure compiler does
//! not do (such endpoints are left out and the cluster answers 503 `UH`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use mesh_api::Resource;
use mesh_api::networking::protocol::PortProtocol;
use mesh_api::networking::{Location, Port, Resolution, ServiceEntrySpec, WorkloadEntrySpec};
use mesh_api::proxy::{Endpoint, Protocol};

use super::mtls::PaIndex;
use super::services::{ServiceInfo, exported_to, namespace_of};
use crate::registry::Workload;

/// What a ServiceEntry adds to a service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// `ServiceEntry default/external-api`.
    pub origin: String,
    pub location: Location,
    /// The entry's `exportTo` (empty: everywhere).
    pub export_to: Vec<String>,
    /// Ports declared HTTPS or TLS: the app's own TLS, passed through as TCP,
    /// unless a DestinationRule originates TLS (then the app speaks HTTP).
    pub tls_ports: BTreeSet<u16>,
}

impl EntryInfo {
    /// Whether a proxy in `ns` sees the service.
    pub fn visible_to(&self, owner_ns: &str, ns: &str) -> bool {
        !self.export_to.iter().any(|e| e == "~") && exported_to(&self.export_to, owner_ns, ns)
    }
}

/// Our protocol for a ServiceEntry port's `protocol` (HTTPS and TLS: TCP, the
/// app's TLS passed through).
pub fn port_protocol(p: &Port) -> Protocol {
    match PortProtocol::parse(&p.protocol) {
        PortProtocol::Http | PortProtocol::HttpProxy => Protocol::Http,
        PortProtocol::Http2 => Protocol::Http2,
        PortProtocol::Grpc | PortProtocol::GrpcWeb => Protocol::Grpc,
        // Unset: local mode has no protocol sniffing; HTTP as for unnamed ports.
        PortProtocol::Unsupported if p.protocol.is_empty() => Protocol::Http,
        _ => Protocol::Tcp,
    }
}

/// One host of a ServiceEntry.
struct Host<'a> {
    host: &'a str,
    namespace: &'a str,
    /// `ServiceEntry <namespace>/<name>`.
    origin: String,
    spec: &'a ServiceEntrySpec,
}

/// The ServiceEntries' hosts, in resource order.
fn entries(resources: &[Resource]) -> impl Iterator<Item = Host<'_>> {
    resources.iter().flat_map(|r| {
        let found = match r {
            Resource::ServiceEntry(se) => Some((namespace_of(r), se)),
            _ => None,
        };
        found.into_iter().flat_map(|(namespace, se)| {
            let origin = format!(
                "ServiceEntry {namespace}/{}",
                se.metadata.name.as_deref().unwrap_or("")
            );
            se.spec
                .hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.'))
                // A wildcard host names no one service: it needs DYNAMIC_DNS.
                .filter(|h| !h.is_empty() && !h.contains('*'))
                .map(move |host| Host {
                    host,
                    namespace,
                    origin: origin.clone(),
                    spec: &se.spec,
                })
        })
    })
}

/// Adds each ServiceEntry host to the catalog (the first entry of a host wins;
/// a host a Service or workload already declares keeps its ports).
pub fn add_services(resources: &[Resource], services: &mut BTreeMap<String, ServiceInfo>) {
    for Host {
        host,
        namespace,
        origin,
        spec,
    } in entries(resources)
    {
        let fqdn = host.to_ascii_lowercase();
        if services.contains_key(&fqdn) {
            continue;
        }
        let mut ports = BTreeMap::new();
        let mut tls_ports = BTreeSet::new();
        for p in &spec.ports {
            let Some(n) = u16::try_from(p.number).ok().filter(|n| *n != 0) else {
                continue;
            };
            ports.entry(n).or_insert_with(|| port_protocol(p));
            if PortProtocol::parse(&p.protocol).is_tls() {
                tls_ports.insert(n);
            }
        }
        services.insert(
            fqdn.clone(),
            ServiceInfo {
                name: fqdn.clone(),
                namespace: namespace.to_ascii_lowercase(),
                fqdn,
                ports,
                entry: Some(EntryInfo {
                    origin,
                    location: spec.location(),
                    export_to: spec.export_to.clone(),
                    tls_ports,
                }),
            },
        );
    }
}

/// An address the compiler can dial as it is: an IP literal, or `localhost`.
fn literal_ip(address: &str) -> Option<IpAddr> {
    let a = address.trim().trim_start_matches('[').trim_end_matches(']');
    if a.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::from([127, 0, 0, 1]));
    }
    a.parse().ok()
}

fn socket(ip: IpAddr, port: u32) -> Option<String> {
    let port = u16::try_from(port).ok().filter(|p| *p != 0)?;
    Some(std::net::SocketAddr::new(ip, port).to_string())
}

/// One endpoint of an entry for one port: `ports[name]`, else the port's
/// `targetPort`, else its number.
fn endpoint(e: &WorkloadEntrySpec, p: &Port, ip: IpAddr, origin: &str) -> Option<Endpoint> {
    let port = e
        .ports
        .get(&p.name)
        .copied()
        .or(p.target_port)
        .unwrap_or(p.number);
    Some(Endpoint {
        address: socket(ip, port)?,
        proxy_id: origin.to_owned(),
        labels: e.labels.clone(),
        weight: if e.weight == 0 { 1 } else { e.weight },
        identity: None,
        external: true,
    })
}

/// The WorkloadEntry resources, by namespace: `(name, spec)`.
type EntriesByNs<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a WorkloadEntrySpec)>>;

fn workload_entries(resources: &[Resource]) -> EntriesByNs<'_> {
    let mut out = EntriesByNs::new();
    for r in resources {
        if let Resource::WorkloadEntry(we) = r {
            out.entry(namespace_of(r))
                .or_default()
                .push((we.metadata.name.as_deref().unwrap_or(""), &we.spec));
        }
    }
    out
}

/// The ServiceEntries' endpoints by (host, port), added to `out`: STATIC from
/// `endpoints`, or from what its `workloadSelector` selects in the entry's
/// namespace: the ready connected workloads (their sidecars, with their
/// identities) and the WorkloadEntry resources (reached at their own address,
/// as ServiceEntry endpoints are: no sidecar of theirs is connected);
/// DNS and DNS_ROUND_ROBIN from `endpoints` (or the host itself when none are
/// listed) whose address is an IP literal or `localhost`; NONE from the host
/// when it is one (local mode has no original destination address).
pub fn add_endpoints(
    resources: &[Resource],
    services: &BTreeMap<String, ServiceInfo>,
    workloads: &[Workload],
    peer_authentication: &PaIndex,
    out: &mut BTreeMap<(String, u16), Vec<Endpoint>>,
) {
    // Indexed by namespace once: a mesh has many entries and many workloads.
    let mut ready: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for w in workloads.iter().filter(|w| w.app_ready) {
        ready
            .entry(super::workload_namespace(w))
            .or_default()
            .push(w);
    }
    let entry_workloads = workload_entries(resources);
    for Host {
        host,
        namespace,
        origin,
        spec,
    } in entries(resources)
    {
        let fqdn = host.to_ascii_lowercase();
        let Some(svc) = services.get(&fqdn) else {
            continue;
        };
        // Only the entry that made the service gives its endpoints.
        if svc.entry.as_ref().is_none_or(|e| e.origin != origin) {
            continue;
        }
        let listed = match spec.resolution() {
            Resolution::Static => true,
            Resolution::Dns | Resolution::DnsRoundRobin => !spec.endpoints.is_empty(),
            Resolution::None | Resolution::DynamicDns => false,
        };
        for p in &spec.ports {
            let Some(n) = u16::try_from(p.number).ok().filter(|n| *n != 0) else {
                continue;
            };
            let list = out.entry((fqdn.clone(), n)).or_default();
            if let Some(sel) = &spec.workload_selector {
                let port = u16::try_from(p.target_port.unwrap_or(p.number)).unwrap_or(n);
                let selects = |labels: &BTreeMap<String, String>| {
                    sel.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
                };
                list.extend(
                    ready
                        .get(namespace)
                        .into_iter()
                        .flatten()
                        .filter(|w| selects(&w.labels))
                        // The sidecar maps the port to its app: one of its ports,
                        // or its only one.
                        .filter_map(|w| match w.ports.as_slice() {
                            [only] => Some((w, only.port)),
                            ps => ps.iter().find(|q| q.port == port).map(|q| (w, q.port)),
                        })
                        .map(|(w, port)| {
                            super::clusters::workload_endpoint(w, port, peer_authentication)
                        }),
                );
                list.extend(
                    entry_workloads
                        .get(namespace)
                        .into_iter()
                        .flatten()
                        .filter(|(_, we)| selects(&we.labels))
                        .filter_map(|(name, we)| {
                            let origin = format!("WorkloadEntry {namespace}/{name}");
                            endpoint(we, p, literal_ip(&we.address)?, &origin)
                        }),
                );
            } else if listed {
                list.extend(
                    spec.endpoints
                        .iter()
                        .filter_map(|e| endpoint(e, p, literal_ip(&e.address)?, &origin)),
                );
            } else if let Some(ip) = literal_ip(host)
                && spec.resolution() != Resolution::DynamicDns
            {
                list.extend(endpoint(&WorkloadEntrySpec::default(), p, ip, &origin));
            }
            list.sort_by(|a, b| a.address.cmp(&b.address));
            list.dedup_by(|a, b| a.address == b.address);
        }
    }
}
