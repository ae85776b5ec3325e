//! Value checks of AuthorizationPolicy fields, after Istio's `pkg/config/security`:
//! IPs and CIDRs, ports, service accounts, path templates, and condition attributes.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use crate::path::FieldPath;
use crate::validation::Report;

/// Istio's `ValidateIPs`: an address (`10.1.2.3`, `fe80::1%eth0`) or, with a `/`, a
/// CIDR block whose prefix length fits the address family.
pub(super) fn ip_problem(v: &str) -> Option<String> {
    if let Some((addr, bits)) = v.split_once('/') {
        let max = match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => 32,
            Ok(IpAddr::V6(_)) => 128,
            Err(_) => {
                return Some(format!(
                    "bad CIDR range {v:?}: {addr:?} is not an IP address; expected a block such as 10.0.0.0/8 or 2001:db8::/32"
                ));
            }
        };
        let digits_ok = !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && (bits == "0" || !bits.starts_with('0'));
        if !digits_ok || bits.parse::<u32>().map_or(true, |n| n > max) {
            return Some(format!(
                "bad CIDR range {v:?}: prefix length must be a number from 0 to {max}"
            ));
        }
        return None;
    }
    let ok = v.parse::<IpAddr>().is_ok()
        || v.split_once('%')
            .is_some_and(|(a, zone)| !zone.is_empty() && a.parse::<Ipv6Addr>().is_ok());
    (!ok).then(|| format!("bad IP address {v:?}: expected an IPv4 or IPv6 address or a CIDR block"))
}

/// Istio's `ValidatePorts`: a decimal number up to 65535.
pub(super) fn port_problem(v: &str) -> Option<String> {
    let ok = !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit())
        && v.parse::<u64>().is_ok_and(|p| p <= 65535);
    (!ok).then(|| format!("bad port {v:?}: must be a number from 0 to 65535"))
}

/// Istio's `CheckServiceAccount` for one value: `sa` or `ns/sa`, no wildcard, at most
/// 320 characters.
pub(super) fn service_account_problem(v: &str) -> Option<String> {
    const FORMAT: &str = "expected 'serviceAccount' or 'namespace/serviceAccount'";
    if v.contains('*') {
        return Some(format!(
            "service account {v:?} invalid: wildcards are not allowed"
        ));
    }
    if v.matches('/').count() > 1 {
        return Some(format!("service account {v:?} invalid: {FORMAT}"));
    }
    if v.len() > 320 {
        return Some(format!(
            "service account {v:?} invalid: at most 320 characters"
        ));
    }
    match v.split_once('/') {
        Some(("", _)) => Some(format!(
            "service account {v:?} invalid: empty namespace; {FORMAT}"
        )),
        Some((_, "")) => Some(format!(
            "service account {v:?} invalid: empty service account; {FORMAT}"
        )),
        _ => None,
    }
}

/// Report each empty string of a list (Istio's `CheckEmptyValues`).
pub(super) fn check_not_empty(r: &mut Report, at: &FieldPath, values: &[String]) {
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() {
            r.error(
                &at.index(i),
                "empty value not allowed: remove it, or use \"*\" to match any non-empty value",
            );
        }
    }
}

/// Report each value of a list that `problem` finds wrong.
pub(super) fn check_each(
    r: &mut Report,
    at: &FieldPath,
    values: &[String],
    problem: fn(&str) -> Option<String>,
) {
    for (i, v) in values.iter().enumerate() {
        if !v.is_empty()
            && let Some(p) = problem(v)
        {
            r.error(&at.index(i), p);
        }
    }
}

/// Service-account lists: at most 16 values, each valid.
pub(super) fn check_service_accounts(r: &mut Report, at: &FieldPath, values: &[String]) {
    if values.len() > 16 {
        r.error(
            at,
            format!(
                "{} service accounts is too many: at most 16 values",
                values.len()
            ),
        );
    }
    check_not_empty(r, at, values);
    check_each(r, at, values, service_account_problem);
}

static VALID_LITERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$").expect("static regex"));

const MATCH_ONE: &str = "{*}";
const MATCH_ANY: &str = "{**}";

/// Istio's `CheckValidPathTemplate` for one path: `{*}` matches one segment, `{**}` the
/// rest and must come last; `{`/`}` nowhere else; with a template every other segment
/// is a plain RFC 3986 path literal.
pub(super) fn path_template_problem(path: &str) -> Option<String> {
    let has_template = path.contains(MATCH_ONE) || path.contains(MATCH_ANY);
    let mut seen_any = false;
    for glob in path.trim_matches('/').split('/') {
        match glob {
            MATCH_ONE | MATCH_ANY if seen_any => {
                return Some(format!(
                    "invalid path {path:?}: {{**}} must be the last operator of a path template"
                ));
            }
            MATCH_ONE => continue,
            MATCH_ANY => {
                seen_any = true;
                continue;
            }
            _ => {}
        }
        if glob.contains(['{', '}']) {
            return Some(format!(
                "invalid path {path:?}: '{{' and '}}' are only allowed in the templates {{*}} and {{**}}, each a whole path segment"
            ));
        }
        if has_template && !VALID_LITERAL.is_match(glob) {
            return Some(format!(
                "invalid path {path:?}: segment {glob:?} is not a valid literal; in a path template, other segments must be non-empty and use only letters, digits and -._~%!$&'()+,;:@="
            ));
        }
    }
    None
}

