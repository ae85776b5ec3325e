//! Analyzers over any resource: schema validation (mesh-api's webhook rules),
//! deprecated fields, and negative status conditions written by controllers.

use mesh_api::networking::VirtualService;
use mesh_api::{FieldPath, Resource, Severity};

use crate::messages::Message;
use crate::{Reporter, Snapshot};

/// `schema.ValidationAnalyzer`: every resource passes validation. Errors are IST0106,
/// unreachable rules and ineffective matches keep their codes (IST0130, IST0131),
/// other warnings are IST0133.
pub fn validation(s: &Snapshot<'_>, r: &mut Reporter) {
    for kind in mesh_api::kind::ALL_KINDS
        .iter()
        .filter(|k| k.kind.is_mesh_kind())
    {
        for e in s.of(kind.kind) {
            for f in e.resource.validate() {
                // serviceentry.Analyzer reports this one (IST0134), knowing the mesh
                // config's DNS auto-allocation, which validation cannot see.
                if f.severity != Severity::Error && f.message.starts_with("addresses are required")
                {
                    continue;
                }
                let (code, text) = match (f.code, f.severity) {
                    (Some(code), _) => (code, None),
                    (None, Severity::Error) => ("IST0106", Some(f.message.clone())),
                    (None, _) => ("IST0133", Some(f.message.clone())),
                };
                let Some(msg) = Message::get(code) else {
                    continue;
                };
                let text = match text {
                    Some(t) => msg.format(&[format!("{}: {t}", f.path)]),
                    None => f.message.clone(),
                };
                r.report_message(e, Some(&f.path), msg, text);
            }
        }
    }
}

fn deprecated_in_virtual_service(vs: &VirtualService) -> Vec<(FieldPath, &'static str)> {
    let mut out = Vec::new();
    let http = FieldPath::root().field("spec").field("http");
    for (i, h) in vs.spec.http.iter().enumerate() {
        if h.fault
            .as_ref()
            .and_then(|f| f.delay.as_ref())
            .is_some_and(|d| d.percent != 0)
        {
            out.push((
                http.index(i).field("fault").field("delay").field("percent"),
                "HTTPFaultInjection.Delay.Percent is deprecated; use percentage",
            ));
        }
        if h.mirror_percent.is_some() {
            out.push((
                http.index(i).field("mirrorPercent"),
                "HTTPRoute.MirrorPercent is deprecated; use mirrorPercentage",
            ));
        }
    }
    out
}

/// `deprecation.DeprecationAnalyzer`: fields Istio has deprecated.
pub fn deprecation(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, vs) in s.virtual_services() {
        for (at, what) in deprecated_in_virtual_service(vs) {
            r.report(e, Some(&at), "IST0002", &[what.into()]);
        }
    }
    for (e, sc) in s.sidecars() {
        if sc
            .spec
            .outbound_traffic_policy
            .as_ref()
            .is_some_and(|o| o.egress_proxy.is_some())
        {
            let at = FieldPath::root()
                .field("spec")
                .field("outboundTrafficPolicy")
                .field("egressProxy");
            r.report(
                e,
                Some(&at),
                "IST0002",
                &["Sidecar.OutboundTrafficPolicy.EgressProxy is deprecated and ignored".into()],
            );
        }
    }
}

/// Condition types Istio's controllers write.
fn istio_condition(kind: &str) -> bool {
    kind.starts_with("istio.io/")
        || matches!(
            kind,
            "ZtunnelAccepted"
                | "WaypointAccepted"
                | "Accepted"
                | "Programmed"
                | "ResolvedRefs"
                | "Reconciled"
        )
}

/// `conditions.ConditionAnalyzer`: a status condition an Istio controller set to a
/// negative value (or a partially invalid one) means the resource is not fully in
/// effect.
pub fn conditions(s: &Snapshot<'_>, r: &mut Reporter) {
    for kind in mesh_api::kind::ALL_KINDS {
        for e in s.of(kind.kind) {
            let status = match &e.resource {
                Resource::Service(svc) => svc
                    .status
                    .as_ref()
                    .and_then(|st| serde_json::to_value(st).ok()),
                Resource::VirtualService(o) => o.status.clone(),
                Resource::DestinationRule(o) => o.status.clone(),
                Resource::Gateway(o) => o.status.clone(),
                Resource::ServiceEntry(o) => o.status.clone(),
                Resource::Sidecar(o) => o.status.clone(),
                Resource::WorkloadEntry(o) => o.status.clone(),
                Resource::WorkloadGroup(o) => o.status.clone(),
                Resource::PeerAuthentication(o) => o.status.clone(),
                Resource::AuthorizationPolicy(o) => o.status.clone(),
                Resource::RequestAuthentication(o) => o.status.clone(),
                Resource::Telemetry(o) => o.status.clone(),
                _ => None,
            };
            let Some(conds) = status
                .as_ref()
                .and_then(|st| st.get("conditions"))
                .and_then(|c| c.as_array())
            else {
                continue;
            };
            for c in conds {
                let field = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                let (ctype, st, reason) = (field("type"), field("status"), field("reason"));
                if istio_condition(&ctype) && (st == "False" || reason == "PartiallyInvalid") {
                    r.report(e, None, "IST0171", &[ctype, reason, field("message")]);
                }
            }
        }
    }
}
