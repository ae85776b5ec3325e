//! Inbound authorization: the workload's AuthorizationPolicies, compiled once per
//! config and evaluated per request (or per CONNECT tunnel) in Istio's order:
//! CUSTOM (not supported: matching requests are denied), then DENY, then ALLOW
//! (with any ALLOW policy, a request no ALLOW policy matches is denied). AUDIT
//! policies never change the decision; their matches, every denial, and what
//! dry-run policies would have done go to the audit log ([`audit`]).
//!
//! For TCP (a CONNECT tunnel), HTTP-only fields (hosts, methods, paths, headers,
//! JWT attributes) cannot be checked; as Istio does, an ALLOW rule that has any
//! never matches, and a DENY or AUDIT rule is checked without them, so a policy
//! written for HTTP is never weaker for TCP.

pub mod audit;
mod matchers;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use http::HeaderMap;
use mesh_api::proxy::{AuthzAction, AuthzAttr, AuthzField, AuthzPolicy};

use matchers::{Cidr, StrMatch};

pub use matchers::normalize_path;

/// The compiled policies of a workload.
#[derive(Debug, Default)]
pub struct RtAuthz {
    policies: Box<[RtPolicy]>,
}

#[derive(Debug)]
struct RtPolicy {
    name: Box<str>,
    action: AuthzAction,
    dry_run: bool,
    rules: Box<[RtRule]>,
}

#[derive(Debug)]
struct RtRule {
    /// Each an ANDed group; any group matches (none: anything).
    from: Box<[Box<[RtField]>]>,
    to: Box<[Box<[RtField]>]>,
    when: Box<[RtField]>,
    http_only: bool,
}

#[derive(Debug)]
struct RtField {
    attr: AuthzAttr,
    values: Values,
    not: bool,
}

#[derive(Debug)]
enum Values {
    Str(Box<[StrMatch]>),
    Ip(Box<[Cidr]>),
    Port(Box<[u16]>),
}

/// What a request or connection is, as policies see it.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// An HTTP request (else a TCP connection).
    pub http: bool,
    /// The peer's SPIFFE ID without `spiffe://`, when mutual TLS.
    pub principal: Option<&'a str>,
    pub source_ip: IpAddr,
    pub destination_ip: Option<IpAddr>,
    /// The port the request is for (the service port).
    pub port: u16,
    pub sni: Option<&'a str>,
    pub method: &'a str,
    /// The authority, as sent.
    pub host: &'a str,
    /// The normalized path ([`normalize_path`]).
    pub path: &'a str,
    pub headers: Option<&'a HeaderMap>,
}

impl Attributes<'_> {
    fn namespace(&self) -> Option<&str> {
        let rest = self.principal?.split_once("/ns/")?.1;
        Some(rest.split('/').next().unwrap_or(rest))
    }
}

/// Which policy (and rule) matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub policy: String,
    pub action: AuthzAction,
    pub rule: Option<usize>,
}

/// The outcome for one request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub allowed: bool,
    /// The policy that decided: the denying one, or the ALLOW policy that matched.
    /// `None` when no policy applies, or when ALLOW policies exist and none matched.
    pub decided_by: Option<Matched>,
    /// Matching AUDIT policies.
    pub audited: Vec<Matched>,
    /// Dry-run policies that would have denied the request.
    pub dry_run_denied: Vec<Matched>,
    /// The ALLOW policies considered when none matched (for the log).
    pub unmatched_allow: Vec<String>,
}

impl Decision {
    /// Whether the audit log should record this request.
    pub fn loggable(&self) -> bool {
        !self.allowed || !self.audited.is_empty() || !self.dry_run_denied.is_empty()
    }
}

impl RtAuthz {
    /// Compiles a workload's policies; what cannot be compiled is a problem
    /// message (the push is rejected).
    pub fn compile(policies: &[AuthzPolicy], problems: &mut Vec<String>) -> RtAuthz {
        let compiled = policies
            .iter()
            .map(|p| RtPolicy {
                name: p.name.as_str().into(),
                action: p.action,
                dry_run: p.dry_run,
                rules: p
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let at = format!("authz {}: rules[{i}]", p.name);
                        let group = |g: &Vec<AuthzField>, problems: &mut Vec<String>| {
                            g.iter().map(|f| field(f, &at, problems)).collect()
                        };
                        let from = r.from.iter().map(|g| group(g, problems)).collect();
                        let to = r.to.iter().map(|g| group(g, problems)).collect();
                        let when = group(&r.when, problems);
                        let http_only = r
                            .from
                            .iter()
                            .chain(&r.to)
                            .flatten()
                            .chain(&r.when)
                            .any(|f| f.attr.http_only());
                        RtRule {
                            from,
                            to,
                            when,
                            http_only,
                        }
                    })
                    .collect(),
            })
            .collect();
        RtAuthz { policies: compiled }
    }

    /// Whether any policy applies (else every request is allowed without looking).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Decides one request.
    pub fn evaluate(&self, a: &Attributes<'_>) -> Decision {
        let mut d = Decision {
            allowed: true,
            ..Decision::default()
        };
        let mut shadow_allow = (false, false); // (any dry-run ALLOW, one matched)
        for p in self.policies.iter().filter(|p| p.dry_run) {
            let hit = p.matching_rule(a);
            match p.action {
                AuthzAction::Allow => {
                    shadow_allow.0 = true;
                    shadow_allow.1 |= hit.is_some();
                }
                AuthzAction::Deny | AuthzAction::Custom if hit.is_some() => {
                    d.dry_run_denied.push(p.matched(hit));
                }
                _ => {}
            }
        }
        if shadow_allow.0 && !shadow_allow.1 {
            d.dry_run_denied.push(Matched {
                policy: "(no dry-run ALLOW policy matched)".into(),
                action: AuthzAction::Allow,
                rule: None,
            });
        }
        let enforced = || self.policies.iter().filter(|p| !p.dry_run);
        for p in enforced().filter(|p| p.action == AuthzAction::Audit) {
            if let Some(rule) = p.matching_rule(a) {
                d.audited.push(p.matched(Some(rule)));
            }
        }
        for action in [AuthzAction::Custom, AuthzAction::Deny] {
            if let Some((p, rule)) = enforced()
                .filter(|p| p.action == action)
                .find_map(|p| p.matching_rule(a).map(|r| (p, r)))
            {
                d.allowed = false;
                d.decided_by = Some(p.matched(Some(rule)));
                return d;
            }
        }
        let mut allows = enforced()
            .filter(|p| p.action == AuthzAction::Allow)
            .peekable();
        if allows.peek().is_none() {
            return d;
        }
        let mut considered = Vec::new();
        for p in allows {
            if let Some(rule) = p.matching_rule(a) {
                d.decided_by = Some(p.matched(Some(rule)));
                return d;
            }
            considered.push(p.name.to_string());
        }
        d.allowed = false;
        d.unmatched_allow = considered;
        d
    }
}

