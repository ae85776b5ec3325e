//! Istio's `validateHTTPRoute` and its helpers: route/redirect/direct-response
//! conflicts, delegation, match requests, header operations, CORS, fault injection,
//! mirroring, retries, redirects, rewrites and direct responses.

use std::sync::LazyLock;

use regex::Regex;

use super::validate::{
    check_total_weight, is_jwt_claim_key, validate_destination, validate_destination_and_weight,
    validate_gateway_names,
};
use super::{
    CorsPolicy, FaultAbort, FaultDelay, HeaderOperations, Headers, HttpDirectResponse,
    HttpFaultInjection, HttpMatchRequest, HttpRedirect, HttpRetry, HttpRewrite, HttpRoute,
};
use crate::common::{Percent, StringMatch};
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// RFC 7230 token characters: what an HTTP header name may hold.
static HEADER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$").expect("static regex"));

const PSEUDO_HEADERS: &[&str] = &[":method", ":scheme", ":authority", ":path", ":status"];

/// Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` conditions.
pub(super) const RETRY_ON_POLICIES: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// The HTTP status codes Go's `net/http` names (what Istio accepts in `retryOn`).
const KNOWN_HTTP_STATUS: &[u16] = &[
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
    305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
    416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
    506, 507, 508, 510, 511,
];

const CORS_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
];

