//! The workload's identity: its certificate chain, private key and trust bundle.
//!
//! The proxy generates its own key pair (ECDSA P-256) and asks the control
//! plane's CA to sign a CSR for it ([`client`]); the private key never leaves the
//! process. The current identity lives in an [`IdentityHandle`], a cheap shared
//! handle (arc-swap) that the TLS code reads on every handshake and that tells
//! watchers when the certificate rotates.

mod client;
#[cfg(test)]
pub(crate) mod testca;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use mesh_api::proxy::{CertInfo, SecretDump, certs_from_pem, spiffe_ids};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::sync::watch;

pub use client::{
    CertSigner, GrpcSigner, IdentityOptions, SignFuture, renew_delay, run as run_client,
};

/// Why a certificate from the CA cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the CA's answer: {0}")]
    Parse(String),
    #[error("the CA sent no certificate")]
    Empty,
    #[error("the CA sent no trust bundle")]
    NoBundle,
    #[error("the certificate is not for this proxy's key")]
    WrongKey,
    #[error("the certificate has {0} SPIFFE IDs; a workload certificate has exactly one")]
    SpiffeIds(usize),
}

/// One issued identity. The key is only reachable through [`Identity::key`], and
/// `Debug` never shows it.
pub struct Identity {
    /// `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
    pub spiffe_id: String,
    /// The workload certificate first, then intermediates.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The roots peers must chain to.
    pub trust_bundle: Vec<CertificateDer<'static>>,
    /// The workload certificate's serial, hex.
    pub serial: String,
    /// Validity of the workload certificate, Unix seconds.
    pub not_before_unix: i64,
    /// End of validity of the workload certificate, Unix seconds.
    pub not_after_unix: i64,
    /// A hash of the trust bundle: connections made under another bundle are
    /// replaced (a CA rotation removed or added a root).
    pub bundle_id: u64,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("spiffe_id", &self.spiffe_id)
            .field("serial", &self.serial)
            .field("not_after_unix", &self.not_after_unix)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// An identity from the CA's answer and the key the CSR was made with.
    pub fn from_pem(
        chain_pem: &[String],
        bundle_pem: &[String],
        key: &rcgen::KeyPair,
    ) -> Result<Self, IdentityError> {
        let parse = |pems: &[String]| -> Result<Vec<CertificateDer<'static>>, IdentityError> {
            let mut out = Vec::new();
            for p in pems {
                let ders = certs_from_pem(p).map_err(|e| IdentityError::Parse(e.to_string()))?;
                out.extend(ders.into_iter().map(CertificateDer::from));
            }
            Ok(out)
        };
        let cert_chain = parse(chain_pem)?;
        let trust_bundle = parse(bundle_pem)?;
        let leaf = cert_chain.first().ok_or(IdentityError::Empty)?;
        if trust_bundle.is_empty() {
            return Err(IdentityError::NoBundle);
        }
        let (_, x) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| IdentityError::Parse(e.to_string()))?;
        if x.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(IdentityError::WrongKey);
        }
        let ids = spiffe_ids(&x);
        let [spiffe_id] = ids.as_slice() else {
            return Err(IdentityError::SpiffeIds(ids.len()));
        };
        let bundle_id = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            trust_bundle.hash(&mut h);
            h.finish()
        };
        Ok(Self {
            bundle_id,
            spiffe_id: spiffe_id.clone(),
            serial: mesh_api::proxy::hex(x.raw_serial()),
            not_before_unix: x.validity().not_before.timestamp(),
            not_after_unix: x.validity().not_after.timestamp(),
            cert_chain,
            trust_bundle,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The private key, for building TLS configs.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Where the identity stands, besides the certificate itself.
#[derive(Debug, Clone, Default)]
struct Progress {
    renew_at_unix: Option<i64>,
    last_error: Option<String>,
}

#[derive(Debug)]
struct Inner {
    enabled: bool,
    current: ArcSwapOption<Identity>,
    progress: ArcSwap<Progress>,
    rotations: watch::Sender<u64>,
    /// Asks the renewal loop to renew now (a permit is kept if it is busy).
    renew: tokio::sync::Notify,
}

/// The current identity, shared cheaply (clone the handle; `current()` is one
/// atomic load).
#[derive(Debug, Clone)]
pub struct IdentityHandle(Arc<Inner>);

impl IdentityHandle {
    fn with(enabled: bool) -> Self {
        Self(Arc::new(Inner {
            enabled,
            current: ArcSwapOption::empty(),
            progress: ArcSwap::from_pointee(Progress::default()),
            rotations: watch::channel(0).0,
            renew: tokio::sync::Notify::new(),
        }))
    }

    /// A handle that will get certificates (the proxy waits for the first one).
    pub fn new() -> Self {
        Self::with(true)
    }

    /// A proxy without an identity (no CA, no mTLS).
    pub fn disabled() -> Self {
        Self::with(false)
    }

    /// Whether this proxy has an identity at all.
    pub fn is_enabled(&self) -> bool {
        self.0.enabled
    }

    /// The current identity, once one was issued.
    pub fn current(&self) -> Option<Arc<Identity>> {
        self.0.current.load_full()
    }

    /// Ready to serve: disabled, or holding a certificate.
    pub fn is_ready(&self) -> bool {
        !self.0.enabled || self.0.current.load().is_some()
    }

    /// Swap in a new identity and tell watchers.
    pub fn set(&self, identity: Identity) {
        self.0.current.store(Some(Arc::new(identity)));
        self.0.rotations.send_modify(|n| *n += 1);
    }

    /// Ask for a new certificate now, rather than at 80% of the lifetime (the
    /// control plane does during a CA rotation).
    pub fn request_renewal(&self) {
        self.0.renew.notify_one();
    }

    /// Resolves when a renewal was asked for.
    async fn renewal_requested(&self) {
        self.0.renew.notified().await;
    }

    /// Certificates installed since start.
    pub fn rotation_count(&self) -> u64 {
        *self.0.rotations.borrow()
    }

    /// A receiver that changes on every rotation.
    pub fn rotations(&self) -> watch::Receiver<u64> {
        self.0.rotations.subscribe()
    }

    fn set_progress(&self, renew_at_unix: Option<i64>, last_error: Option<String>) {
        self.0.progress.store(Arc::new(Progress {
            renew_at_unix,
            last_error,
        }));
    }

    /// What the admin `/certs` shows: public parts only.
    pub fn dump(&self, proxy_id: &str) -> SecretDump {
        let progress = self.0.progress.load();
        let describe = |ders: &[CertificateDer<'static>]| {
            ders.iter()
                .filter_map(|d| CertInfo::from_der(d).ok())
                .collect::<Vec<_>>()
        };
        let current = self.current();
        SecretDump {
            proxy_id: proxy_id.into(),
            state: match (&current, self.0.enabled) {
                (_, false) => "DISABLED",
                (Some(_), true) => "ACTIVE",
                (None, true) => "WARMING",
            }
            .into(),
            cert_chain: current
                .as_ref()
                .map(|c| describe(&c.cert_chain))
                .unwrap_or_default(),
            trust_bundle: current
                .as_ref()
                .map(|c| describe(&c.trust_bundle))
                .unwrap_or_default(),
            renew_at_unix: progress.renew_at_unix,
            last_error: progress.last_error.clone(),
            rotations: self.rotation_count(),
        }
    }
}

impl Default for IdentityHandle {
    fn default() -> Self {
        Self::disabled()
    }
}
