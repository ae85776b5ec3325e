//! Views: proxies that no selector tells apart share clusters, endpoints and
//! routes; proxies that a selector tells apart do not.

use super::tests::{bookinfo, resources, workload};
use super::{MeshIndex, MeshState, ViewKey};
use crate::registry::Workload;

const RULES: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - sourceLabels: {team: blue}
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  workloadSelector: {matchLabels: {tier: edge}}
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
"#;

fn client(id: &str, ns: &str, labels: &[(&str, &str)]) -> Workload {
    workload(id, "client", ns, labels, &[8000])
}

fn index(extra: &[Workload]) -> MeshIndex {
    let res = resources(RULES);
    let mut ws = bookinfo();
    ws.extend(extra.iter().cloned());
    MeshIndex::new(&MeshState {
        resources: &res,
        workloads: &ws,
    })
}

#[test]
fn the_view_keeps_only_labels_that_a_selector_names() {
    let c = client(
        "c1",
        "default",
        &[
            ("app", "client"),
            ("pod-template-hash", "7f3c"),
            ("team", "red"),
        ],
    );
    let idx = index(std::slice::from_ref(&c));
    let key = idx.view_key(&c);
    assert_eq!(key.namespace, "default");
    // `app` is named by no selector in RULES, `team` by sourceLabels.
    let kept: Vec<&str> = key.labels.keys().map(String::as_str).collect();
    assert_eq!(kept, ["team"]);
}

#[test]
fn restricting_labels_to_the_view_changes_no_output() {
    let clients = [
        client("c1", "default", &[("app", "client"), ("team", "blue")]),
        client(
            "c2",
            "default",
            &[("app", "client"), ("tier", "edge"), ("x", "1")],
        ),
        client("c3", "other", &[("team", "blue"), ("tier", "edge")]),
        client("c4", "default", &[]),
    ];
    let idx = index(&clients);
    for c in clients.iter().chain(bookinfo().iter()) {
        let full = ViewKey {
            namespace: super::workload_namespace(c).to_owned(),
            labels: c.labels.clone(),
        };
        assert_eq!(
            idx.compile_view(&full),
            idx.compile_view(&idx.view_key(c)),
            "{}",
            c.proxy_id
        );
    }
}

#[test]
fn proxies_a_rule_tells_apart_get_different_configs() {
    let blue = client("blue", "default", &[("app", "client"), ("team", "blue")]);
    let red = client("red", "default", &[("app", "client"), ("team", "red")]);
    let edge = client("edge", "default", &[("tier", "edge")]);
    let plain = client("plain", "default", &[("pod-template-hash", "abc")]);
    let idx = index(&[blue.clone(), red.clone(), edge.clone(), plain.clone()]);
    let [blue, red, edge, plain] = [&blue, &red, &edge, &plain].map(|w| idx.compile_for(w));
    // sourceLabels: only `blue` is sent to v2.
    assert_ne!(blue.routes, red.routes);
    // workloadSelector: only `edge` balances ratings at random.
    assert_ne!(edge.clusters, plain.clusters);
    assert_eq!(red.clusters, plain.clusters);
    assert_eq!(red.routes, plain.routes);
}

#[test]
fn proxies_no_rule_tells_apart_share_one_view() {
    let a = client("a", "default", &[("app", "a"), ("version", "v1")]);
    let b = client("b", "default", &[("app", "b"), ("pod-template-hash", "1")]);
    let other_ns = client("c", "other", &[("app", "a")]);
    let idx = index(&[a.clone(), b.clone(), other_ns.clone()]);
    // `version` is named only by the subsets' labels, which select endpoints,
    // not clients: it splits no view.
    assert_eq!(idx.view_key(&a), idx.view_key(&b));
    assert_eq!(idx.compile_for(&a).routes, idx.compile_for(&b).routes);
    assert_eq!(idx.compile_for(&a).clusters, idx.compile_for(&b).clusters);
    let b1 = client(
        "b1",
        "default",
        &[("app", "zzz"), ("pod-template-hash", "2")],
    );
    assert_eq!(idx.view_key(&b), idx.view_key(&b1));
    assert_ne!(idx.view_key(&a), idx.view_key(&other_ns));
    assert_eq!(idx.compile_for(&b).routes, idx.compile_for(&b1).routes);
}

#[test]
fn entry_selectors_and_workload_entry_labels_split_no_views() {
    let yaml = format!(
        "{RULES}---{}",
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: default}
spec:
  hosts: [legacy.internal.test]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: legacy}}
  ports: [{number: 8080, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm-1, namespace: default}
spec:
  address: 10.0.0.1
  labels: {app: legacy, zone: a}
"#
    );
    let res = resources(&yaml);
    let a = client("a", "default", &[("app", "legacy"), ("zone", "a")]);
    let b = client("b", "default", &[("app", "other"), ("zone", "b")]);
    let mut ws = bookinfo();
    ws.extend([a.clone(), b.clone()]);
    let idx = MeshIndex::new(&MeshState {
        resources: &res,
        workloads: &ws,
    });
    // These labels select endpoints, not the client: one view, and one config.
    assert_eq!(idx.view_key(&a), idx.view_key(&b));
    for c in [&a, &b] {
        let full = ViewKey {
            namespace: "default".into(),
            labels: c.labels.clone(),
        };
        assert_eq!(idx.compile_view(&full), idx.compile_view(&idx.view_key(c)));
    }
}

#[test]
fn a_route_change_leaves_clusters_and_a_new_endpoint_leaves_routes() {
    use super::ViewParts;
    let c = client("c1", "default", &[("team", "blue")]);
    let before = index(std::slice::from_ref(&c));
    let key = before.view_key(&c);

    // A VirtualService edit: routes may change, clusters and endpoints cannot.
    let edited = RULES.replace("subset: v2}}]", "subset: v1}}]");
    assert_ne!(edited, RULES);
    let res = resources(&edited);
    let mut ws = bookinfo();
    ws.push(c.clone());
    let after = MeshIndex::new(&MeshState {
        resources: &res,
        workloads: &ws,
    });
    assert_eq!(
        after.changed_since(&before),
        ViewParts {
            clusters: false,
            routes: true
        }
    );
    let (full_before, full_after) = (before.compile_view(&key), after.compile_view(&key));
    assert_eq!(full_before.clusters, full_after.clusters);
    assert_eq!(full_before.endpoints, full_after.endpoints);
    assert_ne!(full_before.routes, full_after.routes);
    // Compiling only the routes gives the same routes, and no clusters.
    let routes_only = after.compile_view_parts(
        &key,
        ViewParts {
            clusters: false,
            routes: true,
        },
    );
    assert_eq!(routes_only.routes, full_after.routes);
    assert!(routes_only.clusters.is_empty() && routes_only.endpoints.is_empty());

    // One more replica of a known service: endpoints change, routes cannot.
    let mut more = bookinfo();
    let mut extra = more[0].clone();
    extra.proxy_id = format!("{}-2", extra.proxy_id);
    extra.inbound_address = "127.0.0.1:49998".into();
    more.extend([extra, c.clone()]);
    let res = resources(RULES);
    let scaled = MeshIndex::new(&MeshState {
        resources: &res,
        workloads: &more,
    });
    assert_eq!(
        scaled.changed_since(&before),
        ViewParts {
            clusters: true,
            routes: false
        }
    );
    assert_eq!(scaled.compile_view(&key).routes, full_before.routes);
    assert_eq!(
        before.changed_since(&before),
        ViewParts {
            clusters: false,
            routes: false
        }
    );
}
