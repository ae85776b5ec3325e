//! Access logging and tracing for one request, on top of the metrics' `Call`:
//! what the request says is taken when it arrives (and the trace headers are
//! rewritten for the next hop), what the answer says when it is known, and
//! the line and span are written when the response body ends, with the same
//! duration and sizes the metrics record.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use http::{HeaderMap, Request, Response, Version};
use mesh_api::proxy::{AccessLogEncoding, TagSource, TelemetryConfig, TrafficMode};
use mesh_api::telemetry::filter::Filter;

use super::accesslog::{Entry, LogSink};
use super::call::UpstreamCluster;
use super::export::{Exporter, SpanRecord};
use super::metrics::Metrics;
use super::trace;
use crate::body::ProxyBody;
use crate::stats::{Flag, Side};

/// Where an answer came from beyond its cluster: the endpoint and the route,
/// put in the response's extensions by the data path.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamInfo {
    /// The endpoint (a peer sidecar, or the app for inbound).
    pub host: SocketAddr,
}

/// The route that matched (`ROUTE_NAME`).
#[derive(Debug, Clone)]
pub(crate) struct RouteName(pub Arc<str>);

/// A proxy's telemetry config, compiled: the filter parsed, the writers and
/// exporters looked up once per snapshot.
#[derive(Debug, Default)]
pub(crate) struct RtTelemetry {
    access_log: Option<RtAccessLog>,
    tracing: Option<RtTracing>,
    /// Disabled request metrics, by direction (bit per metric, see [`metric_bit`]).
    pub(crate) disabled_client: u8,
    pub(crate) disabled_server: u8,
    /// Request labels removed ([`super::labels::STANDARD`] bits).
    pub(crate) removed_tags: u32,
    /// Request labels added or replaced (`UPSERT`); `None` when there are none.
    pub(crate) upserts: Option<super::upsert::RtUpserts>,
}

#[derive(Debug)]
struct RtAccessLog {
    path: String,
    encoding: AccessLogEncoding,
    filter: Option<Filter>,
    headers: Vec<String>,
    mode: TrafficMode,
    sink: OnceLock<LogSink>,
}

#[derive(Debug)]
struct RtTracing {
    sampling: f64,
    exporter: Option<(String, Option<String>)>,
    tags: BTreeMap<String, TagSource>,
    mode: TrafficMode,
    sink: OnceLock<Exporter>,
}

/// The bit of an Istio metric name in the disabled masks; `ALL_METRICS` is all.
pub(crate) fn metric_bit(name: &str) -> u8 {
    match name {
        "REQUEST_COUNT" => 1,
        "REQUEST_DURATION" => 2,
        "REQUEST_SIZE" => 4,
        "RESPONSE_SIZE" => 8,
        "TCP_OPENED_CONNECTIONS"
        | "TCP_CLOSED_CONNECTIONS"
        | "TCP_SENT_BYTES"
        | "TCP_RECEIVED_BYTES" => 16,
        "GRPC_REQUEST_MESSAGES" => 32,
        "GRPC_RESPONSE_MESSAGES" => 64,
        "ALL_METRICS" => u8::MAX,
        _ => 0,
    }
}

