//! The compiler: the mesh's stored resources and connected workloads in, one
//! proxy's config out. A pure function, with Istio's semantics for sidecars:
//!
//! - **services** are `<name>.<namespace>.svc.cluster.local`, declared by Kubernetes
//!   Service objects and/or known through their workloads ([`services`]);
//! - **listeners**: the proxy's own ports, inbound, each with its mutual-TLS mode
//!   from PeerAuthentication ([`mtls`]), and the AuthorizationPolicies that select
//!   the workload ([`authz`]);
//! - **clusters**: `outbound|<port>||<fqdn>` per service port, plus one per
//!   DestinationRule subset, with the rule's traffic policy ([`policies`]), and
//!   their **endpoints** (the workloads serving them, a subset's selected by its
//!   labels) ([`clusters`]);
//! - **routes**: one virtual host per HTTP service port, with the default route or
//!   the HTTP rules of the VirtualService claiming the service (delegates inlined),
//!   filtered for this proxy as the client ([`routes`]), and the `tcp`/`tls` rules
//!   of TCP service ports ([`tcp`]).
//!
//! The per-mesh work (service catalog, which rules name which service, endpoints)
//! is done once in [`MeshIndex::new`]; [`MeshIndex::compile_for`] is the per-proxy
//! part. Clusters, endpoints and routes depend on the proxy only through its
//! [`ViewKey`] (namespace and selector-relevant labels), so
//! [`MeshIndex::compile_view`] is shared by every proxy of a view; only the
//! listeners are the proxy's own. Output is sorted, so equal inputs give equal
//! (equally hashed) configs.
//!
//! ServiceEntry hosts are services too ([`entries`]), and DestinationRule `tls`
//! SIMPLE/MUTUAL becomes the cluster's TLS origination.
//!
//! Not compiled yet: Sidecar scoping, Gateways, Telemetry.

mod authz;
mod clusters;
mod entries;
mod mtls;
mod policies;
mod routes;
mod scope;
mod services;
mod tcp;
mod telemetry;
mod view;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_egress;
#[cfg(test)]
mod tests_policies;
#[cfg(test)]
mod tests_routes;
#[cfg(test)]
mod tests_telemetry;
#[cfg(test)]
mod tests_view;

use std::collections::{BTreeMap, BTreeSet};

use mesh_api::Resource;
use mesh_api::proxy::{
    ClusterEndpoints, Endpoint, InboundPort, Listeners, Protocol, ProxyConfig, RouteConfig,
};

pub use scope::ROOT_NAMESPACE;
pub use services::{DEFAULT_NAMESPACE, ServiceInfo, service_fqdn};
pub use telemetry::TelemetryIndex;
pub use view::ViewKey;

use crate::registry::Workload;

/// Everything the compiler reads: the stored resources and the connected workloads.
#[derive(Debug, Clone, Copy)]
pub struct MeshState<'a> {
    pub resources: &'a [Resource],
    pub workloads: &'a [Workload],
}

/// The config `proxy` should run, given the mesh's state. A pure function.
pub fn compile(state: &MeshState<'_>, proxy: &Workload) -> ProxyConfig {
    MeshIndex::new(state).compile_for(proxy)
}

/// The mesh-wide part of compiling, done once per change of the mesh's state and
/// shared by every proxy's compilation.
#[derive(Debug, Clone, Default)]
pub struct MeshIndex {
    services: BTreeMap<String, ServiceInfo>,
    destination_rules: clusters::DrIndex,
    virtual_services: routes::VsIndex,
    endpoints: BTreeMap<(String, u16), Vec<Endpoint>>,
    peer_authentication: mtls::PaIndex,
    authorization: authz::AuthzIndex,
    telemetry: telemetry::TelemetryIndex,
    /// Label keys some selector names (see [`ViewKey`]).
    selector_keys: BTreeSet<String>,
}

/// Which parts of a view's config to compile, or which may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewParts {
    /// Clusters and endpoints.
    pub clusters: bool,
    /// Routes (HTTP virtual hosts and TCP services).
    pub routes: bool,
}

impl ViewParts {
    /// Every part.
    pub const ALL: ViewParts = ViewParts {
        clusters: true,
        routes: true,
    };
}

/// The part of a proxy's config every proxy of its view shares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewConfig {
    pub clusters: Vec<mesh_api::proxy::Cluster>,
    pub endpoints: Vec<ClusterEndpoints>,
    pub routes: RouteConfig,
}

impl MeshIndex {
    /// Index the mesh: services and their ports, the DestinationRules and
    /// VirtualServices naming each service (in precedence order), and each service
    /// port's endpoints.
    pub fn new(state: &MeshState<'_>) -> Self {
        let mut workloads = state.workloads.to_vec();
        workloads.sort_by(|a, b| a.proxy_id.cmp(&b.proxy_id));
        let services = services::catalog(state.resources, &workloads);
        let peer_authentication = mtls::PaIndex::new(state.resources);
        let mut endpoints = clusters::endpoint_index(&workloads, &services, &peer_authentication);
        entries::add_endpoints(
            state.resources,
            &services,
            &workloads,
            &peer_authentication,
            &mut endpoints,
        );
        MeshIndex {
            destination_rules: clusters::DrIndex::new(state.resources, &services),
            virtual_services: routes::VsIndex::new(state.resources, &services),
            endpoints,
            selector_keys: view::selector_keys(state.resources),
            authorization: authz::AuthzIndex::new(state.resources),
            telemetry: telemetry::TelemetryIndex::new(state.resources, Default::default()),
            services,
            peer_authentication,
        }
    }

