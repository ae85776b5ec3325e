//! The simulated mesh's shape and its Istio resources: services spread over
//! namespaces, about ten endpoints each (half `v1`, half `v2`). The first
//! services are served by connected proxies (sidecars); the others, when the
//! mesh has more endpoints than proxies, are MESH_INTERNAL ServiceEntries whose
//! `workloadSelector` selects WorkloadEntries (VMs without a connected
//! sidecar), all applied through the admin API as a user would. Every tenth
//! service has a DestinationRule with two subsets and a VirtualService
//! splitting traffic between them. The measured change edits one
//! VirtualService's weights.

use serde_json::{Value, json};

use super::sim::{ProxySpec, SERVICE_PORT};

/// Namespaces the services are spread over.
const NAMESPACES: usize = 10;

/// One mesh size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub services: usize,
    /// Endpoints: the connected proxies plus the WorkloadEntries.
    pub endpoints: usize,
    /// Connected proxies (at most `endpoints`).
    pub proxies: usize,
}

impl Scale {
    fn namespace(&self, service: usize) -> String {
        format!("ns-{}", service % NAMESPACES.min(self.services).max(1))
    }

    /// Endpoints per service (at least one).
    fn per_service(&self) -> usize {
        (self.endpoints / self.services.max(1)).max(1)
    }

    /// How many services the proxies serve (the first ones); the rest are
    /// ServiceEntries with WorkloadEntries.
    pub fn proxy_services(&self) -> usize {
        if self.proxies >= self.endpoints {
            self.services
        } else {
            self.proxies
                .div_ceil(self.per_service())
                .clamp(1, self.services)
        }
    }

    /// The WorkloadEntries (endpoints that are not connected proxies).
    pub fn workload_entries(&self) -> usize {
        self.endpoints.saturating_sub(self.proxies)
    }

    /// Every simulated proxy: proxy `i` serves service `i % proxy_services`.
    pub fn proxy_specs(&self) -> Vec<ProxySpec> {
        let served = self.proxy_services();
        (0..self.proxies)
            .map(|i| {
                let s = i % served;
                let ns = self.namespace(s);
                ProxySpec {
                    proxy_id: format!("svc-{s}-{i}.{ns}"),
                    service: format!("svc-{s}"),
                    namespace: ns,
                    version: if (i / served).is_multiple_of(2) {
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

    /// The resources applied before proxies connect, in batches of at most
    /// `batch` manifests: the ServiceEntries and WorkloadEntries, then the
    /// DestinationRules and VirtualServices.
    pub fn manifests(&self, batch: usize) -> Vec<Vec<Value>> {
        let mut all = Vec::new();
        let first_entry = self.proxy_services();
        let entry_services = self.services - first_entry;
        if entry_services > 0 {
            for s in first_entry..self.services {
                all.push(self.service_entry(s));
            }
            for j in 0..self.workload_entries() {
                let s = first_entry + j % entry_services;
                let version = if (j / entry_services).is_multiple_of(2) {
                    "v1"
                } else {
                    "v2"
                };
                all.push(self.workload_entry(s, j, version));
            }
        }
        for s in self.routed() {
            all.push(self.destination_rule(s));
            all.push(self.virtual_service(s, 90));
        }
        all.chunks(batch.max(1)).map(<[Value]>::to_vec).collect()
    }

    /// The `k`th change: service 0's VirtualService with another v1 weight.
    pub fn change(&self, k: usize) -> Value {
        self.virtual_service(0, 90 - 10 * (k % 5) as u32)
    }

    fn service_entry(&self, s: usize) -> Value {
        let ns = self.namespace(s);
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "ServiceEntry",
            "metadata": {"name": format!("svc-{s}"), "namespace": ns},
            "spec": {
                "hosts": [format!("svc-{s}.{ns}.svc.cluster.local")],
                "location": "MESH_INTERNAL",
                "resolution": "STATIC",
                "ports": [{"number": SERVICE_PORT, "name": "http", "protocol": "HTTP"}],
                "workloadSelector": {"labels": {"app": format!("svc-{s}")}},
            },
        })
    }

    /// WorkloadEntry `j` of service `s`, at 10.x.y.z (unique per entry).
    fn workload_entry(&self, s: usize, j: usize, version: &str) -> Value {
        let n = j + 1;
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "WorkloadEntry",
            "metadata": {"name": format!("svc-{s}-vm-{j}"), "namespace": self.namespace(s)},
            "spec": {
                "address": format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
                "labels": {"app": format!("svc-{s}"), "version": version},
                "serviceAccount": format!("svc-{s}"),
            },
        })
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

#[cfg(test)]
mod tests {
    use super::Scale;

    #[test]
    fn the_issue_shape_has_its_services_endpoints_and_proxies() {
        let s = Scale {
            services: 1000,
            endpoints: 10_000,
            proxies: 2000,
        };
        assert_eq!(s.proxy_services(), 200);
        assert_eq!(s.proxy_specs().len(), 2000);
        let all: Vec<_> = s.manifests(1000).into_iter().flatten().collect();
        let count = |kind: &str| all.iter().filter(|m| m["kind"] == kind).count();
        assert_eq!(count("ServiceEntry"), 800);
        assert_eq!(count("WorkloadEntry"), 8000);
        assert_eq!(count("VirtualService"), 100);
        // Proxies and entries together: ten endpoints for each of 1,000 services.
        let mut per_service = std::collections::BTreeMap::<String, usize>::new();
        for p in s.proxy_specs() {
            *per_service.entry(p.service).or_default() += 1;
        }
        for m in all.iter().filter(|m| m["kind"] == "WorkloadEntry") {
            let app = m["spec"]["labels"]["app"].as_str().unwrap_or_default();
            *per_service.entry(app.to_owned()).or_default() += 1;
        }
        assert_eq!(per_service.len(), 1000);
        assert!(per_service.values().all(|n| *n == 10), "{per_service:?}");
    }

    #[test]
    fn endpoints_equal_to_proxies_need_no_entries() {
        let s = Scale {
            services: 10,
            endpoints: 100,
            proxies: 100,
        };
        assert_eq!(s.proxy_services(), 10);
        let all: Vec<_> = s.manifests(1000).into_iter().flatten().collect();
        assert!(all.iter().all(|m| m["kind"] != "WorkloadEntry"));
    }
}
