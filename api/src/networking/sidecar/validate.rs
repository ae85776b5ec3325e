//! Istio's `ValidateSidecar`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{
    CaptureMode, IstioEgressListener, IstioIngressListener, OutboundTrafficMode,
    OutboundTrafficPolicy, SidecarPort, SidecarSpec,
};
use crate::networking::ServerTlsMode;
use crate::networking::protocol::{PORT_PROTOCOL_NAMES, PortProtocol};
use crate::path::FieldPath;
use crate::validation::rules::fqdn_problem;
use crate::validation::{Report, rules};

const UNIX_PREFIX: &str = "unix://";

pub(super) fn sidecar(spec: &SidecarSpec, namespace: Option<&str>, at: &FieldPath, r: &mut Report) {
    if let Some(ws) = &spec.workload_selector {
        let ws_at = at.field("workloadSelector");
        for (k, v) in &ws.labels {
            if k.is_empty() {
                r.error(
                    &ws_at.field("labels"),
                    format!("empty key is not supported in selector: \"={v}\""),
                );
            }
            if k.contains('*') || v.contains('*') {
                r.error(
                    &ws_at.field("labels").key(k),
                    format!("wildcard is not supported in selector: \"{k}={v}\""),
                );
            }
        }
        if ws.labels.is_empty() {
            r.warning(
                &ws_at,
                "workload selector specified without labels: the Sidecar will be applied to all workloads in the namespace",
            );
        }
    }
    if spec.egress.is_empty()
        && spec.ingress.is_empty()
        && spec.outbound_traffic_policy.is_none()
        && spec.inbound_connection_pool.is_none()
    {
        r.error(
            at,
            "empty configuration provided: set at least one of ingress, egress, inboundConnectionPool or outboundTrafficPolicy",
        );
    }
    let mut ports = HashSet::new();
    for (i, l) in spec.ingress.iter().enumerate() {
        ingress(l, &at.field("ingress").index(i), &mut ports, r);
    }
    if let Some(cp) = &spec.inbound_connection_pool {
        cp.validate(&at.field("inboundConnectionPool"), r);
    }
    egress_listeners(&spec.egress, namespace, &at.field("egress"), r);
    if let Some(p) = &spec.outbound_traffic_policy {
        outbound(p, &at.field("outboundTrafficPolicy"), r);
    }
}

/// Istio's `ValidateProtocol`: empty (sniffed) or a protocol Istio knows.
fn check_protocol(r: &mut Report, at: &FieldPath, p: &str) {
    if !p.is_empty() && PortProtocol::parse(p) == PortProtocol::Unsupported {
        r.error(
            at,
            format!("unrecognized protocol {p:?}; one of: {PORT_PROTOCOL_NAMES}"),
        );
    }
}

