//! Istio's `validateHTTPRoute`: route/redirect/direct-response/delegate conflicts,
//! match requests and route destinations. Header rules are in `headers.rs`, the
//! other route policies in `policies.rs`.

use super::headers::{check_match_header_name, validate_authority_rewrite, validate_headers};
use super::policies::{
    validate_cors, validate_direct_response, validate_fault, validate_mirrors, validate_redirect,
    validate_retry, validate_rewrite,
};
use super::validate::{
    check_total_weight, validate_destination_and_weight, validate_gateway_names,
};
use super::{HttpMatchRequest, HttpRoute};
use crate::common::StringMatch;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteType {
    /// An ordinary route.
    Independent,
    /// A route of a root VirtualService that delegates.
    Root,
    /// A route of a delegate VirtualService (one without hosts).
    Delegate,
}

pub(super) fn validate_http_route(
    route: &HttpRoute,
    delegate: bool,
    at: &FieldPath,
    r: &mut Report,
) {
    let kind = if delegate {
        RouteType::Delegate
    } else if route.delegate.is_some() {
        RouteType::Root
    } else {
        RouteType::Independent
    };
    validate_conflicts(route, kind, at, r);
    for (i, m) in route.matches.iter().enumerate() {
        validate_match(m, &at.field("match").index(i), r);
    }
    if let Some(h) = &route.headers {
        validate_headers(h, &at.field("headers"), r);
    }
    if let Some(c) = &route.cors_policy {
        validate_cors(c, &at.field("corsPolicy"), r);
    }
    if let Some(f) = &route.fault {
        validate_fault(f, &at.field("fault"), r);
    }
    validate_mirrors(route, at, r);
    if let Some(rd) = &route.redirect {
        validate_redirect(rd, &at.field("redirect"), r);
    }
    if let Some(dr) = &route.direct_response {
        validate_direct_response(dr, &at.field("directResponse"), r);
    }
    if let Some(rt) = &route.retries {
        validate_retry(rt, &at.field("retries"), r);
    }
    if let Some(rw) = &route.rewrite {
        validate_rewrite(rw, &at.field("rewrite"), r);
    }
    validate_authority_rewrite(route, at, r);
    for (i, d) in route.route.iter().enumerate() {
        let here = at.field("route").index(i);
        validate_destination_and_weight(d.destination.as_ref(), d.weight, &here, r);
        if let Some(h) = &d.headers {
            validate_headers(h, &here.field("headers"), r);
        }
    }
    let weights: Vec<i64> = route.route.iter().map(|d| i64::from(d.weight)).collect();
    check_total_weight(&weights, &at.field("route"), r);
    if let Some(t) = &route.timeout {
        rules::check_duration(r, &at.field("timeout"), t);
    }
}

fn validate_conflicts(route: &HttpRoute, kind: RouteType, at: &FieldPath, r: &mut Report) {
    if kind == RouteType::Root {
        if route.redirect.is_some() {
            r.error(
                &at.field("redirect"),
                "a route with delegate must not also set redirect: the delegate virtual service routes the traffic",
            );
        }
        if !route.route.is_empty() {
            r.error(
                &at.field("route"),
                "a route with delegate must not also set route: the delegate virtual service routes the traffic",
            );
        }
        return;
    }
    if kind == RouteType::Delegate && route.delegate.is_some() {
        r.error(
            &at.field("delegate"),
            "a delegate virtual service's route cannot delegate again: only one level of delegation is supported",
        );
    }
    let both = |r: &mut Report, field: &str, a: &str, b: &str| {
        r.error(
            &at.field(field),
            format!("an HTTP route cannot have both {a} and {b}: set only one"),
        );
    };
    if route.redirect.is_some() {
        if !route.route.is_empty() {
            both(r, "route", "route", "redirect");
        }
        if route.fault.is_some() {
            both(r, "fault", "fault", "redirect");
        }
        if route.rewrite.is_some() {
            both(r, "rewrite", "rewrite", "redirect");
        }
        if route.direct_response.is_some() {
            both(r, "directResponse", "directResponse", "redirect");
        }
    } else if route.direct_response.is_some() {
        if !route.route.is_empty() {
            both(r, "route", "route", "directResponse");
        }
        if route.fault.is_some() {
            both(r, "fault", "fault", "directResponse");
        }
        if route.rewrite.is_some() {
            both(r, "rewrite", "rewrite", "directResponse");
        }
    } else if route.route.is_empty() {
        r.error(
            at,
            "an HTTP route needs one of route, redirect, directResponse or delegate",
        );
    }
    if route.mirror.is_some() && !route.mirrors.is_empty() {
        both(r, "mirrors", "mirror", "mirrors");
    }
}

