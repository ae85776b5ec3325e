//! AuthorizationPolicy: which policies select a workload, resolved into the
//! proxy's flat form (`mesh_api::proxy::AuthzPolicy`). Istio's selection: a policy
//! in the root namespace (`istio-system`) applies mesh-wide, one in another
//! namespace to that namespace; a `selector` narrows either to the workloads whose
//! labels match. Policies with `targetRef`/`targetRefs` attach to gateways and
//! waypoints, never to sidecars, so they are left out here as Istio does.

use std::collections::BTreeMap;

use mesh_api::Resource;
use mesh_api::proxy::{AuthzAction, AuthzAttr, AuthzField, AuthzPolicy, AuthzRule};
use mesh_api::security::{Action, AuthorizationPolicySpec, Condition, Operation, Source};

use super::scope::ROOT_NAMESPACE;
use super::services::namespace_of;

/// The annotation that makes a policy evaluated and logged but not enforced.
const DRY_RUN: &str = "istio.io/dry-run";

#[derive(Debug, Clone)]
struct Indexed {
    namespace: String,
    policy: AuthzPolicy,
    spec: AuthorizationPolicySpec,
}

/// The mesh's AuthorizationPolicies, sorted by namespace and name, each already
/// in the proxy's form.
#[derive(Debug, Clone, Default)]
pub struct AuthzIndex {
    policies: Vec<Indexed>,
}

