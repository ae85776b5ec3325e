//! Istio's `ValidateDestinationRule` and the traffic policy checks it runs.

use std::collections::HashSet;

use super::{DestinationRuleSpec, PortTrafficPolicy, RetryBudget, TrafficPolicy, TunnelSettings};
use crate::path::FieldPath;
use crate::validation::{Report, rules};

pub(super) fn destination_rule(
    spec: &DestinationRuleSpec,
    namespace: Option<&str>,
    at: &FieldPath,
    r: &mut Report,
) {
    let host_at = at.field("host");
    if spec.host.is_empty() {
        r.error(
            &host_at,
            "host is required: the name of a service in the registry, such as reviews.default.svc.cluster.local",
        );
    } else {
        rules::check_wildcard_host(r, &host_at, &spec.host);
    }
    if let Some(tp) = &spec.traffic_policy {
        traffic_policy(tp, &at.field("trafficPolicy"), r);
    }
    let mut names = HashSet::new();
    for (i, s) in spec.subsets.iter().enumerate() {
        let s_at = at.field("subsets").index(i);
        let name_at = s_at.field("name");
        if s.name.is_empty() {
            r.error(&name_at, "subset name is required");
        } else if !rules::is_dns1123_label(&s.name) {
            r.error(
                &name_at,
                format!(
                    "subset name {:?} invalid: letters, digits and '-', at most 63 characters, starting and ending with a letter or digit",
                    s.name
                ),
            );
        }
        if !names.insert(s.name.as_str()) {
            r.error(
                &name_at,
                format!(
                    "duplicate subset name {:?}: subset names must be unique",
                    s.name
                ),
            );
        }
        rules::check_labels(r, &s_at.field("labels"), &s.labels);
        if let Some(tp) = &s.traffic_policy {
            traffic_policy(tp, &s_at.field("trafficPolicy"), r);
        }
    }
    let exported =
        rules::check_export_to(r, &at.field("exportTo"), namespace, &spec.export_to, false);
    if spec.workload_selector.is_some() && !exported.is_empty() {
        let own = namespace.unwrap_or(".");
        if !exported.contains(own) {
            r.error(
                &at.field("exportTo"),
                "destination rule with workload selector cannot have exportTo beyond the current namespace: use '.'",
            );
        } else if exported.len() > 1 {
            r.error(
                &at.field("exportTo"),
                "destination rule with workload selector cannot have multiple entries in exportTo",
            );
        }
    }
    if let Some(ws) = &spec.workload_selector {
        let ws_at = at.field("workloadSelector");
        ws.validate(&ws_at, r);
        if ws.match_labels.is_empty() {
            r.warning(
                &ws_at,
                "workload selector specified without labels: it selects every workload in the namespace",
            );
        }
    }
}

/// Istio's `validateTrafficPolicy`.
pub(super) fn traffic_policy(tp: &TrafficPolicy, at: &FieldPath, r: &mut Report) {
    if tp.outlier_detection.is_none()
        && tp.connection_pool.is_none()
        && tp.load_balancer.is_none()
        && tp.tls.is_none()
        && tp.port_level_settings.is_empty()
        && tp.tunnel.is_none()
        && tp.proxy_protocol.is_none()
        && tp.retry_budget.is_none()
    {
        r.error(
            at,
            "traffic policy must have at least one field: loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol or retryBudget",
        );
        return;
    }
    if tp.tunnel.is_some() && tp.proxy_protocol.is_some() {
        r.error(
            &at.field("tunnel"),
            "tunnel and proxyProtocol must not be set together",
        );
    }
    if let Some(o) = &tp.outlier_detection {
        o.validate(&at.field("outlierDetection"), r);
    }
    if let Some(c) = &tp.connection_pool {
        c.validate(&at.field("connectionPool"), r);
    }
    if let Some(lb) = &tp.load_balancer {
        lb.validate(&at.field("loadBalancer"), tp.outlier_detection.as_ref(), r);
    }
    if let Some(t) = &tp.tls {
        t.validate(&at.field("tls"), r);
    }
    port_traffic_policies(&tp.port_level_settings, &at.field("portLevelSettings"), r);
    if let Some(t) = &tp.tunnel {
        tunnel(t, &at.field("tunnel"), r);
    }
    if let Some(b) = &tp.retry_budget {
        retry_budget(b, &at.field("retryBudget"), r);
    }
}

/// Istio's `validatePortTrafficPolicies`.
fn port_traffic_policies(pls: &[PortTrafficPolicy], at: &FieldPath, r: &mut Report) {
    let mut ports = HashSet::new();
    for (i, p) in pls.iter().enumerate() {
        let p_at = at.index(i);
        match &p.port {
            None => r.error(
                &p_at.field("port"),
                "port is required: the destination port number this policy applies to",
            ),
            Some(port) => {
                // Istio's webhook accepts these, but such settings never apply.
                if !(1..=65535).contains(&port.number) {
                    r.warning(
                        &p_at.field("port").field("number"),
                        format!(
                            "port number {} matches no traffic: ports are 1..65535",
                            port.number
                        ),
                    );
                } else if !ports.insert(port.number) {
                    r.warning(
                        &p_at.field("port").field("number"),
                        format!(
                            "port {} already has port level settings: only one of them applies",
                            port.number
                        ),
                    );
                }
            }
        }
        if p.outlier_detection.is_none()
            && p.connection_pool.is_none()
            && p.load_balancer.is_none()
            && p.tls.is_none()
        {
            r.error(
                &p_at,
                "port traffic policy must have at least one field: loadBalancer, connectionPool, outlierDetection or tls",
            );
            continue;
        }
        if let Some(o) = &p.outlier_detection {
            o.validate(&p_at.field("outlierDetection"), r);
        }
        if let Some(c) = &p.connection_pool {
            c.validate(&p_at.field("connectionPool"), r);
        }
        if let Some(lb) = &p.load_balancer {
            lb.validate(&p_at.field("loadBalancer"), p.outlier_detection.as_ref(), r);
        }
        if let Some(t) = &p.tls {
            t.validate(&p_at.field("tls"), r);
        }
    }
}

/// Istio's `validateTunnelSettings`.
fn tunnel(t: &TunnelSettings, at: &FieldPath, r: &mut Report) {
    if !matches!(t.protocol.as_str(), "" | "CONNECT" | "POST") {
        r.error(
            &at.field("protocol"),
            format!(
                "tunnel protocol {:?} invalid: must be \"CONNECT\" or \"POST\"",
                t.protocol
            ),
        );
    }
    if !rules::is_ip(&t.target_host)
        && let Some(p) = rules::fqdn_problem(&t.target_host)
    {
        r.error(
            &at.field("targetHost"),
            format!("tunnel target host must be a valid FQDN or IP address: {p}"),
        );
    }
    if !(1..=65535).contains(&t.target_port) {
        r.error(
            &at.field("targetPort"),
            format!(
                "tunnel target port {} invalid: must be in the range 1..65535",
                t.target_port
            ),
        );
    }
}

fn retry_budget(b: &RetryBudget, at: &FieldPath, r: &mut Report) {
    if let Some(p) = b.percent {
        rules::check_percentage(r, &at.field("percent"), p);
    }
}
