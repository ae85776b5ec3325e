//! Route policies: CORS, fault injection, mirroring, redirects, direct responses,
//! retries and rewrites.

use super::headers::HEADER_NAME;
use super::http::{check_istio_regex, check_string_match};
use super::{
    CorsPolicy, FaultAbort, FaultDelay, HttpDirectResponse, HttpFaultInjection, HttpRedirect,
    HttpRetry, HttpRewrite, HttpRoute,
};
use crate::common::Percent;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

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

/// gRPC status names (github.com/grpc/grpc doc/statuscodes.md), by code.
pub(super) const GRPC_STATUS: &[&str] = &[
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

pub(super) fn validate_cors(c: &CorsPolicy, at: &FieldPath, r: &mut Report) {
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

pub(super) fn validate_fault(f: &HttpFaultInjection, at: &FieldPath, r: &mut Report) {
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

pub(super) fn validate_mirrors(route: &HttpRoute, at: &FieldPath, r: &mut Report) {
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
        m.validate(&at.field("mirror"), r);
    }
    for (i, m) in route.mirrors.iter().enumerate() {
        let here = at.field("mirrors").index(i);
        match &m.destination {
            None => r.error(
                &here.field("destination"),
                "destination is required for mirrors",
            ),
            Some(d) => {
                d.validate(&here.field("destination"), r);
                if let Some(p) = &m.percentage {
                    check_mirror_percentage(p, &here.field("percentage"), r);
                }
            }
        }
    }
}

pub(super) fn validate_redirect(rd: &HttpRedirect, at: &FieldPath, r: &mut Report) {
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

pub(super) fn validate_direct_response(dr: &HttpDirectResponse, at: &FieldPath, r: &mut Report) {
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

pub(super) fn validate_retry(rt: &HttpRetry, at: &FieldPath, r: &mut Report) {
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

pub(super) fn validate_rewrite(rw: &HttpRewrite, at: &FieldPath, r: &mut Report) {
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