/// gRPC status names (github.com/grpc/grpc doc/statuscodes.md).
const GRPC_STATUS: &[&str] = &[
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

const KB: usize = 1024;
const MB: usize = 1024 * KB;

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
    let mut total: i64 = 0;
    for (i, d) in route.route.iter().enumerate() {
        let here = at.field("route").index(i);
        validate_destination_and_weight(d.destination.as_ref(), d.weight, &here, r);
        if let Some(h) = &d.headers {
            validate_headers(h, &here.field("headers"), r);
        }
        total += i64::from(d.weight);
    }
    check_total_weight(route.route.len(), total, &at.field("route"), r);
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
fn check_string_match(sm: &StringMatch, at: &FieldPath, empty_prefix_ok: bool, r: &mut Report) {
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

/// Istio's `ValidateHTTPHeaderNameOrJwtClaimRoute`.
fn check_match_header_name(name: &str, at: &FieldPath, r: &mut Report) {
    if name.is_empty() {
        r.error(at, "header name cannot be empty");
    } else if !(is_jwt_claim_key(name)
        || PSEUDO_HEADERS.contains(&name)
        || HEADER_NAME.is_match(name))
    {
        r.error(
            at,
            format!(
                "header name {name:?} invalid: use HTTP token characters (letters, digits and !#$%&'*+-.^_`|~), a pseudo-header such as :authority, or @request.auth.claims.<claim>"
            ),
        );
    }
}

fn is_internal_header(name: &str) -> bool {
    name.starts_with(':') || name.eq_ignore_ascii_case("host")
}

fn is_authority_header(name: &str) -> bool {
    name.eq_ignore_ascii_case(":authority") || name.eq_ignore_ascii_case("host")
}

/// Header operations on a route or a destination.
pub(super) fn validate_headers(h: &Headers, at: &FieldPath, r: &mut Report) {
    if let Some(req) = &h.request {
        validate_header_ops(req, &at.field("request"), true, r);
    }
    if let Some(resp) = &h.response {
        validate_header_ops(resp, &at.field("response"), false, r);
    }
}

fn validate_header_ops(ops: &HeaderOperations, at: &FieldPath, request: bool, r: &mut Report) {
    for (field, map) in [("set", &ops.set), ("add", &ops.add)] {
        for (name, value) in map {
            let here = at.field(field).key(name);
            if request {
                // The authority may be rewritten here; it is checked with `rewrite`.
                if name.is_empty() {
                    r.error(&here, "header name cannot be empty");
                } else if is_internal_header(name) && !is_authority_header(name) {
                    r.error(
                        &here,
                        format!("header {name:?} cannot be changed: pseudo-headers (':' prefix) are managed by the proxy"),
                    );
                }
            } else {
                check_header_operation_name(name, &here, r);
            }
            if let Some(p) = header_value_problem(value) {
                r.error(&here, p);
            }
        }
    }
    for (i, name) in ops.remove.iter().enumerate() {
        check_header_operation_name(name, &at.field("remove").index(i), r);
    }
}

/// Istio's `ValidateHTTPHeaderOperationName`.
fn check_header_operation_name(name: &str, at: &FieldPath, r: &mut Report) {
    if name.is_empty() {
        r.error(at, "header name cannot be empty");
    } else if name.eq_ignore_ascii_case("host") {
        r.error(
            at,
            format!("header {name:?} cannot be changed here: rewrite the authority with rewrite.authority or headers.request.set"),
        );
    } else if is_internal_header(name) {
        r.error(
            at,
            format!("header {name:?} cannot be changed: pseudo-headers (':' prefix) are managed by the proxy"),
        );
    }
}

/// Istio's `ValidateHTTPHeaderValue`: no control characters, and `%` only in Envoy's
/// `%VARIABLE%` / `%VARIABLE(args)%` forms or escaped as `%%`.
pub(super) fn header_value_problem(value: &str) -> Option<String> {
    if value
        .chars()
        .any(|c| (c <= '\u{1f}' && c != '\t') || c == '\u{7f}')
    {
        return Some(format!(
            "header value {value:?} invalid: control characters are not allowed"
        ));
    }
    envoy_format_problem(value.as_bytes())
        .map(|p| format!("header value {value:?} invalid: {p} (write a literal '%' as '%%')"))
}

/// A port of Envoy's header formatter parser (as Istio's `validateHeaderValue`).
fn envoy_format_problem(v: &[u8]) -> Option<&'static str> {
    #[derive(PartialEq)]
    enum S {
        Literal,
        VarName,
        ExpectArray,
        ExpectString,
        InString,
        DelimOrEnd,
        ArgsEnd,
        VarEnd,
    }
    let mut s = S::Literal;
    let mut pos = 0;
    while pos < v.len() {
        let ch = v[pos];
        let has_next = pos + 1 < v.len();
        match s {
            S::Literal if ch == b'%' => {
                if !has_next {
                    return Some("un-escaped '%'");
                }
                if v[pos + 1] == b'%' {
                    pos += 1;
                } else {
                    s = S::VarName;
                }
            }
            S::Literal => {}
            S::VarName => match ch {
                b'%' => s = S::Literal,
                b'(' => s = S::ExpectArray,
                _ => {}
            },
            S::ExpectArray => match ch {
                b'[' => s = S::ExpectString,
                b' ' => {}
                _ => s = S::InString,
            },
            S::DelimOrEnd => match ch {
                b',' => s = S::ExpectString,
                b']' => s = S::ArgsEnd,
                b' ' => {}
                _ => return Some("expecting ',', ']' or whitespace in variable arguments"),
            },
            S::ExpectString => match ch {
                b'"' => s = S::InString,
                b' ' => {}
                _ => return Some("expecting '\"' in variable arguments"),
            },
            S::InString => match ch {
                b'\\' => {
                    if !has_next {
                        return Some("un-terminated backslash in variable arguments");
                    }
                    pos += 1;
                }
                b')' => s = S::VarEnd,
                b'"' => s = S::DelimOrEnd,
                _ => {}
            },
            S::ArgsEnd => match ch {
                b')' => s = S::VarEnd,
                b' ' => {}
                _ => return Some("expecting ')' after variable arguments"),
            },
            S::VarEnd => match ch {
                b'%' => s = S::Literal,
                b' ' => {}
                _ => return Some("expecting '%' to close the variable"),
            },
        }
        pos += 1;
    }
    (s != S::Literal).then_some("un-terminated variable expression")
}

/// Istio's `validateAuthorityRewrite`: the authority is rewritten in one place only.
fn validate_authority_rewrite(route: &HttpRoute, at: &FieldPath, r: &mut Report) {
    let mut current = route
        .rewrite
        .as_ref()
        .map(|rw| rw.authority.as_str())
        .unwrap_or_default();
    let Some(req) = route.headers.as_ref().and_then(|h| h.request.as_ref()) else {
        return;
    };
    for (field, map) in [("set", &req.set), ("add", &req.add)] {
        for (name, value) in map.iter().filter(|(k, _)| is_authority_header(k)) {
            if !current.is_empty() {
                r.error(
                    &at.field("headers").field("request").field(field).key(name),
                    format!(
                        "authority cannot be set more than once: already {current:?}, attempting to set {value:?}; use one of rewrite.authority or one authority header"
                    ),
                );
                return;
            }
            current = value;
        }
    }
}

fn validate_cors(c: &CorsPolicy, at: &FieldPath, r: &mut Report) {
    for (i, origin) in c.allow_origins.iter().enumerate() {
        let here = at.field("allowOrigins").index(i);
        let value = origin
            .exact
            .as_deref()
            .or(origin.prefix.as_deref())
            .or(origin.regex.as_deref())
            .unwrap_or_default();
        if value.is_empty() {
            r.error(
                &here,
                "allowOrigins entry must set a non-empty exact, prefix or regex",
            );
        }
        check_string_match(origin, &here, true, r);
    }
    for (i, m) in c.allow_methods.iter().enumerate() {
        if !CORS_METHODS.contains(&m.as_str()) {
            r.error(
                &at.field("allowMethods").index(i),
                format!(
                    "{m:?} is not a supported HTTP method; one of: {}",
                    CORS_METHODS.join(", ")
                ),
            );
        }
    }
    for (field, names) in [
        ("allowHeaders", &c.allow_headers),
        ("exposeHeaders", &c.expose_headers),
    ] {
        for (i, name) in names.iter().enumerate() {
            let here = at.field(field).index(i);
            if name.is_empty() {
                r.error(&here, "header name cannot be empty");
            } else if name != "*" && !HEADER_NAME.is_match(name) {
                r.error(
                    &here,
                    format!("header name {name:?} invalid: use HTTP token characters or '*'"),
                );
            }
        }
    }
    if let Some(age) = &c.max_age {
        rules::check_duration(r, &at.field("maxAge"), age);
        if age.as_std().subsec_nanos() > 0 {
            r.error(
                &at.field("maxAge"),
                format!("maxAge {age} invalid: only whole seconds are supported"),
            );
        }
    }
}

/// Istio's `validatePercentage` for faults: 0, or 0.0001 to 100.
fn check_fault_percentage(p: &Percent, at: &FieldPath, r: &mut Report) {
    let v = p.value;
    if !(0.0..=100.0).contains(&v) || (v > 0.0 && v < 0.0001) {
        r.error(
            &at.field("value"),
            format!("percentage {v} invalid: must be 0 or in the range 0.0001..100"),
        );
    }
}

fn validate_fault(f: &HttpFaultInjection, at: &FieldPath, r: &mut Report) {
    if f.abort.is_none() && f.delay.is_none() {
        r.error(at, "fault injection needs an abort, a delay, or both");
    }
    if let Some(a) = &f.abort {
        validate_abort(a, &at.field("abort"), r);
    }
    if let Some(d) = &f.delay {
        validate_delay(d, &at.field("delay"), r);
    }
}

fn validate_abort(a: &FaultAbort, at: &FieldPath, r: &mut Report) {
    if let Some(p) = &a.percentage {
        check_fault_percentage(p, &at.field("percentage"), r);
    }
    let set = [
        a.http_status.is_some(),
        a.grpc_status.is_some(),
        a.http2_error.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set > 1 {
        r.error(at, "set only one of httpStatus, grpcStatus or http2Error");
    }
    if let Some(s) = a.http_status {
        check_http_status(i64::from(s), &at.field("httpStatus"), r);
    }
    if let Some(g) = &a.grpc_status
        && !GRPC_STATUS.contains(&g.as_str())
    {
        r.error(
            &at.field("grpcStatus"),
            format!("gRPC status {g:?} is not supported; use a status name such as NOT_FOUND or UNAVAILABLE"),
        );
    }
    if a.http2_error.is_some() {
        r.error(
            &at.field("http2Error"),
            "HTTP/2 abort fault injection is not supported yet: use httpStatus or grpcStatus",
        );
    }
    if set == 0 {
        r.warning(
            at,
            "abort configured, but no error type set: set httpStatus or grpcStatus",
        );
    }
}

fn validate_delay(d: &FaultDelay, at: &FieldPath, r: &mut Report) {
    if let Some(p) = &d.percentage {
        check_fault_percentage(p, &at.field("percentage"), r);
    }
    if d.fixed_delay.is_some() && d.exponential_delay.is_some() {
        r.error(at, "set only one of fixedDelay or exponentialDelay");
    }
    if let Some(fd) = &d.fixed_delay {
        rules::check_duration(r, &at.field("fixedDelay"), fd);
    }
    if let Some(ed) = &d.exponential_delay {
        rules::check_duration(r, &at.field("exponentialDelay"), ed);
        r.error(
            &at.field("exponentialDelay"),
            "exponentialDelay is not supported yet: use fixedDelay",
        );
    }
}

/// Istio's `validateHTTPStatus` (which accepts 600 as well).
fn check_http_status(status: i64, at: &FieldPath, r: &mut Report) {
    if !(200..=600).contains(&status) {
        r.error(
            at,
            format!("HTTP status {status} invalid: must be in the range 200..599"),
        );
    }
}

fn check_mirror_percentage(p: &Percent, at: &FieldPath, r: &mut Report) {
    if p.value > 100.0 || p.value < 0.0 {
        r.error(
            &at.field("value"),
            format!(
                "mirror percentage {} invalid: must be in the range 0..100",
                p.value
            ),
        );
    }
}

fn validate_mirrors(route: &HttpRoute, at: &FieldPath, r: &mut Report) {
    if let Some(p) = route.mirror_percent {
        if p > 100 {
            r.error(
                &at.field("mirrorPercent"),
                format!("mirrorPercent {p} invalid: must be at most 100"),
            );
        }
        r.warning(
            &at.field("mirrorPercent"),
            "mirrorPercent is deprecated: use mirrorPercentage",
        );
    }
    if let Some(p) = &route.mirror_percentage {
        check_mirror_percentage(p, &at.field("mirrorPercentage"), r);
    }
    if let Some(m) = &route.mirror {
        validate_destination(m, &at.field("mirror"), r);
    }
    for (i, m) in route.mirrors.iter().enumerate() {
        let here = at.field("mirrors").index(i);
        match &m.destination {
            None => r.error(
                &here.field("destination"),
                "destination is required for mirrors",
            ),
            Some(d) => {
                validate_destination(d, &here.field("destination"), r);
                if let Some(p) = &m.percentage {
                    check_mirror_percentage(p, &here.field("percentage"), r);
                }
            }
        }
    }
}

fn validate_redirect(rd: &HttpRedirect, at: &FieldPath, r: &mut Report) {
    if rd.uri.is_empty()
        && rd.authority.is_empty()
        && rd.port.is_none()
        && rd.derive_port.is_none()
        && rd.scheme.is_empty()
    {
        r.error(
            at,
            "redirect must set at least one of uri, authority, scheme, port or derivePort",
        );
    }
    if rd.port.is_some() && rd.derive_port.is_some() {
        r.error(at, "set only one of port or derivePort");
    }
    if rd.redirect_code != 0 && !(300..=399).contains(&rd.redirect_code) {
        r.error(
            &at.field("redirectCode"),
            format!(
                "redirect code {} invalid: must be a 3xx code",
                rd.redirect_code
            ),
        );
    }
    if !rd.scheme.is_empty() && rd.scheme != "http" && rd.scheme != "https" {
        r.error(
            &at.field("scheme"),
            format!(
                "redirect scheme {:?} invalid: must be \"http\" or \"https\"",
                rd.scheme
            ),
        );
    }
    if let Some(p) = rd.port.filter(|p| *p > 0) {
        rules::check_port(r, &at.field("port"), p);
    }
}

fn validate_direct_response(dr: &HttpDirectResponse, at: &FieldPath, r: &mut Report) {
    if let Some(body) = &dr.body {
        let here = at.field("body");
        if body.string.is_some() && body.bytes.is_some() {
            r.error(&here, "set only one of string or bytes");
        }
        let size = match (&body.string, &body.bytes) {
            (Some(s), _) => s.len(),
            (None, Some(b)) => match base64_decoded_len(b) {
                Some(n) => n,
                None => {
                    r.error(&here.field("bytes"), "bytes must be base64-encoded");
                    0
                }
            },
            (None, None) => 0,
        };
        if size > MB {
            r.error(
                &here,
                format!("direct response body is {size} bytes: it must be less than 1MB (large bodies hurt control plane performance)"),
            );
        } else if size > 100 * KB {
            r.warning(
                &here,
                format!("direct response body is {size} bytes: large bodies may hurt control plane performance"),
            );
        }
    }
    check_http_status(i64::from(dr.status), &at.field("status"), r);
}

/// The length of base64 data (standard or URL-safe alphabet, padding optional), or
/// `None` when it is not base64.
fn base64_decoded_len(s: &str) -> Option<usize> {
    let data = s.trim_end_matches('=');
    let ok = data
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
        && data.len() % 4 != 1
        && s.len() - data.len() <= 2;
    ok.then(|| data.len() * 3 / 4)
}

fn validate_retry(rt: &HttpRetry, at: &FieldPath, r: &mut Report) {
    if rt.attempts < 0 {
        r.error(
            &at.field("attempts"),
            format!("attempts {} invalid: cannot be negative", rt.attempts),
        );
    }
    if rt.attempts == 0
        && (rt.per_try_timeout.is_some()
            || !rt.retry_on.is_empty()
            || rt.retry_remote_localities.is_some())
    {
        r.error(
            &at.field("attempts"),
            "retry policy configured while attempts is 0 (retries disabled): set attempts, or remove perTryTimeout, retryOn and retryRemoteLocalities",
        );
    }
    if let Some(t) = &rt.per_try_timeout {
        rules::check_duration(r, &at.field("perTryTimeout"), t);
    }
    if !rt.retry_on.is_empty() {
        for policy in rt.retry_on.split(',') {
            let is_status = policy
                .parse::<u16>()
                .is_ok_and(|n| KNOWN_HTTP_STATUS.contains(&n));
            if !is_status && !RETRY_ON_POLICIES.contains(&policy) {
                r.error(
                    &at.field("retryOn"),
                    format!(
                        "{policy:?} is not a valid retryOn policy: use HTTP status codes or one of {}",
                        RETRY_ON_POLICIES.join(", ")
                    ),
                );
            }
        }
    }
    if let Some(b) = &rt.backoff {
        rules::check_duration(r, &at.field("backoff"), b);
    }
}

fn validate_rewrite(rw: &HttpRewrite, at: &FieldPath, r: &mut Report) {
    if !rw.uri.is_empty() && rw.uri_regex_rewrite.is_some() {
        r.error(at, "rewrite may set only one of uri or uriRegexRewrite");
    }
    if rw.uri.is_empty() && rw.uri_regex_rewrite.is_none() && rw.authority.is_empty() {
        r.error(
            at,
            "rewrite must set at least one of uri, uriRegexRewrite or authority",
        );
    }
    if let Some(rr) = &rw.uri_regex_rewrite {
        let here = at.field("uriRegexRewrite");
        if rr.regex.is_empty() || rr.rewrite.is_empty() {
            r.error(&here, "uriRegexRewrite needs both match and rewrite");
        } else {
            check_istio_regex(&rr.regex, &here.field("match"), r);
        }
    }
}
