//! Checks shared by many resources: host names, ports, percentages, durations,
//! labels, regular expressions and addresses, with Istio's rules and messages that
//! say what would be valid.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

use super::Report;
use crate::common::Duration;
use crate::path::FieldPath;

static DNS1123_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$").expect("static regex")
});
static WILDCARD_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$")
        .expect("static regex")
});
static LABEL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$").expect("static regex")
});

/// A DNS-1123 label: letters, digits and `-`, at most 63 characters, starting and
/// ending with a letter or digit.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && DNS1123_LABEL.is_match(s)
}

/// A lowercase DNS-1123 subdomain, as Kubernetes requires of object names.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.')
            .all(|l| is_dns1123_label(l) && l == l.to_lowercase())
}

/// Istio's `ValidateDNS1123Labels`: dot-separated labels; a trailing dot is allowed;
/// the top-level label may not be all digits (so IP addresses are not host names).
pub fn dns1123_labels_problem(domain: &str) -> Option<String> {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts.last().copied().unwrap_or_default();
    if !tld.is_empty() && tld.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)"
        ));
    }
    for (i, label) in parts.iter().enumerate() {
        if i == parts.len() - 1 && label.is_empty() && i > 0 {
            return None;
        }
        if !is_dns1123_label(label) {
            return Some(format!(
                "domain name {domain:?} invalid (label {label:?} invalid: labels are letters, digits and '-', 1-63 characters)"
            ));
        }
    }
    None
}

/// Istio's `ValidateFQDN`: a host name of DNS labels, at most 255 characters, with
/// no wildcards and a top-level label that is not all digits.
pub fn fqdn_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("empty domain name not allowed".into());
    }
    if host.len() > 255 {
        return Some(format!(
            "domain name {host:?} too long (max 255 characters)"
        ));
    }
    dns1123_labels_problem(host)
}

/// Istio's `ValidateWildcardDomain`: a host name whose first label may be `*` or
/// start with `*` (`*.example.com`, `*`, `*-svc.example.com`); nothing else may be a
/// wildcard. Returns what is wrong, or `None` when the host is valid.
pub fn wildcard_domain_problem(domain: &str) -> Option<String> {
    if domain.is_empty() {
        return Some("host must not be empty".into());
    }
    if domain.len() > 255 {
        return Some(format!(
            "domain name {domain:?} too long (max 255 characters)"
        ));
    }
    let (first, rest) = match domain.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (domain, None),
    };
    if first.len() > 63 || !WILDCARD_LABEL.is_match(first) {
        return Some(format!(
            "domain name {domain:?} invalid (label {first:?} invalid: a wildcard '*' is allowed only as the whole first label or its prefix, as in '*.example.com')"
        ));
    }
    rest.and_then(dns1123_labels_problem)
}

/// Report an invalid host at `at`.
pub fn check_wildcard_host(r: &mut Report, at: &FieldPath, host: &str) {
    if let Some(p) = wildcard_domain_problem(host) {
        r.error(at, p);
    }
}

/// Ports are 1 to 65535.
pub fn check_port(r: &mut Report, at: &FieldPath, port: u32) {
    if !(1..=65535).contains(&port) {
        r.error(
            at,
            format!("port number {port} must be in the range 1..65535"),
        );
    }
}

/// Percentages are 0 to 100 (inclusive).
pub fn check_percentage(r: &mut Report, at: &FieldPath, value: f64) {
    if !(0.0..=100.0).contains(&value) || value.is_nan() {
        r.error(
            at,
            format!("percentage {value} must be in the range 0..100"),
        );
    }
}

/// Istio's `ValidateDuration`: at least 1ms, in whole milliseconds.
pub fn check_duration(r: &mut Report, at: &FieldPath, d: &Duration) {
    let v = d.as_std();
    if v < std::time::Duration::from_millis(1) {
        r.error(at, format!("duration {d} must be at least 1ms"));
    } else if !v.subsec_nanos().is_multiple_of(1_000_000) {
        r.error(
            at,
            format!(
                "duration {d} is finer than a millisecond: only millisecond precision is supported"
            ),
        );
    }
}

