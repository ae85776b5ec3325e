//! Istio's label sets for request and TCP metrics. A label set holds shared
//! (`Arc`) workload and service parts plus small copy values, so building one
//! per request allocates nothing; the metric families keep one copy per
//! distinct set (per edge, code and flag).

use std::fmt;
use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};

use super::peer::{UNKNOWN, Workload};
use crate::stats::Flag;

/// Which side of the call reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Reporter {
    /// The client's sidecar (outbound listener).
    Source,
    /// The server's sidecar (inbound listener).
    Destination,
}

impl Reporter {
    fn as_str(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
        }
    }
}

/// `request_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

/// `connection_security_policy`: `unknown` for plaintext hops until mutual TLS
/// tells `mutual_tls` or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityPolicy {
    /// Not known (what a plaintext mesh reports).
    #[default]
    Unknown,
    /// The connection is mutual TLS.
    MutualTls,
    /// The connection is plaintext although mutual TLS is available.
    None,
}

impl SecurityPolicy {
    fn as_str(self) -> &'static str {
        match self {
            SecurityPolicy::Unknown => UNKNOWN,
            SecurityPolicy::MutualTls => "mutual_tls",
            SecurityPolicy::None => "none",
        }
    }
}

/// The destination service: `destination_service`, `_name`, `_namespace`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Service {
    pub host: String,
    pub name: String,
    pub namespace: String,
}

impl Service {
    /// Nothing chosen (no route, no cluster).
    pub(crate) fn unknown() -> Self {
        Self {
            host: UNKNOWN.to_owned(),
            name: UNKNOWN.to_owned(),
            namespace: UNKNOWN.to_owned(),
        }
    }

    /// A workload's own service, as its inbound side reports it.
    pub(crate) fn of(w: &Workload) -> Self {
        Self {
            host: format!("{}.{}.svc.cluster.local", w.service, w.namespace),
            name: w.service.clone(),
            namespace: w.namespace.clone(),
        }
    }

    /// From a cluster name: `outbound|9080|v1|reviews.default.svc.cluster.local`
    /// gives host `reviews.default.svc.cluster.local`, name `reviews`, namespace
    /// `default`; any other host (a ServiceEntry's `api.example.com`) is the
    /// name as well, in an unknown namespace.
    pub(crate) fn from_cluster(cluster: &str) -> Self {
        let host = cluster.rsplit('|').next().unwrap_or(cluster);
        let (name, namespace) = match host
            .strip_suffix(".svc.cluster.local")
            .and_then(|n| n.split_once('.'))
        {
            Some((name, ns)) => (name, ns),
            None => (host, UNKNOWN),
        };
        Self {
            host: host.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        }
    }
}

/// Both ends of an edge and how they talk: what request and TCP metrics share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub reporter: Reporter,
    pub source: Arc<Workload>,
    pub source_principal: Option<Arc<str>>,
    pub destination: Arc<Workload>,
    pub destination_principal: Option<Arc<str>>,
    pub service: Arc<Service>,
    pub security: SecurityPolicy,
}

/// Hashes the few fields that tell edges apart in practice (who reports, the
/// two workloads' names, the service); equal edges hash alike, since these are
/// among the fields equality compares. Every request looks its label set up in
/// the metric families, so hashing every label string each time would cost
/// more than the rest of the bookkeeping.
impl std::hash::Hash for Edge {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.reporter.hash(h);
        self.security.hash(h);
        self.source.name.hash(h);
        self.destination.name.hash(h);
        self.service.host.hash(h);
    }
}

/// The labels of `istio_requests_total` and the request histograms.
#[derive(Debug, Clone)]
pub(crate) struct RequestLabels {
    pub edge: Edge,
    pub protocol: Protocol,
    pub code: u16,
    /// gRPC status, `None` for plain HTTP (reported empty).
    pub grpc_status: Option<u16>,
    pub flag: Flag,
    /// Standard labels left out ([`STANDARD`] bits): removed by a Telemetry
    /// `tagOverrides` REMOVE, or replaced by an UPSERT of the same name.
    pub hidden: u32,
    /// Labels a Telemetry UPSERT added (or replaced), with this request's
    /// values; `None` when no UPSERT applies, so that the usual label set
    /// costs nothing more.
    pub extra: Option<Box<Extra>>,
}

/// Labels added by Telemetry UPSERT overrides: name and value (escaped for
/// the exposition format), in the order they are encoded; names are valid
/// and distinct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Extra(pub Vec<(Arc<str>, Arc<str>)>);

