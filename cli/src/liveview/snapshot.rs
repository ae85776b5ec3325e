//! What `top` prints and the dashboard draws: edges, the graph's nodes, per
//! workload numbers and each proxy's sync status, for one window.

use std::collections::{BTreeMap, HashMap};

use mesh_control_plane::registry::Workload;
use mesh_control_plane::server::{ProxyStatus, SyncStatus};
use serde::{Deserialize, Serialize};

use super::counters::UNKNOWN;
use super::quantile::Buckets;
use super::window::EdgeStats;

/// One sample of the mesh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// When it was taken (Unix seconds).
    pub time_unix: u64,
    /// The seconds the rates cover; none for a first scrape (no rates yet).
    pub window_seconds: Option<f64>,
    /// How long scraping every proxy took, in milliseconds.
    pub scrape_ms: f64,
    pub edges: Vec<EdgeStats>,
    pub nodes: Vec<Node>,
    pub workloads: Vec<WorkloadStats>,
    pub proxies: Vec<ProxyRow>,
    /// Things the reader should know (a proxy that did not answer, ...).
    pub notes: Vec<String>,
}

/// What a graph node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A workload with a sidecar.
    Workload,
    /// A destination service whose workload has no sidecar (or is not known).
    Service,
    /// A caller outside the mesh.
    Unknown,
}

/// A node of the service graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// `namespace/name` (`default/reviews-v1`); `unknown` for outside callers.
    pub id: String,
    pub name: String,
    pub namespace: String,
    /// The service it serves (for a workload), or is (for a service node).
    pub service: String,
    pub kind: NodeKind,
}

/// A workload's traffic in the window and its proxies' sync status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStats {
    pub workload: String,
    pub namespace: String,
    pub service: String,
    /// Connected sidecars of this workload.
    pub proxies: usize,
    /// Requests per second it served.
    pub inbound_rps: f64,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Requests per second it sent.
    pub outbound_rps: f64,
    /// The worst sync status of its proxies.
    pub sync: String,
}

/// A connected proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyRow {
    pub proxy_id: String,
    pub workload: String,
    pub namespace: String,
    pub service: String,
    pub admin_address: String,
    /// `SYNCED`, `STALE`, `NOT SENT` or `ERROR`: the worst of its config types.
    pub sync: String,
    /// Why its metrics could not be read, if they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_error: Option<String>,
}

/// Istio's workload name of a registry workload (`reviews-v1`).
pub fn workload_name(w: &Workload) -> String {
    let labels: HashMap<String, String> = w.labels.clone().into_iter().collect();
    mesh_proxy::telemetry::Workload::new(&w.service, &w.namespace, &w.service_account, &labels).name
}

fn sync_of(status: Option<&ProxyStatus>) -> String {
    let Some(s) = status else {
        return "UNKNOWN".into();
    };
    let rank = |t: SyncStatus| match t {
        SyncStatus::Synced => 0,
        SyncStatus::NotSent => 1,
        SyncStatus::Stale => 2,
        SyncStatus::Error => 3,
    };
    match s.types.iter().map(|t| t.status).max_by_key(|t| rank(*t)) {
        Some(SyncStatus::Synced) => "SYNCED".into(),
        Some(SyncStatus::Stale) => "STALE".into(),
        Some(SyncStatus::Error) => "ERROR".into(),
        Some(SyncStatus::NotSent) | None => "NOT SENT".into(),
    }
}

fn worst(a: &str, b: &str) -> String {
    let rank = |s: &str| match s {
        "SYNCED" => 0,
        "UNKNOWN" => 1,
        "NOT SENT" => 2,
        "STALE" => 3,
        _ => 4,
    };
    if rank(b) > rank(a) { b } else { a }.to_owned()
}

/// The inputs of one snapshot besides the edges.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub workloads: &'a [Workload],
    pub status: &'a [ProxyStatus],
    /// Proxy id to why its scrape failed.
    pub scrape_errors: &'a HashMap<String, String>,
    /// Only this namespace (an edge is kept when either end is in it).
    pub namespace: Option<&'a str>,
}

