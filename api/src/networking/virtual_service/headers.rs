//! Header rules: names in matches, header operations (set/add/remove) on requests
//! and responses, header values in Envoy's `%VARIABLE%` syntax, and where the
//! authority may be rewritten.

use std::sync::LazyLock;

use regex::Regex;

use super::validate::is_jwt_claim_key;
use super::{HeaderOperations, Headers, HttpRoute};
use crate::path::FieldPath;
use crate::validation::Report;

/// RFC 7230 token characters: what an HTTP header name may hold.
pub(super) static HEADER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$").expect("static regex"));

const PSEUDO_HEADERS: &[&str] = &[":method", ":scheme", ":authority", ":path", ":status"];

/// Istio's `ValidateHTTPHeaderNameOrJwtClaimRoute`.
pub(super) fn check_match_header_name(name: &str, at: &FieldPath, r: &mut Report) {
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
pub(super) fn validate_authority_rewrite(route: &HttpRoute, at: &FieldPath, r: &mut Report) {
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