/// The standard request labels with their bits in [`RequestLabels::hidden`].
pub(crate) const STANDARD: [(&str, u32); 23] = [
    ("response_code", 1),
    ("grpc_response_status", 1 << 1),
    ("request_protocol", 1 << 2),
    ("response_flags", 1 << 3),
    ("connection_security_policy", 1 << 4),
    ("reporter", REPORTER),
    ("source_workload", SOURCE),
    ("source_workload_namespace", SOURCE << 1),
    ("source_principal", SOURCE << 2),
    ("source_app", SOURCE << 3),
    ("source_version", SOURCE << 4),
    ("source_canonical_service", SOURCE << 5),
    ("source_canonical_revision", SOURCE << 6),
    ("destination_workload", DESTINATION),
    ("destination_workload_namespace", DESTINATION << 1),
    ("destination_principal", DESTINATION << 2),
    ("destination_app", DESTINATION << 3),
    ("destination_version", DESTINATION << 4),
    ("destination_canonical_service", DESTINATION << 5),
    ("destination_canonical_revision", DESTINATION << 6),
    ("destination_service", SERVICE),
    ("destination_service_name", SERVICE << 1),
    ("destination_service_namespace", SERVICE << 2),
];

const REPORTER: u32 = 1 << 5;
/// The first of the seven workload labels of each side (see [`workload`]).
const SOURCE: u32 = 1 << 6;
const DESTINATION: u32 = 1 << 13;
const SERVICE: u32 = 1 << 20;
/// The bits of the labels an [`Edge`] gives; [`RequestLabels::hide`]
/// normalizes the others' values, these are left out of equality instead.
const EDGE_BITS: u32 = !0b1_1111;

/// The bit of a standard request label, 0 for any other name.
pub(crate) fn standard_bit(name: &str) -> u32 {
    STANDARD
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, b)| *b)
}

impl RequestLabels {
    /// Leaves out the labels of `mask`: the response's values are normalized,
    /// the edge's are ignored by equality, so that series differing only
    /// there become one.
    pub(crate) fn hide(&mut self, mask: u32) {
        self.hidden = mask;
        if mask & 1 != 0 {
            self.code = 0;
        }
        if mask & 2 != 0 {
            self.grpc_status = None;
        }
        if mask & 4 != 0 {
            self.protocol = Protocol::Http;
        }
        if mask & 8 != 0 {
            self.flag = Flag::None;
        }
        if mask & 16 != 0 {
            self.edge.security = SecurityPolicy::Unknown;
        }
    }
}

/// Whether the shown labels of two workloads (side bits from `side`) agree.
fn workload_eq(
    a: &Workload,
    ap: Option<&str>,
    b: &Workload,
    bp: Option<&str>,
    hidden: u32,
    side: u32,
) -> bool {
    let shown = |i: u32| hidden & (side << i) == 0;
    (!shown(0) || a.name == b.name)
        && (!shown(1) || a.namespace == b.namespace)
        && (!shown(2) || ap == bp)
        && (!shown(3) || a.app == b.app)
        && (!shown(4) || a.version == b.version)
        && (!shown(5) || a.canonical_service == b.canonical_service)
        && (!shown(6) || a.canonical_revision == b.canonical_revision)
}

impl Edge {
    /// Equality over the labels `hidden` does not leave out.
    fn shown_eq(&self, o: &Self, hidden: u32) -> bool {
        let shown = |bit: u32| hidden & bit == 0;
        self.security == o.security
            && (!shown(REPORTER) || self.reporter == o.reporter)
            && workload_eq(
                &self.source,
                self.source_principal.as_deref(),
                &o.source,
                o.source_principal.as_deref(),
                hidden,
                SOURCE,
            )
            && workload_eq(
                &self.destination,
                self.destination_principal.as_deref(),
                &o.destination,
                o.destination_principal.as_deref(),
                hidden,
                DESTINATION,
            )
            && (!shown(SERVICE) || self.service.host == o.service.host)
            && (!shown(SERVICE << 1) || self.service.name == o.service.name)
            && (!shown(SERVICE << 2) || self.service.namespace == o.service.namespace)
    }

    /// [`Edge`]'s hash over the labels `hidden` does not leave out.
    fn shown_hash<H: std::hash::Hasher>(&self, h: &mut H, hidden: u32) {
        use std::hash::Hash;
        let shown = |bit: u32| hidden & bit == 0;
        self.security.hash(h);
        if shown(REPORTER) {
            self.reporter.hash(h);
        }
        if shown(SOURCE) {
            self.source.name.hash(h);
        }
        if shown(DESTINATION) {
            self.destination.name.hash(h);
        }
        if shown(SERVICE) {
            self.service.host.hash(h);
        }
    }
}