impl RtTelemetry {
    /// Compiles the pushed config; a filter outside meshctl's CEL subset is an error.
    pub(crate) fn compile(cfg: &TelemetryConfig) -> Result<Self, String> {
        let access_log = match &cfg.access_log {
            Some(l) => {
                let filter = l
                    .filter
                    .as_deref()
                    .map(Filter::parse)
                    .transpose()
                    .map_err(|e| format!("telemetry.accessLog.filter: {e}"))?;
                Some(RtAccessLog {
                    path: l.path.clone(),
                    encoding: l.encoding,
                    headers: filter.as_ref().map(Filter::headers).unwrap_or_default(),
                    filter,
                    mode: l.mode,
                    sink: OnceLock::new(),
                })
            }
            None => None,
        };
        let tracing = cfg.tracing.as_ref().map(|t| RtTracing {
            sampling: t.sampling,
            exporter: t
                .exporter
                .as_ref()
                .map(|e| (e.address.clone(), e.http_path.clone())),
            tags: t.custom_tags.clone(),
            mode: t.mode,
            sink: OnceLock::new(),
        });
        let (mut client, mut server) = (0u8, 0u8);
        for d in &cfg.metrics.disabled {
            let bit = metric_bit(&d.metric);
            if d.mode.applies(true) {
                client |= bit;
            }
            if d.mode.applies(false) {
                server |= bit;
            }
        }
        let mut removed_tags = 0;
        for t in &cfg.metrics.removed_tags {
            match super::labels::standard_bit(t) {
                0 => tracing::debug!(tag = %t, "not a standard label: nothing to remove"),
                bit => removed_tags |= bit,
            }
        }
        Ok(RtTelemetry {
            access_log,
            tracing,
            disabled_client: client,
            disabled_server: server,
            removed_tags,
            upserts: super::upsert::RtUpserts::compile(&cfg.metrics.upserted_tags)?,
        })
    }
}

