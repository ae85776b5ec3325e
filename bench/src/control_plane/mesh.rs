//! The simulated mesh's shape and its Istio resources: services spread over
//! namespaces, ten endpoints each (half `v1`, half `v2`), and for every tenth
//! service a DestinationRule with two subsets and a VirtualService splitting
//! traffic between them. The measured change edits one VirtualService's weights.

use serde_json::{Value, json};

use super::sim::ProxySpec;

/// Namespaces the services are spread over.
const NAMESPACES: usize = 10;

/// One mesh size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub services: usize,
    /// Endpoints, which in local mode are connected proxies (see the report).
    pub endpoints: usize,
}

impl Scale {
    fn namespace(&self, service: usize) -> String {
        format!("ns-{}", service % NAMESPACES.min(self.services).max(1))
    }

    /// Every simulated proxy: endpoint `i` serves service `i % services`.
    pub fn proxies(&self) -> Vec<ProxySpec> {
        (0..self.endpoints)
            .map(|i| {
                let s = i % self.services;
                let ns = self.namespace(s);
                ProxySpec {
                    proxy_id: format!("svc-{s}-{i}.{ns}"),
                    service: format!("svc-{s}"),
                    namespace: ns,
                    version: if (i / self.services).is_multiple_of(2) {
                        "v1"
                    } else {
                        "v2"
                    },
                    inbound_port: 20_000 + (i % 40_000) as u32,
                }
            })
            .collect()
    }

    /// The services that have a DestinationRule and a VirtualService.
    fn routed(&self) -> impl Iterator<Item = usize> {
        (0..self.services).step_by(10)
    }

    /// The DestinationRules and VirtualServices applied before proxies connect.
    pub fn manifests(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for s in self.routed() {
            out.push(self.destination_rule(s));
            out.push(self.virtual_service(s, 90));
        }
        out
    }

    /// The `k`th change: service 0's VirtualService with another v1 weight.
    pub fn change(&self, k: usize) -> Value {
        self.virtual_service(0, 90 - 10 * (k % 5) as u32)
    }

    fn destination_rule(&self, s: usize) -> Value {
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "DestinationRule",
            "metadata": {"name": format!("svc-{s}"), "namespace": self.namespace(s)},
            "spec": {
                "host": format!("svc-{s}"),
                "subsets": [
                    {"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v2", "labels": {"version": "v2"}},
                ],
            },
        })
    }

    fn virtual_service(&self, s: usize, v1_weight: u32) -> Value {
        let host = format!("svc-{s}");
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": host, "namespace": self.namespace(s)},
            "spec": {
                "hosts": [host],
                "http": [
                    {
                        "match": [{"headers": {"x-canary": {"exact": "1"}}}],
                        "route": [{"destination": {"host": host, "subset": "v2"}}],
                    },
                    {
                        "route": [
                            {"destination": {"host": host, "subset": "v1"}, "weight": v1_weight},
                            {"destination": {"host": host, "subset": "v2"}, "weight": 100 - v1_weight},
                        ],
                    },
                ],
            },
        })
    }
}
