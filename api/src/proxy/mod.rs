//! The config a proxy runs: what the control plane's compiler produces from the
//! mesh's resources and registry, what the discovery protocol carries (JSON in a
//! protobuf envelope), and what the proxy's admin endpoint dumps.
//!
//! It is Envoy's model in miniature: **listeners** (what the proxy accepts),
//! **routes** (outbound HTTP: virtual hosts by authority, routes by match, an action),
//! **clusters** (a named upstream: service, port, subset, balancing and policies) and
//! **endpoints** (a cluster's members). Each is one discovery type, pushed and acked
//! separately. Names follow Istio's (`outbound|9080|v1|reviews.default.svc.cluster.local`)
//! so what users read in `proxy-config` matches what they know.
//!
//! Everything here is plain data: the proxy turns it into its own runtime form at
//! the boundary, and rejects (NACKs) what it cannot run.

mod authz;
mod delta;
mod policy;
mod route;
mod secret;
mod telemetry;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use authz::*;
pub use delta::{ListDelta, Named, RoutesDelta, Upsert};
pub use policy::*;
pub use route::*;
pub use secret::{
    CaStatus, CertInfo, CertParseError, IssuedCert, RotationStatus, SecretDump, cert_pem,
    certs_from_pem, hex, spiffe_ids,
};
pub use telemetry::*;

/// The discovery type names, in the order the control plane pushes them on a new
/// stream (clusters before endpoints before routes, so nothing routes to a cluster
/// the proxy has not heard of).
pub const TYPE_LISTENERS: &str = "listeners";
pub const TYPE_CLUSTERS: &str = "clusters";
pub const TYPE_ENDPOINTS: &str = "endpoints";
pub const TYPE_ROUTES: &str = "routes";
pub const PUSH_ORDER: [&str; 4] = [TYPE_LISTENERS, TYPE_CLUSTERS, TYPE_ENDPOINTS, TYPE_ROUTES];
/// Not config: a push of this type asks the proxy to renew its workload
/// certificate now (a CA rotation phase changed the signer or the trust bundle).
pub const TYPE_RENEW_CERTIFICATE: &str = "meshctl.io/RenewCertificate";

/// A proxy's whole config, one field per discovery type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyConfig {
    pub listeners: Listeners,
    pub clusters: Vec<Cluster>,
    pub endpoints: Vec<ClusterEndpoints>,
    pub routes: RouteConfig,
}

impl ProxyConfig {
    /// One type's payload as the discovery protocol carries it.
    pub fn encode(&self, type_url: &str) -> Option<Vec<u8>> {
        let v = match type_url {
            TYPE_LISTENERS => serde_json::to_vec(&self.listeners),
            TYPE_CLUSTERS => serde_json::to_vec(&self.clusters),
            TYPE_ENDPOINTS => serde_json::to_vec(&self.endpoints),
            TYPE_ROUTES => serde_json::to_vec(&self.routes),
            _ => return None,
        };
        v.ok()
    }
}

/// The well-known DNS suffix of services (`<name>.<namespace>.svc.cluster.local`).
pub const CLUSTER_DOMAIN: &str = "svc.cluster.local";

/// `outbound|<port>|<subset>|<host>`, as Istio names clusters.
pub fn outbound_cluster_name(port: u16, subset: Option<&str>, host: &str) -> String {
    format!("outbound|{port}|{}|{host}", subset.unwrap_or(""))
}

/// What the proxy listens for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listeners {
    /// Inbound: the service ports this workload serves, each forwarded to the app.
    pub inbound: Vec<InboundPort>,
    /// The AuthorizationPolicies that select this workload, for its inbound
    /// traffic, in evaluation order within each action; none: everything allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authz: Vec<AuthzPolicy>,
    /// Access logging, tracing and metric overrides for this workload.
    #[serde(default, skip_serializing_if = "TelemetryConfig::is_empty")]
    pub telemetry: TelemetryConfig,
}

/// One service port of this workload and the local app port behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundPort {
    /// The port clients address (`reviews:9080`).
    pub port: u16,
    /// The port the app listens on, on loopback.
    pub app_port: u16,
    pub protocol: Protocol,
    /// What peers must use (PeerAuthentication); PERMISSIVE by default.
    #[serde(default)]
    pub mtls: InboundMtls,
    /// Which PeerAuthentication decided `mtls` (`PeerAuthentication ns/name`), or
    /// none for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_origin: Option<String>,
}

/// The inbound mutual-TLS mode of a port, as PeerAuthentication resolves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InboundMtls {
    /// Mutual TLS and plaintext both accepted (detected from the first bytes).
    #[default]
    Permissive,
    /// Mutual TLS only: plaintext is refused.
    Strict,
    /// Plaintext only.
    Disable,
}

