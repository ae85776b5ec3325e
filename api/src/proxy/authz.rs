//! Inbound authorization as a proxy runs it: the AuthorizationPolicies that select
//! a workload, resolved to one flat form. Each rule is a list of *fields*; a field
//! names one request attribute and the values it must (or, negated, must not)
//! match, so `from`, `to` and `when` all become the same thing.

use serde::{Deserialize, Serialize};

/// What a policy does with the requests its rules match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthzAction {
    /// Allow matching requests; with any ALLOW policy, the rest are denied.
    Allow,
    /// Deny matching requests.
    Deny,
    /// Write matching requests to the audit log; the decision is unchanged.
    Audit,
    /// An external authorizer meshctl does not support yet: matching requests are
    /// denied (fail closed), as Istio does when the provider is unknown.
    Custom,
}

impl AuthzAction {
    /// The action as Istio writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthzAction::Allow => "ALLOW",
            AuthzAction::Deny => "DENY",
            AuthzAction::Audit => "AUDIT",
            AuthzAction::Custom => "CUSTOM",
        }
    }
}

/// One AuthorizationPolicy that selects this workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthzPolicy {
    /// `namespace/name`.
    pub name: String,
    pub action: AuthzAction,
    /// `istio.io/dry-run: "true"`: evaluated and logged, never enforced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// A request matches the policy when it matches any rule; none: nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<AuthzRule>,
}

/// One rule: some source (any when `from` is empty), some operation (any when
/// `to` is empty) and every `when` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthzRule {
    /// Each entry is one `source`: all its fields must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Vec<AuthzField>>,
    /// Each entry is one `operation`: all its fields must match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Vec<AuthzField>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<AuthzField>,
}

/// One attribute and its values: matches when the attribute matches any value
/// (or, with `not`, none of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthzField {
    pub attr: AuthzAttr,
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not: bool,
}

/// A request attribute a policy can test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthzAttr {
    /// The peer's identity from its mutual-TLS certificate,
    /// `<trust-domain>/ns/<ns>/sa/<sa>`.
    Principal,
    /// The peer's namespace, from its certificate.
    Namespace,
    /// The connection's source address (`ipBlocks`, `source.ip`).
    SourceIp,
    /// The original client address (`remoteIpBlocks`, `remote.ip`).
    RemoteIp,
    /// The request's JWT identity; meshctl does not validate JWTs yet, so it is
    /// never present.
    RequestPrincipal,
    /// A JWT claim, audience or presenter (`request.auth.*`); never present yet.
    Jwt(String),
    /// The HTTP host (case-insensitive; a `:port` suffix is ignored).
    Host,
    /// The HTTP method.
    Method,
    /// The normalized HTTP path, without the query.
    Path,
    /// An HTTP request header (`request.headers[name]`).
    Header(String),
    /// The port the request arrived for.
    Port,
    /// The address the request arrived at (`destination.ip`).
    DestinationIp,
    /// The TLS server name the peer asked for (`connection.sni`).
    Sni,
}

impl AuthzAttr {
    /// Whether the attribute exists only for HTTP requests (not TCP connections).
    pub fn http_only(&self) -> bool {
        matches!(
            self,
            AuthzAttr::RequestPrincipal
                | AuthzAttr::Jwt(_)
                | AuthzAttr::Host
                | AuthzAttr::Method
                | AuthzAttr::Path
                | AuthzAttr::Header(_)
        )
    }

    /// The attribute as a policy's `when` names it.
    pub fn key(&self) -> String {
        match self {
            AuthzAttr::Principal => "source.principal".into(),
            AuthzAttr::Namespace => "source.namespace".into(),
            AuthzAttr::SourceIp => "source.ip".into(),
            AuthzAttr::RemoteIp => "remote.ip".into(),
            AuthzAttr::RequestPrincipal => "request.auth.principal".into(),
            AuthzAttr::Jwt(k) => k.clone(),
            AuthzAttr::Host => "request.host".into(),
            AuthzAttr::Method => "request.method".into(),
            AuthzAttr::Path => "request.path".into(),
            AuthzAttr::Header(h) => format!("request.headers[{h}]"),
            AuthzAttr::Port => "destination.port".into(),
            AuthzAttr::DestinationIp => "destination.ip".into(),
            AuthzAttr::Sni => "connection.sni".into(),
        }
    }
}