    /// Uses `mesh` (access logging, tracing defaults and providers) instead of
    /// the default mesh config.
    pub fn with_mesh_config(mut self, mesh: &mesh_api::mesh_config::MeshConfig) -> Self {
        self.telemetry.set_mesh(mesh.clone());
        self
    }

    /// Every service the mesh knows, by FQDN.
    pub fn services(&self) -> &BTreeMap<String, ServiceInfo> {
        &self.services
    }

    /// The config `proxy` should run: its view's config and its own listeners.
    pub fn compile_for(&self, proxy: &Workload) -> ProxyConfig {
        let view = self.compile_view(&self.view_key(proxy));
        ProxyConfig {
            listeners: self.listeners(proxy),
            clusters: view.clusters,
            endpoints: view.endpoints,
            routes: view.routes,
        }
    }

    /// The view `proxy` belongs to: proxies of one view get the same clusters,
    /// endpoints and routes.
    pub fn view_key(&self, proxy: &Workload) -> ViewKey {
        view::view_key(proxy, &self.selector_keys)
    }

    /// Which parts of a view's config (for any one view key) may differ from
    /// what `previous` compiles: clusters and endpoints are compiled from the
    /// services, DestinationRules and endpoints alone; routes from the
    /// services, DestinationRules (TLS origination changes a port's protocol)
    /// and VirtualServices alone. So a VirtualService change recompiles no
    /// clusters, and a workload joining recompiles no routes.
    pub fn changed_since(&self, previous: &MeshIndex) -> ViewParts {
        let common = self.services != previous.services
            || self.destination_rules != previous.destination_rules;
        ViewParts {
            clusters: common || self.endpoints != previous.endpoints,
            routes: common || self.virtual_services != previous.virtual_services,
        }
    }

    /// The clusters, endpoints and routes of every proxy whose view is `key`.
    pub fn compile_view(&self, key: &ViewKey) -> ViewConfig {
        self.compile_view_parts(key, ViewParts::ALL)
    }

    /// [`MeshIndex::compile_view`], with only the `parts` asked for (the
    /// others left empty).
    pub fn compile_view_parts(&self, key: &ViewKey, parts: ViewParts) -> ViewConfig {
        let namespace = key.namespace.as_str();
        let client = routes::Client {
            namespace,
            labels: &key.labels,
        };
        let mut clusters = Vec::new();
        let mut endpoints: Vec<ClusterEndpoints> = Vec::new();
        let mut virtual_hosts = Vec::new();
        let mut tcp_services = Vec::new();
        for svc in self.services.values() {
            if svc
                .entry
                .as_ref()
                .is_some_and(|e| !e.visible_to(&svc.namespace, namespace))
            {
                continue;
            }
            let dr = self
                .destination_rules
                .for_service(&svc.fqdn, namespace, &key.labels);
            let originated = clusters::with_origination(svc, dr);
            let svc = originated.as_ref().unwrap_or(svc);
            if parts.clusters {
                clusters::service_clusters(svc, dr, &self.endpoints, &mut clusters, &mut endpoints);
            }
            if !parts.routes {
                continue;
            }
            let vs = self.virtual_services.for_service(&svc.fqdn, namespace);
            routes::service_virtual_hosts(
                svc,
                vs,
                client,
                &self.services,
                &self.virtual_services,
                &mut virtual_hosts,
            );
            tcp::service_tcp(svc, vs, client, &self.services, &mut tcp_services);
        }
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        endpoints.sort_by(|a, b| a.cluster.cmp(&b.cluster));
        ViewConfig {
            clusters,
            endpoints,
            routes: RouteConfig {
                virtual_hosts,
                tcp_services,
            },
        }
    }

    /// The proxy's inbound ports, with the protocol its service gives each.
    pub fn listeners(&self, proxy: &Workload) -> Listeners {
        let fqdn = service_fqdn(&proxy.service, workload_namespace(proxy));
        let svc = self.services.get(&fqdn);
        let mut inbound: Vec<InboundPort> = proxy
            .ports
            .iter()
            .map(|p| {
                let (mtls, mtls_origin) =
                    self.peer_authentication
                        .mode(workload_namespace(proxy), &proxy.labels, p.port);
                InboundPort {
                    port: p.port,
                    app_port: p.app_port,
                    protocol: svc
                        .and_then(|s| s.ports.get(&p.port).copied())
                        .or(p.protocol)
                        .unwrap_or(Protocol::Http),
                    mtls,
                    mtls_origin,
                }
            })
            .collect();
        inbound.sort_by_key(|p| p.port);
        inbound.dedup_by_key(|p| p.port);
        let authz = self
            .authorization
            .for_workload(workload_namespace(proxy), &proxy.labels);
        Listeners {
            inbound,
            authz,
            telemetry: self
                .telemetry
                .resolve(workload_namespace(proxy), &proxy.labels),
        }
    }
}

/// A workload's namespace (`default` when it gave none).
fn workload_namespace(w: &Workload) -> &str {
    if w.namespace.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        &w.namespace
    }
}
