//! Istio's unreachable-rule analysis (`analyzeUnreachableHTTPRules` and its TCP/TLS
//! twins): a rule after a catch-all rule, or whose matches all repeat earlier ones, is
//! never used (IST0130 VirtualServiceUnreachableRule); a match that repeats an earlier
//! one, or whose path prefix an earlier match already covers, is never used (IST0131
//! VirtualServiceIneffectiveMatch). Match names are ignored when comparing.

use std::collections::BTreeMap;

use super::{
    HttpMatchRequest, HttpRoute, L4MatchAttributes, TlsMatchAttributes, VirtualServiceSpec,
};
use crate::common::StringMatch;
use crate::path::FieldPath;
use crate::validation::{Report, Severity};

const UNREACHABLE: &str = "IST0130";
const INEFFECTIVE: &str = "IST0131";

pub(super) fn analyze(spec: &VirtualServiceSpec, at: &FieldPath, r: &mut Report) {
    let http: Vec<Rule<'_, HttpMatchRequest>> = spec
        .http
        .iter()
        .map(|h| Rule {
            name: &h.name,
            matches: &h.matches,
        })
        .collect();
    let overlaps = unreachable(&http, &at.field("http"), without_name, r);
    overlapping_prefixes(&spec.http, &overlaps, &at.field("http"), r);
    let tcp: Vec<_> = spec
        .tcp
        .iter()
        .map(|t| Rule {
            name: "",
            matches: &t.matches,
        })
        .collect();
    unreachable(&tcp, &at.field("tcp"), Clone::clone, r);
    let tls: Vec<_> = spec
        .tls
        .iter()
        .map(|t| Rule {
            name: "",
            matches: &t.matches,
        })
        .collect();
    unreachable(&tls, &at.field("tls"), Clone::clone, r);
}

/// A rule of any protocol: its name (HTTP only) and its matches.
struct Rule<'a, M> {
    name: &'a str,
    matches: &'a [M],
}

fn without_name(m: &HttpMatchRequest) -> HttpMatchRequest {
    HttpMatchRequest {
        name: String::new(),
        ..m.clone()
    }
}

/// How Istio names a rule in messages: its quoted name, or `#index`.
fn rule_name(name: &str, i: usize) -> String {
    if name.is_empty() {
        format!("#{i}")
    } else {
        format!("{name:?}")
    }
}

fn report_unreachable(r: &mut Report, at: &FieldPath, rule: &str, reason: &str) {
    r.coded(
        Severity::Warning,
        UNREACHABLE,
        at,
        format!("virtualService rule {rule} not used ({reason})"),
    );
}

fn report_ineffective(r: &mut Report, at: &FieldPath, rule: &str, m: &str, dup: &str) {
    r.coded(
        Severity::Info,
        INEFFECTIVE,
        at,
        format!(
            "virtualService rule {rule} match {m} is not used (duplicate/overlapping match in rule {dup})"
        ),
    );
}

/// Reports unreachable rules and duplicate matches; returns the (rule, match) indexes
/// of the matches that were not duplicates, for the prefix-overlap pass.
fn unreachable<M: NamedMatch>(
    rules: &[Rule<'_, M>],
    at: &FieldPath,
    normalize: impl Fn(&M) -> M,
    r: &mut Report,
) -> Vec<(usize, usize)> {
    let mut seen: Vec<(M, usize)> = Vec::new();
    let mut fresh = Vec::new();
    let mut catch_all: Option<usize> = None;
    for (i, rule) in rules.iter().enumerate() {
        let here = at.index(i);
        let name = rule_name(rule.name, i);
        if rule.matches.is_empty() {
            if catch_all.is_some() {
                report_unreachable(r, &here, &name, "only the last rule can have no matches");
            }
            catch_all = Some(i);
            continue;
        }
        let mut duplicates = 0;
        for (j, m) in rule.matches.iter().enumerate() {
            if catch_all.is_some() {
                report_unreachable(r, &here, &name, "route without matches defined before");
                continue;
            }
            let key = normalize(m);
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                let dup = rule_name(rules[*first].name, *first);
                let m_name = rule_name(m.match_name(), j);
                report_ineffective(r, &here.field("match").index(j), &name, &m_name, &dup);
                duplicates += 1;
            } else {
                seen.push((key, i));
                fresh.push((i, j));
            }
        }
        if duplicates == rule.matches.len() {
            report_unreachable(r, &here, &name, "all matches used by prior rules");
        }
    }
    fresh
}

