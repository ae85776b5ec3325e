//! The sidecar's metric registry: Istio's request, gRPC message and TCP metrics, and the
//! proxy's own (connections, config pushes, control-plane connection,
//! certificate expiry), rendered for `/stats/prometheus`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use http::HeaderValue;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::labels::{RequestLabels, Service, TcpLabels};
use super::peer::{PeerCache, Workload};
use crate::config::ConfigStore;
use crate::identity::IdentityHandle;
use crate::stats::Side;

/// Envoy's default histogram buckets (milliseconds for durations, bytes for sizes).
pub(crate) const BUCKETS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

fn envoy_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The request metric families, shared with response bodies that record when
/// they end.
#[derive(Debug)]
pub(crate) struct RequestFamilies {
    pub requests: Family<RequestLabels, Counter>,
    pub duration: HistogramFamily<RequestLabels>,
    pub request_bytes: HistogramFamily<RequestLabels>,
    pub response_bytes: HistogramFamily<RequestLabels>,
    /// gRPC messages received from downstream (gRPC requests only).
    pub request_messages: Family<RequestLabels, Counter>,
    /// gRPC messages sent back downstream (gRPC requests only).
    pub response_messages: Family<RequestLabels, Counter>,
}

impl RequestFamilies {
    /// Records one finished request.
    pub(crate) fn record(
        &self,
        labels: &RequestLabels,
        millis: f64,
        req_bytes: u64,
        resp_bytes: u64,
        disabled: u8,
    ) {
        if disabled & 1 == 0 {
            self.requests.get_or_create(labels).inc();
        }
        if disabled & 2 == 0 {
            self.duration.get_or_create(labels).observe(millis);
        }
        if disabled & 4 == 0 {
            self.request_bytes
                .get_or_create(labels)
                .observe(req_bytes as f64);
        }
        if disabled & 8 == 0 {
            self.response_bytes
                .get_or_create(labels)
                .observe(resp_bytes as f64);
        }
    }
}

/// The TCP metric families, shared with tunnels that report when they close.
#[derive(Debug)]
pub(crate) struct TcpFamilies {
    pub opened: Family<TcpLabels, Counter>,
    pub closed: Family<TcpLabels, Counter>,
    pub sent: Family<TcpLabels, Counter>,
    pub received: Family<TcpLabels, Counter>,
}

type ListenerLabel = [(&'static str, &'static str); 1];

/// Everything the sidecar measures.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) http: Arc<RequestFamilies>,
    pub(crate) tcp: Arc<TcpFamilies>,
    active: Family<ListenerLabel, Gauge>,
    connections: Family<ListenerLabel, Counter>,
    /// This sidecar's workload.
    pub(crate) me: Arc<Workload>,
    /// Its exchange header value.
    pub(crate) me_header: Option<HeaderValue>,
    /// Its own service, as the inbound side reports it.
    pub(crate) my_service: Arc<Service>,
    pub(crate) unknown: Arc<Workload>,
    pub(crate) unknown_service: Arc<Service>,
    pub(crate) peers: PeerCache,
    services: RwLock<HashMap<Box<str>, Arc<Service>>>,
    /// Access-log writers, one per file.
    pub(crate) log_sinks: super::accesslog::LogSinks,
    /// Span exporters, one per collector.
    pub(crate) exporters: super::export::Exporters,
}

impl Metrics {
    /// Registers every metric; the self-metrics read `config` and `identity` at scrape time.
    pub(crate) fn new(me: Workload, config: ConfigStore, identity: IdentityHandle) -> Self {
        let mut registry = Registry::default();
        let hist = || {
            HistogramFamily::<RequestLabels>::new_with_constructor(
                envoy_histogram as fn() -> Histogram,
            )
        };
        let http = Arc::new(RequestFamilies {
            requests: Family::default(),
            duration: hist(),
            request_bytes: hist(),
            response_bytes: hist(),
            request_messages: Family::default(),
            response_messages: Family::default(),
        });
        registry.register(
            "istio_requests",
            "Requests, by reporter, source, destination, response code and flags",
            http.requests.clone(),
        );
        registry.register(
            "istio_request_duration_milliseconds",
            "Request duration in milliseconds",
            http.duration.clone(),
        );
        registry.register(
            "istio_request_bytes",
            "Request sizes (headers and body) in bytes",
            http.request_bytes.clone(),
        );
        registry.register(
            "istio_response_bytes",
            "Response sizes (headers and body) in bytes",
            http.response_bytes.clone(),
        );
        registry.register(
            "istio_request_messages",
            "gRPC messages sent by the client, per gRPC request",
            http.request_messages.clone(),
        );
        registry.register(
            "istio_response_messages",
            "gRPC messages sent by the server, per gRPC request",
            http.response_messages.clone(),
        );
        let tcp = Arc::new(TcpFamilies {
            opened: Family::default(),
            closed: Family::default(),
            sent: Family::default(),
            received: Family::default(),
        });
        registry.register(
            "istio_tcp_connections_opened",
            "TCP connections (CONNECT tunnels) opened",
            tcp.opened.clone(),
        );
        registry.register(
            "istio_tcp_connections_closed",
            "TCP connections (CONNECT tunnels) closed",
            tcp.closed.clone(),
        );
        registry.register(
            "istio_tcp_sent_bytes",
            "Bytes sent to the downstream of TCP connections",
            tcp.sent.clone(),
        );
        registry.register(
            "istio_tcp_received_bytes",
            "Bytes received from the downstream of TCP connections",
            tcp.received.clone(),
        );
        let active = Family::<ListenerLabel, Gauge>::default();
        let connections = Family::<ListenerLabel, Counter>::default();
        registry.register(
            "meshctl_active_connections",
            "Open downstream connections by listener",
            active.clone(),
        );
        registry.register(
            "meshctl_connections",
            "Accepted downstream connections by listener",
            connections.clone(),
        );
        for side in [Side::Outbound, Side::Inbound, Side::Admin] {
            let _ = active.get_or_create(&[("listener", side.as_str())]);
            let _ = connections.get_or_create(&[("listener", side.as_str())]);
        }
        registry.register_collector(Box::new(SelfMetrics { config, identity }));
        let log_sinks = super::accesslog::LogSinks::default();
        let exporters = super::export::Exporters::default();
        for (name, help, c) in [
            (
                "meshctl_access_log_lines",
                "Access-log lines queued for writing",
                &log_sinks.written,
            ),
            (
                "meshctl_access_log_dropped",
                "Access-log lines dropped because the writer was behind",
                &log_sinks.dropped,
            ),
            (
                "meshctl_tracing_spans_exported",
                "Spans the collector accepted",
                &exporters.counters.exported,
            ),
            (
                "meshctl_tracing_spans_dropped",
                "Spans dropped because the export queue was full",
                &exporters.counters.dropped,
            ),
            (
                "meshctl_tracing_spans_failed",
                "Spans lost because the export failed",
                &exporters.counters.failed,
            ),
        ] {
            registry.register(name, help, c.clone());
        }
        let my_service = Arc::new(Service::of(&me));
        Self {
            registry,
            http,
            tcp,
            active,
            connections,
            me_header: me.header_value(),
            me: Arc::new(me),
            my_service,
            unknown: Arc::new(Workload::unknown()),
            unknown_service: Arc::new(Service::unknown()),
            peers: PeerCache::default(),
            services: RwLock::default(),
            log_sinks,
            exporters,
        }
    }

