//! AuthorizationPolicy (`security.istio.io`): access control on workloads, by who sends
//! a request (`from`), what it asks for (`to`) and extra conditions (`when`).

mod attributes;
#[cfg(test)]
mod tests;
mod validate;

use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;
use crate::common::WorkloadSelector;
use crate::object::Object;

/// An AuthorizationPolicy resource.
pub type AuthorizationPolicy = Object<AuthorizationPolicySpec>;

/// The `spec` of an AuthorizationPolicy. `spec: {}` allows nothing: it denies every
/// request to the selected workloads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationPolicySpec {
    /// The workloads the policy applies to; at most one of selector, targetRef and
    /// targetRefs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<WorkloadSelector>,
    /// A single resource (Gateway, Service, ...) the policy applies to. Superseded by
    /// `targetRefs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<PolicyTargetReference>,
    /// The resources (Gateways, Services, ServiceEntries) the policy applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<PolicyTargetReference>,
    /// The rules; a request matches the policy when it matches any rule. No rules
    /// match nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// What to do with a matching request; `ALLOW` when not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The external authorizer for the `CUSTOM` action, from the mesh config's
    /// extension providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ExtensionProvider>,
}

impl AuthorizationPolicySpec {
    /// The action, `ALLOW` when not written.
    pub fn action(&self) -> Action {
        self.action.unwrap_or_default()
    }
}

/// What an AuthorizationPolicy does with the requests its rules match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// Allow matching requests; with any ALLOW policy on a workload, deny the rest.
    #[default]
    Allow,
    /// Deny matching requests.
    Deny,
    /// Mark matching requests for auditing; does not change the decision.
    Audit,
    /// Delegate matching requests to the external authorizer named in `provider`.
    Custom,
}

impl Action {
    /// The action as Istio's YAML writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Deny => "DENY",
            Action::Audit => "AUDIT",
            Action::Custom => "CUSTOM",
        }
    }
}

/// An external authorizer (`provider: {name: my-ext-authz}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtensionProvider {
    /// The extension provider's name in the mesh config.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// One rule: matches when one source, one operation and every condition match. An
/// empty rule (`{}`) matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Who may send the request; any source when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<RuleFrom>,
    /// What the request may do; any operation when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<RuleTo>,
    /// Further conditions, all of which must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
}

/// An entry of `from`: `- source: {...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleFrom {
    /// The source to match; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// An entry of `to`: `- operation: {...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleTo {
    /// The operation to match; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
}

/// Who sent a request. Fields are ANDed; values within a field are ORed. Strings match
/// exactly, by prefix (`abc*`), by suffix (`*abc`), or any non-empty value (`*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// Peer identities from the mTLS certificate, `<trust-domain>/ns/<ns>/sa/<sa>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    /// Peer identities that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_principals: Vec<String>,
    /// Request identities from the JWT, `<iss>/<sub>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_principals: Vec<String>,
    /// Request identities that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_request_principals: Vec<String>,
    /// Namespaces of the peer, from its mTLS certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Namespaces that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_namespaces: Vec<String>,
    /// Service accounts of the peer, `sa` (policy's namespace) or `ns/sa`; no wildcards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<String>,
    /// Service accounts that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_service_accounts: Vec<String>,
    /// Source IPs or CIDR blocks of the connection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_blocks: Vec<String>,
    /// Source IPs or CIDR blocks that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ip_blocks: Vec<String>,
    /// Original client IPs or CIDR blocks (X-Forwarded-For or proxy protocol).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_ip_blocks: Vec<String>,
    /// Original client IPs or CIDR blocks that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_remote_ip_blocks: Vec<String>,
}

/// What a request does. Fields are ANDed; values within a field are ORed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    /// HTTP hosts (case-insensitive); HTTP only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Hosts that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_hosts: Vec<String>,
    /// Destination ports, as strings (`"8080"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Ports that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ports: Vec<String>,
    /// HTTP methods; HTTP only (gRPC is always `POST`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Methods that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_methods: Vec<String>,
    /// Normalized request paths; HTTP only. Also `{*}` / `{**}` path templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Paths that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_paths: Vec<String>,
}

/// A condition on an Istio attribute (`key: request.headers[x-token]`), with values
/// that must match and values that must not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// The attribute, such as `source.ip` or `request.auth.claims[iss]`.
    #[serde(default)]
    pub key: String,
    /// Allowed values; at least one of values and notValues is required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Values that must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_values: Vec<String>,
}
