//! TLS building blocks for mutual TLS between sidecars (rustls, ring provider).
//!
//! [`server_config`] requires a client certificate chaining to the mesh's trust
//! bundle; [`client_config`] presents the workload certificate and accepts only
//! a server with an expected SPIFFE ID ([`SpiffeVerifier`]). ALPN marks mesh
//! traffic as Istio does (`istio-peer-exchange`, `istio`), so an app's own TLS
//! can be told apart. [`TlsConfigs`] keeps configs built from the current
//! identity and rebuilds them when the certificate rotates.

#[cfg(test)]
mod tests;
mod verifier;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use verifier::{SpiffeMismatch, SpiffeVerifier};
pub(crate) use verifier::{handshake_signatures, pki_error, verify_chain};

use crate::identity::{Identity, IdentityHandle};

/// ALPN of Istio's metadata exchange, offered by mesh clients first.
pub const ALPN_ISTIO_PEER_EXCHANGE: &[u8] = b"istio-peer-exchange";
/// ALPN that marks a mesh (sidecar-to-sidecar) connection.
pub const ALPN_ISTIO: &[u8] = b"istio";
/// HTTP/2 inside the mesh tunnel.
pub const ALPN_H2: &[u8] = b"h2";
/// HTTP/1.1 inside the mesh tunnel.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// What a server sidecar accepts, in preference order.
pub const SERVER_ALPN: [&[u8]; 4] = [ALPN_ISTIO_PEER_EXCHANGE, ALPN_ISTIO, ALPN_H2, ALPN_HTTP11];

/// Why a TLS config could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the trust bundle has no usable root: {0}")]
    Bundle(String),
    #[error("the workload certificate or key: {0}")]
    Cert(rustls::Error),
    #[error("build the client certificate verifier: {0}")]
    Verifier(String),
}

/// The one crypto provider of the build (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(id: &Identity) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in &id.trust_bundle {
        store
            .add(cert.clone())
            .map_err(|e| TlsError::Bundle(e.to_string()))?;
    }
    Ok(store)
}

/// A server config for the inbound side: presents the workload certificate,
/// requires and verifies the client's against the trust bundle, and offers
/// [`SERVER_ALPN`].
pub fn server_config(id: &Identity) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(id)?), provider.clone())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Cert)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(id.cert_chain.clone(), id.key())
        .map_err(TlsError::Cert)?;
    config.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// A client config for the outbound side: presents the workload certificate and
/// accepts only a server whose SPIFFE ID is one of `expected`; offers `alpn`.
pub fn client_config(
    id: &Identity,
    expected: &[String],
    alpn: &[&[u8]],
) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let verifier = SpiffeVerifier::new(
        roots(id)?.roots,
        expected.to_vec(),
        provider.signature_verification_algorithms,
    );
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Cert)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(id.cert_chain.clone(), id.key())
        .map_err(TlsError::Cert)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The SPIFFE ID of the peer of an established connection, if it presented one.
pub fn peer_spiffe_id(conn: &rustls::CommonState) -> Option<String> {
    let leaf = conn.peer_certificates()?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
    mesh_api::proxy::spiffe_ids(&cert).into_iter().next()
}

/// Configs built from one identity.
struct Built {
    identity: Arc<Identity>,
    server: Arc<ServerConfig>,
    /// Client configs by expected SPIFFE ID (and the mesh ALPN).
    clients: ArcSwap<HashMap<String, Arc<ClientConfig>>>,
}

/// TLS configs for the current identity, rebuilt when it rotates. Reading one is
/// an atomic load and a pointer comparison; a build happens once per rotation
/// (and once per new peer identity on the client side).
#[derive(Clone)]
pub struct TlsConfigs {
    handle: IdentityHandle,
    built: Arc<ArcSwapOption<Built>>,
}

impl std::fmt::Debug for TlsConfigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfigs").finish_non_exhaustive()
    }
}

impl TlsConfigs {
    /// Configs that follow `handle`.
    pub fn new(handle: IdentityHandle) -> Self {
        Self {
            handle,
            built: Arc::new(ArcSwapOption::empty()),
        }
    }

    fn current(&self) -> Result<Option<Arc<Built>>, TlsError> {
        let Some(identity) = self.handle.current() else {
            return Ok(None);
        };
        if let Some(b) = self.built.load_full()
            && Arc::ptr_eq(&b.identity, &identity)
        {
            return Ok(Some(b));
        }
        let built = Arc::new(Built {
            server: Arc::new(server_config(&identity)?),
            identity,
            clients: ArcSwap::from_pointee(HashMap::new()),
        });
        self.built.store(Some(built.clone()));
        Ok(Some(built))
    }

    /// The inbound config, or `None` before the first certificate.
    pub fn server(&self) -> Result<Option<Arc<ServerConfig>>, TlsError> {
        Ok(self.current()?.map(|b| b.server.clone()))
    }

    /// The outbound config for a peer that must be `expected`, offering the mesh
    /// ALPN (`istio`) then `h2`; `None` before the first certificate.
    pub fn client(&self, expected: &str) -> Result<Option<Arc<ClientConfig>>, TlsError> {
        let Some(b) = self.current()? else {
            return Ok(None);
        };
        if let Some(c) = b.clients.load().get(expected) {
            return Ok(Some(c.clone()));
        }
        let config = Arc::new(client_config(
            &b.identity,
            &[expected.to_owned()],
            &[ALPN_ISTIO, ALPN_H2],
        )?);
        b.clients.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.insert(expected.to_owned(), config.clone());
            m
        });
        Ok(Some(config))
    }
}
