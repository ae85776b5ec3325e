//! ServiceEntry analyzers: addresses for protocols routed by IP, and conflicting
//! protocols for one host and port.

use std::collections::BTreeMap;

use mesh_api::FieldPath;

use crate::context::{full_name, ns};
use crate::{Entry, Reporter, Snapshot};

/// `serviceentry.Analyzer`: TCP (or unnamed-protocol) ports are routed by address,
/// so the ServiceEntry needs addresses, unless DNS auto-allocation gives them.
pub fn addresses(s: &Snapshot<'_>, r: &mut Reporter) {
    if s.mesh.proxy_flag("ISTIO_META_DNS_CAPTURE")
        && s.mesh.proxy_flag("ISTIO_META_DNS_AUTO_ALLOCATE")
    {
        return;
    }
    for (e, se) in s.service_entries() {
        if !se.spec.addresses.is_empty() {
            continue;
        }
        let allocated = se
            .status
            .as_ref()
            .and_then(|st| st.get("addresses"))
            .and_then(|a| a.as_array())
            .is_some_and(|a| !a.is_empty());
        if allocated {
            continue;
        }
        let tcp = se
            .spec
            .ports
            .iter()
            .position(|p| p.protocol.is_empty() || p.protocol.eq_ignore_ascii_case("TCP"));
        if let Some(i) = tcp {
            let at = FieldPath::root().field("spec").field("ports").index(i);
            r.report(e, Some(&at), "IST0134", &[]);
        }
    }
}

/// `serviceentry.ConflictingServiceEntryProtocolAnalyzer`: ServiceEntries that share
/// a host and port agree on its protocol.
pub fn conflicting_protocols(s: &Snapshot<'_>, r: &mut Reporter) {
    // (visibility, host, port) -> protocol -> entries
    let mut by_key: BTreeMap<(String, u32), BTreeMap<String, Vec<&Entry>>> = BTreeMap::new();
    for (e, se) in s.service_entries() {
        for h in &se.spec.hosts {
            for p in &se.spec.ports {
                let host = crate::hosts::fqdn(ns(e), h);
                by_key
                    .entry((host, p.number))
                    .or_default()
                    .entry(p.protocol.to_ascii_uppercase())
                    .or_default()
                    .push(e);
            }
        }
    }
    for ((host, port), protos) in by_key {
        if protos.len() < 2 {
            continue;
        }
        let mut names: Vec<String> = protos.values().flatten().map(|e| full_name(e)).collect();
        names.sort();
        names.dedup();
        let protocols: Vec<&str> = protos.keys().map(String::as_str).collect();
        for e in protos.values().flatten() {
            r.report(
                e,
                None,
                "IST0177",
                &[
                    names.join(", "),
                    host.clone(),
                    port.to_string(),
                    protocols.join(", "),
                ],
            );
        }
    }
}
