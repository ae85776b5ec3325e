//! Nodes, workloads and proxies around edges, and the namespace filter.

use std::collections::{BTreeMap, HashMap};

use mesh_control_plane::registry::Workload;
use mesh_control_plane::server::{ProxyStatus, SyncStatus, TypeStatus};

use super::*;
use crate::liveview::counters::{EdgeKey, Reporter};
use crate::liveview::window::Mtls;

fn workload(service: &str, version: &str, namespace: &str, n: u32) -> Workload {
    Workload {
        proxy_id: format!("{service}-{version}-{n}.{namespace}"),
        service: service.into(),
        namespace: namespace.into(),
        service_account: "default".into(),
        labels: BTreeMap::from([
            ("app".into(), service.into()),
            ("version".into(), version.into()),
        ]),
        inbound_address: String::new(),
        outbound_address: String::new(),
        admin_address: format!("127.0.0.1:{n}"),
        ports: Vec::new(),
        proxy_version: "0.1.0".into(),
        connected_unix: 0,
        app_ready: true,
    }
}

fn status(w: &Workload, types: &[SyncStatus]) -> ProxyStatus {
    ProxyStatus {
        proxy_id: w.proxy_id.clone(),
        revision: 1,
        service: w.service.clone(),
        namespace: w.namespace.clone(),
        proxy_version: "0.1.0".into(),
        types: types
            .iter()
            .map(|s| TypeStatus {
                type_url: "listeners".into(),
                status: *s,
                sent_version: String::new(),
                acked_version: String::new(),
                error: None,
                pending_ms: None,
            })
            .collect(),
    }
}

/// `from` (`ns/name`) -> `to` (`ns/name`, or `ns/unknown` for no workload) of `service`.
fn edge(from: &str, service: &str, to: &str, rps: f64, success: f64) -> EdgeStats {
    let (sns, s) = from.split_once('/').unwrap_or((UNKNOWN, from));
    let (dns, d) = to.split_once('/').expect("ns/name");
    let mut buckets = Buckets::default();
    buckets.add(10.0, rps);
    buckets.add(f64::INFINITY, rps);
    EdgeStats {
        key: EdgeKey {
            source_workload: s.into(),
            source_namespace: sns.into(),
            destination_service: service.into(),
            destination_service_namespace: dns.into(),
            destination_workload: d.into(),
            destination_namespace: if d == UNKNOWN {
                UNKNOWN.into()
            } else {
                dns.into()
            },
        },
        reporter: Reporter::Destination,
        protocol: "http".into(),
        requests: rps,
        rps,
        success_rate: Some(success),
        p50_ms: None,
        p99_ms: None,
        mtls: Mtls::MutualTls,
        total_requests: rps,
        connections: 0.0,
        cps: 0.0,
        received_bytes_per_second: 0.0,
        sent_bytes_per_second: 0.0,
        total_connections: 0.0,
        buckets,
    }
}

#[test]
fn workloads_sum_their_edges_and_proxies_and_nodes_cover_both() {
    let client = workload("client", "v1", "default", 1);
    let reviews = [
        workload("reviews", "v1", "default", 2),
        workload("reviews", "v1", "default", 3),
    ];
    let ws = vec![client.clone(), reviews[0].clone(), reviews[1].clone()];
    let st = vec![
        status(&client, &[SyncStatus::Synced]),
        status(&reviews[0], &[SyncStatus::Synced, SyncStatus::Synced]),
        status(&reviews[1], &[SyncStatus::Synced, SyncStatus::Stale]),
    ];
    let errors = HashMap::from([(reviews[1].proxy_id.clone(), "connection refused".to_owned())]);
    let snap = build(
        vec![
            edge(
                "default/client-v1",
                "reviews",
                "default/reviews-v1",
                10.0,
                0.9,
            ),
            edge("unknown", "reviews", "default/reviews-v1", 10.0, 1.0),
            edge("default/client-v1", "httpbin", "default/unknown", 5.0, 1.0),
        ],
        &Inputs {
            workloads: &ws,
            status: &st,
            scrape_errors: &errors,
            namespace: None,
        },
    );
    let r = snap
        .workloads
        .iter()
        .find(|w| w.workload == "reviews-v1")
        .expect("reviews-v1");
    assert_eq!((r.proxies, r.inbound_rps, r.outbound_rps), (2, 20.0, 0.0));
    assert_eq!(r.success_rate, Some(0.95));
    assert_eq!(r.sync, "STALE", "the worst of its proxies");
    assert_eq!(r.p50_ms, Some(5.0));
    let c = snap
        .workloads
        .iter()
        .find(|w| w.workload == "client-v1")
        .expect("client-v1");
    assert_eq!(
        (c.inbound_rps, c.outbound_rps, c.success_rate),
        (0.0, 15.0, None)
    );
    assert_eq!(snap.workloads[0].workload, "reviews-v1", "busiest first");

    let kinds: Vec<(&str, NodeKind)> = snap.nodes.iter().map(|n| (n.id.as_str(), n.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("default/client-v1", NodeKind::Workload),
            ("default/httpbin", NodeKind::Service),
            ("default/reviews-v1", NodeKind::Workload),
            ("unknown", NodeKind::Unknown),
        ]
    );
    let broken = snap
        .proxies
        .iter()
        .find(|p| p.proxy_id == reviews[1].proxy_id)
        .expect("proxy row");
    assert_eq!(broken.scrape_error.as_deref(), Some("connection refused"));
    assert_eq!(broken.sync, "STALE");
}

#[test]
fn a_namespace_keeps_edges_touching_it() {
    let ws = vec![workload("a", "v1", "one", 1), workload("b", "v1", "two", 2)];
    let snap = build(
        vec![
            edge("one/a-v1", "b", "two/b-v1", 1.0, 1.0),
            edge("two/b-v1", "c", "two/c-v1", 1.0, 1.0),
        ],
        &Inputs {
            workloads: &ws,
            status: &[],
            scrape_errors: &HashMap::new(),
            namespace: Some("one"),
        },
    );
    assert_eq!(snap.edges.len(), 1);
    assert_eq!(snap.edges[0].key.source_workload, "a-v1");
    assert_eq!(snap.proxies.len(), 1);
    assert_eq!(snap.proxies[0].sync, "UNKNOWN", "no status for it yet");
    assert_eq!(
        snap.workloads
            .iter()
            .map(|w| w.workload.as_str())
            .collect::<Vec<_>>(),
        ["a-v1"]
    );
}