/// One request's access-log entry and span, while it is served.
#[derive(Debug)]
pub(crate) struct Observed {
    log: Option<(Entry, LogSink, AccessLogEncoding, Option<Filter>)>,
    span: Option<(SpanRecord, Exporter)>,
    started: Instant,
    /// The service port the request addressed (for `inbound|port||`).
    inbound_port: u16,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// The port a request addressed: its authority's, else the scheme's default
/// (`destination.port`).
pub(crate) fn authority_port(authority: Option<&str>, scheme: &str) -> u16 {
    authority
        .and_then(|a| crate::config::split_host_port(a).1)
        .unwrap_or(if scheme == "https" { 443 } else { 80 })
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Who is on both ends of the downstream connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Downstream {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub mtls: bool,
}

impl RtTelemetry {
    /// Whether access logging or tracing is on for some traffic: the data
    /// path then tags answers with what only they report ([`UpstreamInfo`]).
    pub(crate) fn observes(&self) -> bool {
        self.access_log.is_some() || self.tracing.is_some()
    }
}

impl Observed {
    /// Adds `x-request-id` when absent; with tracing on, starts this proxy's
    /// span and rewrites the trace headers for the next hop; with access
    /// logging on, takes the request's fields. `None` when neither is on.
    pub(crate) fn start<B>(
        tel: &RtTelemetry,
        m: &Metrics,
        proxy_id: &str,
        side: Side,
        req: &mut Request<B>,
        down: Downstream,
    ) -> Option<Box<Observed>> {
        trace::ensure_request_id(req.headers_mut());
        let client = side == Side::Outbound;
        let logs = tel
            .access_log
            .as_ref()
            .is_some_and(|l| l.mode.applies(client));
        let traces = tel.tracing.as_ref().is_some_and(|t| t.mode.applies(client));
        if !logs && !traces {
            return None;
        }
        let request_id = req
            .headers()
            .get(&trace::REQUEST_ID)
            .cloned()
            .unwrap_or_else(|| http::HeaderValue::from_static(""));
        let now = SystemTime::now();
        let authority = crate::forward::authority_of(req).map(str::to_owned);
        let span = tel
            .tracing
            .as_ref()
            .filter(|t| t.mode.applies(client))
            .and_then(|t| {
                let inc = trace::extract(req.headers());
                let ids = trace::start(&inc, || trace::roll(t.sampling));
                trace::inject(req.headers_mut(), &ids, inc.formats);
                if !ids.sampled {
                    return None;
                }
                let (addr, path) = t.exporter.as_ref()?;
                let sink = t
                    .sink
                    .get_or_init(|| m.exporters.get(addr, path.as_deref(), &m.me, proxy_id))
                    .clone();
                let h = req.headers();
                let mut attributes = vec![
                    ("http.method".to_owned(), req.method().to_string()),
                    (
                        "http.url".to_owned(),
                        format!(
                            "http://{}{}",
                            authority.as_deref().unwrap_or(""),
                            req.uri().path_and_query().map_or("/", |p| p.as_str())
                        ),
                    ),
                    (
                        "http.protocol".to_owned(),
                        protocol(req.version()).to_owned(),
                    ),
                    ("node_id".to_owned(), proxy_id.to_owned()),
                    (
                        "guid:x-request-id".to_owned(),
                        request_id.to_str().unwrap_or("").to_owned(),
                    ),
                    ("downstream_cluster".to_owned(), "-".to_owned()),
                    (
                        "user_agent".to_owned(),
                        header(h, "user-agent").unwrap_or_else(|| "-".into()),
                    ),
                    ("peer.address".to_owned(), down.remote.ip().to_string()),
                    ("component".to_owned(), "proxy".to_owned()),
                    (
                        "istio.canonical_service".to_owned(),
                        m.me.canonical_service.clone(),
                    ),
                    (
                        "istio.canonical_revision".to_owned(),
                        m.me.canonical_revision.clone(),
                    ),
                    ("istio.namespace".to_owned(), m.me.namespace.clone()),
                    ("istio.mesh_id".to_owned(), "cluster.local".to_owned()),
                ];
                for (k, src) in &t.tags {
                    let v = match src {
                        TagSource::Literal(v) => v.clone(),
                        TagSource::Header { name, default } => {
                            header(h, name).unwrap_or_else(|| default.clone())
                        }
                        TagSource::Environment { name, default } => {
                            std::env::var(name).unwrap_or_else(|_| default.clone())
                        }
                    };
                    attributes.push((k.clone(), v));
                }
                let name = match (&authority, client) {
                    (Some(a), _) => format!("{a}/*"),
                    (None, _) => "-".to_owned(),
                };
                Some((
                    SpanRecord {
                        trace_id: ids.trace_id,
                        span_id: ids.span_id,
                        parent: ids.parent,
                        name,
                        client,
                        start_unix_nanos: unix_nanos(now),
                        end_unix_nanos: 0,
                        error: false,
                        attributes,
                    },
                    sink,
                ))
            });
        let log = tel
            .access_log
            .as_ref()
            .filter(|l| l.mode.applies(client))
            .map(|l| {
                let sink = l.sink.get_or_init(|| m.log_sinks.get(&l.path)).clone();
                let h = req.headers();
                let entry = Entry {
                    start: Some(now),
                    method: req.method().to_string(),
                    path: header(h, "x-envoy-original-path").unwrap_or_else(|| {
                        req.uri()
                            .path_and_query()
                            .map_or_else(|| "/".to_owned(), |p| p.to_string())
                    }),
                    protocol: protocol(req.version()),
                    forwarded_for: header(h, "x-forwarded-for"),
                    user_agent: header(h, "user-agent"),
                    request_id: request_id.to_str().ok().map(str::to_owned),
                    authority: authority.clone(),
                    downstream_local: Some(down.local),
                    downstream_remote: Some(down.remote),
                    scheme: req
                        .uri()
                        .scheme_str()
                        .map_or("http", |s| if s == "https" { "https" } else { "http" }),
                    mtls: down.mtls,
                    headers: l
                        .headers
                        .iter()
                        .filter_map(|n| header(h, n).map(|v| (n.clone(), v)))
                        .collect(),
                    ..Entry::default()
                };
                (entry, sink, l.encoding, l.filter.clone())
            });
        if log.is_none() && span.is_none() {
            return None;
        }
        let inbound_port = authority
            .as_deref()
            .and_then(|a| crate::config::split_host_port(a).1)
            .unwrap_or(80);
        Some(Box::new(Observed {
            log,
            span,
            started: Instant::now(),
            inbound_port,
        }))
    }

    /// The answer is known: code, flag, cluster, endpoint, route.
    pub(crate) fn answered(
        &mut self,
        side: Side,
        resp: &Response<ProxyBody>,
        flag: Flag,
        request_bytes: u64,
    ) {
        let cluster = match side {
            Side::Inbound => Some(format!("inbound|{}||", self.inbound_port)),
            _ => resp
                .extensions()
                .get::<UpstreamCluster>()
                .map(|c| c.0.name.to_string()),
        };
        let host = resp.extensions().get::<UpstreamInfo>().map(|u| u.host);
        let route = resp
            .extensions()
            .get::<RouteName>()
            .map(|r| r.0.to_string());
        let upstream = host.is_some() && flag_is_upstream(flag);
        let code = resp.status().as_u16();
        if let Some((e, ..)) = &mut self.log {
            e.code = code;
            e.flags = flag.as_str();
            e.code_details = details(flag, upstream);
            e.grpc_status = resp
                .headers()
                .get(&super::GRPC_STATUS)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.parse().ok());
            e.upstream_cluster = cluster.clone();
            e.upstream_host = host;
            e.route_name = route.clone();
            e.bytes_received = request_bytes;
            e.upstream_service_time = upstream.then(|| self.started.elapsed().as_millis() as u64);
        }
        if let Some((s, _)) = &mut self.span {
            s.error = code >= 500;
            s.attributes
                .push(("http.status_code".to_owned(), code.to_string()));
            s.attributes
                .push(("response_flags".to_owned(), flag.as_str().to_owned()));
            s.attributes.push((
                "upstream_cluster".to_owned(),
                cluster.unwrap_or_else(|| "-".to_owned()),
            ));
            if let Some(h) = host {
                s.attributes
                    .push(("upstream_address".to_owned(), h.to_string()));
            }
            s.attributes
                .push(("request_size".to_owned(), request_bytes.to_string()));
        }
    }

    /// The response body ended after `bytes_sent` body bytes: write the line
    /// (if the filter passes) and queue the span.
    pub(crate) fn done(self: Box<Self>, bytes_sent: u64) {
        let me = *self;
        let millis = me.started.elapsed().as_millis() as u64;
        if let Some((mut e, sink, encoding, filter)) = me.log {
            e.bytes_sent = bytes_sent;
            e.duration_ms = millis;
            if filter.as_ref().is_none_or(|f| f.matches(&e)) {
                sink.log(&e, encoding);
            }
        }
        if let Some((mut s, exporter)) = me.span {
            s.end_unix_nanos = unix_nanos(SystemTime::now()).max(s.start_unix_nanos);
            s.attributes
                .push(("response_size".to_owned(), bytes_sent.to_string()));
            exporter.send(s);
        }
    }
}

fn flag_is_upstream(f: Flag) -> bool {
    matches!(
        f,
        Flag::None | Flag::UpstreamRetryLimitExceeded | Flag::DelayInjected
    )
}

/// Envoy's `%RESPONSE_CODE_DETAILS%` for an answer.
fn details(f: Flag, upstream: bool) -> &'static str {
    match f {
        Flag::NoRoute => "route_not_found",
        Flag::NoCluster => "cluster_not_found",
        Flag::NoHealthyUpstream => "no_healthy_upstream",
        Flag::UpstreamConnectFailure => {
            "upstream_reset_before_response_started{connection_failure}"
        }
        Flag::UpstreamTimeout => "upstream_response_timeout",
        Flag::UpstreamConnectionTermination => {
            "upstream_reset_before_response_started{connection_termination}"
        }
        Flag::UpstreamOverflow => "upstream_reset_before_response_started{overflow}",
        Flag::FaultInjected => "fault_filter_abort",
        _ if upstream => "via_upstream",
        _ => "direct_response",
    }
}
