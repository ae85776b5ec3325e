//! Clusters and endpoints: one cluster per service port, one more per
//! DestinationRule subset, each with the workloads that serve it and the load
//! balancing the DestinationRule asks for.

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::common::Duration;
use mesh_api::networking::{
    ClientTlsMode, ClientTlsSettings, ConnectionPoolSettings, ConsistentHashLb,
    DestinationRuleSpec, LoadBalancerSettings, OutlierDetection, SimpleLb, Subset, TrafficPolicy,
};
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, ClusterTls, ConnectionLimits, Endpoint, HashPolicy, LbPolicy,
    OutlierPolicy, TlsOrigination, outbound_cluster_name,
};

use super::services::{
    Candidates, ServiceInfo, best_first, exported_to, namespace_of, resolve_host,
};
use crate::registry::Workload;

/// A DestinationRule as the compiler keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct DrEntry {
    /// Its namespace (`default` when unset).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its spec, as stored.
    pub spec: DestinationRuleSpec,
}

impl DrEntry {
    /// Whether a proxy in `ns` with `labels` sees this rule: its `exportTo`, and its
    /// `workloadSelector` (which limits it to selected workloads of its namespace).
    fn visible_to(&self, ns: &str, labels: &BTreeMap<String, String>) -> bool {
        exported_to(&self.spec.export_to, &self.namespace, ns)
            && self
                .spec
                .workload_selector
                .as_ref()
                .is_none_or(|s| self.namespace == ns && s.matches(labels))
    }
}

/// The DestinationRules of the mesh, and for each service the rules naming it,
/// best first (exact host before wildcard, then resource order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrIndex {
    rules: Vec<DrEntry>,
    by_service: BTreeMap<String, Vec<usize>>,
}

impl DrIndex {
    pub fn new(resources: &[Resource], services: &BTreeMap<String, ServiceInfo>) -> Self {
        let mut rules = Vec::new();
        let mut ranked = Candidates::new();
        for r in resources {
            let Resource::DestinationRule(dr) = r else {
                continue;
            };
            let namespace = namespace_of(r).to_owned();
            let idx = rules.len();
            let pattern = resolve_host(&dr.spec.host, &namespace, services);
            for fqdn in services.keys().filter(|f| pattern.matches(f)) {
                ranked
                    .entry(fqdn.clone())
                    .or_default()
                    .push((pattern.rank(), idx));
            }
            rules.push(DrEntry {
                namespace,
                name: dr.metadata.name.clone().unwrap_or_default(),
                spec: dr.spec.clone(),
            });
        }
        let by_service = best_first(ranked);
        DrIndex { rules, by_service }
    }

