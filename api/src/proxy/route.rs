//! Outbound HTTP routing: virtual hosts chosen by the request's authority, routes
//! tried in order (the first match wins, as in Istio), and what a route does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::{CorsPolicy, Fault, HeaderOps, Mirror, RetryPolicy};
use crate::common::{Duration, StringMatch};

/// Every virtual host this proxy routes for, and every TCP service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteConfig {
    pub virtual_hosts: Vec<VirtualHost>,
    /// Non-HTTP service ports: opaque TCP, or TLS passed through by SNI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tcp_services: Vec<TcpService>,
}

/// One TCP (or TLS) service port as clients address it (`CONNECT mysql:3306`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpService {
    /// `mysql.default.svc.cluster.local:3306`.
    pub name: String,
    /// The names that select it, as for a [`VirtualHost`].
    pub domains: Vec<String>,
    pub port: u16,
    /// Tried in order; the first that matches wins.
    pub routes: Vec<TcpRoute>,
}

/// One `tls` or `tcp` rule of a VirtualService (or the service's own route).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TcpRoute {
    pub name: String,
    /// For `tls` rules: the SNI names (`*.example.com` allowed) the TLS
    /// ClientHello must carry; empty matches every connection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sni_hosts: Vec<String>,
    /// Weighted destinations.
    pub clusters: Vec<WeightedCluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// One service port as clients address it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualHost {
    /// `reviews.default.svc.cluster.local:9080`.
    pub name: String,
    /// The authorities that select this virtual host, lowercase: every name the
    /// service answers to (`reviews`, `reviews.default`, `reviews.default.svc`,
    /// `reviews.default.svc.cluster.local`), each alone (port implied by
    /// `port`) and with `:port`. A `*.` prefix is a wildcard.
    pub domains: Vec<String>,
    pub port: u16,
    /// Tried in order; the first that matches wins. No match: 404 with flag `NR`.
    pub routes: Vec<Route>,
}

/// One rule of a virtual host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The VirtualService rule's name, or `default` for a service's own route.
    pub name: String,
    /// Alternatives (OR); empty matches every request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<RouteMatch>,
    pub action: RouteAction,
    /// Delays and aborts injected before the action (`fault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Header changes of the rule (`headers`), for every destination.
    #[serde(default, skip_serializing_if = "HeaderOps::is_empty")]
    pub headers: HeaderOps,
    /// Cross-origin resource sharing (`corsPolicy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsPolicy>,
    /// Where the rule came from (`VirtualService default/reviews`), for debugging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Conditions on a request, all of which must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<StringMatch>,
    /// Header name (lowercase) to match; an empty match means "present".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, StringMatch>,
    /// Headers that must not match.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub without_headers: BTreeMap<String, StringMatch>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_params: BTreeMap<String, StringMatch>,
    /// Match the URI case-insensitively (exact and prefix matches).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_uri_case: bool,
}

/// What a matched route does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RouteAction {
    /// Forward to one of several clusters, by weight.
    Forward(Forward),
    /// Answer directly.
    DirectResponse { status: u16, body: String },
    /// Answer with a redirect.
    Redirect {
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheme: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forward {
    /// At least one. Weights are relative; a 0 weight gets no traffic.
    pub clusters: Vec<WeightedCluster>,
    /// The whole request's deadline (VirtualService `timeout`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Rewrite the path prefix (`rewrite.uri`) or authority before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite_authority: Option<String>,
    /// Rewrite the path with a regex (`rewrite.uriRegexRewrite`): every match of
    /// `regex` is replaced by `substitution` (`\1` refers to a group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite_regex: Option<RegexRewrite>,
    /// When to try again; none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Copies of the request sent elsewhere, answers discarded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<Mirror>,
}

/// A regex path rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegexRewrite {
    pub regex: String,
    pub substitution: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedCluster {
    pub cluster: String,
    pub weight: u32,
    /// Header changes for requests sent to this destination (`route[].headers`).
    #[serde(default, skip_serializing_if = "HeaderOps::is_empty")]
    pub headers: HeaderOps,
}
