//! Clusters and endpoints: one cluster per service port, one more per
//! DestinationRule subset, each with the workloads that serve it and the load
//! balancing the DestinationRule asks for.

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::networking::{
    DestinationRuleSpec, LoadBalancerSettings, SimpleLb, Subset, TrafficPolicy,
};
use mesh_api::proxy::{Cluster, ClusterEndpoints, Endpoint, LbPolicy, outbound_cluster_name};

use super::services::{
    Candidates, ServiceInfo, best_first, exported_to, namespace_of, resolve_host,
};
use crate::registry::Workload;

/// A DestinationRule as the compiler keeps it.
#[derive(Debug, Clone)]
pub struct DrEntry {
    /// Its namespace (`default` when unset).
    pub namespace: String,
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
#[derive(Debug, Clone, Default)]
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
            list.push(Endpoint {
                address: w.inbound_address.clone(),
                proxy_id: w.proxy_id.clone(),
                labels: w.labels.clone(),
                weight: 1,
            });
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (&a.address, &a.proxy_id).cmp(&(&b.address, &b.proxy_id)));
    }
    out
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
    let subsets: Vec<&Subset> = dr
        .map(|d| unique_subsets(&d.spec.subsets))
        .unwrap_or_default();
    for (&port, &protocol) in &svc.ports {
        let members = endpoints
            .get(&(svc.fqdn.clone(), port))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let name = outbound_cluster_name(port, None, &svc.fqdn);
        clusters.push(Cluster {
            name: name.clone(),
            service: svc.fqdn.clone(),
            port,
            subset: None,
            protocol,
            lb_policy: lb_policy(top, None, port),
        });
        assignments.push(ClusterEndpoints {
            cluster: name,
            endpoints: members.to_vec(),
        });
        for subset in &subsets {
            let name = outbound_cluster_name(port, Some(&subset.name), &svc.fqdn);
            clusters.push(Cluster {
                name: name.clone(),
                service: svc.fqdn.clone(),
                port,
                subset: Some(subset.name.clone()),
                protocol,
                lb_policy: lb_policy(top, subset.traffic_policy.as_ref(), port),
            });
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

/// Subsets with a usable name, the first of each name.
fn unique_subsets(subsets: &[Subset]) -> Vec<&Subset> {
    let mut seen = std::collections::BTreeSet::new();
    subsets
        .iter()
        .filter(|s| !s.name.is_empty() && !s.name.contains('|') && seen.insert(s.name.as_str()))
        .collect()
}

/// Istio's `MergeTrafficPolicy` for the load balancer: the top-level setting, then
/// the top-level `portLevelSettings` for the port, then the subset's setting, then
/// the subset's `portLevelSettings` for the port; each later one replaces the
/// earlier.
pub fn lb_policy(
    top: Option<&TrafficPolicy>,
    subset: Option<&TrafficPolicy>,
    port: u16,
) -> LbPolicy {
    let mut lb: Option<&LoadBalancerSettings> = None;
    for tp in [top, subset].into_iter().flatten() {
        if let Some(l) = &tp.load_balancer {
            lb = Some(l);
        }
        let port_level = tp
            .port_level_settings
            .iter()
            .find(|p| p.port.as_ref().is_some_and(|s| s.number == u32::from(port)));
        if let Some(l) = port_level.and_then(|p| p.load_balancer.as_ref()) {
            lb = Some(l);
        }
    }
    match lb.and_then(|l| l.simple) {
        Some(SimpleLb::LeastRequest | SimpleLb::LeastConn) => LbPolicy::LeastRequest,
        Some(SimpleLb::Random) => LbPolicy::Random,
        // PASSTHROUGH, consistent hashing and unspecified: round robin for now.
        _ => LbPolicy::RoundRobin,
    }
}
