//! Analyzers of Kubernetes workloads and services: port naming, deployments behind
//! several services, the sidecar's reserved UID, injection labels.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, PodSpec, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use mesh_api::{FieldPath, Kind};

use crate::context::{annotations, labels, name, ns, selects};
use crate::messages::go_list;
use crate::{Entry, Reporter, Snapshot};

/// Namespaces the mesh leaves alone.
pub fn system_namespace(n: &str) -> bool {
    matches!(
        n,
        "kube-system" | "kube-public" | "kube-node-lease" | "local-path-storage" | "istio-system"
    )
}

/// Protocols Istio recognises from a port name's prefix (`http-web`) or appProtocol.
const PROTOCOLS: &[&str] = &[
    "http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "udp", "mongo", "redis", "mysql",
    "h2c", "hbone",
];

fn protocol_of(name: &str, app_protocol: Option<&str>) -> Option<String> {
    if let Some(ap) = app_protocol.filter(|a| !a.is_empty()) {
        let ap = ap.to_ascii_lowercase();
        let ap = ap.rsplit('/').next().unwrap_or(&ap).to_owned();
        return PROTOCOLS.contains(&ap.as_str()).then_some(ap);
    }
    let lower = name.to_ascii_lowercase();
    if PROTOCOLS.contains(&lower.as_str()) {
        return Some(lower);
    }
    let prefix = lower.split('-').next().unwrap_or("");
    PROTOCOLS.contains(&prefix).then(|| prefix.to_owned())
}

fn target_port_string(t: &Option<IntOrString>, port: i32) -> String {
    match t {
        Some(IntOrString::Int(0)) | None => port.to_string(),
        Some(IntOrString::Int(n)) => n.to_string(),
        Some(IntOrString::String(s)) if s.is_empty() => port.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
    }
}

/// `service.PortNameAnalyzer`: service ports say their protocol (name prefix or
/// appProtocol), so the mesh does not have to guess.
pub fn port_names(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, svc) in s.services() {
        if system_namespace(ns(e)) {
            continue;
        }
        let Some(spec) = &svc.spec else { continue };
        let external = spec.type_.as_deref() == Some("ExternalName");
        for (i, p) in spec.ports.iter().flatten().enumerate() {
            let pname = p.name.as_deref().unwrap_or("");
            let proto = protocol_of(pname, p.app_protocol.as_deref());
            let at = FieldPath::root().field("spec").field("ports").index(i);
            if external {
                if proto.as_deref().is_none_or(|p| p == "tcp") {
                    r.report(e, Some(&at), "IST0150", &[]);
                }
            } else if proto.is_none() {
                r.report(
                    e,
                    Some(&at),
                    "IST0118",
                    &[
                        pname.into(),
                        p.port.to_string(),
                        target_port_string(&p.target_port, p.port),
                    ],
                );
            }
        }
    }
}

fn has_proxy(containers: &[Container]) -> bool {
    containers
        .iter()
        .any(|c| c.name == "istio-proxy" && c.image.as_deref().is_some_and(|i| !i.is_empty()))
}

/// Istio's `inMesh`: a sidecar container, or injection asked for by label,
/// annotation or the namespace's `istio-injection=enabled`.
pub fn in_mesh(
    s: &Snapshot<'_>,
    annos: &BTreeMap<String, String>,
    pod_labels: &BTreeMap<String, String>,
    namespace: &str,
    containers: &[Container],
) -> bool {
    if has_proxy(containers) {
        return true;
    }
    if let Some(v) = pod_labels.get("sidecar.istio.io/inject") {
        return v == "true";
    }
    if let Some(v) = annos.get("sidecar.istio.io/inject") {
        return v == "true";
    }
    s.find(Kind::Namespace, "", namespace).is_some_and(|n| {
        labels(n)
            .get("istio-injection")
            .is_some_and(|v| v == "enabled")
    })
}

/// `deployment.MultiServiceAnalyzer`: services selecting one deployment agree on
/// each port's protocol and on the port behind each target port.
pub fn multi_service(s: &Snapshot<'_>, r: &mut Reporter) {
    let at = FieldPath::root().field("metadata").field("name");
    for (e, d) in s.deployments() {
        if labels(e)
            .get("gateway.istio.io/managed")
            .is_some_and(|v| v == "istio.io-mesh-controller")
        {
            continue;
        }
        let spec = &d.spec;
        let tmeta = spec.template.metadata.clone().unwrap_or_default();
        let tl = tmeta.labels.unwrap_or_default();
        let ta = tmeta.annotations.unwrap_or_default();
        let containers = spec
            .template
            .spec
            .as_ref()
            .map(|p| p.containers.clone())
            .unwrap_or_default();
        if !in_mesh(s, &ta, &tl, ns(e), &containers) {
            continue;
        }
        let services: Vec<(String, &Service)> = s
            .services()
            .filter(|(se, svc)| {
                let sel = svc.spec.as_ref().and_then(|sp| sp.selector.as_ref());
                ns(se) == ns(e) && sel.is_some_and(|sel| !sel.is_empty() && selects(sel, &tl))
            })
            .map(|(se, svc)| (crate::context::full_name(se), svc))
            .collect();
        // port -> protocol -> services
        let mut ports: BTreeMap<i32, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        // target port -> port -> service
        let mut targets: BTreeMap<String, BTreeMap<i32, String>> = BTreeMap::new();
        for (sname, svc) in &services {
            for p in svc.spec.iter().flat_map(|sp| sp.ports.iter().flatten()) {
                let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                ports
                    .entry(p.port)
                    .or_default()
                    .entry(proto)
                    .or_default()
                    .push(sname.clone());
                targets
                    .entry(target_port_string(&p.target_port, p.port))
                    .or_default()
                    .insert(p.port, sname.clone());
            }
        }
        for (port, protos) in &ports {
            if protos.len() > 1 {
                let mut names: Vec<String> = protos.values().flatten().cloned().collect();
                names.sort();
                r.report(
                    e,
                    Some(&at),
                    "IST0116",
                    &[name(e).into(), port.to_string(), go_list(&names)],
                );
            }
        }
        for (target, by_port) in &targets {
            if by_port.len() > 1 {
                let mut names: Vec<String> = by_port.values().cloned().collect();
                names.sort();
                let ports: Vec<String> = by_port.keys().map(i32::to_string).collect();
                r.report(
                    e,
                    Some(&at),
                    "IST0137",
                    &[
                        name(e).into(),
                        go_list(&names),
                        target.clone(),
                        go_list(&ports),
                    ],
                );
            }
        }
    }
}

