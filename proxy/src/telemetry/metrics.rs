//! The sidecar's metric registry: Istio's request, gRPC message and TCP metrics, and the
//! proxy's own (connections, config pushes, control-plane connection,
//! certificate expiry), rendered for `/stats/prometheus`.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

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

/// One label set's request metrics: a cell of each request family, so that a
/// finished request is one map lookup (one hash of its ~20 labels) rather than
/// one per family.
#[derive(Debug)]
pub(crate) struct RequestCells {
    requests: Counter,
    duration: Histogram,
    request_bytes: Histogram,
    response_bytes: Histogram,
    request_messages: Counter,
    response_messages: Counter,
    /// The families this label set was recorded in ([`REQUEST_METRICS`] bits):
    /// a series appears in a family only once recorded there, as with
    /// per-family maps (Telemetry overrides leave some families out).
    present: AtomicU8,
}

impl RequestCells {
    fn new() -> Self {
        Self {
            requests: Counter::default(),
            duration: envoy_histogram(),
            request_bytes: envoy_histogram(),
            response_bytes: envoy_histogram(),
            request_messages: Counter::default(),
            response_messages: Counter::default(),
            present: AtomicU8::new(0),
        }
    }
}

/// What one finished request adds to its label set's cells.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    pub millis: f64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// gRPC messages each way, for gRPC requests.
    pub request_messages: Option<u64>,
    pub response_messages: Option<u64>,
}

/// The request families' names, help and type, by their bit in the
/// `disabled` masks and [`RequestCells::present`] (the bits of
/// `observe::metric_bit`; 16 is the TCP metrics').
const REQUEST_METRICS: [(u8, &str, &str, MetricType); 6] = [
    (
        1,
        "istio_requests",
        "Requests, by reporter, source, destination, response code and flags",
        MetricType::Counter,
    ),
    (
        2,
        "istio_request_duration_milliseconds",
        "Request duration in milliseconds",
        MetricType::Histogram,
    ),
    (
        4,
        "istio_request_bytes",
        "Request sizes (headers and body) in bytes",
        MetricType::Histogram,
    ),
    (
        8,
        "istio_response_bytes",
        "Response sizes (headers and body) in bytes",
        MetricType::Histogram,
    ),
    (
        32,
        "istio_request_messages",
        "gRPC messages sent by the client, per gRPC request",
        MetricType::Counter,
    ),
    (
        64,
        "istio_response_messages",
        "gRPC messages sent by the server, per gRPC request",
        MetricType::Counter,
    ),
];

/// The request metric families (Istio's `istio_requests_total`, the three
/// histograms and the gRPC message counters), shared with response bodies
/// that record when they end. One map from label set to [`RequestCells`],
/// hashed with foldhash ([`crate::FastMap`]): SipHash over four per-family maps
/// was a tenth of a sidecar's instructions per request.
#[derive(Debug, Default)]
pub(crate) struct RequestFamilies {
    cells: RwLock<crate::FastMap<RequestLabels, RequestCells>>,
}

impl RequestFamilies {
    /// Records one finished request in the families `disabled` leaves on.
    pub(crate) fn record(&self, labels: &RequestLabels, m: &Measured, disabled: u8) {
        let add = |c: &RequestCells| {
            let mut present = 0;
            if disabled & 1 == 0 {
                c.requests.inc();
                present |= 1;
            }
            if disabled & 2 == 0 {
                c.duration.observe(m.millis);
                present |= 2;
            }
            if disabled & 4 == 0 {
                c.request_bytes.observe(m.request_bytes as f64);
                present |= 4;
            }
            if disabled & 8 == 0 {
                c.response_bytes.observe(m.response_bytes as f64);
                present |= 8;
            }
            if let Some(n) = m.request_messages
                && disabled & 32 == 0
            {
                c.request_messages.inc_by(n);
                present |= 32;
            }
            if let Some(n) = m.response_messages
                && disabled & 64 == 0
            {
                c.response_messages.inc_by(n);
                present |= 64;
            }
            c.present.fetch_or(present, Ordering::Relaxed);
        };
        {
            let map = self.cells.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = map.get(labels) {
                add(c);
                return;
            }
        }
        let mut map = self.cells.write().unwrap_or_else(PoisonError::into_inner);
        add(map.entry(labels.clone()).or_insert_with(RequestCells::new));
    }
}

