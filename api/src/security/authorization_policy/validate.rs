//! Istio's `ValidateAuthorizationPolicy`, the CRD's rules, and the dry-run annotation
//! check.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::attributes::{
    attribute, check_each, check_not_empty, check_service_accounts, ip_problem,
    path_template_problem, port_problem, value_problem,
};
use super::{Action, AuthorizationPolicySpec, Condition, Operation, Rule, Source};
use crate::kind::Kind;
use crate::object::Spec;
use crate::path::FieldPath;
use crate::security::policy::{DRY_RUN, dry_run_annotation, is_go_bool, validate_targeting};
use crate::validation::Report;

impl Spec for AuthorizationPolicySpec {
    const KIND: Kind = Kind::AuthorizationPolicy;

    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        let at = FieldPath::spec();
        let action = self.action();
        check_dry_run(meta, action, r);
        validate_targeting(
            self.selector.as_ref(),
            self.target_ref.as_ref(),
            &self.target_refs,
            &at,
            r,
        );
        check_action(self, &at, r);
        if self.rules.len() > 512 {
            r.error(
                &at.field("rules"),
                format!("{} rules is too many: at most 512", self.rules.len()),
            );
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let here = at.field("rules").index(i);
            check_rule(rule, &here, r);
            if action == Action::Custom {
                check_custom_rule(rule, &here, r);
            }
            if action == Action::Deny && denies_all_tcp(rule) {
                r.warning(
                    &here,
                    "this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in the policy's scope; specify the ports (to.operation.ports) it applies to",
                );
            }
        }
    }
}

/// `istio.io/dry-run` must be a boolean, and only ALLOW and DENY policies can dry-run.
fn check_dry_run(meta: &ObjectMeta, action: Action, r: &mut Report) {
    let Some((at, value)) = dry_run_annotation(meta) else {
        return;
    };
    match action {
        Action::Allow | Action::Deny => {
            if !is_go_bool(value) {
                r.error(
                    &at,
                    format!("annotation {DRY_RUN} value {value:?} invalid: must be \"true\" or \"false\""),
                );
            }
        }
        other => r.error(
            &at,
            format!(
                "annotation {DRY_RUN} only supports the ALLOW and DENY actions, found {}",
                other.as_str()
            ),
        ),
    }
}

/// CUSTOM needs rules and a provider; a provider needs CUSTOM; DENY needs rules.
fn check_action(spec: &AuthorizationPolicySpec, at: &FieldPath, r: &mut Report) {
    let action = spec.action();
    match action {
        Action::Custom | Action::Deny if spec.rules.is_empty() => r.error(
            &at.field("rules"),
            format!(
                "{} action without rules is meaningless as it will never be triggered; add an empty rule `{{}}` to trigger it for every request",
                action.as_str()
            ),
        ),
        Action::Custom if spec.provider.as_ref().is_none_or(|p| p.name.is_empty()) => r.error(
            &at.field("provider").field("name"),
            "the CUSTOM action requires provider.name, the name of an extension provider in the mesh config",
        ),
        _ => {}
    }
    if spec.provider.is_some() && action != Action::Custom {
        r.error(
            &at.field("provider"),
            format!(
                "provider is only allowed with the CUSTOM action, found action {}",
                action.as_str()
            ),
        );
    }
}

/// The fields a CUSTOM policy cannot match on: the external authorizer sees no peer or
/// request identity.
fn check_custom_rule(rule: &Rule, at: &FieldPath, r: &mut Report) {
    for (i, from) in rule.from.iter().enumerate() {
        let Some(src) = &from.source else { continue };
        let here = at.field("from").index(i).field("source");
        for (name, set) in [
            ("namespaces", !src.namespaces.is_empty()),
            ("notNamespaces", !src.not_namespaces.is_empty()),
            ("serviceAccounts", !src.service_accounts.is_empty()),
            ("notServiceAccounts", !src.not_service_accounts.is_empty()),
            ("principals", !src.principals.is_empty()),
            ("notPrincipals", !src.not_principals.is_empty()),
            ("requestPrincipals", !src.request_principals.is_empty()),
            (
                "notRequestPrincipals",
                !src.not_request_principals.is_empty(),
            ),
        ] {
            if set {
                r.error(
                    &here.field(name),
                    format!("from.source.{name} is not supported with the CUSTOM action"),
                );
            }
        }
    }
    for (i, cond) in rule.when.iter().enumerate() {
        let k = cond.key.as_str();
        if matches!(
            k,
            "source.namespace" | "source.serviceAccount" | "source.principal"
        ) || k.starts_with("request.auth.")
        {
            r.error(
                &at.field("when").index(i).field("key"),
                format!("condition key {k} is not supported with the CUSTOM action"),
            );
        }
    }
}

fn check_rule(rule: &Rule, at: &FieldPath, r: &mut Report) {
    if rule.from.len() > 512 {
        r.error(
            &at.field("from"),
            format!("{} sources is too many: at most 512", rule.from.len()),
        );
    }
    for (i, from) in rule.from.iter().enumerate() {
        let here = at.field("from").index(i);
        match &from.source {
            None => r.error(
                &here.field("source"),
                "from entries need a source: write `- source: {...}`",
            ),
            Some(src) => check_source(src, &here.field("source"), r),
        }
    }
    for (i, to) in rule.to.iter().enumerate() {
        let here = at.field("to").index(i);
        match &to.operation {
            None => r.error(
                &here.field("operation"),
                "to entries need an operation: write `- operation: {...}`",
            ),
            Some(op) => check_operation(op, &here.field("operation"), r),
        }
    }
    for (i, cond) in rule.when.iter().enumerate() {
        check_condition(cond, &at.field("when").index(i), r);
    }
}

