//! The discovery server's metrics (prometheus-client) on the admin `/metrics`:
//! pushes sent and rejected by type and push-to-ACK latency. The admin handler
//! adds the CA's Citadel counters and the scrape-time gauges (connected
//! proxies, store revision).

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

type TypeLabel = [(&'static str, &'static str); 1];

/// Push-to-ACK buckets in seconds: 1 ms to 30 s.
const ACK_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

fn ack_histogram() -> Histogram {
    Histogram::new(ACK_BUCKETS)
}

/// The discovery server's counters and histogram.
#[derive(Debug)]
pub struct Metrics {
    registry: std::sync::OnceLock<Registry>,
    pushes: Family<TypeLabel, Counter>,
    nacks: Family<TypeLabel, Counter>,
    ack_latency: Family<TypeLabel, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            registry: std::sync::OnceLock::new(),
            pushes: Family::default(),
            nacks: Family::default(),
            ack_latency: Family::new_with_constructor(ack_histogram as fn() -> Histogram),
        }
    }
}

impl Metrics {
    /// Registers everything.
    fn registry(&self) -> &Registry {
        self.registry.get_or_init(|| self.build())
    }

    fn build(&self) -> Registry {
        let mut r = Registry::default();
        r.register(
            "meshctl_pushes",
            "Config pushes sent, by type",
            self.pushes.clone(),
        );
        r.register(
            "meshctl_push_rejects",
            "Config pushes the proxy rejected (NACK), by type",
            self.nacks.clone(),
        );
        r.register(
            "meshctl_push_ack_duration_seconds",
            "Time from sending a push to the proxy's ACK or NACK, by type",
            self.ack_latency.clone(),
        );
        for t in mesh_api::proxy::PUSH_ORDER {
            let _ = self.pushes.get_or_create(&[("type", t)]);
            let _ = self.nacks.get_or_create(&[("type", t)]);
        }
        r
    }

    /// A push of `type_url` was sent.
    pub(crate) fn pushed(&self, type_url: &'static str) {
        self.pushes.get_or_create(&[("type", type_url)]).inc();
    }

    /// A push of `type_url` was answered after `after`; `nack` if rejected.
    pub(crate) fn answered(&self, type_url: &'static str, after: Duration, nack: bool) {
        let l = [("type", type_url)];
        self.ack_latency
            .get_or_create(&l)
            .observe(after.as_secs_f64());
        if nack {
            self.nacks.get_or_create(&l).inc();
        }
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let r = self.registry();
        let mut out = String::with_capacity(4096);
        if prometheus_client::encoding::text::encode(&mut out, r).is_err() {
            return String::new();
        }
        mesh_api::exposition::classic_text(&out)
    }
}
