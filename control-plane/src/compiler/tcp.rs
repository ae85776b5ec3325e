//! TCP and TLS service ports: one `TcpService` per non-HTTP port, with the
//! VirtualService's `tls` rules (by SNI) and `tcp` rules (weighted
//! destinations) that apply to the calling proxy, or the service's own route.

use std::collections::BTreeMap;

use mesh_api::networking::{RouteDestination, VirtualServiceSpec};
use mesh_api::proxy::{TcpRoute, TcpService, WeightedCluster, outbound_cluster_name};

use super::routes::{Client, MESH_GATEWAY, VsEntry, domains, weighted_cluster};
use super::services::ServiceInfo;

/// Whether a VirtualService has rules for TCP or TLS traffic.
pub fn has_l4_rules(spec: &VirtualServiceSpec) -> bool {
    !spec.tcp.is_empty() || !spec.tls.is_empty()
}

/// The TCP services of one service (one per non-HTTP port) as `client` sees them.
pub fn service_tcp(
    svc: &ServiceInfo,
    vs: Option<&VsEntry>,
    client: Client<'_>,
    services: &BTreeMap<String, ServiceInfo>,
    out: &mut Vec<TcpService>,
) {
    let vs = vs.filter(|v| has_l4_rules(&v.spec));
    for (&port, protocol) in &svc.ports {
        if protocol.is_http() {
            continue;
        }
        let routes = match vs {
            Some(vs) => vs_routes(vs, port, client, services),
            None => vec![TcpRoute {
                name: "default".to_owned(),
                sni_hosts: Vec::new(),
                clusters: vec![WeightedCluster {
                    cluster: outbound_cluster_name(port, None, &svc.fqdn),
                    weight: 100,
                    ..WeightedCluster::default()
                }],
                origin: None,
            }],
        };
        out.push(TcpService {
            name: format!("{}:{port}", svc.fqdn),
            domains: domains(svc, port, client.namespace),
            port,
            routes,
        });
    }
}

fn applies(
    port: u32,
    source_labels: &BTreeMap<String, String>,
    source_namespace: &str,
    gateways: &[String],
    vhost_port: u16,
    client: Client<'_>,
) -> bool {
    (port == 0 || port == u32::from(vhost_port))
        && source_labels
            .iter()
            .all(|(k, v)| client.labels.get(k) == Some(v))
        && (source_namespace.is_empty() || source_namespace == client.namespace)
        && (gateways.is_empty() || gateways.iter().any(|g| g == MESH_GATEWAY))
}

fn weighted(
    route: &[RouteDestination],
    vs: &VsEntry,
    port: u16,
    services: &BTreeMap<String, ServiceInfo>,
) -> Vec<WeightedCluster> {
    let single = route.len() == 1;
    route
        .iter()
        .filter_map(|rd| {
            weighted_cluster(
                rd.destination.as_ref(),
                rd.weight,
                single,
                vs,
                port,
                services,
            )
        })
        .collect()
}

fn vs_routes(
    vs: &VsEntry,
    port: u16,
    client: Client<'_>,
    services: &BTreeMap<String, ServiceInfo>,
) -> Vec<TcpRoute> {
    let origin = Some(format!("VirtualService {}/{}", vs.namespace, vs.name));
    let mut out = Vec::new();
    for (i, rule) in vs.spec.tls.iter().enumerate() {
        let sni_hosts: Vec<String> = rule
            .matches
            .iter()
            .filter(|m| {
                applies(
                    m.port,
                    &m.source_labels,
                    &m.source_namespace,
                    &m.gateways,
                    port,
                    client,
                )
            })
            .flat_map(|m| m.sni_hosts.iter().map(|h| h.to_ascii_lowercase()))
            .collect();
        if sni_hosts.is_empty() {
            continue;
        }
        let clusters = weighted(&rule.route, vs, port, services);
        if !clusters.is_empty() {
            out.push(TcpRoute {
                name: format!("{}-tls-{i}", vs.name),
                sni_hosts,
                clusters,
                origin: origin.clone(),
            });
        }
    }
    for (i, rule) in vs.spec.tcp.iter().enumerate() {
        let applicable = rule.matches.is_empty()
            || rule.matches.iter().any(|m| {
                applies(
                    m.port,
                    &m.source_labels,
                    &m.source_namespace,
                    &m.gateways,
                    port,
                    client,
                )
            });
        let clusters = weighted(&rule.route, vs, port, services);
        if applicable && !clusters.is_empty() {
            out.push(TcpRoute {
                name: format!("{}-tcp-{i}", vs.name),
                sni_hosts: Vec::new(),
                clusters,
                origin: origin.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use mesh_api::proxy::Protocol;

    use super::super::tests::{resources, run, workload};

    const VS: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{name: tcp-db, port: 3306}, {name: tls, port: 443}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tls:
  - match: [{port: 443, sniHosts: [a.example.com]}]
    route: [{destination: {host: db, subset: a}}]
  tcp:
  - match: [{port: 3306}]
    route:
    - {destination: {host: db, subset: v1}, weight: 75}
    - {destination: {host: db, subset: v2}, weight: 25}
"#;

    #[test]
    fn tcp_and_tls_rules_become_tcp_services() {
        let mut db = workload("db-v1", "db", "default", &[("version", "v1")], &[3306, 443]);
        for p in &mut db.ports {
            p.protocol = Some(Protocol::Tcp);
        }
        let client = workload("client", "client", "default", &[], &[8080]);
        let cfg = run(&resources(VS), &[db, client.clone()], &client);
        let svc = |port: u16| {
            cfg.routes
                .tcp_services
                .iter()
                .find(|s| s.port == port)
                .unwrap_or_else(|| {
                    panic!("no tcp service on {port}: {:?}", cfg.routes.tcp_services)
                })
        };
        let mysql = svc(3306);
        assert_eq!(mysql.name, "db.default.svc.cluster.local:3306");
        assert!(mysql.domains.iter().any(|d| d == "db:3306"));
        let weights: Vec<(&str, u32)> = mysql.routes[0]
            .clusters
            .iter()
            .map(|c| (c.cluster.as_str(), c.weight))
            .collect();
        assert_eq!(
            weights,
            [
                ("outbound|3306|v1|db.default.svc.cluster.local", 75),
                ("outbound|3306|v2|db.default.svc.cluster.local", 25)
            ]
        );
        let tls = svc(443);
        assert_eq!(
            tls.routes.len(),
            1,
            "the tcp rule's port match excludes 443"
        );
        assert_eq!(tls.routes[0].sni_hosts, ["a.example.com"]);
        // HTTP ports get no TCP service.
        assert!(cfg.routes.tcp_services.iter().all(|s| s.port != 8080));
    }
}
