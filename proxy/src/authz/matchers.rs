//! Value matchers of authorization fields, compiled once per config: Istio's
//! string forms (exact, `prefix*`, `*suffix`, `*` for any non-empty value), path
//! templates (`{*}` one segment, `{**}` the rest), CIDR blocks and ports.

use std::net::IpAddr;

/// One string pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrMatch {
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    /// `*`: any non-empty value.
    Present,
    /// A path template with `{*}`/`{**}` segments.
    Template(Box<[Segment]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(Box<str>),
    One,
    Rest,
}

impl StrMatch {
    /// Istio's string syntax; `templates` also reads `{*}`/`{**}` (paths only).
    pub(crate) fn parse(v: &str, templates: bool) -> StrMatch {
        if templates && (v.contains("{*}") || v.contains("{**}")) {
            let segs = v
                .trim_start_matches('/')
                .split('/')
                .map(|s| match s {
                    "{*}" => Segment::One,
                    "{**}" => Segment::Rest,
                    lit => Segment::Literal(lit.into()),
                })
                .collect();
            return StrMatch::Template(segs);
        }
        if v == "*" {
            StrMatch::Present
        } else if let Some(p) = v.strip_suffix('*') {
            StrMatch::Prefix(p.into())
        } else if let Some(s) = v.strip_prefix('*') {
            StrMatch::Suffix(s.into())
        } else {
            StrMatch::Exact(v.into())
        }
    }

    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            StrMatch::Exact(e) => v == &**e,
            StrMatch::Prefix(p) => v.starts_with(&**p),
            StrMatch::Suffix(s) => v.ends_with(&**s),
            StrMatch::Present => !v.is_empty(),
            StrMatch::Template(segs) => template_matches(segs, v),
        }
    }
}

fn template_matches(segs: &[Segment], path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let mut parts = rest.split('/');
    for seg in segs {
        match seg {
            Segment::Rest => return true,
            Segment::One => {
                if parts.next().is_none_or(str::is_empty) {
                    return false;
                }
            }
            Segment::Literal(l) => {
                if parts.next() != Some(&**l) {
                    return false;
                }
            }
        }
    }
    parts.next().is_none()
}

/// An address or CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    bits: u8,
}

impl Cidr {
    /// `10.1.2.3` or `10.0.0.0/8`; `None` when neither.
    pub(crate) fn parse(v: &str) -> Option<Cidr> {
        let (addr, bits) = match v.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
            None => (v, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { addr, bits })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The path as policies see it: no query or fragment, `.` and `..` segments
/// resolved (RFC 3986 section 5.2.4), backslashes as slashes; Istio's `BASE`
/// normalization.
pub fn normalize_path(raw: &str) -> String {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    let path = path.replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." | "%2e" | "%2E" => {
                if i == last {
                    out.push("");
                }
            }
            ".." | "%2e%2e" | "%2E%2E" | ".%2e" | "%2e." | ".%2E" | "%2E." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_string_forms() {
        let m = |p: &str, v: &str| StrMatch::parse(p, true).matches(v);
        assert!(m("/admin", "/admin") && !m("/admin", "/admin/x"));
        assert!(m("/admin*", "/admin/x") && !m("/admin*", "/public"));
        assert!(m("*.png", "/img/a.png") && !m("*.png", "/a.jpg"));
        assert!(m("*", "x") && !m("*", ""));
        assert!(m("/api/{*}/info", "/api/v1/info"));
        assert!(!m("/api/{*}/info", "/api/v1/v2/info") && !m("/api/{*}/info", "/api//info"));
        assert!(m("/api/{**}", "/api/a/b/c") && !m("/api/{**}", "/other/a"));
        assert!(!m("/api/{*}", "/api/a/b"), "{{*}} is exactly one segment");
        // Without templates the braces are literal text.
        assert!(StrMatch::parse("/x/{*}", false).matches("/x/{*}"));
    }

    #[test]
    fn cidr_blocks() {
        let c = |v: &str| Cidr::parse(v).expect(v);
        let ip = |v: &str| v.parse::<IpAddr>().expect(v);
        assert!(c("10.0.0.0/8").contains(ip("10.200.1.1")));
        assert!(!c("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(c("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!c("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(c("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(
            c("127.0.0.0/8").contains(ip("::ffff:127.0.0.5")),
            "v4-mapped v6"
        );
        assert!(c("2001:db8::/32").contains(ip("2001:db8::1")));
        assert!(!c("2001:db8::/32").contains(ip("10.0.0.1")));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nope"), None);
    }

    #[test]
    fn paths_are_normalized_before_matching() {
        assert_eq!(normalize_path("/a/b?x=/admin"), "/a/b");
        assert_eq!(normalize_path("/public/../admin"), "/admin");
        assert_eq!(normalize_path("/public/%2e%2e/admin"), "/admin");
        assert_eq!(normalize_path("/./admin/."), "/admin/");
        assert_eq!(normalize_path("/../../admin"), "/admin");
        assert_eq!(normalize_path("/a\\..\\admin"), "/admin");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(
            normalize_path("/a//b"),
            "/a//b",
            "BASE keeps double slashes"
        );
    }
}