    /// A downstream connection was accepted.
    pub(crate) fn conn_open(&self, side: Side) {
        let l = [("listener", side.as_str())];
        self.active.get_or_create(&l).inc();
        self.connections.get_or_create(&l).inc();
    }

    /// A downstream connection closed.
    pub(crate) fn conn_close(&self, side: Side) {
        self.active
            .get_or_create(&[("listener", side.as_str())])
            .dec();
    }

    /// The destination service a cluster stands for (parsed once per cluster).
    pub(crate) fn service(&self, cluster: &str) -> Arc<Service> {
        if let Ok(map) = self.services.read()
            && let Some(s) = map.get(cluster)
        {
            return s.clone();
        }
        let s = Arc::new(Service::from_cluster(cluster));
        if let Ok(mut map) = self.services.write()
            && map.len() < 4096
        {
            map.insert(cluster.into(), s.clone());
        }
        s
    }

    /// Prometheus text format (what Envoy's `/stats/prometheus` serves), or
    /// OpenMetrics when `openmetrics` (the scraper asked for it).
    pub(crate) fn render(&self, openmetrics: bool) -> String {
        let mut out = String::with_capacity(8192);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            return String::new();
        }
        if openmetrics {
            out
        } else {
            mesh_api::exposition::classic_text(&out)
        }
    }
}

/// Values read at scrape time: config pushes, control-plane connection,
/// certificate expiry.
#[derive(Debug)]
struct SelfMetrics {
    config: ConfigStore,
    identity: IdentityHandle,
}

impl Collector for SelfMetrics {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), fmt::Error> {
        let statuses = self.config.statuses();
        for (name, help, rejected) in [
            (
                "meshctl_config_applies",
                "Accepted config pushes by type",
                false,
            ),
            (
                "meshctl_config_rejects",
                "Rejected config pushes (NACKed) by type",
                true,
            ),
        ] {
            let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (t, s) in &statuses {
                let labels = [("type", *t)];
                let v = if rejected { s.rejects } else { s.applies };
                ConstCounter::new(v).encode(m.encode_family(&labels)?)?;
            }
        }
        let connected = i64::from(self.config.connected());
        ConstGauge::new(connected).encode(enc.encode_descriptor(
            "meshctl_control_plane_connected",
            "1 while the discovery stream to the control plane is open",
            None,
            MetricType::Gauge,
        )?)?;
        if let Some(id) = self.identity.current() {
            ConstGauge::new(id.not_after_unix).encode(enc.encode_descriptor(
                "meshctl_certificate_expiration_timestamp_seconds",
                "When the workload certificate expires (Unix seconds)",
                None,
                MetricType::Gauge,
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_metrics_and_buckets_render() {
        let m = Metrics::new(
            Workload::unknown(),
            ConfigStore::new(),
            IdentityHandle::disabled(),
        );
        m.conn_open(Side::Inbound);
        let text = m.render(false);
        for want in [
            "meshctl_active_connections{listener=\"inbound\"} 1",
            "meshctl_connections_total{listener=\"inbound\"} 1",
            "meshctl_config_applies_total{type=\"listeners\"} 0",
            "meshctl_control_plane_connected 0",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
        assert!(
            !text.contains("meshctl_certificate_expiration"),
            "no certificate, no expiry"
        );
        assert_eq!(BUCKETS.len(), 19);
    }
}