/// Kubernetes label keys (`[prefix/]name`) and values.
pub fn check_labels(r: &mut Report, at: &FieldPath, labels: &BTreeMap<String, String>) {
    for (k, v) in labels {
        let here = at.key(k);
        if let Some(p) = label_key_problem(k) {
            r.error(&here, p);
        }
        if !v.is_empty() && (v.len() > 63 || !LABEL_NAME.is_match(v)) {
            r.error(
                &here,
                format!(
                    "label value {v:?} invalid: at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
                ),
            );
        }
    }
}

fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns1123_subdomain(p)
    {
        return Some(format!(
            "label key {key:?} invalid: prefix {p:?} must be a lowercase DNS subdomain"
        ));
    }
    if name.is_empty() || name.len() > 63 || !LABEL_NAME.is_match(name) {
        return Some(format!(
            "label key {key:?} invalid: name must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    None
}

/// A regular expression in RE2 syntax (Rust's `regex` crate is RE2-compatible: no
/// backreferences or lookaround, linear-time matching).
pub fn check_regex(r: &mut Report, at: &FieldPath, re: &str) {
    if re.is_empty() {
        r.error(at, "regex must not be empty");
    } else if let Err(e) = regex::RegexBuilder::new(re).size_limit(1 << 20).build() {
        r.error(
            at,
            format!("invalid RE2 regex {re:?}: {}", first_line(&e.to_string())),
        );
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_owned()
}

/// An IP address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `1.2.3.4`).
pub fn ip_or_cidr_problem(s: &str) -> Option<String> {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (s, None),
    };
    let Ok(addr) = ip.parse::<IpAddr>() else {
        return Some(format!("{s:?} is not an IP address or CIDR block"));
    };
    if let Some(p) = prefix {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        match p.parse::<u8>() {
            Ok(n) if n <= max => {}
            _ => {
                return Some(format!(
                    "{s:?} has an invalid prefix length (must be 0..{max})"
                ));
            }
        }
    }
    None
}

pub fn check_ip_or_cidr(r: &mut Report, at: &FieldPath, s: &str) {
    if let Some(p) = ip_or_cidr_problem(s) {
        r.error(at, p);
    }
}

/// Istio's `validateExportTo`: entries are `.` (this namespace), `*` (every
/// namespace), a namespace name, or, for ServiceEntries only, `~` (no one); no
/// duplicates (`.` and the own namespace's name are the same entry); `*` and `~`
/// stand alone. Returns the entries with `.` resolved to the namespace, for checks a
/// kind adds on top.
pub fn check_export_to(
    r: &mut Report,
    at: &FieldPath,
    namespace: Option<&str>,
    export_to: &[String],
    allow_none: bool,
) -> std::collections::BTreeSet<String> {
    let mut set = std::collections::BTreeSet::new();
    for (i, e) in export_to.iter().enumerate() {
        let here = at.index(i);
        let key = match (e.as_str(), namespace) {
            (".", Some(ns)) if !ns.is_empty() => ns.to_owned(),
            _ => e.clone(),
        };
        if set.contains(&key) {
            if key != *e {
                r.error(
                    &here,
                    format!("duplicate entries in exportTo: '.' and the current namespace {key:?} are the same"),
                );
            } else {
                r.error(&here, format!("duplicate entry {e:?} in exportTo"));
            }
            continue;
        }
        if key == "~" && !allow_none {
            r.error(
                &here,
                "exportTo '~' (no one) is allowed only on ServiceEntries: use '.', '*' or namespace names",
            );
        } else if key == "~" || key == "*" || key == "." || is_dns1123_label(&key) {
            set.insert(key);
        } else {
            let allowed = if allow_none {
                "'.', '*', '~'"
            } else {
                "'.', '*'"
            };
            r.error(
                &here,
                format!("exportTo entry {e:?} invalid: only {allowed} or a namespace name (a DNS-1123 label) is allowed"),
            );
        }
    }
    if set.contains("*") && export_to.len() > 1 {
        r.error(
            at,
            "cannot have both public (*) and non-public exportTo values: '*' already exports to every namespace",
        );
    }
    if set.contains("~") && export_to.len() > 1 {
        r.error(
            at,
            "cannot export to no one (~) and someone: '~' must stand alone",
        );
    }
    set
}

pub fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_hosts() {
        for ok in [
            "reviews",
            "reviews.default.svc.cluster.local",
            "*.example.com",
            "*",
            "*-svc.example.com",
            "istio.io.",
        ] {
            assert_eq!(wildcard_domain_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "foo.*.com",
            "a..b",
            "1.2.3.4",
            "under_score.com",
            "-lead.com",
        ] {
            assert!(wildcard_domain_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        let mut r = Report::new();
        let ok: BTreeMap<_, _> = [
            ("app".to_string(), "reviews".to_string()),
            ("app.kubernetes.io/name".into(), "x_y.z".into()),
            ("empty".into(), String::new()),
        ]
        .into();
        check_labels(&mut r, &FieldPath::root(), &ok);
        assert!(r.findings().is_empty(), "{:?}", r.findings());
        let bad: BTreeMap<_, _> = [
            ("-app".to_string(), "x".to_string()),
            ("app".into(), "bad value".into()),
            ("Bad_Prefix/x".into(), "v".into()),
        ]
        .into();
        check_labels(&mut r, &FieldPath::root(), &bad);
        assert_eq!(r.findings().len(), 3, "{:?}", r.findings());
    }

    #[test]
    fn ports_percentages_regexes_and_cidrs() {
        let mut r = Report::new();
        check_port(&mut r, &FieldPath::root(), 80);
        check_percentage(&mut r, &FieldPath::root(), 100.0);
        check_regex(&mut r, &FieldPath::root(), "^/api/v[0-9]+");
        check_ip_or_cidr(&mut r, &FieldPath::root(), "10.0.0.0/8");
        assert!(r.findings().is_empty());
        check_port(&mut r, &FieldPath::root(), 0);
        check_port(&mut r, &FieldPath::root(), 65536);
        check_percentage(&mut r, &FieldPath::root(), 100.5);
        check_regex(&mut r, &FieldPath::root(), "a(b");
        check_regex(&mut r, &FieldPath::root(), "(a)\\1");
        check_ip_or_cidr(&mut r, &FieldPath::root(), "10.0.0.0/33");
        check_ip_or_cidr(&mut r, &FieldPath::root(), "not-an-ip");
        assert_eq!(r.findings().len(), 7, "{:?}", r.findings());
    }

    #[test]
    fn export_to() {
        let run = |list: &[&str], allow_none: bool| {
            let mut r = Report::new();
            let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            check_export_to(&mut r, &FieldPath::root(), Some("ns1"), &list, allow_none);
            r.into_findings().len()
        };
        assert_eq!(run(&["."], false), 0);
        assert_eq!(run(&["*"], false), 0);
        assert_eq!(run(&[".", "ns2"], false), 0);
        assert_eq!(run(&["~"], true), 0);
        assert_eq!(run(&["~"], false), 1);
        assert_eq!(run(&[".", "ns1"], false), 1);
        assert_eq!(run(&["ns2", "ns2"], false), 1);
        assert_eq!(run(&["*", "ns2"], false), 1);
        assert_eq!(run(&["~", "ns2"], true), 1);
        assert_eq!(run(&["Bad_NS"], false), 1);
    }

    #[test]
    fn durations() {
        let mut r = Report::new();
        check_duration(&mut r, &FieldPath::root(), &"1ms".parse().expect("valid"));
        assert!(r.findings().is_empty());
        check_duration(&mut r, &FieldPath::root(), &"0s".parse().expect("valid"));
        check_duration(
            &mut r,
            &FieldPath::root(),
            &"1500us".parse().expect("valid"),
        );
        assert_eq!(r.findings().len(), 2);
    }
}