fn validate_match(m: &HttpMatchRequest, at: &FieldPath, r: &mut Report) {
    for (name, sm) in &m.headers {
        let here = at.field("headers").key(name);
        check_match_header_name(name, &here, r);
        check_string_match(sm, &here, false, r);
    }
    for (name, sm) in &m.without_headers {
        let here = at.field("withoutHeaders").key(name);
        check_match_header_name(name, &here, r);
        // `regex: "*"` is not RE2 here: Istio reads it as "header present".
        if sm.regex.as_deref() != Some("*") {
            check_string_match(sm, &here, false, r);
        }
    }
    // Envoy allows an empty path prefix, but not an empty scheme/method/authority one.
    if let Some(sm) = &m.uri {
        check_string_match(sm, &at.field("uri"), true, r);
    }
    for (field, sm) in [
        ("scheme", &m.scheme),
        ("method", &m.method),
        ("authority", &m.authority),
    ] {
        if let Some(sm) = sm {
            check_string_match(sm, &at.field(field), false, r);
        }
    }
    for (name, sm) in &m.query_params {
        check_string_match(sm, &at.field("queryParams").key(name), false, r);
    }
    if m.port != 0 {
        rules::check_port(r, &at.field("port"), m.port);
    }
    rules::check_labels(r, &at.field("sourceLabels"), &m.source_labels);
    validate_gateway_names(&m.gateways, &at.field("gateways"), r);
    if !m.source_namespace.is_empty() && !rules::is_dns1123_label(&m.source_namespace) {
        r.error(
            &at.field("sourceNamespace"),
            format!(
                "sourceNamespace {:?} invalid: a namespace name is letters, digits and '-', at most 63 characters",
                m.source_namespace
            ),
        );
    }
}

/// Istio's `validateStringMatch`: one of exact/prefix/regex, a non-empty prefix
/// (unless `empty_prefix_ok`, as for paths), a valid RE2 regex.
pub(super) fn check_string_match(
    sm: &StringMatch,
    at: &FieldPath,
    empty_prefix_ok: bool,
    r: &mut Report,
) {
    let set = [&sm.exact, &sm.prefix, &sm.regex]
        .iter()
        .filter(|o| o.is_some())
        .count();
    if set > 1 {
        r.error(at, "set only one of exact, prefix or regex");
    }
    if !empty_prefix_ok && sm.prefix.as_deref() == Some("") {
        r.error(
            &at.field("prefix"),
            "prefix match must not be empty (omit the match to match any value)",
        );
    }
    if let Some(re) = &sm.regex {
        check_istio_regex(re, &at.field("regex"), r);
    }
}

/// Istio's `validateStringRegexp`: non-empty, at most 1024 characters (Envoy's RE2
/// program-size limit, approximated), valid RE2.
pub(super) fn check_istio_regex(re: &str, at: &FieldPath, r: &mut Report) {
    if re.len() > 1024 {
        r.error(
            at,
            format!(
                "regex is too large ({} characters): at most 1024 are allowed",
                re.len()
            ),
        );
    } else {
        rules::check_regex(r, at, re);
    }
}