fn check_source(src: &Source, at: &FieldPath, r: &mut Report) {
    let identities = [
        &src.principals,
        &src.not_principals,
        &src.namespaces,
        &src.not_namespaces,
    ];
    let accounts = !src.service_accounts.is_empty() || !src.not_service_accounts.is_empty();
    if accounts && identities.iter().any(|l| !l.is_empty()) {
        r.error(
            at,
            "cannot set serviceAccounts or notServiceAccounts together with principals or namespaces (or their negations): use one way to name peers",
        );
    }
    let lists = [
        ("principals", &src.principals),
        ("notPrincipals", &src.not_principals),
        ("requestPrincipals", &src.request_principals),
        ("notRequestPrincipals", &src.not_request_principals),
        ("namespaces", &src.namespaces),
        ("notNamespaces", &src.not_namespaces),
        ("ipBlocks", &src.ip_blocks),
        ("notIpBlocks", &src.not_ip_blocks),
        ("remoteIpBlocks", &src.remote_ip_blocks),
        ("notRemoteIpBlocks", &src.not_remote_ip_blocks),
    ];
    if !accounts && lists.iter().all(|(_, l)| l.is_empty()) {
        r.error(
            at,
            "source must not be empty: set at least one of principals, requestPrincipals, namespaces, serviceAccounts, ipBlocks or remoteIpBlocks (or their not* forms)",
        );
    }
    for (name, list) in lists {
        let here = at.field(name);
        check_not_empty(r, &here, list);
        if name.ends_with("pBlocks") {
            check_each(r, &here, list, ip_problem);
        }
    }
    check_service_accounts(r, &at.field("serviceAccounts"), &src.service_accounts);
    check_service_accounts(
        r,
        &at.field("notServiceAccounts"),
        &src.not_service_accounts,
    );
}

fn check_operation(op: &Operation, at: &FieldPath, r: &mut Report) {
    let lists = [
        ("hosts", &op.hosts),
        ("notHosts", &op.not_hosts),
        ("ports", &op.ports),
        ("notPorts", &op.not_ports),
        ("methods", &op.methods),
        ("notMethods", &op.not_methods),
        ("paths", &op.paths),
        ("notPaths", &op.not_paths),
    ];
    if lists.iter().all(|(_, l)| l.is_empty()) {
        r.error(
            at,
            "operation must not be empty: set at least one of hosts, ports, methods or paths (or their not* forms)",
        );
    }
    for (name, list) in lists {
        let here = at.field(name);
        check_not_empty(r, &here, list);
        if name.ends_with("orts") {
            check_each(r, &here, list, port_problem);
        } else if name.ends_with("aths") {
            check_each(r, &here, list, path_template_problem);
        }
    }
}

fn check_condition(cond: &Condition, at: &FieldPath, r: &mut Report) {
    if cond.key.is_empty() {
        r.error(
            &at.field("key"),
            "condition key must not be empty: name an attribute such as source.ip or request.headers[name]",
        );
        return;
    }
    if cond.values.is_empty() && cond.not_values.is_empty() {
        r.error(
            at,
            format!(
                "condition on {} needs values or notValues: at least one must be set",
                cond.key
            ),
        );
        return;
    }
    let kind = match attribute(&cond.key) {
        Ok(kind) => kind,
        Err(problem) => {
            r.error(&at.field("key"), problem);
            return;
        }
    };
    for (name, list) in [("values", &cond.values), ("notValues", &cond.not_values)] {
        let here = at.field(name);
        check_not_empty(r, &here, list);
        for (i, v) in list.iter().enumerate() {
            if !v.is_empty()
                && let Some(p) = value_problem(kind, v)
            {
                r.error(
                    &here.index(i),
                    format!("invalid value for {}: {p}", cond.key),
                );
            }
        }
        if kind == super::attributes::ValueKind::ServiceAccount && list.len() > 16 {
            r.error(
                &here,
                format!(
                    "{} service accounts is too many: at most 16 values",
                    list.len()
                ),
            );
        }
    }
}

/// Istio's warning: in a DENY rule with only HTTP attributes (no ports, and no peer
/// identity or IPs in a from-only rule), a TCP connection cannot be checked against the
/// HTTP attributes, so the rule denies every TCP connection in scope.
fn denies_all_tcp(rule: &Rule) -> bool {
    let sources: Vec<&Source> = rule.from.iter().filter_map(|f| f.source.as_ref()).collect();
    let ops: Vec<&Operation> = rule
        .to
        .iter()
        .filter_map(|t| t.operation.as_ref())
        .collect();
    let tcp_in_from = sources.iter().any(|s| {
        [
            &s.principals,
            &s.not_principals,
            &s.ip_blocks,
            &s.not_ip_blocks,
            &s.namespaces,
            &s.not_namespaces,
            &s.remote_ip_blocks,
            &s.not_remote_ip_blocks,
            &s.service_accounts,
            &s.not_service_accounts,
        ]
        .iter()
        .any(|l| !l.is_empty())
    });
    let tcp_in_to = ops
        .iter()
        .any(|o| !o.ports.is_empty() || !o.not_ports.is_empty());
    (!sources.is_empty() && ops.is_empty() && !tcp_in_from) || (!ops.is_empty() && !tcp_in_to)
}
