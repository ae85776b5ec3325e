//! Gateway (`gateway.proto`): a load balancer at the edge of the mesh, the ports it
//! opens, the hosts it serves on them and their TLS settings.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::workload_entry::{UNIX_ADDRESS_PREFIX, unix_address_problem};
use super::{Port, ServerTlsMode, ServerTlsSettings};
use crate::kind::Kind;
use crate::networking::protocol::{PORT_PROTOCOL_NAMES, PortProtocol};
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::{Report, Severity, rules};

/// What a gateway workload (selected by labels) listens on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewaySpec {
    /// The listeners: a port, the hosts served on it, TLS settings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// Labels of the gateway pods this configuration applies to (`istio:
    /// ingressgateway`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
}

/// One listener of a gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Server {
    /// The port the gateway listens on, with its protocol and a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// The IP or `unix://` socket to bind to; all addresses when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bind: String,
    /// Hosts served, as `dnsName` or `namespace/dnsName` (`*/foo.example.com`,
    /// `./*.example.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// TLS termination, passthrough or HTTPS redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTlsSettings>,
    /// Not implemented by Istio: a loopback endpoint to forward to by default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_endpoint: String,
    /// Optional server name, unique in the gateway; prefixes the server's stats.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl Spec for GatewaySpec {
    const KIND: Kind = Kind::Gateway;

    /// Istio's `ValidateGateway` and `validateServer`.
    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        if let Some(name) = meta.name.as_deref()
            && rules::is_dns1123_subdomain(name)
            && !rules::is_dns1123_label(name)
        {
            r.error(
                &FieldPath::root().field("metadata").field("name"),
                format!(
                    "invalid gateway name {name:?}: a gateway name must be a DNS label (letters, digits and '-', no dots)"
                ),
            );
        }
        let at = FieldPath::spec();
        if self.servers.is_empty() {
            r.error(
                &at.field("servers"),
                "gateway must have at least one server",
            );
        }
        let mut port_names: HashMap<&str, usize> = HashMap::new();
        let mut server_names: HashMap<&str, usize> = HashMap::new();
        for (i, s) in self.servers.iter().enumerate() {
            let sat = at.field("servers").index(i);
            s.validate(&sat, r);
            if let Some(p) = &s.port {
                if let Some(&first) = port_names.get(p.name.as_str()) {
                    r.error(
                        &sat.field("port").field("name"),
                        format!(
                            "port names in servers must be unique: duplicate name {:?} (also used by servers[{first}])",
                            p.name
                        ),
                    );
                } else {
                    port_names.insert(&p.name, i);
                }
                let https_redirect = s.tls.as_ref().is_some_and(|t| t.https_redirect);
                if https_redirect && !PortProtocol::parse(&p.protocol).is_http() {
                    r.warning(
                        &sat.field("tls").field("httpsRedirect"),
                        "tls.httpsRedirect should only be used with http servers",
                    );
                }
            }
            if s.name.is_empty() {
                continue;
            }
            if let Some(&first) = server_names.get(s.name.as_str()) {
                r.warning(
                    &sat.field("name"),
                    format!(
                        "server name {:?} is also used by servers[{first}]: server names must be unique within a gateway",
                        s.name
                    ),
                );
            } else {
                server_names.insert(&s.name, i);
            }
        }
        check_selector(&self.selector, &at.field("selector"), r);
    }
}

/// Selector labels that are not valid Kubernetes labels can match no gateway pod.
/// Istio does not reject them, so they are reported as warnings.
fn check_selector(selector: &BTreeMap<String, String>, at: &FieldPath, r: &mut Report) {
    let mut labels = Report::new();
    rules::check_labels(&mut labels, at, selector);
    for f in labels.into_findings() {
        if f.severity == Severity::Error {
            r.warning(
                &f.path,
                format!("{}: no gateway pod can have this label", f.message),
            );
        }
    }
}

