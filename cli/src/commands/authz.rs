//! `meshctl authz check PROXY`: the AuthorizationPolicies a sidecar enforces (read
//! from its running config, so it shows what is enforced, not what is stored),
//! each rule in words, and, given a request (`--principal`, `--path`, ...), the
//! decision the sidecar would make, by the sidecar's own evaluator.

use std::net::IpAddr;

use anyhow::Context;
use http::{HeaderMap, HeaderName, HeaderValue};
use mesh_api::proxy::{AuthzAction, AuthzField, AuthzPolicy, AuthzRule};
use mesh_proxy::authz::{Attributes, Decision, RtAuthz};
use serde::Serialize;

use crate::cli::{AuthzCheckArgs, AuthzCommand, GlobalArgs};
use crate::commands::mesh;
use crate::commands::proxy_config::{config_dump, find_proxy};
use crate::output::Output;

pub fn run(cmd: &AuthzCommand, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    match cmd {
        AuthzCommand::Check(args) => check(args, g, out),
    }
}

/// What `-o json|yaml` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckReport {
    proxy: String,
    workload: String,
    policies: Vec<AuthzPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<DecisionReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DecisionReport {
    allowed: bool,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audited_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dry_run_denied_by: Vec<String>,
}

fn check(args: &AuthzCheckArgs, g: &GlobalArgs, out: &Output) -> anyhow::Result<()> {
    let admin = mesh::admin(&mesh::home(g))?;
    let rt = mesh::runtime()?;
    let w = rt.block_on(find_proxy(&admin, &args.proxy))?;
    let dump = rt.block_on(config_dump(&w))?;
    let policies: Vec<AuthzPolicy> =
        serde_json::from_value(dump["config"]["listeners"]["authz"].clone()).unwrap_or_default();
    let decision = if args.simulates() {
        Some(simulate(args, &policies)?)
    } else {
        None
    };
    let report = CheckReport {
        proxy: w.proxy_id.clone(),
        workload: format!("{}/{}", w.namespace, w.service),
        policies,
        decision,
    };
    if out.is_data() {
        return Ok(out.data(&report)?);
    }
    show(&report, out)
}

fn show(r: &CheckReport, out: &Output) -> anyhow::Result<()> {
    out.line(&format!(
        "proxy {} (workload {}): {} AuthorizationPolic{}",
        r.proxy,
        r.workload,
        r.policies.len(),
        if r.policies.len() == 1 { "y" } else { "ies" }
    ))?;
    if r.policies.is_empty() {
        out.line("no policy selects this workload: every request is allowed")?;
    } else {
        let rows: Vec<Vec<String>> = r
            .policies
            .iter()
            .map(|p| {
                vec![
                    p.action.as_str().to_owned(),
                    p.name.clone(),
                    p.rules.len().to_string(),
                    if p.dry_run { "yes" } else { "no" }.into(),
                ]
            })
            .collect();
        out.table(&["action", "policy", "rules", "dry-run"], &rows)?;
        out.line("")?;
        for p in &r.policies {
            out.line(&format!("{} {}", p.action.as_str(), p.name))?;
            if p.rules.is_empty() {
                out.line(match p.action {
                    AuthzAction::Allow => "  no rules: matches nothing (allows nothing)",
                    _ => "  no rules: matches nothing",
                })?;
            }
            for (i, rule) in p.rules.iter().enumerate() {
                out.line(&format!("  rule {i}: {}", describe(rule)))?;
            }
        }
        out.line("")?;
        out.line(&summary(&r.policies))?;
    }
    if let Some(d) = &r.decision {
        out.line("")?;
        let verdict = if d.allowed { "ALLOW" } else { "DENY" };
        out.line(&format!("{verdict}: {}", d.reason))?;
        for a in &d.audited_by {
            out.line(&format!("  audited by {a}"))?;
        }
        for a in &d.dry_run_denied_by {
            out.line(&format!("  dry run: would be denied by {a}"))?;
        }
    }
    Ok(())
}

