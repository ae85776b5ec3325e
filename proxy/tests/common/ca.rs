//! A test CA issuing SPIFFE workload identities, as the mesh CA does, and a
//! client sidecar that calls `reviews:9080` over mutual TLS with one.

use std::net::SocketAddr;

use mesh_api::proxy::{
    AuthzPolicy, Endpoint, InboundMtls, InboundPort, Listeners, Protocol, ProxyConfig,
};
use mesh_proxy::ProxyOptions;
use mesh_proxy::identity::{Identity, IdentityHandle};

use super::{TestProxy, apply, cluster, forward, route, routes, start_proxy, vhost};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A root CA.
pub struct Ca {
    key: KeyPair,
    params: CertificateParams,
    pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { key, params, pem }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A leaf certificate for DNS names (server and client use), signed by this
    /// CA: (certificate PEM, PKCS#8 key PEM).
    pub fn leaf(&self, common_name: &str, dns: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p =
            CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name.push(DnType::CommonName, common_name);
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// A workload identity `spiffe://cluster.local/<path>` signed by this CA.
    pub fn handle(&self, path: &str) -> IdentityHandle {
        let h = IdentityHandle::new();
        h.set(self.identity(path, &[self]));
        h
    }

    /// An identity signed by this CA that trusts the roots of `bundle`.
    pub fn identity(&self, path: &str, bundle: &[&Ca]) -> Identity {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::default();
        p.subject_alt_names = vec![SanType::URI(
            format!("spiffe://cluster.local/{path}")
                .as_str()
                .try_into()
                .unwrap(),
        )];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        let roots: Vec<String> = bundle.iter().map(|c| c.pem.clone()).collect();
        Identity::from_pem(&[cert.pem()], &roots, &key).unwrap()
    }
}

/// A client sidecar routing `reviews:9080` to `endpoint`, expecting the peer
/// identity `peer` (none: plaintext).
pub async fn mesh_client(
    identity: IdentityHandle,
    endpoint: SocketAddr,
    peer: Option<&str>,
) -> TestProxy {
    mesh_client_with(identity, endpoint, peer, Default::default()).await
}

pub async fn mesh_client_with(
    identity: IdentityHandle,
    endpoint: SocketAddr,
    peer: Option<&str>,
    limits: mesh_api::proxy::ConnectionLimits,
) -> TestProxy {
    let mut opts = ProxyOptions::local("client");
    opts.identity = identity;
    let p = start_proxy(opts).await;
    let c = &p.config;
    apply(c, "listeners", "1", &Listeners::default());
    let mut cl = cluster("reviews", 9080, Protocol::Http);
    cl.limits = limits;
    apply(c, "clusters", "1", &vec![cl]);
    let eps = vec![mesh_api::proxy::ClusterEndpoints {
        cluster: "reviews".into(),
        endpoints: vec![Endpoint {
            address: endpoint.to_string(),
            proxy_id: "reviews".into(),
            weight: 1,
            identity: peer.map(str::to_owned),
            ..Default::default()
        }],
    }];
    apply(c, "endpoints", "1", &eps);
    apply(
        c,
        "routes",
        "1",
        &routes(vec![vhost(
            "reviews",
            9080,
            vec![route("r", vec![], forward(&[("reviews", 1)]))],
        )]),
    );
    p
}

/// The server sidecar for `app` with `mode` on port 9080.
pub async fn mesh_server(
    app: SocketAddr,
    identity: IdentityHandle,
    mode: InboundMtls,
) -> TestProxy {
    let mut opts = ProxyOptions::local("reviews");
    opts.identity = identity;
    mesh_server_with(opts, app, Protocol::Http, mode, vec![]).await
}

/// The server sidecar for `app` on port 9080, with `opts` and `authz`.
pub async fn mesh_server_with(
    opts: ProxyOptions,
    app: SocketAddr,
    protocol: Protocol,
    mtls: InboundMtls,
    authz: Vec<AuthzPolicy>,
) -> TestProxy {
    let p = start_proxy(opts).await;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 9080,
                app_port: app.port(),
                protocol,
                mtls,
                ..Default::default()
            }],
            authz,
            ..Default::default()
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
}
