//! DestinationRule analyzers: TLS without server verification, subsets that select
//! no workloads, hosts that match no service.

use std::collections::BTreeMap;

use mesh_api::networking::{ClientTlsMode, ClientTlsSettings};
use mesh_api::{FieldPath, Kind, Resource};

use crate::context::{labels, ns, selects};
use crate::hosts::{self, HostMap};
use crate::{Reporter, Snapshot};

fn mode_name(m: ClientTlsMode) -> &'static str {
    match m {
        ClientTlsMode::Disable => "DISABLE",
        ClientTlsMode::Simple => "SIMPLE",
        ClientTlsMode::Mutual => "MUTUAL",
        ClientTlsMode::IstioMutual => "ISTIO_MUTUAL",
    }
}

/// Whether TLS settings verify the server: a CA is given, or a credential the gateway
/// the rule is scoped to (`workloadSelector`) reads the CA from.
fn unverified(tls: &ClientTlsSettings, scoped: bool) -> bool {
    let credential_verifies = scoped && !tls.credential_name.is_empty();
    matches!(tls.mode, ClientTlsMode::Simple | ClientTlsMode::Mutual)
        && tls.ca_certificates.is_empty()
        && !credential_verifies
        && tls.insecure_skip_verify != Some(true)
}

/// `destinationrule.CaCertificateAnalyzer`: SIMPLE or MUTUAL TLS should verify the
/// server with `caCertificates`.
pub fn ca_certificates(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, dr) in s.destination_rules() {
        let Some(tp) = &dr.spec.traffic_policy else {
            continue;
        };
        let scoped = dr.spec.workload_selector.is_some();
        let name = crate::context::name(e).to_owned();
        let at = FieldPath::root().field("spec").field("trafficPolicy");
        if let Some(tls) = &tp.tls
            && unverified(tls, scoped)
        {
            r.report(
                e,
                Some(&at.field("tls").field("mode")),
                "IST0128",
                &[
                    name.clone(),
                    ns(e).into(),
                    mode_name(tls.mode).into(),
                    dr.spec.host.clone(),
                ],
            );
        }
        for (i, p) in tp.port_level_settings.iter().enumerate() {
            if let Some(tls) = &p.tls
                && unverified(tls, scoped)
            {
                let port = format!("number:{}", p.port.as_ref().map_or(0, |p| p.number));
                let at = at
                    .field("portLevelSettings")
                    .index(i)
                    .field("tls")
                    .field("mode");
                r.report(
                    e,
                    Some(&at),
                    "IST0129",
                    &[
                        name.clone(),
                        ns(e).into(),
                        mode_name(tls.mode).into(),
                        dr.spec.host.clone(),
                        port,
                    ],
                );
            }
        }
    }
}

/// `destinationrule.SubsetSelectPodAnalyzer`: the host is a known service, and each
/// subset's labels select at least one of its pods (else: 503 UH).
pub fn subset_select_pods(s: &Snapshot<'_>, r: &mut Reporter) {
    let hosts = HostMap::new(s);
    for (e, dr) in s.destination_rules() {
        let host = &dr.spec.host;
        if host.starts_with('*') {
            continue;
        }
        let host_at = FieldPath::root().field("spec").field("host");
        if hosts.lookup(ns(e), &dr.spec.export_to, host).is_none() {
            r.report(e, Some(&host_at), "IST0174", std::slice::from_ref(host));
            continue;
        }
        let fqdn = hosts::fqdn(ns(e), host);
        let Some((sns, sname)) = hosts::service_of_fqdn(&fqdn) else {
            continue;
        };
        let Some(Resource::Service(svc)) = s.find(Kind::Service, sns, sname).map(|x| &x.resource)
        else {
            continue;
        };
        let selector: BTreeMap<String, String> = svc
            .spec
            .as_ref()
            .and_then(|sp| sp.selector.clone())
            .unwrap_or_default();
        if selector.is_empty() {
            continue; // endpoints managed by hand: nothing to match
        }
        for (i, subset) in dr.spec.subsets.iter().enumerate() {
            let any = s.pods_in(sns).any(|(pe, _)| {
                let pl = labels(pe);
                selects(&selector, pl) && selects(&subset.labels, pl)
            });
            if !any {
                let at = FieldPath::root()
                    .field("spec")
                    .field("subsets")
                    .index(i)
                    .field("name");
                r.report(e, Some(&at), "IST0173", std::slice::from_ref(&subset.name));
            }
        }
    }
}
