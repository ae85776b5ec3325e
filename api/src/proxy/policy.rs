//! The policies a route or cluster carries: retries, fault injection, mirroring,
//! header operations (routes); connection limits, outlier detection and hashing
//! (clusters). Each is the resolved form of the Istio fields it comes from, with
//! Istio's defaults already applied by the control plane's compiler.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::Duration;

/// When and how often to retry (VirtualService `retries`, or Istio's default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Retries after the first try (`attempts`); 0 never retries.
    pub attempts: u32,
    /// Each try's deadline (`perTryTimeout`); none: only the route timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<Duration>,
    /// Envoy's retry conditions (`5xx`, `gateway-error`, `reset`, `connect-failure`,
    /// `retriable-4xx`, `refused-stream`, `retriable-status-codes`, and the gRPC
    /// ones `cancelled`, `deadline-exceeded`, `internal`, `resource-exhausted`,
    /// `unavailable`).
    pub retry_on: Vec<String>,
    /// Status codes retried under `retriable-status-codes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retriable_status_codes: Vec<u16>,
    /// The base interval of the jittered exponential backoff between tries
    /// (Envoy's 25 ms default; at most ten times it between two tries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Duration>,
    /// Retry on another endpoint than the ones already tried (Istio's default).
    #[serde(default)]
    pub other_hosts: bool,
}

/// Istio's default `retryOn` when a route gives no `retries`.
pub const ISTIO_DEFAULT_RETRY_ON: [&str; 5] = [
    "connect-failure",
    "refused-stream",
    "unavailable",
    "cancelled",
    "retriable-status-codes",
];

/// The retry conditions this proxy understands.
pub const RETRY_CONDITIONS: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// Delays and aborts injected before the request is forwarded (`fault`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<FaultDelay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<FaultAbort>,
}

/// Wait `delay` before forwarding, for `percent` of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultDelay {
    pub delay: Duration,
    /// 0 to 100.
    pub percent: f64,
}

/// Answer with an error instead of forwarding, for `percent` of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultAbort {
    /// An HTTP status (`httpStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// A gRPC status code (`grpcStatus`, as a number): HTTP 200 with `grpc-status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    /// 0 to 100.
    pub percent: f64,
}

/// A copy of the request sent to another cluster, its answer discarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mirror {
    pub cluster: String,
    /// 0 to 100 (100 when the VirtualService gives no percentage).
    pub percent: f64,
}

/// Header changes on the request (before forwarding) and the response (before
/// answering): `set` replaces, `add` appends, `remove` deletes; names lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderOps {
    #[serde(default, skip_serializing_if = "HeaderChanges::is_empty")]
    pub request: HeaderChanges,
    #[serde(default, skip_serializing_if = "HeaderChanges::is_empty")]
    pub response: HeaderChanges,
}

impl HeaderOps {
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }
}

/// One direction's header changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderChanges {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl HeaderChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// Cross-origin resource sharing (`corsPolicy`): preflights from allowed origins
/// are answered by the proxy; answers to allowed origins get the CORS headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorsPolicy {
    pub allow_origins: Vec<crate::common::StringMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Duration>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_credentials: bool,
    /// Answer preflights from other origins without CORS headers instead of
    /// forwarding them (`unmatchedPreflights: IGNORE`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_unmatched_preflights: bool,
}

/// Limits on what a cluster may have in flight (DestinationRule
/// `connectionPool`); what overflows is answered 503 with flag `UO` at once.
/// `None` is unlimited (Istio's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionLimits {
    /// `tcp.maxConnections`: for HTTP/1.1, requests in flight (one per connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// `http.http1MaxPendingRequests`: requests waiting for a connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<u32>,
    /// `http.http2MaxRequests`: requests in flight to the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
    /// `http.maxRetries`: retries in flight to the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// `tcp.connectTimeout` (Istio's default 10 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Duration>,
    /// `http.maxRequestsPerConnection`: a connection is replaced after this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<u32>,
    /// `http.idleTimeout` (or `tcp.idleTimeout`): a connection unused this long
    /// is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    /// `tcp.tcpKeepalive`: TCP keepalive probes on upstream connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// `http.h2UpgradePolicy: UPGRADE`: HTTP/1.1 requests to a peer sidecar go on
    /// its one multiplexed HTTP/2 connection. Istio's default (`DO_NOT_UPGRADE`)
    /// keeps HTTP/1.1, on keep-alive connections.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub h2_upgrade: bool,
}

/// TCP keepalive settings; unset fields keep the OS defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpKeepalive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<u32>,
}

impl ConnectionLimits {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Passive health checking (DestinationRule `outlierDetection`), with Istio's
/// defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutlierPolicy {
    /// Consecutive 5xx answers (local connect failures included) that eject an
    /// endpoint; 0 disables the check.
    pub consecutive_5xx: u32,
    /// Consecutive 502/503/504 answers that eject; 0 disables the check.
    pub consecutive_gateway: u32,
    /// How often ejections are reviewed.
    pub interval: Duration,
    /// An ejection lasts this times the number of times the endpoint was ejected.
    pub base_ejection_time: Duration,
    /// At most this share of a cluster's endpoints is ejected at once (at least one).
    pub max_ejection_percent: u32,
    /// Below this share of healthy endpoints, ejections are ignored (all used).
    pub min_health_percent: u32,
}

/// What consistent hashing keys on (DestinationRule `consistentHash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HashPolicy {
    /// A request header (lowercase name).
    Header(String),
    /// A cookie; when absent and `ttl` is set, the proxy makes one and sets it.
    Cookie {
        name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<Duration>,
    },
    /// The downstream peer's IP address.
    SourceIp,
    /// A query parameter.
    QueryParameter(String),
}
