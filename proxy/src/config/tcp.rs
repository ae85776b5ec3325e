//! TCP services at run time: the routes of a non-HTTP service port, chosen by
//! the TLS server name when rules ask for one, each a weighted choice of
//! clusters.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use mesh_api::proxy::TcpService;

use super::compile::split_host_port;
use crate::FastMap;
use crate::balance::Picker;
use crate::cluster::RtCluster;

/// One TCP service port.
#[derive(Debug)]
pub(crate) struct RtTcpService {
    pub name: Box<str>,
    pub routes: Box<[RtTcpRoute]>,
}

/// A destination: the cluster's name, and the cluster when it exists.
pub(crate) type TcpTarget = (Box<str>, Option<Arc<RtCluster>>);

/// One `tls` or `tcp` rule.
#[derive(Debug)]
pub(crate) struct RtTcpRoute {
    pub name: Box<str>,
    /// SNI patterns; empty matches every connection.
    pub sni: Box<[Box<str>]>,
    targets: Box<[TcpTarget]>,
    picker: Picker,
    counter: AtomicUsize,
}

impl RtTcpService {
    /// Whether choosing a route needs the connection's SNI.
    pub(crate) fn needs_sni(&self) -> bool {
        self.routes.iter().any(|r| !r.sni.is_empty())
    }

    /// The first route for a connection with this server name (`None`: no SNI).
    pub(crate) fn route(&self, sni: Option<&str>) -> Option<&RtTcpRoute> {
        self.routes.iter().find(|r| {
            r.sni.is_empty() || sni.is_some_and(|n| r.sni.iter().any(|p| crate::sni::matches(p, n)))
        })
    }
}

impl RtTcpRoute {
    /// A destination by weight: its cluster name, and the cluster if known.
    pub(crate) fn pick(&self) -> Option<&TcpTarget> {
        self.picker
            .pick(&self.counter)
            .and_then(|i| self.targets.get(i))
    }
}

/// TCP services and their index by (lowercase host, port).
#[derive(Debug, Default)]
pub(crate) struct TcpTable {
    services: Box<[RtTcpService]>,
    by_host: FastMap<(Box<str>, u16), usize>,
}

impl TcpTable {
    pub(crate) fn compile(
        services: &[TcpService],
        clusters: &FastMap<Box<str>, Arc<RtCluster>>,
        problems: &mut Vec<String>,
    ) -> Self {
        let mut by_host = FastMap::default();
        let mut out = Vec::with_capacity(services.len());
        for (i, s) in services.iter().enumerate() {
            for d in &s.domains {
                let d = d.to_ascii_lowercase();
                let (host, port) = split_host_port(&d);
                let key = (Box::<str>::from(host), port.unwrap_or(s.port));
                if by_host.insert(key, i).is_some_and(|prev| prev != i) {
                    problems.push(format!(
                        "tcp service {:?}: domain {d:?} is claimed twice: a domain selects one service",
                        s.name
                    ));
                }
            }
            let routes = s
                .routes
                .iter()
                .map(|r| {
                    if r.clusters.iter().all(|c| c.weight == 0) {
                        problems.push(format!(
                            "tcp service {:?} route {:?}: no destination with a weight above 0",
                            s.name, r.name
                        ));
                    }
                    let weights: Vec<u32> = r.clusters.iter().map(|c| c.weight).collect();
                    RtTcpRoute {
                        name: r.name.as_str().into(),
                        sni: r
                            .sni_hosts
                            .iter()
                            .map(|h| h.to_ascii_lowercase().into())
                            .collect(),
                        targets: r
                            .clusters
                            .iter()
                            .map(|c| {
                                (
                                    c.cluster.as_str().into(),
                                    clusters.get(c.cluster.as_str()).cloned(),
                                )
                            })
                            .collect(),
                        picker: Picker::new(&weights, false),
                        counter: AtomicUsize::new(0),
                    }
                })
                .collect();
            out.push(RtTcpService {
                name: s.name.as_str().into(),
                routes,
            });
        }
        Self {
            services: out.into_boxed_slice(),
            by_host,
        }
    }

    /// The service for a lowercase host and port.
    pub(crate) fn get(&self, host: &str, port: u16) -> Option<&RtTcpService> {
        self.by_host
            .get(&(Box::<str>::from(host), port))
            .and_then(|i| self.services.get(*i))
    }
}