/// A match condition of any protocol; only HTTP matches have names.
trait NamedMatch: PartialEq {
    fn match_name(&self) -> &str {
        ""
    }
}

impl NamedMatch for HttpMatchRequest {
    fn match_name(&self) -> &str {
        &self.name
    }
}

impl NamedMatch for TlsMatchAttributes {}

impl NamedMatch for L4MatchAttributes {}

/// One prefix match reduced to what Istio's overlap check compares.
struct PrefixMatch {
    rule: usize,
    index: usize,
    rule_str: String,
    match_str: String,
    prefix: String,
    port: u32,
    method: String,
    authority: String,
    headers: BTreeMap<String, String>,
    query_params: BTreeMap<String, String>,
    without_headers: BTreeMap<String, String>,
}

/// `exact:v` or `prefix:v`; empty for regex or presence matches.
fn exact_or_prefix(sm: Option<&StringMatch>) -> String {
    match sm {
        Some(StringMatch { exact: Some(e), .. }) if !e.is_empty() => format!("exact:{e}"),
        Some(StringMatch {
            prefix: Some(p), ..
        }) if !p.is_empty() => format!("prefix:{p}"),
        _ => String::new(),
    }
}

fn flatten(map: &BTreeMap<String, StringMatch>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(k, v)| (k.clone(), exact_or_prefix(Some(v))))
        .collect()
}

/// Istio's `genMatchHTTPRoutes`: only matches on a non-empty URI prefix take part.
fn prefix_match(routes: &[HttpRoute], rule: usize, index: usize) -> Option<PrefixMatch> {
    let route = &routes[rule];
    let m = &route.matches[index];
    let prefix = m
        .uri
        .as_ref()?
        .prefix
        .as_deref()
        .filter(|p| !p.is_empty())?;
    // When no method is given, Istio's check assumes GET.
    let mut method = exact_or_prefix(m.method.as_ref());
    if method.is_empty() {
        method = "exact:GET".into();
    }
    Some(PrefixMatch {
        rule,
        index,
        rule_str: rule_name(&route.name, rule),
        match_str: rule_name(&m.name, index),
        prefix: prefix.to_owned(),
        port: m.port,
        method,
        authority: exact_or_prefix(m.authority.as_ref()),
        headers: flatten(&m.headers),
        query_params: flatten(&m.query_params),
        without_headers: flatten(&m.without_headers),
    })
}

/// Istio's `coveredValidation`: whether earlier match `a` covers later match `b`.
fn covers(a: &PrefixMatch, b: &PrefixMatch) -> bool {
    let value_covers = |va: &str, vb: &str| va == vb || va.starts_with(vb);
    let map_covers = |ma: &BTreeMap<String, String>, mb: &BTreeMap<String, String>| {
        ma.len() == mb.len()
            && ma
                .iter()
                .all(|(k, va)| mb.get(k).is_some_and(|vb| value_covers(va, vb)))
    };
    b.prefix.starts_with(&a.prefix)
        && a.port == b.port
        && value_covers(&a.method, &b.method)
        && value_covers(&a.authority, &b.authority)
        && map_covers(&a.headers, &b.headers)
        && map_covers(&a.query_params, &b.query_params)
        && map_covers(&a.without_headers, &b.without_headers)
}

/// The second half of `analyzeUnreachableHTTPRules`: a later prefix match that an
/// earlier, shorter prefix (with the same other conditions) already covers.
fn overlapping_prefixes(
    routes: &[HttpRoute],
    fresh: &[(usize, usize)],
    at: &FieldPath,
    r: &mut Report,
) {
    let list: Vec<PrefixMatch> = fresh
        .iter()
        .filter_map(|&(i, j)| prefix_match(routes, i, j))
        .collect();
    for (n, a) in list.iter().enumerate() {
        for b in &list[n + 1..] {
            if a.prefix == b.prefix || !covers(a, b) {
                continue;
            }
            let m = format!("{} of prefix {}", b.match_str, b.prefix);
            let dup = format!("{} of prefix {} on {}", a.match_str, a.prefix, a.rule_str);
            let here = at.index(b.rule).field("match").index(b.index);
            report_ineffective(r, &here, &b.rule_str, &m, &dup);
        }
    }
}