    /// The rule that applies to `fqdn` for this proxy, if any.
    pub fn for_service(
        &self,
        fqdn: &str,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Option<&DrEntry> {
        self.by_service
            .get(fqdn)?
            .iter()
            .filter_map(|i| self.rules.get(*i))
            .find(|dr| dr.visible_to(ns, labels))
    }
}

/// Every workload endpoint, by (service FQDN, port), sorted by address then proxy id.
/// A workload whose app is not ready yet is no endpoint (as Kubernetes leaves a
/// pod that fails its readiness probe out of its Service's endpoints).
pub fn endpoint_index(
    workloads: &[Workload],
    services: &BTreeMap<String, ServiceInfo>,
    peer_authentication: &super::mtls::PaIndex,
) -> BTreeMap<(String, u16), Vec<Endpoint>> {
    let mut out: BTreeMap<(String, u16), Vec<Endpoint>> = BTreeMap::new();
    for w in workloads.iter().filter(|w| w.app_ready) {
        let fqdn = super::services::service_fqdn(&w.service, super::workload_namespace(w));
        if !services.contains_key(&fqdn) {
            continue;
        }
        for p in &w.ports {
            let list = out.entry((fqdn.clone(), p.port)).or_default();
            if list.iter().any(|e| e.proxy_id == w.proxy_id) {
                continue;
            }
            list.push(workload_endpoint(w, p.port, peer_authentication));
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (&a.address, &a.proxy_id).cmp(&(&b.address, &b.proxy_id)));
    }
    out
}

/// A workload as an endpoint for its service port `port`: its sidecar's inbound
/// address, with its identity when it accepts mutual TLS on that port.
pub fn workload_endpoint(
    w: &Workload,
    port: u16,
    peer_authentication: &super::mtls::PaIndex,
) -> Endpoint {
    let ns = super::workload_namespace(w);
    let accepts_mtls =
        peer_authentication.mode(ns, &w.labels, port).0 != mesh_api::proxy::InboundMtls::Disable;
    let sa = if w.service_account.is_empty() {
        "default"
    } else {
        w.service_account.as_str()
    };
    Endpoint {
        address: w.inbound_address.clone(),
        proxy_id: w.proxy_id.clone(),
        labels: w.labels.clone(),
        weight: 1,
        identity: accepts_mtls.then(|| format!("ns/{ns}/sa/{sa}")),
        external: false,
    }
}

/// The clusters and endpoints of one service for one proxy, given the
/// DestinationRule that applies to it.
pub fn service_clusters(
    svc: &ServiceInfo,
    dr: Option<&DrEntry>,
    endpoints: &BTreeMap<(String, u16), Vec<Endpoint>>,
    clusters: &mut Vec<Cluster>,
    assignments: &mut Vec<ClusterEndpoints>,
) {
    let top = dr.and_then(|d| d.spec.traffic_policy.as_ref());
    let subsets: Vec<(usize, &Subset)> = dr
        .map(|d| unique_subsets(&d.spec.subsets))
        .unwrap_or_default();
    let origin = dr.map(|d| format!("DestinationRule {}/{}", d.namespace, d.name));
    let origin = origin.as_deref().unwrap_or("");
    for (&port, &protocol) in &svc.ports {
        let members = endpoints
            .get(&(svc.fqdn.clone(), port))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let name = outbound_cluster_name(port, None, &svc.fqdn);
        let mut cluster = Cluster {
            name: name.clone(),
            service: svc.fqdn.clone(),
            port,
            subset: None,
            protocol,
            ..Cluster::default()
        };
        Effective::of(top, None, port).apply(&mut cluster, origin);
        clusters.push(cluster);
        assignments.push(ClusterEndpoints {
            cluster: name,
            endpoints: members.to_vec(),
        });
        for &(si, subset) in &subsets {
            let name = outbound_cluster_name(port, Some(&subset.name), &svc.fqdn);
            let mut cluster = Cluster {
                name: name.clone(),
                service: svc.fqdn.clone(),
                port,
                subset: Some(subset.name.clone()),
                protocol,
                ..Cluster::default()
            };
            Effective::of(top, subset.traffic_policy.as_ref(), port)
                .in_subset(si)
                .apply(&mut cluster, origin);
            clusters.push(cluster);
            let selected = members
                .iter()
                .filter(|e| {
                    subset
                        .labels
                        .iter()
                        .all(|(k, v)| e.labels.get(k) == Some(v))
                })
                .cloned()
                .collect();
            assignments.push(ClusterEndpoints {
                cluster: name,
                endpoints: selected,
            });
        }
    }
}

/// Subsets with a usable name, the first of each name, with their index.
fn unique_subsets(subsets: &[Subset]) -> Vec<(usize, &Subset)> {
    let mut seen = std::collections::BTreeSet::new();
    subsets
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            !s.name.is_empty() && !s.name.contains('|') && seen.insert(s.name.as_str())
        })
        .collect()
}

/// The service with HTTPS/TLS ports of a ServiceEntry turned into HTTP where
/// the DestinationRule originates TLS (the app then speaks plain HTTP to its
/// sidecar); `None` when nothing changes.
pub fn with_origination(svc: &ServiceInfo, dr: Option<&DrEntry>) -> Option<ServiceInfo> {
    let entry = svc.entry.as_ref()?;
    let top = dr.and_then(|d| d.spec.traffic_policy.as_ref());
    let originated: Vec<u16> = entry
        .tls_ports
        .iter()
        .copied()
        .filter(|p| {
            Effective::of(top, None, *p)
                .tls
                .is_some_and(|t| matches!(t.mode, ClientTlsMode::Simple | ClientTlsMode::Mutual))
        })
        .collect();
    if originated.is_empty() {
        return None;
    }
    let mut out = svc.clone();
    for p in originated {
        out.ports.insert(p, mesh_api::proxy::Protocol::Http);
    }
    Some(out)
}

