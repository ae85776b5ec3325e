//! Two scrapes of every proxy make a window: per edge, the request rate,
//! success rate, p50/p99 latency, TCP connection and byte rates and mTLS
//! status over the time between them.
//!
//! Each edge is taken from its destination's reports (`reporter="destination"`)
//! when its destination has a sidecar that reported it, else from the source's
//! (a service without a sidecar, a call answered by the client's sidecar).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::counters::{EdgeCounters, EdgeKey, ProxyCounters, Reporter};
use super::quantile::Buckets;

/// One scrape of one proxy.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub proxy_id: String,
    /// When it was taken, in seconds on a monotonic clock.
    pub at: f64,
    pub counters: ProxyCounters,
}

/// How an edge's requests were secured in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mtls {
    /// Every request over mutual TLS.
    MutualTls,
    /// No request over mutual TLS although the peer could tell (plaintext).
    None,
    /// Some over mutual TLS, some not.
    Mixed,
    /// Nobody could tell (a mesh without workload identities, source reports).
    Unknown,
}

impl Mtls {
    fn of(by_policy: &BTreeMap<String, f64>) -> Self {
        let count = |k: &str| by_policy.get(k).copied().unwrap_or(0.0);
        let mtls = count("mutual_tls");
        let other: f64 = by_policy
            .iter()
            .filter(|(k, _)| *k != "mutual_tls")
            .map(|(_, v)| *v)
            .sum();
        match (mtls > 0.0, other > 0.0) {
            (true, false) => Mtls::MutualTls,
            (true, true) => Mtls::Mixed,
            (false, _) if count("none") > 0.0 => Mtls::None,
            _ => Mtls::Unknown,
        }
    }
}

/// One edge over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeStats {
    #[serde(flatten)]
    pub key: EdgeKey,
    /// Whose reports these numbers are.
    pub reporter: Reporter,
    /// `http`, `grpc`, `tcp` (comma-separated when several).
    pub protocol: String,
    /// Requests finished in the window.
    pub requests: f64,
    /// Requests per second.
    pub rps: f64,
    /// Share of the window's requests not answered 5xx (0–1); none without requests.
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub mtls: Mtls,
    /// Requests counted since the proxies started.
    pub total_requests: f64,
    /// TCP connections opened in the window.
    pub connections: f64,
    /// TCP connections opened per second.
    pub cps: f64,
    /// TCP bytes per second from the caller to the destination (Istio's
    /// `received`; counted when a connection closes).
    pub received_bytes_per_second: f64,
    /// TCP bytes per second back to the caller (Istio's `sent`).
    pub sent_bytes_per_second: f64,
    /// TCP connections counted since the proxies started.
    pub total_connections: f64,
    /// The window's duration histogram, for sums over edges.
    #[serde(skip)]
    pub buckets: Buckets,
}

#[derive(Debug, Default)]
struct Agg {
    rps: f64,
    requests: f64,
    errors: f64,
    buckets: Buckets,
    window_security: BTreeMap<String, f64>,
    total_security: BTreeMap<String, f64>,
    total: f64,
    protocols: Vec<String>,
    connections: f64,
    cps: f64,
    received_bps: f64,
    sent_bps: f64,
    total_connections: f64,
}

impl Agg {
    fn add(&mut self, now: &EdgeCounters, before: Option<&EdgeCounters>, dt: Option<f64>) {
        self.total += now.requests;
        self.total_connections += now.connections;
        for p in &now.protocols {
            if !self.protocols.contains(p) {
                self.protocols.push(p.clone());
            }
        }
        add_all(&mut self.total_security, &now.security, None);
        let Some(dt) = dt.filter(|d| *d > 0.0) else {
            return;
        };
        // A count below the last one is a restart: all of it is new.
        let before = before.filter(|b| {
            b.requests <= now.requests
                && b.connections <= now.connections
                && b.received_bytes <= now.received_bytes
                && b.sent_bytes <= now.sent_bytes
        });
        let delta = |f: fn(&EdgeCounters) -> f64| f(now) - before.map_or(0.0, f);
        let d = delta(|c| c.requests);
        self.requests += d;
        self.rps += d / dt;
        let c = delta(|c| c.connections);
        self.connections += c;
        self.cps += c / dt;
        self.received_bps += delta(|c| c.received_bytes) / dt;
        self.sent_bps += delta(|c| c.sent_bytes) / dt;
        self.errors += (now.errors - before.map_or(0.0, |b| b.errors)).max(0.0);
        for (le, c) in now.duration.delta(before.map(|b| &b.duration)).0 {
            self.buckets.add(le, c);
        }
        add_all(
            &mut self.window_security,
            &now.security,
            before.map(|b| &b.security),
        );
    }

    fn finish(mut self, key: EdgeKey, reporter: Reporter) -> EdgeStats {
        let has = self.requests > 0.0;
        let security = if has || self.connections > 0.0 {
            &self.window_security
        } else {
            &self.total_security
        };
        self.protocols.sort();
        EdgeStats {
            key,
            reporter,
            protocol: self.protocols.join(","),
            requests: self.requests,
            rps: self.rps,
            success_rate: has.then(|| 1.0 - self.errors / self.requests),
            p50_ms: self.buckets.quantile(0.5),
            p99_ms: self.buckets.quantile(0.99),
            mtls: Mtls::of(security),
            total_requests: self.total,
            connections: self.connections,
            cps: self.cps,
            received_bytes_per_second: self.received_bps,
            sent_bytes_per_second: self.sent_bps,
            total_connections: self.total_connections,
            buckets: self.buckets,
        }
    }
}

fn add_all(
    into: &mut BTreeMap<String, f64>,
    now: &BTreeMap<String, f64>,
    before: Option<&BTreeMap<String, f64>>,
) {
    for (k, v) in now {
        let b = before.and_then(|b| b.get(k)).copied().unwrap_or(0.0);
        let d = (v - b).max(0.0);
        if d > 0.0 {
            *into.entry(k.clone()).or_default() += d;
        }
    }
}

/// The edges between the `previous` scrapes (by proxy id) and the `current` ones.
/// A proxy scraped only now contributes its edges without rates; a proxy gone
/// since contributes nothing. Sorted by request rate, then connection rate,
/// busiest first.
pub fn edges(previous: &HashMap<String, Scrape>, current: &[Scrape]) -> Vec<EdgeStats> {
    let mut aggs: HashMap<(Reporter, EdgeKey), Agg> = HashMap::new();
    for now in current {
        let before = previous.get(&now.proxy_id);
        let dt = before.map(|b| now.at - b.at);
        for (key, counters) in &now.counters {
            let earlier = before.and_then(|b| b.counters.get(key));
            aggs.entry(key.clone())
                .or_default()
                .add(counters, earlier, dt);
        }
    }
    let mut by_key: BTreeMap<EdgeKey, (Reporter, Agg)> = BTreeMap::new();
    for ((reporter, key), agg) in aggs {
        let replace = match by_key.get(&key) {
            None => true,
            Some((r, _)) => *r == Reporter::Source && reporter == Reporter::Destination,
        };
        if replace {
            by_key.insert(key, (reporter, agg));
        }
    }
    let mut out: Vec<EdgeStats> = by_key
        .into_iter()
        .map(|(key, (reporter, agg))| agg.finish(key, reporter))
        .collect();
    out.sort_by(|a, b| {
        b.rps
            .total_cmp(&a.rps)
            .then_with(|| b.cps.total_cmp(&a.cps))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

#[cfg(test)]
mod tests;