/// Nodes, workloads and proxies around `edges`, filtered by namespace.
pub fn build(mut edges: Vec<EdgeStats>, input: &Inputs<'_>) -> Snapshot {
    let in_ns = |ns: &str| input.namespace.is_none_or(|n| n == ns);
    edges.retain(|e| {
        in_ns(&e.key.source_namespace)
            || in_ns(&e.key.destination_namespace)
            || in_ns(&e.key.destination_service_namespace)
    });
    let status: HashMap<&str, &ProxyStatus> = input
        .status
        .iter()
        .map(|s| (s.proxy_id.as_str(), s))
        .collect();
    let mut proxies: Vec<ProxyRow> = input
        .workloads
        .iter()
        .filter(|w| in_ns(&w.namespace))
        .map(|w| ProxyRow {
            proxy_id: w.proxy_id.clone(),
            workload: workload_name(w),
            namespace: w.namespace.clone(),
            service: w.service.clone(),
            admin_address: w.admin_address.clone(),
            sync: sync_of(status.get(w.proxy_id.as_str()).copied()),
            scrape_error: input.scrape_errors.get(&w.proxy_id).cloned(),
        })
        .collect();
    proxies.sort_by(|a, b| (&a.namespace, &a.proxy_id).cmp(&(&b.namespace, &b.proxy_id)));

    let mut workloads: BTreeMap<(String, String), WorkloadStats> = BTreeMap::new();
    for p in &proxies {
        let w = workloads
            .entry((p.namespace.clone(), p.workload.clone()))
            .or_insert_with(|| empty_workload(&p.workload, &p.namespace, &p.service));
        w.proxies += 1;
        w.sync = if w.proxies == 1 {
            p.sync.clone()
        } else {
            worst(&w.sync, &p.sync)
        };
    }
    let mut served: HashMap<(String, String), (f64, f64, Buckets)> = HashMap::new();
    for e in &edges {
        let k = &e.key;
        if k.destination_workload != UNKNOWN {
            let s = served
                .entry((
                    k.destination_namespace.clone(),
                    k.destination_workload.clone(),
                ))
                .or_default();
            s.0 += e.requests;
            s.1 += e.requests * e.success_rate.unwrap_or(1.0);
            for (le, c) in &e.buckets.0 {
                s.2.add(*le, *c);
            }
            if let Some(w) = workloads.get_mut(&(
                k.destination_namespace.clone(),
                k.destination_workload.clone(),
            )) {
                w.inbound_rps += e.rps;
            }
        }
        if let Some(w) = workloads.get_mut(&(k.source_namespace.clone(), k.source_workload.clone()))
        {
            w.outbound_rps += e.rps;
        }
    }
    for (key, (requests, ok, buckets)) in served {
        if let Some(w) = workloads.get_mut(&key)
            && requests > 0.0
        {
            w.success_rate = Some(ok / requests);
            w.p50_ms = buckets.quantile(0.5);
            w.p99_ms = buckets.quantile(0.99);
        }
    }
    let mut workloads: Vec<WorkloadStats> = workloads
        .into_values()
        .filter(|w| in_ns(&w.namespace))
        .collect();
    workloads.sort_by(|a, b| {
        (b.inbound_rps + b.outbound_rps)
            .total_cmp(&(a.inbound_rps + a.outbound_rps))
            .then_with(|| (&a.namespace, &a.workload).cmp(&(&b.namespace, &b.workload)))
    });
    Snapshot {
        nodes: nodes(&edges, &proxies),
        edges,
        workloads,
        proxies,
        ..Snapshot::default()
    }
}

fn empty_workload(name: &str, namespace: &str, service: &str) -> WorkloadStats {
    WorkloadStats {
        workload: name.to_owned(),
        namespace: namespace.to_owned(),
        service: service.to_owned(),
        proxies: 0,
        inbound_rps: 0.0,
        success_rate: None,
        p50_ms: None,
        p99_ms: None,
        outbound_rps: 0.0,
        sync: "UNKNOWN".into(),
    }
}

/// The graph's node id of an edge's source.
pub fn source_id(e: &EdgeStats) -> String {
    if e.key.source_workload == UNKNOWN {
        UNKNOWN.into()
    } else {
        format!("{}/{}", e.key.source_namespace, e.key.source_workload)
    }
}

/// The graph's node id of an edge's destination: its workload, or its service
/// when the workload is not known.
pub fn destination_id(e: &EdgeStats) -> String {
    let k = &e.key;
    if k.destination_workload != UNKNOWN {
        format!("{}/{}", k.destination_namespace, k.destination_workload)
    } else {
        format!(
            "{}/{}",
            k.destination_service_namespace, k.destination_service
        )
    }
}

fn nodes(edges: &[EdgeStats], proxies: &[ProxyRow]) -> Vec<Node> {
    let mut out: BTreeMap<String, Node> = BTreeMap::new();
    for p in proxies {
        out.entry(format!("{}/{}", p.namespace, p.workload))
            .or_insert_with(|| Node {
                id: format!("{}/{}", p.namespace, p.workload),
                name: p.workload.clone(),
                namespace: p.namespace.clone(),
                service: p.service.clone(),
                kind: NodeKind::Workload,
            });
    }
    for e in edges {
        let k = &e.key;
        let src = source_id(e);
        out.entry(src.clone()).or_insert_with(|| Node {
            id: src,
            name: k.source_workload.clone(),
            namespace: k.source_namespace.clone(),
            service: UNKNOWN.into(),
            kind: if k.source_workload == UNKNOWN {
                NodeKind::Unknown
            } else {
                NodeKind::Workload
            },
        });
        let dst = destination_id(e);
        let is_workload = k.destination_workload != UNKNOWN;
        out.entry(dst.clone()).or_insert_with(|| Node {
            id: dst,
            name: if is_workload {
                k.destination_workload.clone()
            } else {
                k.destination_service.clone()
            },
            namespace: if is_workload {
                k.destination_namespace.clone()
            } else {
                k.destination_service_namespace.clone()
            },
            service: k.destination_service.clone(),
            kind: if is_workload {
                NodeKind::Workload
            } else {
                NodeKind::Service
            },
        });
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests;