/// The traffic policy that applies to one cluster, Istio's `MergeTrafficPolicy`:
/// the top-level settings, replaced by the top-level `portLevelSettings` of the
/// port, then each field the subset sets, then the subset's `portLevelSettings`
/// of the port. Port-level settings replace all three fields, as Istio
/// documents ("port level policies do not inherit").
#[derive(Debug, Clone, Default)]
pub struct Effective<'a> {
    pub load_balancer: Option<&'a LoadBalancerSettings>,
    pub connection_pool: Option<&'a ConnectionPoolSettings>,
    pub outlier_detection: Option<&'a OutlierDetection>,
    pub tls: Option<&'a ClientTlsSettings>,
    /// Where `tls` was set (`trafficPolicy.portLevelSettings[0].tls`).
    pub tls_at: String,
}

impl<'a> Effective<'a> {
    pub fn of(
        top: Option<&'a TrafficPolicy>,
        subset: Option<&'a TrafficPolicy>,
        port: u16,
    ) -> Self {
        let mut e = Effective::default();
        for (level, tp) in [("", top), ("subset", subset)] {
            let Some(tp) = tp else { continue };
            if let Some(l) = &tp.load_balancer {
                e.load_balancer = Some(l);
            }
            if let Some(c) = &tp.connection_pool {
                e.connection_pool = Some(c);
            }
            if let Some(o) = &tp.outlier_detection {
                e.outlier_detection = Some(o);
            }
            if let Some(t) = &tp.tls {
                e.tls = Some(t);
                e.tls_at = format!("{level}trafficPolicy.tls");
            }
            if let Some((i, p)) = tp
                .port_level_settings
                .iter()
                .enumerate()
                .find(|(_, p)| p.port.as_ref().is_some_and(|s| s.number == u32::from(port)))
            {
                e = Effective {
                    load_balancer: p.load_balancer.as_ref(),
                    connection_pool: p.connection_pool.as_ref(),
                    outlier_detection: p.outlier_detection.as_ref(),
                    tls: p.tls.as_ref(),
                    tls_at: format!("{level}trafficPolicy.portLevelSettings[{i}].tls"),
                };
            }
        }
        e
    }

    /// Names the subset (its index in `subsets`) in `tls_at`.
    fn in_subset(mut self, index: usize) -> Self {
        if let Some(rest) = self.tls_at.strip_prefix("subset") {
            self.tls_at = format!("subsets[{index}].{rest}");
        }
        self
    }

    /// Fills a cluster's balancing, hashing, limits, outlier detection and TLS
    /// (`origin` names the DestinationRule, for the proxy's messages).
    pub fn apply(&self, c: &mut Cluster, origin: &str) {
        c.lb_policy = lb_policy(self.load_balancer);
        c.hash = self
            .load_balancer
            .and_then(|l| l.consistent_hash.as_ref())
            .and_then(hash_policy);
        c.limits = self.connection_pool.map(limits).unwrap_or_default();
        c.outlier = self.outlier_detection.map(outlier);
        c.tls = match self.tls.map(|t| t.mode) {
            Some(ClientTlsMode::Disable) => ClusterTls::Disable,
            Some(ClientTlsMode::IstioMutual) => ClusterTls::IstioMutual,
            Some(ClientTlsMode::Simple) => ClusterTls::Simple,
            Some(ClientTlsMode::Mutual) => ClusterTls::Mutual,
            None => ClusterTls::Auto,
        };
        c.origination = self
            .tls
            .filter(|t| matches!(t.mode, ClientTlsMode::Simple | ClientTlsMode::Mutual))
            .map(|t| origination(t, &format!("{origin} {}", self.tls_at), &c.service));
    }
}