/// How the workload's policies combine, in one sentence.
fn summary(policies: &[AuthzPolicy]) -> String {
    let enforced = |a: AuthzAction| policies.iter().any(|p| p.action == a && !p.dry_run);
    let mut s = String::from("evaluated in order: CUSTOM, then DENY, then ALLOW; ");
    if enforced(AuthzAction::Allow) {
        s.push_str("a request no ALLOW policy matches is denied (403 RBAC: access denied)");
    } else {
        s.push_str("no ALLOW policy, so a request no DENY policy matches is allowed");
    }
    if enforced(AuthzAction::Custom) {
        s.push_str(
            "; CUSTOM (external authorization) is not supported yet: its matches are denied",
        );
    }
    s
}

/// A rule in words: `from principals a, b; to methods GET and paths /x*; when ...`.
fn describe(rule: &AuthzRule) -> String {
    let group = |g: &Vec<AuthzField>| {
        if g.is_empty() {
            return "anything".to_owned();
        }
        g.iter().map(field).collect::<Vec<_>>().join(" and ")
    };
    let mut parts = Vec::new();
    if !rule.from.is_empty() {
        let g: Vec<String> = rule.from.iter().map(group).collect();
        parts.push(format!("from {}", g.join(" | ")));
    }
    if !rule.to.is_empty() {
        let g: Vec<String> = rule.to.iter().map(group).collect();
        parts.push(format!("to {}", g.join(" | ")));
    }
    if !rule.when.is_empty() {
        let g: Vec<String> = rule.when.iter().map(field).collect();
        parts.push(format!("when {}", g.join(" and ")));
    }
    if parts.is_empty() {
        "every request".into()
    } else {
        parts.join("; ")
    }
}

fn field(f: &AuthzField) -> String {
    format!(
        "{}{} {}",
        f.attr.key(),
        if f.not { " not in" } else { " in" },
        f.values.join(", ")
    )
}

/// The decision the sidecar would make for the request the flags describe.
fn simulate(args: &AuthzCheckArgs, policies: &[AuthzPolicy]) -> anyhow::Result<DecisionReport> {
    let mut problems = Vec::new();
    let engine = RtAuthz::compile(policies, &mut problems);
    if !problems.is_empty() {
        anyhow::bail!(
            "the sidecar's policies do not compile: {}",
            problems.join("; ")
        );
    }
    let mut headers = HeaderMap::new();
    for h in &args.headers {
        let (k, v) = h
            .split_once(':')
            .or_else(|| h.split_once('='))
            .with_context(|| format!("--header {h:?}: expected NAME:VALUE"))?;
        headers.append(
            HeaderName::try_from(k.trim()).with_context(|| format!("--header {h:?}: bad name"))?,
            HeaderValue::try_from(v.trim())
                .with_context(|| format!("--header {h:?}: bad value"))?,
        );
    }
    let path = mesh_proxy::authz::normalize_path(args.path.as_deref().unwrap_or("/"));
    let principal = args
        .principal
        .as_deref()
        .map(|p| p.strip_prefix("spiffe://").unwrap_or(p));
    let source_ip: IpAddr = args.source_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let attrs = Attributes {
        http: !args.tcp,
        principal,
        source_ip,
        destination_ip: None,
        port: args.port.unwrap_or(0),
        sni: None,
        method: args.method.as_deref().unwrap_or("GET"),
        host: args.host.as_deref().unwrap_or(""),
        path: &path,
        headers: Some(&headers),
    };
    Ok(report(&engine.evaluate(&attrs)))
}

fn report(d: &Decision) -> DecisionReport {
    let reason = match (&d.decided_by, d.allowed) {
        (Some(m), false) => format!(
            "denied by {} policy {}{}",
            m.action.as_str(),
            m.policy,
            m.rule.map(|r| format!(" (rule {r})")).unwrap_or_default()
        ),
        (None, false) => format!("no ALLOW policy matched ({})", d.unmatched_allow.join(", ")),
        (Some(m), true) => format!(
            "allowed by ALLOW policy {}{}",
            m.policy,
            m.rule.map(|r| format!(" (rule {r})")).unwrap_or_default()
        ),
        (None, true) => "no ALLOW or DENY policy matches".into(),
    };
    DecisionReport {
        allowed: d.allowed,
        reason,
        policy: d.decided_by.as_ref().map(|m| m.policy.clone()),
        rule: d.decided_by.as_ref().and_then(|m| m.rule),
        audited_by: d.audited.iter().map(|m| m.policy.clone()).collect(),
        dry_run_denied_by: d.dry_run_denied.iter().map(|m| m.policy.clone()).collect(),
    }
}