impl Server {
    /// Istio's `validateServer`: hosts, port, bind address, TLS settings, and
    /// whether TLS settings fit the port's protocol.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        if self.hosts.is_empty() {
            r.error(
                &at.field("hosts"),
                "server must have at least one host, such as \"*\", \"example.com\" or \"ns/*.example.com\"",
            );
        }
        for (i, h) in self.hosts.iter().enumerate() {
            for p in gateway_host_problems(h) {
                r.error(&at.field("hosts").index(i), p);
            }
        }
        let port_ok = self.validate_port(&at.field("port"), r);
        self.validate_bind(at, r);
        if let Some(tls) = &self.tls {
            tls.validate(&at.field("tls"), r);
        }
        let (Some(port), true) = (&self.port, port_ok) else {
            return;
        };
        let proto = PortProtocol::parse(&port.protocol);
        match &self.tls {
            None if proto.is_tls() => r.error(
                &at.field("tls"),
                format!(
                    "server must have TLS settings for HTTPS/TLS protocols: protocol {} needs tls (mode SIMPLE, MUTUAL, PASSTHROUGH...)",
                    port.protocol
                ),
            ),
            Some(tls) if !proto.is_tls() => {
                if proto.is_http() {
                    let passthrough = matches!(
                        tls.mode,
                        ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough
                    );
                    if !passthrough
                        || !tls.ca_certificates.is_empty()
                        || !tls.private_key.is_empty()
                        || !tls.server_certificate.is_empty()
                    {
                        r.error(
                            &at.field("tls"),
                            format!(
                                "server cannot have TLS settings for plain text HTTP ports: on protocol {} only tls.httpsRedirect is allowed; use protocol HTTPS to terminate TLS",
                                port.protocol
                            ),
                        );
                    }
                } else {
                    r.error(
                        &at.field("tls"),
                        format!(
                            "server cannot have TLS settings for non HTTPS/TLS ports: protocol {} does not use TLS",
                            port.protocol
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// Istio's `validateServerPort`. Returns whether the port is valid.
    fn validate_port(&self, at: &FieldPath, r: &mut Report) -> bool {
        let Some(port) = &self.port else {
            r.error(at, "port is required: number, protocol and name");
            return false;
        };
        let mut ok = true;
        if PortProtocol::parse(&port.protocol) == PortProtocol::Unsupported {
            ok = false;
            r.error(
                &at.field("protocol"),
                format!(
                    "invalid protocol {:?}: supported protocols are {PORT_PROTOCOL_NAMES}",
                    port.protocol
                ),
            );
        }
        if port.number > 0 || !self.bind.starts_with(UNIX_ADDRESS_PREFIX) {
            let mut pr = Report::new();
            rules::check_port(&mut pr, &at.field("number"), port.number);
            for f in pr.into_findings() {
                ok = false;
                r.error(&f.path, f.message);
            }
        }
        if let Some(t) = port.target_port
            && t > 0
        {
            ok = false;
            r.error(
                &at.field("targetPort"),
                "targetPort has no impact on Gateways: remove it",
            );
        }
        if port.name.is_empty() {
            ok = false;
            r.error(&at.field("name"), "port name must be set");
        }
        ok
    }

    /// Istio's `validateServerBind`: an IP address, or a Unix socket on port 0.
    fn validate_bind(&self, at: &FieldPath, r: &mut Report) {
        let bind_at = at.field("bind");
        if let Some(path) = self.bind.strip_prefix(UNIX_ADDRESS_PREFIX) {
            if let Some(p) = unix_address_problem(path) {
                r.error(&bind_at, p);
            }
            if let Some(port) = &self.port
                && port.number != 0
            {
                r.error(
                    &at.field("port").field("number"),
                    format!(
                        "port number must be 0 for unix domain socket bind {:?}, got {}",
                        self.bind, port.number
                    ),
                );
            }
        } else if !self.bind.is_empty() && !rules::is_ip(&self.bind) {
            r.error(
                &bind_at,
                format!(
                    "bind {:?} is not a valid IP address: use an IP such as 0.0.0.0 or unix:///path",
                    self.bind
                ),
            );
        }
    }
}

/// Istio's `ValidateNamespaceSlashWildcardHostname` for gateways: `dnsName` or
/// `namespace/dnsName`, the namespace `*`, `.` or a DNS label, the name a
/// fully-qualified (possibly wildcard-prefixed) host or an IP.
pub(crate) fn gateway_host_problems(host: &str) -> Vec<String> {
    let Some((ns, name)) = host.split_once('/') else {
        return host_part_problems(host);
    };
    let mut problems = Vec::new();
    if ns.is_empty() || name.is_empty() {
        problems.push(format!(
            "host {host:?} invalid: config namespace and dnsName in host entry cannot be empty"
        ));
    }
    if !ns.is_empty() && ns != "*" && ns != "." && !rules::is_dns1123_label(ns) {
        problems.push(format!(
            "invalid namespace value {ns:?} in gateway host {host:?}: use \"*\", \".\" or a namespace name"
        ));
    }
    if !name.is_empty() {
        problems.extend(host_part_problems(name));
    }
    problems
}

/// Istio's `validateSidecarOrGatewayHostnamePart` for gateways.
fn host_part_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name != "*" && !name.contains('.') {
        problems.push(format!(
            "host {name:?} invalid: short names (non FQDN) are not allowed; use a fully-qualified name such as {name}.example.com or \"*\""
        ));
    }
    if let Some(p) = rules::wildcard_domain_problem(name)
        && !rules::is_ip(name)
    {
        problems.push(p);
    }
    if name.contains('*') && name != "*" && !name.starts_with("*.") {
        problems.push(format!(
            "partial wildcard {name:?} not allowed: a wildcard must be the whole first label, as in \"*.example.com\""
        ));
    }
    problems
}

/// A Gateway resource.
pub type Gateway = Object<GatewaySpec>;