/// The TLS a client sidecar originates for SIMPLE or MUTUAL: the server name is
/// `sni`, else the service's host.
fn origination(t: &ClientTlsSettings, origin: &str, host: &str) -> TlsOrigination {
    let file = |f: &str| (!f.is_empty()).then(|| f.to_owned());
    let mutual = t.mode == ClientTlsMode::Mutual;
    TlsOrigination {
        origin: origin.to_owned(),
        ca_certificates: file(&t.ca_certificates),
        client_certificate: file(&t.client_certificate).filter(|_| mutual),
        private_key: file(&t.private_key).filter(|_| mutual),
        credential_name: file(&t.credential_name),
        sni: if t.sni.is_empty() {
            host.to_owned()
        } else {
            t.sni.clone()
        },
        subject_alt_names: t.subject_alt_names.clone(),
        insecure_skip_verify: t.insecure_skip_verify == Some(true),
    }
}

fn lb_policy(lb: Option<&LoadBalancerSettings>) -> LbPolicy {
    match lb.and_then(|l| l.simple) {
        Some(SimpleLb::LeastRequest | SimpleLb::LeastConn) => LbPolicy::LeastRequest,
        Some(SimpleLb::Random) => LbPolicy::Random,
        // PASSTHROUGH has no original destination to go to in local mode (the
        // app names services, not addresses): round robin.
        _ => LbPolicy::RoundRobin,
    }
}

fn hash_policy(h: &ConsistentHashLb) -> Option<HashPolicy> {
    if let Some(name) = h.http_header_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(HashPolicy::Header(name.to_ascii_lowercase()));
    }
    if let Some(c) = &h.http_cookie {
        return Some(HashPolicy::Cookie {
            name: c.name.clone(),
            path: c.path.clone(),
            ttl: c.ttl.filter(|t| !t.as_std().is_zero()),
        });
    }
    if h.use_source_ip == Some(true) {
        return Some(HashPolicy::SourceIp);
    }
    h.http_query_parameter_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| HashPolicy::QueryParameter(n.to_owned()))
}

/// Istio leaves unset limits at Envoy's maximum: `None` here.
fn limits(p: &ConnectionPoolSettings) -> ConnectionLimits {
    let positive = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
    let tcp = p.tcp.as_ref();
    let http = p.http.as_ref();
    ConnectionLimits {
        max_connections: positive(tcp.and_then(|t| t.max_connections)),
        max_pending_requests: positive(http.and_then(|h| h.http1_max_pending_requests)),
        max_requests: positive(http.and_then(|h| h.http2_max_requests)),
        max_retries: http
            .and_then(|h| h.max_retries)
            .and_then(|v| u32::try_from(v).ok()),
        connect_timeout: tcp.and_then(|t| t.connect_timeout),
        max_requests_per_connection: positive(http.and_then(|h| h.max_requests_per_connection)),
        idle_timeout: http
            .and_then(|h| h.idle_timeout)
            .or_else(|| tcp.and_then(|t| t.idle_timeout))
            .filter(|d| !d.as_std().is_zero()),
        tcp_keepalive: tcp.and_then(|t| t.tcp_keepalive.as_ref()).map(|k| {
            mesh_api::proxy::TcpKeepalive {
                time: k.time,
                interval: k.interval,
                probes: k.probes,
            }
        }),
        h2_upgrade: http.and_then(|h| h.h2_upgrade_policy)
            == Some(mesh_api::networking::H2UpgradePolicy::Upgrade),
    }
}

/// Istio's outlier detection defaults (Envoy's): 5 consecutive 5xx, gateway
/// errors off, 10 s interval, 30 s base ejection, 10% at most; the deprecated
/// `consecutiveErrors` counts gateway errors.
fn outlier(o: &OutlierDetection) -> OutlierPolicy {
    let ten_secs = Duration::from_std(std::time::Duration::from_secs(10));
    let thirty_secs = Duration::from_std(std::time::Duration::from_secs(30));
    let legacy = o
        .consecutive_errors
        .and_then(|v| u32::try_from(v).ok())
        .filter(|v| *v > 0);
    OutlierPolicy {
        consecutive_5xx: o
            .consecutive_5xx_errors
            .unwrap_or(if legacy.is_some() { 0 } else { 5 }),
        consecutive_gateway: o.consecutive_gateway_errors.or(legacy).unwrap_or(0),
        interval: o.interval.unwrap_or(ten_secs),
        base_ejection_time: o.base_ejection_time.unwrap_or(thirty_secs),
        max_ejection_percent: o
            .max_ejection_percent
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(10),
        min_health_percent: o
            .min_health_percent
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
    }
}