impl RtPolicy {
    fn matched(&self, rule: Option<usize>) -> Matched {
        Matched {
            policy: self.name.to_string(),
            action: self.action,
            rule,
        }
    }

    /// The first rule the request matches.
    fn matching_rule(&self, a: &Attributes<'_>) -> Option<usize> {
        // HTTP-only fields on a TCP connection: an ALLOW rule cannot match, a
        // DENY/AUDIT/CUSTOM rule is checked without them.
        let skip_http = !a.http;
        self.rules.iter().position(|r| {
            if skip_http && r.http_only && self.action == AuthzAction::Allow {
                return false;
            }
            let all = |g: &[RtField]| {
                g.iter()
                    .all(|f| skip_http && f.attr.http_only() || f.matches(a))
            };
            (r.from.is_empty() || r.from.iter().any(|g| all(g)))
                && (r.to.is_empty() || r.to.iter().any(|g| all(g)))
                && all(&r.when)
        })
    }
}

impl RtField {
    fn matches(&self, a: &Attributes<'_>) -> bool {
        self.any_value(a) != self.not
    }

    /// Whether the attribute is present and matches some value.
    fn any_value(&self, a: &Attributes<'_>) -> bool {
        let strs = |v: Option<&str>| match (&self.values, v) {
            (Values::Str(ms), Some(v)) => ms.iter().any(|m| m.matches(v)),
            _ => false,
        };
        let ips = |ip: Option<IpAddr>| match (&self.values, ip) {
            (Values::Ip(cs), Some(ip)) => cs.iter().any(|c| c.contains(ip)),
            _ => false,
        };
        match &self.attr {
            AuthzAttr::Principal => strs(a.principal),
            AuthzAttr::Namespace => strs(a.namespace()),
            AuthzAttr::SourceIp | AuthzAttr::RemoteIp => ips(Some(a.source_ip)),
            AuthzAttr::DestinationIp => ips(a.destination_ip),
            AuthzAttr::RequestPrincipal | AuthzAttr::Jwt(_) => false,
            AuthzAttr::Host => {
                let host = a.host.to_ascii_lowercase();
                let bare = crate::config::split_host_port(&host).0;
                strs(Some(&host)) || (bare != host && strs(Some(bare)))
            }
            AuthzAttr::Method => strs(Some(a.method)),
            AuthzAttr::Path => strs(Some(a.path)),
            AuthzAttr::Header(h) => a.headers.is_some_and(|hs| {
                hs.get_all(h.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| strs(Some(v)))
            }),
            AuthzAttr::Port => matches!(&self.values, Values::Port(ps) if ps.contains(&a.port)),
            AuthzAttr::Sni => strs(a.sni),
        }
    }
}

fn field(f: &AuthzField, at: &str, problems: &mut Vec<String>) -> RtField {
    let values = match f.attr {
        AuthzAttr::SourceIp | AuthzAttr::RemoteIp | AuthzAttr::DestinationIp => Values::Ip(
            f.values
                .iter()
                .filter_map(|v| {
                    let c = Cidr::parse(v);
                    if c.is_none() {
                        problems.push(format!(
                            "{at}: {}: {v:?} is not an IP address or CIDR block",
                            f.attr.key()
                        ));
                    }
                    c
                })
                .collect(),
        ),
        AuthzAttr::Port => Values::Port(
            f.values
                .iter()
                .filter_map(|v| {
                    let p = v.parse::<u16>().ok();
                    if p.is_none() {
                        problems.push(format!("{at}: {}: {v:?} is not a port", f.attr.key()));
                    }
                    p
                })
                .collect(),
        ),
        AuthzAttr::Host => Values::Str(
            f.values
                .iter()
                .map(|v| StrMatch::parse(&v.to_ascii_lowercase(), false))
                .collect(),
        ),
        AuthzAttr::Path => Values::Str(f.values.iter().map(|v| StrMatch::parse(v, true)).collect()),
        _ => Values::Str(f.values.iter().map(|v| StrMatch::parse(v, false)).collect()),
    };
    RtField {
        attr: f.attr.clone(),
        values,
        not: f.not,
    }
}