/// How the values of a condition's attribute are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueKind {
    Any,
    Ip,
    Port,
    ServiceAccount,
}

/// Istio's `ValidateAttribute` for the key: which attributes a condition may test.
/// Returns how to check the values, or what is wrong with the key.
pub(super) fn attribute(key: &str) -> Result<ValueKind, String> {
    const MAP_KEYS: [&str; 4] = [
        "request.headers",
        "request.experimental.inline.headers",
        "request.auth.claims",
        "experimental.envoy.filters.",
    ];
    if let Some(prefix) = MAP_KEYS.iter().find(|p| key.starts_with(*p)) {
        let open = key.find('[');
        let ok = key.ends_with(']') && open.is_some_and(|o| o > 0 && o + 2 < key.len());
        return if ok {
            Ok(ValueKind::Any)
        } else {
            Err(format!(
                "bad key {key:?}: {prefix} needs a name in brackets, such as {}",
                if prefix.ends_with('.') {
                    format!("{prefix}http.rbac[key]")
                } else {
                    format!("{prefix}[name]")
                }
            ))
        };
    }
    match key {
        "source.ip" | "remote.ip" | "destination.ip" => Ok(ValueKind::Ip),
        "destination.port" => Ok(ValueKind::Port),
        "source.serviceAccount" => Ok(ValueKind::ServiceAccount),
        "source.namespace"
        | "source.principal"
        | "request.auth.principal"
        | "request.auth.audiences"
        | "request.auth.presenter"
        | "connection.sni" => Ok(ValueKind::Any),
        "destination.namespace" => Err(format!(
            "attribute {key} is replaced by the policy's metadata.namespace"
        )),
        "destination.name" | "destination.user" => Err(format!(
            "deprecated attribute {key}: only supported in v1alpha1"
        )),
        _ if key.starts_with("destination.labels") => Err(format!(
            "attribute {key} is replaced by the workload selector"
        )),
        _ => Err(format!(
            "unknown attribute {key:?}: supported are request.headers[...], source.ip, remote.ip, source.namespace, source.principal, source.serviceAccount, request.auth.principal, request.auth.audiences, request.auth.presenter, request.auth.claims[...], destination.ip, destination.port, connection.sni and experimental.envoy.filters.*[...]"
        )),
    }
}

/// What is wrong with one value of a condition, given its attribute's kind.
pub(super) fn value_problem(kind: ValueKind, v: &str) -> Option<String> {
    match kind {
        ValueKind::Any => None,
        ValueKind::Ip => ip_problem(v),
        ValueKind::Port => port_problem(v),
        ValueKind::ServiceAccount => service_account_problem(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips() {
        for ok in [
            "10.1.2.3",
            "10.0.0.0/8",
            "2001:db8::/32",
            "::1",
            "fe80::1%eth0",
            "0.0.0.0/0",
        ] {
            assert_eq!(ip_problem(ok), None, "{ok}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.0/33",
            "10.0.0.0/08",
            "a.b.c.d",
            "::/129",
            "10.0.0.0/",
            "1.2.3.4/+8",
        ] {
            assert!(ip_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ports() {
        for ok in ["0", "80", "65535", "0080"] {
            assert_eq!(port_problem(ok), None, "{ok}");
        }
        for bad in ["65536", "-1", "+80", "http", "8o"] {
            assert!(port_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn service_accounts() {
        for ok in ["sleep", "default/sleep"] {
            assert_eq!(service_account_problem(ok), None, "{ok}");
        }
        for bad in ["sleep*", "a/b/c", "/sleep", "default/"] {
            assert!(service_account_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn path_templates() {
        for ok in [
            "/info*",
            "*",
            "/foo/{*}/bar",
            "/foo/{**}",
            "/{*}/{**}/baz",
            "/a/b.c",
        ] {
            assert_eq!(path_template_problem(ok), None, "{ok}");
        }
        for bad in [
            "/foo/{**}/{*}",
            "/foo{bar}",
            "/foo/{*}/ba r",
            "/foo//{*}",
            "/foo/{*}/*",
            "/{***}",
        ] {
            assert!(path_template_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn attributes() {
        assert_eq!(attribute("request.headers[x-token]"), Ok(ValueKind::Any));
        assert_eq!(attribute("request.auth.claims[iss]"), Ok(ValueKind::Any));
        assert_eq!(
            attribute("experimental.envoy.filters.network.mysql_proxy[db.table]"),
            Ok(ValueKind::Any)
        );
        assert_eq!(attribute("source.ip"), Ok(ValueKind::Ip));
        assert_eq!(attribute("destination.port"), Ok(ValueKind::Port));
        assert_eq!(
            attribute("source.serviceAccount"),
            Ok(ValueKind::ServiceAccount)
        );
        for bad in [
            "request.headers",
            "request.headers[]",
            "request.auth.claims",
            "destination.namespace",
            "destination.labels[app]",
            "destination.name",
            "source.user",
        ] {
            assert!(attribute(bad).is_err(), "{bad}");
        }
    }
}