fn is_http(p: &str) -> bool {
    ["HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(p))
}

/// Port name (optional), protocol and, unless skipped, number.
fn check_port(r: &mut Report, at: &FieldPath, port: &SidecarPort, check_number: bool) {
    if !port.name.is_empty() && !rules::is_dns1123_label(&port.name) {
        r.error(
            &at.field("name"),
            format!(
                "port name {:?} invalid: letters, digits and '-', at most 63 characters",
                port.name
            ),
        );
    }
    check_protocol(r, &at.field("protocol"), &port.protocol);
    if check_number {
        rules::check_port(r, &at.field("number"), port.number);
    }
    if port.target_port.is_some_and(|t| t > 0) {
        r.error(
            &at.field("targetPort"),
            "targetPort has no impact on Sidecars: remove it",
        );
    }
}

fn check_bind_ip(r: &mut Report, at: &FieldPath, bind: &str) {
    if !bind.is_empty() && !rules::is_ip(bind) {
        r.error(at, format!("bind {bind:?} is not a valid IP address"));
    }
}

/// Istio's `ValidateUnixAddress`: an absolute file path, or an abstract socket `@name`.
fn unix_address_problem(addr: &str) -> Option<String> {
    if addr.is_empty() {
        return Some("unix address must not be empty".into());
    }
    if addr.starts_with('@') {
        return None;
    }
    if !addr.starts_with('/') || addr.ends_with('/') {
        return Some(format!(
            "{addr:?} is not an absolute path to a file, as in unix:///var/run/app.sock"
        ));
    }
    None
}

fn ingress(l: &IstioIngressListener, at: &FieldPath, ports: &mut HashSet<u32>, r: &mut Report) {
    let Some(port) = &l.port else {
        r.error(&at.field("port"), "port is required for ingress listeners");
        return;
    };
    check_port(r, &at.field("port"), port, true);
    check_bind_ip(r, &at.field("bind"), &l.bind);
    if !ports.insert(port.number) {
        r.error(
            &at.field("port").field("number"),
            format!("port {} is used by another ingress listener: ports on IP bound listeners must be unique", port.number),
        );
    }
    if !l.default_endpoint.is_empty() {
        default_endpoint(&l.default_endpoint, &at.field("defaultEndpoint"), r);
    }
    if let Some(tls) = &l.tls {
        let t_at = at.field("tls");
        if !tls.subject_alt_names.is_empty() {
            r.error(
                &t_at.field("subjectAltNames"),
                "subjectAltNames is not supported in sidecar ingress tls",
            );
        }
        if tls.https_redirect {
            r.error(
                &t_at.field("httpsRedirect"),
                "httpsRedirect is not supported in sidecar ingress tls",
            );
        }
        if !tls.credential_name.is_empty() {
            r.error(
                &t_at.field("credentialName"),
                "credentialName is not currently supported in sidecar ingress tls: use serverCertificate and privateKey",
            );
        }
        if matches!(
            tls.mode,
            ServerTlsMode::IstioMutual | ServerTlsMode::AutoPassthrough
        ) {
            r.error(
                &t_at.field("mode"),
                "mode ISTIO_MUTUAL and AUTO_PASSTHROUGH cannot be used in sidecar ingress tls: use SIMPLE or MUTUAL",
            );
        }
        tls.validate(&t_at, r);
    }
    if let Some(cp) = &l.connection_pool {
        let cp_at = at.field("connectionPool");
        cp.validate(&cp_at, r);
        if cp.http.is_some() && !is_http(&port.protocol) {
            r.warning(
                &cp_at.field("http"),
                format!(
                    "HTTP connection pool settings are configured for port {} ({:?}) but its protocol is not HTTP ({:?}); only TCP settings will apply",
                    port.number, port.name, port.protocol
                ),
            );
        }
    }
}

/// `defaultEndpoint`: `unix:///path`, or `HOST:PORT` with a loopback or unspecified
/// host (or none).
fn default_endpoint(ep: &str, at: &FieldPath, r: &mut Report) {
    if let Some(path) = ep.strip_prefix(UNIX_PREFIX) {
        if let Some(p) = unix_address_problem(path) {
            r.error(at, p);
        }
        return;
    }
    let form = "defaultEndpoint must be of form 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port>, unix://<filepath> or unset";
    let Some((host, port)) = split_host_port(ep) else {
        r.error(at, format!("defaultEndpoint {ep:?} invalid: {form}"));
        return;
    };
    if !matches!(host, "" | "127.0.0.1" | "0.0.0.0" | "::1" | "::") {
        r.error(at, format!("defaultEndpoint host {host:?} invalid: {form}"));
    }
    match port.parse::<u32>() {
        Ok(n) => rules::check_port(r, at, n),
        Err(_) => r.error(
            at,
            format!("defaultEndpoint port {port:?} is not a number: {form}"),
        ),
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[ipv6]:port`.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host, port))
}

fn egress_listeners(
    egress: &[IstioEgressListener],
    namespace: Option<&str>,
    at: &FieldPath,
    r: &mut Report,
) {
    let mut ports = HashSet::new();
    let mut sockets = HashSet::new();
    let mut catch_all = false;
    for (i, l) in egress.iter().enumerate() {
        let l_at = at.index(i);
        match &l.port {
            None => {
                if catch_all {
                    r.error(
                        &l_at,
                        "egress can have only one listener with empty port (the catch-all listener)",
                    );
                    continue;
                }
                if i == egress.len() - 1 {
                    catch_all = true;
                } else {
                    r.error(
                        &l_at,
                        "the egress listener with empty port (the catch-all listener) must be the last listener in the list",
                    );
                }
            }
            Some(port) => {
                egress_port(l, port, &l_at, r);
                if port.number == 0 {
                    if !sockets.insert(l.bind.as_str()) {
                        r.error(
                            &l_at.field("bind"),
                            format!("unix domain socket {:?} is used by another listener: they must be unique", l.bind),
                        );
                    }
                } else if !ports.insert(port.number) {
                    r.error(
                        &l_at.field("port").field("number"),
                        format!("port {} is used by another egress listener: ports on IP bound listeners must be unique", port.number),
                    );
                }
            }
        }
        egress_hosts(&l.hosts, namespace, &l_at.field("hosts"), r);
    }
}

/// Istio's `validateSidecarEgressPortBindAndCaptureMode`.
fn egress_port(l: &IstioEgressListener, port: &SidecarPort, at: &FieldPath, r: &mut Report) {
    let port_at = at.field("port");
    if port.number == 0 {
        check_port(r, &port_at, port, false);
        match l.bind.strip_prefix(UNIX_PREFIX) {
            None => r.error(
                &at.field("bind"),
                "ports with number 0 must have a unix domain socket bind address, as in unix:///var/run/app.sock",
            ),
            Some(path) => {
                if let Some(p) = unix_address_problem(path) {
                    r.error(&at.field("bind"), p);
                }
            }
        }
        if !matches!(
            l.capture_mode,
            None | Some(CaptureMode::Default | CaptureMode::None)
        ) {
            r.error(
                &at.field("captureMode"),
                "captureMode must be DEFAULT or NONE for unix domain socket listeners",
            );
        }
    } else {
        check_port(r, &port_at, port, true);
        check_bind_ip(r, &at.field("bind"), &l.bind);
    }
}

fn egress_hosts(hosts: &[String], namespace: Option<&str>, at: &FieldPath, r: &mut Report) {
    if hosts.is_empty() {
        r.error(
            at,
            "egress listener must contain at least one host, such as \"./*\" or \"istio-system/*\"",
        );
        return;
    }
    let mut by_ns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, h) in hosts.iter().enumerate() {
        let h_at = at.index(i);
        if let Some((ns, svc)) = h.split_once('/') {
            let ns = if ns == "." {
                namespace.unwrap_or(".")
            } else {
                ns
            };
            let svcs = by_ns.entry(ns.to_owned()).or_default();
            let dup = if svc == "*" {
                !svcs.is_empty()
            } else {
                svcs.contains(svc) || svcs.contains("*")
            };
            if dup {
                r.warning(
                    &h_at,
                    format!("duplicated egress host {h:?}: an earlier host already selects it"),
                );
            }
            svcs.insert(svc.to_owned());
        }
        namespace_slash_host(h, &h_at, r);
    }
    if by_ns.get("*").is_some_and(|s| s.contains("*")) && by_ns.len() != 1 {
        r.warning(
            at,
            "`*/*` selects all services, no other hosts can be added",
        );
    }
}

/// Istio's `ValidateNamespaceSlashWildcardHostname` for sidecars.
fn namespace_slash_host(h: &str, at: &FieldPath, r: &mut Report) {
    let Some((ns, host)) = h.split_once('/') else {
        r.error(
            at,
            format!("host {h:?} invalid: must be of form namespace/dnsName, such as \"./*\" or \"istio-system/*.example.com\""),
        );
        return;
    };
    if ns.is_empty() || host.is_empty() {
        r.error(
            at,
            format!(
                "host {h:?} invalid: config namespace and dnsName in host entry cannot be empty"
            ),
        );
    }
    if !matches!(ns, "*" | "." | "~") && !rules::is_dns1123_label(ns) {
        r.error(
            at,
            format!(
                "invalid namespace value {ns:?} in sidecar: use '*', '.', '~' or a namespace name"
            ),
        );
    }
    if host != "*" && !host.contains('.') {
        r.error(
            at,
            format!("host {h:?} invalid: short names (non FQDN) are not allowed; use a fully qualified name or '*'"),
        );
    }
    if !host.is_empty()
        && let Some(p) = rules::wildcard_domain_problem(host)
    {
        r.error(at, p);
    }
    if host.contains('*') && host.len() != 1 && !host.starts_with("*.") {
        r.error(
            at,
            format!("partial wildcard {host:?} not allowed: use '*' or '*.domain'"),
        );
    }
}

/// Istio's `validateSidecarOutboundTrafficPolicy`.
fn outbound(p: &OutboundTrafficPolicy, at: &FieldPath, r: &mut Report) {
    let Some(proxy) = &p.egress_proxy else {
        return;
    };
    let proxy_at = at.field("egressProxy");
    if p.mode != Some(OutboundTrafficMode::AllowAny) {
        r.error(
            &proxy_at,
            "egressProxy must be set only with outboundTrafficPolicy mode ALLOW_ANY",
        );
        return;
    }
    // Istio's ValidateFQDN: the egress proxy is one concrete host, never a wildcard.
    if !proxy.host.is_empty()
        && let Some(prob) = fqdn_problem(&proxy.host)
    {
        r.error(&proxy_at.field("host"), prob);
    }
    if proxy.port.is_none() {
        r.error(&proxy_at.field("port"), "egressProxy port is required");
        return;
    }
    proxy.validate(&proxy_at, r);
}
