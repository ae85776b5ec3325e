//! Connection pool limits (shared with the Sidecar's inbound settings) and outlier
//! detection, with Istio's `validateConnectionPool` and `validateOutlierDetection`.

use serde::{Deserialize, Serialize};

use crate::common::Duration;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// Connection pool settings per upstream host: TCP-level and HTTP-level limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionPoolSettings {
    /// Limits common to TCP and HTTP connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpSettings>,
    /// Limits for HTTP/1.1, HTTP/2 and gRPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpSettings>,
}

/// TCP connection limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpSettings {
    /// Maximum HTTP/1 or TCP connections to a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i32>,
    /// TCP connect timeout (at least 1ms; default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Duration>,
    /// Enable TCP keepalive with these parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// Close connections older than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connection_duration: Option<Duration>,
    /// Close connections idle this long (`0s` disables; default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
}

/// TCP keepalive parameters (OS defaults when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpKeepalive {
    /// Unanswered probes before the connection is dead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<u32>,
    /// Idle time before probes start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Duration>,
    /// Time between probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
}

/// HTTP connection pool limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpSettings {
    /// Requests queued while waiting for a connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1_max_pending_requests: Option<i32>,
    /// Active requests to a destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_max_requests: Option<i32>,
    /// Requests per connection (1 disables keepalive; 0 unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<i32>,
    /// Outstanding retries to all hosts of the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<i32>,
    /// Close connections without active requests this long (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    /// Whether HTTP/1.1 connections are upgraded to HTTP/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2_upgrade_policy: Option<H2UpgradePolicy>,
    /// Keep the client's HTTP version towards the upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_client_protocol: Option<bool>,
    /// Concurrent streams per HTTP/2 connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<i32>,
}

/// Policy for upgrading HTTP/1.1 connections to HTTP/2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum H2UpgradePolicy {
    /// The mesh-wide default.
    #[default]
    Default,
    /// Never upgrade.
    DoNotUpgrade,
    /// Upgrade to HTTP/2.
    Upgrade,
}

/// Outlier detection (passive health checking): eject hosts that keep failing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutlierDetection {
    /// Deprecated: use `consecutiveGatewayErrors` or `consecutive5xxErrors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<i32>,
    /// Count locally originated failures (connect errors, timeouts) separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_external_local_origin_errors: Option<bool>,
    /// Local-origin failures before ejection (needs the split above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_local_origin_failures: Option<u32>,
    /// 502/503/504 (or connect) errors before ejection; 0 disables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    /// 5xx errors before ejection (default 5); 0 disables.
    #[serde(
        default,
        rename = "consecutive5xxErrors",
        skip_serializing_if = "Option::is_none"
    )]
    pub consecutive_5xx_errors: Option<u32>,
    /// Time between ejection sweeps (at least 1ms; default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Minimum ejection time, multiplied by the number of ejections (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<Duration>,
    /// Maximum percentage of hosts ejected (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<i32>,
    /// Outlier detection pauses below this percentage of healthy hosts (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_health_percent: Option<i32>,
}

fn check_non_negative(r: &mut Report, at: &FieldPath, what: &str, v: Option<i32>) {
    if let Some(n) = v
        && n < 0
    {
        r.error(at, format!("{what} {n} invalid: must be non-negative"));
    }
}

fn check_opt_duration(r: &mut Report, at: &FieldPath, d: &Option<Duration>) {
    if let Some(d) = d {
        rules::check_duration(r, at, d);
    }
}

impl ConnectionPoolSettings {
    /// Istio's `validateConnectionPool`.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        if self.tcp.is_none() && self.http.is_none() {
            r.error(
                at,
                "connection pool must have at least one field: tcp or http",
            );
            return;
        }
        if let Some(h) = &self.http {
            let h_at = at.field("http");
            check_non_negative(
                r,
                &h_at.field("http1MaxPendingRequests"),
                "http1MaxPendingRequests",
                h.http1_max_pending_requests,
            );
            check_non_negative(
                r,
                &h_at.field("http2MaxRequests"),
                "http2MaxRequests",
                h.http2_max_requests,
            );
            check_non_negative(
                r,
                &h_at.field("maxRequestsPerConnection"),
                "maxRequestsPerConnection",
                h.max_requests_per_connection,
            );
            check_non_negative(r, &h_at.field("maxRetries"), "maxRetries", h.max_retries);
            check_opt_duration(r, &h_at.field("idleTimeout"), &h.idle_timeout);
            if h.h2_upgrade_policy == Some(H2UpgradePolicy::Upgrade)
                && h.use_client_protocol == Some(true)
            {
                r.error(
                    &h_at.field("useClientProtocol"),
                    "useClientProtocol must not be true when h2UpgradePolicy is UPGRADE",
                );
            }
            check_non_negative(
                r,
                &h_at.field("maxConcurrentStreams"),
                "maxConcurrentStreams",
                h.max_concurrent_streams,
            );
        }
        if let Some(t) = &self.tcp {
            let t_at = at.field("tcp");
            check_non_negative(
                r,
                &t_at.field("maxConnections"),
                "maxConnections",
                t.max_connections,
            );
            check_opt_duration(r, &t_at.field("connectTimeout"), &t.connect_timeout);
            check_opt_duration(
                r,
                &t_at.field("maxConnectionDuration"),
                &t.max_connection_duration,
            );
            // 0s disables the TCP idle timeout, so it is allowed.
            if let Some(d) = &t.idle_timeout
                && !d.as_std().is_zero()
            {
                rules::check_duration(r, &t_at.field("idleTimeout"), d);
            }
            if let Some(ka) = &t.tcp_keepalive {
                let ka_at = t_at.field("tcpKeepalive");
                check_opt_duration(r, &ka_at.field("time"), &ka.time);
                check_opt_duration(r, &ka_at.field("interval"), &ka.interval);
            }
        }
    }
}

fn check_int_percent(r: &mut Report, at: &FieldPath, what: &str, v: Option<i32>) {
    if let Some(p) = v
        && !(0..=100).contains(&p)
    {
        r.error(
            at,
            format!("{what} {p} invalid: must be in the range 0..100"),
        );
    }
}

impl OutlierDetection {
    /// Istio's `validateOutlierDetection`.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        check_opt_duration(r, &at.field("baseEjectionTime"), &self.base_ejection_time);
        if self.consecutive_errors.is_some_and(|n| n != 0) {
            r.warning(
                &at.field("consecutiveErrors"),
                "outlier detection consecutiveErrors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
            );
        }
        if self.split_external_local_origin_errors != Some(true)
            && self
                .consecutive_local_origin_failures
                .is_some_and(|n| n > 0)
        {
            r.error(
                &at.field("consecutiveLocalOriginFailures"),
                "consecutiveLocalOriginFailures is specified, but splitExternalLocalOriginErrors is not true: set splitExternalLocalOriginErrors: true for it to apply",
            );
        }
        check_opt_duration(r, &at.field("interval"), &self.interval);
        check_int_percent(
            r,
            &at.field("maxEjectionPercent"),
            "maxEjectionPercent",
            self.max_ejection_percent,
        );
        check_int_percent(
            r,
            &at.field("minHealthPercent"),
            "minHealthPercent",
            self.min_health_percent,
        );
    }
}