/// Equal when the encoded labels are: with nothing hidden, every field; else
/// the edge's hidden labels play no part (the response's are normalized by
/// [`RequestLabels::hide`]). The added labels always take part.
impl PartialEq for RequestLabels {
    fn eq(&self, o: &Self) -> bool {
        self.hidden == o.hidden
            && self.protocol == o.protocol
            && self.code == o.code
            && self.grpc_status == o.grpc_status
            && self.flag == o.flag
            && self.extra == o.extra
            && if self.hidden & EDGE_BITS == 0 {
                self.edge == o.edge
            } else {
                self.edge.shown_eq(&o.edge, self.hidden)
            }
    }
}

impl Eq for RequestLabels {}

/// Hashes what [`PartialEq`] compares (a subset of it for the edge, see
/// [`Edge`]'s `Hash`), so equal label sets hash alike.
impl std::hash::Hash for RequestLabels {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.hidden.hash(h);
        self.protocol.hash(h);
        self.code.hash(h);
        self.grpc_status.hash(h);
        self.flag.hash(h);
        self.extra.hash(h);
        if self.hidden & EDGE_BITS == 0 {
            self.edge.hash(h);
        } else {
            self.edge.shown_hash(h, self.hidden);
        }
    }
}

/// The labels of the `istio_tcp_*` metrics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TcpLabels {
    pub edge: Edge,
    pub flag: Flag,
}

fn put(enc: &mut LabelSetEncoder, key: &str, value: &str) -> fmt::Result {
    (key, value).encode(enc.encode_label())
}

/// One side's seven workload labels; `hidden` holds that side's bits from bit 0.
fn workload(
    enc: &mut LabelSetEncoder,
    side: &str,
    w: &Workload,
    principal: Option<&str>,
    hidden: u32,
) -> fmt::Result {
    let mut key = String::with_capacity(40);
    let mut bit = 1;
    let mut field = |name: &str, value: &str| {
        let shown = hidden & bit == 0;
        bit <<= 1;
        if !shown {
            return Ok(());
        }
        key.clear();
        key.push_str(side);
        key.push('_');
        key.push_str(name);
        put(enc, &key, value)
    };
    field("workload", &w.name)?;
    field("workload_namespace", &w.namespace)?;
    field("principal", principal.unwrap_or(UNKNOWN))?;
    field("app", &w.app)?;
    field("version", &w.version)?;
    field("canonical_service", &w.canonical_service)?;
    field("canonical_revision", &w.canonical_revision)
}

impl Edge {
    fn encode_parts(
        &self,
        enc: &mut LabelSetEncoder,
        protocol: Protocol,
        flag: Flag,
        hidden: u32,
    ) -> fmt::Result {
        if hidden & REPORTER == 0 {
            put(enc, "reporter", self.reporter.as_str())?;
        }
        workload(
            enc,
            "source",
            &self.source,
            self.source_principal.as_deref(),
            hidden / SOURCE,
        )?;
        workload(
            enc,
            "destination",
            &self.destination,
            self.destination_principal.as_deref(),
            hidden / DESTINATION,
        )?;
        let service = [
            ("destination_service", &self.service.host),
            ("destination_service_name", &self.service.name),
            ("destination_service_namespace", &self.service.namespace),
        ];
        for (i, (key, value)) in service.into_iter().enumerate() {
            if hidden & (SERVICE << i) == 0 {
                put(enc, key, value)?;
            }
        }
        if hidden & 4 == 0 {
            put(enc, "request_protocol", protocol.as_str())?;
        }
        if hidden & 8 == 0 {
            put(enc, "response_flags", flag.as_str())?;
        }
        if hidden & 16 == 0 {
            put(enc, "connection_security_policy", self.security.as_str())?;
        }
        Ok(())
    }
}

impl EncodeLabelSet for RequestLabels {
    fn encode(&self, enc: &mut LabelSetEncoder) -> fmt::Result {
        self.edge
            .encode_parts(enc, self.protocol, self.flag, self.hidden)?;
        if self.hidden & 1 == 0 {
            ("response_code", self.code).encode(enc.encode_label())?;
        }
        if self.hidden & 2 == 0 {
            match self.grpc_status {
                Some(s) => ("grpc_response_status", s).encode(enc.encode_label())?,
                None => put(enc, "grpc_response_status", "")?,
            }
        }
        if let Some(extra) = &self.extra {
            for (key, value) in &extra.0 {
                put(enc, key, value)?;
            }
        }
        Ok(())
    }
}

impl EncodeLabelSet for TcpLabels {
    fn encode(&self, enc: &mut LabelSetEncoder) -> fmt::Result {
        self.edge.encode_parts(enc, Protocol::Tcp, self.flag, 0)
    }
}

#[cfg(test)]
mod tests;