fn uses_proxy_uid(spec: &PodSpec) -> bool {
    let pod = spec.security_context.as_ref().and_then(|c| c.run_as_user) == Some(1337);
    pod || spec
        .containers
        .iter()
        .filter(|c| c.name != "istio-proxy")
        .any(|c| c.security_context.as_ref().and_then(|sc| sc.run_as_user) == Some(1337))
}

/// `applicationUID.Analyzer`: applications must not run as UID 1337, the sidecar's.
pub fn application_uid(s: &Snapshot<'_>, r: &mut Reporter) {
    for (e, p) in s.pods() {
        if p.spec.as_ref().is_some_and(uses_proxy_uid) {
            r.report(e, None, "IST0144", &[]);
        }
    }
    for (e, d) in s.deployments() {
        if d.spec.template.spec.as_ref().is_some_and(uses_proxy_uid) {
            r.report(e, None, "IST0144", &[]);
        }
    }
}

/// Whether the injector config map says namespaces are injected unless labelled.
fn namespaces_injected_by_default(s: &Snapshot<'_>) -> bool {
    s.of(Kind::ConfigMap).any(|e| {
        let mesh_api::Resource::ConfigMap(cm) = &e.resource else {
            return false;
        };
        name(e) == "istio-sidecar-injector"
            && cm
                .data
                .as_ref()
                .and_then(|d| d.get("values"))
                .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                .and_then(|v| {
                    v.pointer("/sidecarInjectorWebhook/enableNamespacesByDefault")
                        .and_then(|b| b.as_bool())
                })
                .unwrap_or(false)
    })
}

/// `injection.Analyzer`: namespaces say whether they are in the mesh (one way only),
/// and pods in injected namespaces have their sidecar.
pub fn injection(s: &Snapshot<'_>, r: &mut Reporter) {
    let by_default = namespaces_injected_by_default(s);
    let mut injected: BTreeSet<&str> = BTreeSet::new();
    let at = FieldPath::root().field("metadata").field("name");
    for (e, _) in s.namespaces() {
        let n = name(e);
        if system_namespace(n) {
            continue;
        }
        let l = labels(e);
        let legacy = l.get("istio-injection").map(String::as_str).unwrap_or("");
        let rev = l.get("istio.io/rev");
        let ambient = l
            .get("istio.io/dataplane-mode")
            .is_some_and(|v| v == "ambient");
        let mut kinds: Vec<&str> = Vec::new();
        if !legacy.is_empty() && legacy != "disabled" {
            kinds.push("istio-injection");
        }
        if rev.is_some() && legacy != "disabled" {
            kinds.push("istio.io/rev");
        }
        if ambient && legacy != "disabled" {
            kinds.push("istio.io/dataplane-mode");
        }
        if kinds.len() > 1 {
            r.report(e, Some(&at), "IST0123", &[go_list(&kinds)]);
            continue;
        }
        if ambient {
            continue;
        }
        if legacy.is_empty() && rev.is_none() {
            if by_default {
                r.report(e, Some(&at), "IST0148", &[]);
            } else {
                r.report(e, Some(&at), "IST0102", &[n.into(), n.into()]);
            }
            continue;
        }
        if rev.is_none() && legacy != "enabled" {
            continue;
        }
        injected.insert(n);
    }
    for (e, p) in s.pods() {
        if !injected.contains(ns(e)) {
            continue;
        }
        let inj = labels(e)
            .get("sidecar.istio.io/inject")
            .or_else(|| annotations(e).get("sidecar.istio.io/inject"));
        if inj.is_some_and(|v| v.eq_ignore_ascii_case("false")) {
            continue;
        }
        let Some(spec) = &p.spec else { continue };
        if spec.host_network == Some(true) {
            continue;
        }
        if !spec.containers.iter().any(|c| c.name == "istio-proxy") {
            r.report(e, None, "IST0103", &[crate::context::full_name(e)]);
        }
    }
}

/// Pods in the mesh: with a sidecar (or injected) or in ambient mode.
pub fn pod_in_mesh(s: &Snapshot<'_>, e: &Entry) -> bool {
    let mesh_api::Resource::Pod(p) = &e.resource else {
        return false;
    };
    let mut containers = p
        .spec
        .as_ref()
        .map(|sp| sp.containers.clone())
        .unwrap_or_default();
    containers.extend(
        p.spec
            .as_ref()
            .and_then(|sp| sp.init_containers.clone())
            .unwrap_or_default(),
    );
    in_mesh(s, annotations(e), labels(e), ns(e), &containers)
        || annotations(e)
            .get("ambient.istio.io/redirection")
            .is_some_and(|v| v == "enabled")
}