impl AuthzIndex {
    pub fn new(resources: &[Resource]) -> Self {
        let mut policies: Vec<Indexed> = resources
            .iter()
            .filter_map(|r| match r {
                Resource::AuthorizationPolicy(ap)
                    if ap.spec.target_ref.is_none() && ap.spec.target_refs.is_empty() =>
                {
                    let namespace = namespace_of(r).to_owned();
                    let name = ap.metadata.name.clone().unwrap_or_default();
                    let dry_run = ap
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(DRY_RUN))
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                    Some(Indexed {
                        policy: convert(&namespace, &name, dry_run, &ap.spec),
                        namespace,
                        spec: ap.spec.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        policies.sort_by(|a, b| a.policy.name.cmp(&b.policy.name));
        AuthzIndex { policies }
    }

    /// The policies that select a workload in `namespace` with `labels`.
    pub fn for_workload(
        &self,
        namespace: &str,
        labels: &BTreeMap<String, String>,
    ) -> Vec<AuthzPolicy> {
        self.policies
            .iter()
            .filter(|p| {
                (p.namespace == namespace || p.namespace == ROOT_NAMESPACE)
                    && p.spec.selector.as_ref().is_none_or(|s| s.matches(labels))
            })
            .map(|p| p.policy.clone())
            .collect()
    }
}

fn convert(
    namespace: &str,
    name: &str,
    dry_run: bool,
    spec: &AuthorizationPolicySpec,
) -> AuthzPolicy {
    AuthzPolicy {
        name: format!("{namespace}/{name}"),
        action: match spec.action() {
            Action::Allow => AuthzAction::Allow,
            Action::Deny => AuthzAction::Deny,
            Action::Audit => AuthzAction::Audit,
            Action::Custom => AuthzAction::Custom,
        },
        dry_run,
        rules: spec
            .rules
            .iter()
            .map(|r| AuthzRule {
                from: r
                    .from
                    .iter()
                    .filter_map(|f| f.source.as_ref())
                    .map(|s| source(namespace, s))
                    .collect(),
                to: r
                    .to
                    .iter()
                    .filter_map(|t| t.operation.as_ref())
                    .map(operation)
                    .collect(),
                when: r
                    .when
                    .iter()
                    .flat_map(|c| condition(namespace, c))
                    .collect(),
            })
            .collect(),
    }
}

/// `values` and `not_values` of one attribute as fields (an empty list is no field).
fn fields(out: &mut Vec<AuthzField>, attr: AuthzAttr, values: &[String], not_values: &[String]) {
    for (values, not) in [(values, false), (not_values, true)] {
        if !values.is_empty() {
            out.push(AuthzField {
                attr: attr.clone(),
                values: values.to_vec(),
                not,
            });
        }
    }
}

/// `sa` or `ns/sa` as a principal pattern of any trust domain.
fn service_account_principals(namespace: &str, accounts: &[String]) -> Vec<String> {
    accounts
        .iter()
        .map(|a| match a.split_once('/') {
            Some((ns, sa)) => format!("*/ns/{ns}/sa/{sa}"),
            None => format!("*/ns/{namespace}/sa/{a}"),
        })
        .collect()
}

fn source(namespace: &str, s: &Source) -> Vec<AuthzField> {
    let mut out = Vec::new();
    fields(
        &mut out,
        AuthzAttr::Principal,
        &s.principals,
        &s.not_principals,
    );
    fields(
        &mut out,
        AuthzAttr::Principal,
        &service_account_principals(namespace, &s.service_accounts),
        &service_account_principals(namespace, &s.not_service_accounts),
    );
    fields(
        &mut out,
        AuthzAttr::RequestPrincipal,
        &s.request_principals,
        &s.not_request_principals,
    );
    fields(
        &mut out,
        AuthzAttr::Namespace,
        &s.namespaces,
        &s.not_namespaces,
    );
    fields(
        &mut out,
        AuthzAttr::SourceIp,
        &s.ip_blocks,
        &s.not_ip_blocks,
    );
    fields(
        &mut out,
        AuthzAttr::RemoteIp,
        &s.remote_ip_blocks,
        &s.not_remote_ip_blocks,
    );
    out
}

fn operation(o: &Operation) -> Vec<AuthzField> {
    let mut out = Vec::new();
    fields(&mut out, AuthzAttr::Host, &o.hosts, &o.not_hosts);
    fields(&mut out, AuthzAttr::Port, &o.ports, &o.not_ports);
    fields(&mut out, AuthzAttr::Method, &o.methods, &o.not_methods);
    fields(&mut out, AuthzAttr::Path, &o.paths, &o.not_paths);
    out
}

fn condition(namespace: &str, c: &Condition) -> Vec<AuthzField> {
    let bracket = |prefix: &str| {
        c.key
            .strip_prefix(prefix)
            .and_then(|k| k.strip_prefix('['))
            .and_then(|k| k.strip_suffix(']'))
            .map(str::to_ascii_lowercase)
    };
    let (attr, values, not_values) = match c.key.as_str() {
        "source.ip" => (AuthzAttr::SourceIp, c.values.clone(), c.not_values.clone()),
        "remote.ip" => (AuthzAttr::RemoteIp, c.values.clone(), c.not_values.clone()),
        "source.namespace" => (AuthzAttr::Namespace, c.values.clone(), c.not_values.clone()),
        "source.principal" => (AuthzAttr::Principal, c.values.clone(), c.not_values.clone()),
        "source.serviceAccount" => (
            AuthzAttr::Principal,
            service_account_principals(namespace, &c.values),
            service_account_principals(namespace, &c.not_values),
        ),
        "request.auth.principal" => (
            AuthzAttr::RequestPrincipal,
            c.values.clone(),
            c.not_values.clone(),
        ),
        "destination.ip" => (
            AuthzAttr::DestinationIp,
            c.values.clone(),
            c.not_values.clone(),
        ),
        "destination.port" => (AuthzAttr::Port, c.values.clone(), c.not_values.clone()),
        "connection.sni" => (AuthzAttr::Sni, c.values.clone(), c.not_values.clone()),
        key => {
            let attr = match bracket("request.headers")
                .or_else(|| bracket("request.experimental.inline.headers"))
            {
                Some(h) => AuthzAttr::Header(h),
                // JWT attributes and Envoy filter metadata: never present here.
                None => AuthzAttr::Jwt(key.to_owned()),
            };
            (attr, c.values.clone(), c.not_values.clone())
        }
    };
    let mut out = Vec::new();
    fields(&mut out, attr, &values, &not_values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::tests::resources;

    const POLICIES: &str = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-viewer, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/productpage"]}
    - source: {serviceAccounts: ["ops/debugger"], notIpBlocks: ["10.0.0.0/8"]}
    to: [{operation: {methods: ["GET"], notPaths: ["/private"]}}]
    when:
    - key: request.headers[X-Version]
      values: ["v1"]
      notValues: ["v0"]
    - key: source.serviceAccount
      values: ["productpage"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: shadow
  namespace: default
  annotations: {istio.io/dry-run: "true"}
spec: {action: DENY, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gateway-only, namespace: default}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-ns, namespace: prod}
spec: {}
"#;

    fn labels(app: &str) -> BTreeMap<String, String> {
        [("app".to_string(), app.to_string())].into()
    }

    fn names(p: &[AuthzPolicy]) -> Vec<&str> {
        p.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn selection_by_namespace_root_and_selector() {
        let idx = AuthzIndex::new(&resources(POLICIES));
        assert_eq!(
            names(&idx.for_workload("default", &labels("reviews"))),
            [
                "default/reviews-viewer",
                "default/shadow",
                "istio-system/deny-admin"
            ]
        );
        assert_eq!(
            names(&idx.for_workload("default", &labels("ratings"))),
            ["default/shadow", "istio-system/deny-admin"]
        );
        assert_eq!(
            names(&idx.for_workload("prod", &labels("reviews"))),
            ["istio-system/deny-admin", "prod/other-ns"]
        );
        assert!(
            idx.for_workload("prod", &labels("x"))
                .iter()
                .any(|p| p.name == "prod/other-ns" && p.rules.is_empty()),
            "spec: {{}} stays a policy with no rules (allow nothing)"
        );
    }

    #[test]
    fn sources_operations_and_conditions_become_fields() {
        let idx = AuthzIndex::new(&resources(POLICIES));
        let p = idx.for_workload("default", &labels("reviews"));
        let viewer = &p[0];
        assert_eq!(viewer.action, AuthzAction::Allow);
        let rule = &viewer.rules[0];
        assert_eq!(
            rule.from[1],
            vec![
                AuthzField {
                    attr: AuthzAttr::Principal,
                    values: vec!["*/ns/ops/sa/debugger".into()],
                    not: false
                },
                AuthzField {
                    attr: AuthzAttr::SourceIp,
                    values: vec!["10.0.0.0/8".into()],
                    not: true
                },
            ]
        );
        assert_eq!(rule.to[0].len(), 2);
        assert!(rule.to[0][1].not && rule.to[0][1].attr == AuthzAttr::Path);
        assert_eq!(rule.when.len(), 3, "{:?}", rule.when);
        assert_eq!(rule.when[0].attr, AuthzAttr::Header("x-version".into()));
        assert!(rule.when[1].not);
        assert_eq!(rule.when[2].values, ["*/ns/default/sa/productpage"]);
        assert!(p[1].dry_run && p[1].action == AuthzAction::Deny);
    }
}