/// How a client sidecar connects to a cluster's endpoints (DestinationRule
/// `tls.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterTls {
    /// Istio's auto mTLS: mutual TLS to endpoints that accept it (those with an
    /// `identity`), plaintext to the others.
    #[default]
    Auto,
    /// Plaintext (`DISABLE`).
    Disable,
    /// Mutual TLS with the mesh's certificates, always (`ISTIO_MUTUAL`).
    IstioMutual,
    /// TLS originated by the client sidecar, verifying the server
    /// (`SIMPLE`; details in [`Cluster::origination`]).
    Simple,
    /// TLS originated by the client sidecar with a client certificate
    /// (`MUTUAL`; details in [`Cluster::origination`]).
    Mutual,
}

/// TLS the client sidecar originates to a cluster's endpoints (DestinationRule
/// `tls.mode` SIMPLE or MUTUAL): file paths on the sidecar's host, read when the
/// proxy compiles the config. No key material travels in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsOrigination {
    /// Where the settings come from, for messages
    /// (`DestinationRule default/ext trafficPolicy.tls`).
    pub origin: String,
    /// PEM file of the CAs that verify the server (`caCertificates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
    /// PEM file of the client's certificate chain (`clientCertificate`, MUTUAL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// PEM file of the client's private key (`privateKey`, MUTUAL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// A Kubernetes secret (`credentialName`): not available in local mode, so a
    /// proxy rejects a cluster that names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    /// The server name sent (`sni`, else the service's host).
    pub sni: String,
    /// Names one of which the server certificate must carry
    /// (`subjectAltNames`); empty: the certificate must be valid for `sni`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    /// Accept any server certificate (`insecureSkipVerify`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

/// How a port's traffic is carried, as Istio decides it from the Service port's
/// name or appProtocol (`http-web`, `grpc`, `tcp-db`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Http,
    Http2,
    Grpc,
    Tcp,
}

impl Protocol {
    /// Istio's protocol selection from a port name (`http`, `http-foo`, `grpc-x`) or
    /// an explicit appProtocol; unknown names are TCP... except that local mode has
    /// no sniffing yet, so an unnamed port is HTTP (what `meshctl run` serves).
    pub fn from_port_name(name: &str, app_protocol: Option<&str>) -> Self {
        let p = app_protocol.unwrap_or(name).to_ascii_lowercase();
        let prefix = p.split(['-', '_']).next().unwrap_or("");
        match prefix {
            "" | "http" | "http1" => Protocol::Http,
            "http2" | "h2c" | "kubernetes.io/h2c" => Protocol::Http2,
            "grpc" | "grpc-web" => Protocol::Grpc,
            "tcp" | "mongo" | "mysql" | "redis" | "tls" | "https" => Protocol::Tcp,
            _ => Protocol::Tcp,
        }
    }

    pub fn is_http(self) -> bool {
        !matches!(self, Protocol::Tcp)
    }
}

/// An upstream: one service port, optionally one subset of its workloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// `outbound|9080|v1|reviews.default.svc.cluster.local`.
    pub name: String,
    /// The service's FQDN.
    pub service: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    pub protocol: Protocol,
    #[serde(default)]
    pub lb_policy: LbPolicy,
    /// Consistent hashing: what to hash (replaces `lb_policy` when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashPolicy>,
    /// Connection pool limits (`connectionPool`).
    #[serde(default, skip_serializing_if = "ConnectionLimits::is_empty")]
    pub limits: ConnectionLimits,
    /// Passive health checking (`outlierDetection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier: Option<OutlierPolicy>,
    /// Mutual TLS to the endpoints (`tls.mode`).
    #[serde(default, skip_serializing_if = "is_auto")]
    pub tls: ClusterTls,
    /// What TLS to originate when `tls` is SIMPLE or MUTUAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origination: Option<TlsOrigination>,
}

fn is_auto(t: &ClusterTls) -> bool {
    *t == ClusterTls::Auto
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LbPolicy {
    #[default]
    RoundRobin,
    LeastRequest,
    Random,
}

/// A cluster's members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEndpoints {
    pub cluster: String,
    pub endpoints: Vec<Endpoint>,
}

/// One workload in a cluster: where its sidecar accepts traffic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The workload's sidecar inbound address (`127.0.0.1:41234`).
    pub address: String,
    /// The proxy id of the workload, for `proxy-config endpoints`.
    pub proxy_id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// The workload's identity as the path of its SPIFFE ID
    /// (`ns/default/sa/reviews`) when it accepts mutual TLS on this port; the
    /// client sidecar expects `spiffe://<trust domain>/<identity>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Not a sidecar (a ServiceEntry's endpoint): requests and tunnels go to the
    /// address itself, without the mesh's CONNECT hop or metadata exchange.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
}

fn default_weight() -> u32 {
    1
}