impl Collector for RequestFamilies {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), fmt::Error> {
        let map = self.cells.read().unwrap_or_else(PoisonError::into_inner);
        for (bit, name, help, kind) in REQUEST_METRICS {
            let mut series = map
                .iter()
                .filter(|(_, c)| c.present.load(Ordering::Relaxed) & bit != 0)
                .peekable();
            // A family nothing was recorded in is left out, as an empty
            // `Family` is.
            if series.peek().is_none() {
                continue;
            }
            let mut family = enc.encode_descriptor(name, help, None, kind)?;
            for (labels, c) in series {
                let e = family.encode_family(labels)?;
                match bit {
                    1 => c.requests.encode(e)?,
                    2 => c.duration.encode(e)?,
                    4 => c.request_bytes.encode(e)?,
                    8 => c.response_bytes.encode(e)?,
                    32 => c.request_messages.encode(e)?,
                    _ => c.response_messages.encode(e)?,
                }
            }
        }
        Ok(())
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
    services: RwLock<crate::FastMap<Box<str>, Arc<Service>>>,
    /// Access-log writers, one per file.
    pub(crate) log_sinks: super::accesslog::LogSinks,
    /// Span exporters, one per collector.
    pub(crate) exporters: super::export::Exporters,
}

impl Metrics {
    /// Registers every metric; the self-metrics read `config` and `identity` at scrape time.
    pub(crate) fn new(me: Workload, config: ConfigStore, identity: IdentityHandle) -> Self {
        let mut registry = Registry::default();
        let http = Arc::new(RequestFamilies::default());
        // Collectors are encoded after the registered metrics: the request
        // families come after the TCP and connection ones, before the
        // self-metrics.
        registry.register_collector(Box::new(http.clone()));
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

    fn labels(code: u16) -> RequestLabels {
        use crate::stats::Flag;
        use crate::telemetry::labels::{Edge, Protocol, Reporter, SecurityPolicy};
        let me = Arc::new(Workload::unknown());
        RequestLabels {
            edge: Edge {
                reporter: Reporter::Destination,
                source: me.clone(),
                source_principal: None,
                destination: me,
                destination_principal: None,
                service: Arc::new(Service::unknown()),
                security: SecurityPolicy::None,
            },
            protocol: Protocol::Http,
            code,
            grpc_status: None,
            flag: Flag::None,
            hidden: 0,
            extra: None,
        }
    }

    fn measured(millis: f64, messages: Option<u64>) -> Measured {
        Measured {
            millis,
            request_bytes: 100,
            response_bytes: 200,
            request_messages: messages,
            response_messages: messages,
        }
    }

    #[test]
    fn request_cells_show_in_the_families_they_were_recorded_in() {
        let m = Metrics::new(
            Workload::unknown(),
            ConfigStore::new(),
            IdentityHandle::disabled(),
        );
        let text = m.render(false);
        assert!(
            !text.contains("istio_request"),
            "nothing recorded yet:\n{text}"
        );

        // Two requests of one label set, one of another; the second label set
        // with the duration and response-size histograms disabled.
        m.http.record(&labels(200), &measured(3.0, None), 0);
        m.http.record(&labels(200), &measured(30.0, None), 0);
        m.http.record(&labels(503), &measured(1.0, None), 2 | 8);
        let text = m.render(false);
        let count = |needle: &str| text.lines().filter(|l| l.starts_with(needle)).count();
        assert!(
            text.contains("response_code=\"200\"") && text.contains("} 2\n"),
            "{text}"
        );
        assert_eq!(count("istio_requests_total{"), 2, "{text}");
        assert_eq!(
            count("istio_request_duration_milliseconds_count{"),
            1,
            "{text}"
        );
        assert_eq!(count("istio_request_bytes_count{"), 2, "{text}");
        assert_eq!(count("istio_response_bytes_count{"), 1, "{text}");
        assert!(
            text.contains("istio_request_duration_milliseconds_sum{") && text.contains("} 33.0"),
            "both durations of the 200s in one histogram:\n{text}"
        );
        // No gRPC request: the message counters are left out entirely.
        assert!(!text.contains("istio_request_messages"), "{text}");
        assert!(!text.contains("istio_response_messages"), "{text}");

        m.http.record(&labels(200), &measured(1.0, Some(3)), 0);
        let text = m.render(false);
        assert!(text.contains("istio_request_messages_total{"), "{text}");
        assert!(text.contains("istio_response_messages_total{"), "{text}");
    }
}
