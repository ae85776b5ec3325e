//! Host names as Istio compares them: short names resolved in a namespace, wildcard
//! matching, and the set of hosts services and service entries make visible.

use std::collections::HashMap;

use crate::Snapshot;
use crate::context::{annotations, name, ns};

/// The Kubernetes service domain.
pub const DOMAIN: &str = "svc.cluster.local";

/// `reviews` in `default` is `reviews.default.svc.cluster.local`; wildcards and names
/// with a dot are already fully qualified.
pub fn fqdn(namespace: &str, host: &str) -> String {
    if !host.starts_with('*') && !host.contains('.') {
        format!("{host}.{namespace}.{DOMAIN}")
    } else {
        host.to_owned()
    }
}

/// `(namespace, name)` of a `name.namespace.svc.cluster.local` host.
pub fn service_of_fqdn(host: &str) -> Option<(&str, &str)> {
    let rest = host.strip_suffix(".svc.cluster.local")?;
    let (name, ns) = rest.rsplit_once('.')?;
    (!name.is_empty() && !ns.is_empty()).then_some((ns, name))
}

/// The `(namespace, name)` a destination host names: an FQDN, or a short name in
/// `default_ns`.
pub fn resource_of_host<'h>(default_ns: &'h str, host: &'h str) -> (&'h str, &'h str) {
    service_of_fqdn(host).unwrap_or((default_ns, host))
}

/// Istio's `host.Name.Matches`: wildcards match by suffix, in either direction.
pub fn matches(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(a1), Some(b1)) => {
            if a.len() < b.len() {
                b1.ends_with(a1)
            } else {
                a1.ends_with(b1)
            }
        }
        (Some(a1), None) => b.ends_with(a1),
        (None, Some(b1)) => a.ends_with(b1),
        (None, None) => a == b,
    }
}

/// Gateway server hosts (`ns/host`) visible to `namespace`, with the prefix removed.
pub fn names_for_namespace<'h>(hosts: &'h [String], namespace: &str) -> Vec<&'h str> {
    hosts
        .iter()
        .filter_map(|h| match h.split_once('/') {
            Some((n, host)) if n == namespace || n == "*" => Some(host),
            Some(_) => None,
            None => Some(h.as_str()),
        })
        .collect()
}

/// A host that exists: its ports (number and protocol).
#[derive(Debug, Clone, Default)]
pub struct KnownHost {
    pub ports: Vec<(u32, String)>,
}

/// Every host services and service entries define, keyed by `scope/fqdn` where the
/// scope is `*` (visible everywhere) or a namespace (Istio's `ScopedFqdn`).
#[derive(Debug, Default)]
pub struct HostMap {
    hosts: HashMap<String, KnownHost>,
    wildcards: Vec<(String, String, KnownHost)>,
}

impl HostMap {
    /// Istio's `InitServiceEntryHostMap`.
    pub fn new(s: &Snapshot<'_>) -> Self {
        let mut m = HostMap::default();
        for (e, se) in s.service_entries() {
            let ports: Vec<(u32, String)> = se
                .spec
                .ports
                .iter()
                .map(|p| (p.number, p.protocol.clone()))
                .collect();
            let known = KnownHost { ports };
            let sns = ns(e);
            for h in &se.spec.hosts {
                let scopes: Vec<&str> =
                    if se.spec.export_to.is_empty() || se.spec.export_to.iter().any(|x| x == "*") {
                        vec!["*"]
                    } else {
                        se.spec
                            .export_to
                            .iter()
                            .map(|x| if x == "." { sns } else { x.as_str() })
                            .collect()
                    };
                for scope in scopes {
                    m.insert(scope, &fqdn(sns, h), known.clone());
                }
            }
        }
        for (e, svc) in s.services() {
            let ports = svc
                .spec
                .as_ref()
                .and_then(|sp| sp.ports.as_ref())
                .map(|ps| {
                    ps.iter()
                        .map(|p| (p.port.max(0) as u32, p.protocol.clone().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            let known = KnownHost { ports };
            let host = fqdn(ns(e), name(e));
            match annotations(e).get("networking.istio.io/exportTo") {
                None => m.insert("*", &host, known),
                Some(anno) => {
                    for scope in anno.split(',') {
                        let scope = if scope == "." { ns(e) } else { scope };
                        m.insert(scope, &host, known.clone());
                    }
                }
            }
        }
        m.wildcards.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        m
    }

    fn insert(&mut self, scope: &str, host: &str, known: KnownHost) {
        if host.starts_with('*') {
            self.wildcards
                .push((scope.to_owned(), host.to_owned(), known.clone()));
        }
        self.hosts.insert(format!("{scope}/{host}"), known);
    }

    /// Istio's `GetDestinationHost`: the service a destination `host` resolves to
    /// from a resource in `source_ns` exported to `export_to`.
    pub fn lookup(&self, source_ns: &str, export_to: &[String], host: &str) -> Option<&KnownHost> {
        let f = fqdn(source_ns, host);
        if let Some(k) = self.hosts.get(&format!("*/{f}")) {
            return Some(k);
        }
        if export_to.is_empty() {
            if let Some(k) = self.hosts.get(&format!("{source_ns}/{f}")) {
                return Some(k);
            }
        } else {
            for e in export_to {
                let e = if e == "." { source_ns } else { e.as_str() };
                if let Some(k) = self.hosts.get(&format!("{e}/{f}")) {
                    return Some(k);
                }
            }
        }
        let bare = host.strip_prefix('*').unwrap_or(host);
        self.wildcards
            .iter()
            .find(|(scope, wh, _)| (scope == "*" || scope == source_ns) && bare.ends_with(&wh[1..]))
            .map(|(_, _, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_by_suffix() {
        assert!(matches("*.example.com", "a.example.com"));
        assert!(matches("a.example.com", "*.example.com"));
        assert!(matches("*", "anything"));
        assert!(!matches("a.example.com", "b.example.com"));
        assert_eq!(
            fqdn("default", "reviews"),
            "reviews.default.svc.cluster.local"
        );
        assert_eq!(
            service_of_fqdn("reviews.prod.svc.cluster.local"),
            Some(("prod", "reviews"))
        );
    }
}
