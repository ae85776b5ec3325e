//! Clusters at run time: their endpoints, how one is chosen for a request
//! (round robin, random, least request, consistent hash; ejected endpoints
//! skipped), and the state that outlives a config change (connection limits in
//! use, each endpoint's requests in flight and outlier record).

mod hash;
mod limits;
mod outlier;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use http::uri::Authority;
use mesh_api::proxy::{HashPolicy, LbPolicy, OutlierPolicy, Protocol};
use tokio::time::Instant;

use crate::balance::{Picker, next_random};
use crate::upstream::Slot;

pub(crate) use hash::hash_key;
pub(crate) use limits::Limits;
pub(crate) use outlier::{Health, Verdict};

/// One upstream cluster of the running config.
#[derive(Debug)]
pub(crate) struct RtCluster {
    pub name: Box<str>,
    pub protocol: Protocol,
    pub endpoints: Box<[RtEndpoint]>,
    pub lb: LbPolicy,
    pub hash: Option<HashPolicy>,
    pub outlier: Option<OutlierPolicy>,
    /// Shared with the previous config's cluster of the same name and limits.
    pub limits: Arc<Limits>,
    picker: Picker,
    counter: AtomicUsize,
}

/// One member of a cluster.
#[derive(Debug)]
pub(crate) struct RtEndpoint {
    pub addr: SocketAddr,
    /// `addr` as a URI authority (what a request without one is sent with).
    pub authority: Authority,
    pub weight: u32,
    pub slot: Arc<Slot>,
    /// TLS origination to this endpoint (DestinationRule SIMPLE/MUTUAL).
    pub origin: Option<Arc<crate::origin::OriginSlot>>,
    /// Not a sidecar (a ServiceEntry endpoint): tunnels dial it directly.
    pub external: bool,
    /// Kept across config changes for the same cluster and address.
    pub state: Arc<EndpointState>,
}

/// What the proxy knows about an endpoint from its own traffic.
#[derive(Debug, Default)]
pub(crate) struct EndpointState {
    /// Requests in flight (least-request balancing).
    pub active: AtomicU32,
    pub health: Health,
}

/// Holds an endpoint's in-flight count up while a request uses it.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<EndpointState>);

impl InFlight {
    pub(crate) fn new(state: &Arc<EndpointState>) -> Self {
        state.active.fetch_add(1, Ordering::Relaxed);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How a request asks for an endpoint.
#[derive(Debug, Default)]
pub(crate) struct PickRequest<'a> {
    /// The consistent-hash key, when the cluster hashes.
    pub key: Option<u64>,
    /// Endpoints already tried by this request (retries prefer others).
    pub avoid: &'a [SocketAddr],
}

impl RtCluster {
    pub(crate) fn new(
        name: Box<str>,
        protocol: Protocol,
        endpoints: Box<[RtEndpoint]>,
        lb: LbPolicy,
        hash: Option<HashPolicy>,
        outlier: Option<OutlierPolicy>,
        limits: Arc<Limits>,
    ) -> Self {
        let weights: Vec<u32> = endpoints.iter().map(|e| e.weight).collect();
        Self {
            picker: Picker::new(&weights, lb == LbPolicy::Random),
            name,
            protocol,
            endpoints,
            lb,
            hash,
            outlier,
            limits,
            counter: AtomicUsize::new(0),
        }
    }

    /// Whether ejections are honoured now: outlier detection is on and enough
    /// endpoints are healthy (`minHealthPercent`).
    fn ejections_apply(&self, now: Instant) -> bool {
        let Some(p) = &self.outlier else {
            return false;
        };
        if p.min_health_percent == 0 || self.endpoints.is_empty() {
            return true;
        }
        let healthy = self
            .endpoints
            .iter()
            .filter(|e| !e.state.health.is_ejected(now))
            .count();
        healthy * 100 >= self.endpoints.len() * p.min_health_percent as usize
    }

    /// Chooses an endpoint: by hash when the cluster hashes and a key is given,
    /// else by the balancing policy; ejected endpoints and `avoid` are skipped
    /// while others remain. `None`: no endpoint can take the request.
    pub(crate) fn pick(&self, req: &PickRequest<'_>) -> Option<&RtEndpoint> {
        if self.endpoints.is_empty() {
            return None;
        }
        let now = Instant::now();
        let eject = self.ejections_apply(now);
        let usable = |e: &RtEndpoint| !(eject && e.state.health.is_ejected(now));
        let fresh = |e: &RtEndpoint| usable(e) && !req.avoid.contains(&e.addr);
        if let (Some(key), Some(_)) = (req.key, &self.hash) {
            // Retries stay on the key's endpoint (Istio drops the previous-hosts
            // predicate for consistent hashing); ejected ones are skipped.
            return hash::rendezvous(&self.endpoints, key, &usable);
        }
        if self.lb == LbPolicy::LeastRequest {
            return self
                .least_request(&fresh)
                .or_else(|| self.least_request(&usable));
        }
        // The balancer's choice, else the next ones in turn.
        let n = self.endpoints.len();
        let mut fallback = None;
        for i in 0..n {
            let idx = if i == 0 {
                self.picker.pick(&self.counter)?
            } else {
                self.counter.fetch_add(1, Ordering::Relaxed) % n
            };
            let Some(e) = self.endpoints.get(idx) else {
                continue;
            };
            if fresh(e) {
                return Some(e);
            }
            if fallback.is_none() && usable(e) {
                fallback = Some(e);
            }
        }
        fallback.or_else(|| self.endpoints.iter().find(|e| usable(e)))
    }

    /// Envoy's least request with two random choices: the one with fewer
    /// requests in flight (weights break no ties here).
    fn least_request(&self, ok: &dyn Fn(&RtEndpoint) -> bool) -> Option<&RtEndpoint> {
        let candidates: Vec<&RtEndpoint> = self.endpoints.iter().filter(|e| ok(e)).collect();
        let n = candidates.len() as u64;
        let (a, b) = match candidates.len() {
            0 => return None,
            1 => return candidates.first().copied(),
            _ => {
                let a = (next_random() % n) as usize;
                let mut b = (next_random() % (n - 1)) as usize;
                if b >= a {
                    b += 1;
                }
                (candidates.get(a)?, candidates.get(b)?)
            }
        };
        let load = |e: &RtEndpoint| e.state.active.load(Ordering::Relaxed);
        Some(if load(b) < load(a) { b } else { a })
    }

    /// Records an answer (or failure) of `ep` for outlier detection.
    pub(crate) fn record(&self, ep: &RtEndpoint, verdict: Verdict) {
        let Some(p) = &self.outlier else {
            return;
        };
        let now = Instant::now();
        let max = self.max_ejected(p);
        let ejected = self
            .endpoints
            .iter()
            .filter(|e| e.state.health.is_ejected(now))
            .count();
        if ep.state.health.record(p, verdict, now, ejected < max) {
            tracing::info!(cluster = &*self.name, endpoint = %ep.addr, "endpoint ejected (outlier detection)");
        }
    }

    /// How many endpoints may be ejected at once: `maxEjectionPercent` of them,
    /// and always at least one (as Envoy allows the first ejection).
    fn max_ejected(&self, p: &OutlierPolicy) -> usize {
        let n = self.endpoints.len();
        (n * p.max_ejection_percent as usize / 100).max(1)
    }

    /// For `/clusters`: each endpoint and whether it is ejected now.
    pub(crate) fn health_report(&self) -> Vec<(SocketAddr, bool, u32)> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .map(|e| {
                (
                    e.addr,
                    e.state.health.is_ejected(now),
                    e.state.active.load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
