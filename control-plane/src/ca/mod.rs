//! The mesh's certificate authority (Istio's Citadel, in miniature).
//!
//! At install the mesh home gets a CA ([`material`]): a generated self-signed root,
//! or the user's own (`meshctl install --set ca.cert=... --set ca.key=...
//! --set ca.chain=...`, like Istio's plugged-in `cacerts`), checked before it is
//! kept. Proxies generate their own key pairs and send CSRs; the CA checks the
//! caller's bootstrap token ([`tokens`]), which fixes the namespace and service
//! account, and signs a short-lived certificate whose only URI SAN is
//! `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. Whatever
//! names the CSR asks for are ignored: only its public key is used.

pub mod material;
pub mod rotation;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rotation;
pub mod tokens;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use mesh_api::proxy::{CaStatus, CertInfo, IssuedCert};
use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DistinguishedName, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
pub use tokens::TokenError;

pub use material::{CaFiles, CaSource, PluggedCa};
pub use rotation::{Phase, ProxyCert, RotateError};

/// The trust domain when none is set.
pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";
/// The workload certificate lifetime when none is set.
pub const DEFAULT_WORKLOAD_TTL: Duration = Duration::from_secs(24 * 3600);
/// The shortest workload certificate lifetime the CA grants.
pub const MIN_WORKLOAD_TTL: Duration = Duration::from_secs(60);
/// How far back a workload certificate's validity starts, for clocks that lag.
const BACKDATE: Duration = Duration::from_secs(60);

/// What went wrong in the CA.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error("the certificate signing request is not valid: {0}")]
    Csr(String),
    #[error("sign the workload certificate: {0}")]
    Sign(String),
    #[error("{0}")]
    Token(#[from] tokens::TokenError),
}

/// How the CA signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaSettings {
    /// The SPIFFE trust domain (`cluster.local`).
    pub trust_domain: String,
    /// The lifetime of workload certificates; a proxy may ask for less, never more.
    pub workload_ttl: Duration,
}

impl Default for CaSettings {
    fn default() -> Self {
        Self {
            trust_domain: DEFAULT_TRUST_DOMAIN.into(),
            workload_ttl: DEFAULT_WORKLOAD_TTL,
        }
    }
}

/// Check a trust domain as SPIFFE defines it: lowercase letters, digits, `.`, `-`, `_`.
pub fn validate_trust_domain(td: &str) -> Result<(), String> {
    if td.is_empty() || td.len() > 255 {
        return Err("a trust domain is 1 to 255 characters".into());
    }
    if let Some(c) = td
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_')))
    {
        return Err(format!(
            "{c:?} is not allowed in a trust domain: use lowercase letters, digits, '.', '-' and '_' (e.g. cluster.local)"
        ));
    }
    Ok(())
}

/// Check a workload certificate lifetime.
pub fn validate_workload_ttl(ttl: Duration) -> Result<(), String> {
    if ttl < MIN_WORKLOAD_TTL {
        return Err(format!(
            "at least {}s (certificates are renewed at 80% of their lifetime)",
            MIN_WORKLOAD_TTL.as_secs()
        ));
    }
    if ttl > Duration::from_secs(90 * 24 * 3600) {
        return Err("at most 90 days: workload certificates are meant to be short-lived".into());
    }
    Ok(())
}

/// `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
pub fn spiffe_id(trust_domain: &str, namespace: &str, service_account: &str) -> String {
    format!("spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}")
}

/// Who a certificate is for, as the bootstrap token established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadIdentity {
    pub proxy_id: String,
    pub namespace: String,
    pub service_account: String,
}

/// A signed workload certificate and what the proxy needs with it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The workload certificate first, then intermediates (PEM each).
    pub chain_pem: Vec<String>,
    /// The roots (PEM each).
    pub bundle_pem: Vec<String>,
    /// What was recorded for `ca status`.
    pub issued: IssuedCert,
}

/// What the CA signs with and what proxies trust; swapped whole by a rotation.
struct Keys {
    source: CaSource,
    issuer: Issuer<'static, KeyPair>,
    signing_cert_der: Vec<u8>,
    intermediates_der: Vec<Vec<u8>>,
    /// The root(s) of the signing chain.
    roots_der: Vec<Vec<u8>>,
    /// The trust bundle every proxy gets (both roots while a rotation overlaps).
    bundle_der: Vec<Vec<u8>>,
}

impl Keys {
    fn new(files: &CaFiles, bundle_der: Vec<Vec<u8>>) -> Result<Self, CaError> {
        // The issuer owns its key: a copy of the CA's (rcgen keys are not Clone).
        let key = KeyPair::from_pem(&files.key.serialize_pem()).map_err(|e| CaError::Invalid {
            what: "CA key".into(),
            message: e.to_string(),
        })?;
        let issuer =
            Issuer::from_ca_cert_der(&files.cert_der.clone().into(), key).map_err(|e| {
                CaError::Invalid {
                    what: "CA certificate".into(),
                    message: e.to_string(),
                }
            })?;
        Ok(Self {
            source: files.source,
            issuer,
            signing_cert_der: files.cert_der.clone(),
            intermediates_der: files.intermediates_der.clone(),
            roots_der: files.roots_der.clone(),
            bundle_der,
        })
    }
}

/// The CA at run time: its signing key and what it has signed.
pub struct Ca {
    settings: CaSettings,
    keys: RwLock<Arc<Keys>>,
    signed: AtomicU64,
    csrs: AtomicU64,
    auth_failures: AtomicU64,
    issued: Mutex<Issued>,
}

/// What the CA signed, by proxy id, and when expired entries were last
/// dropped.
#[derive(Debug, Default)]
struct Issued {
    by_proxy: HashMap<String, IssuedCert>,
    pruned_at: i64,
}

/// How often expired entries are dropped from the record: a scan of every
/// entry per certificate would make a CA rotation quadratic in the mesh's size.
const PRUNE_EVERY_SECONDS: i64 = 60;

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("trust_domain", &self.settings.trust_domain)
            .field("source", &self.keys().source)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// A CA from checked files (see [`CaFiles::load`]).
    pub fn new(files: CaFiles, settings: CaSettings) -> Result<Self, CaError> {
        let keys = Keys::new(&files, files.roots_der.clone())?;
        Ok(Self {
            settings,
            keys: RwLock::new(Arc::new(keys)),
            signed: AtomicU64::new(0),
            csrs: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            issued: Mutex::new(Issued::default()),
        })
    }

    fn keys(&self) -> Arc<Keys> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sign with `signing` from now on and hand out `bundle_der` as the trust
    /// bundle (a rotation phase).
    pub(crate) fn switch(
        &self,
        signing: &CaFiles,
        bundle_der: Vec<Vec<u8>>,
    ) -> Result<(), CaError> {
        let keys = Arc::new(Keys::new(signing, bundle_der)?);
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        Ok(())
    }

    /// The trust bundle, DER each.
    pub fn bundle_der(&self) -> Vec<Vec<u8>> {
        self.keys().bundle_der.clone()
    }

    /// The root of the chain the CA signs with now (DER).
    pub fn signing_root_der(&self) -> Vec<u8> {
        self.keys().roots_der.first().cloned().unwrap_or_default()
    }

    /// The settings it signs with.
    pub fn settings(&self) -> &CaSettings {
        &self.settings
    }

    /// CSRs received, certificates signed and callers refused, since start.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.csrs.load(Ordering::Relaxed),
            self.signed.load(Ordering::Relaxed),
            self.auth_failures.load(Ordering::Relaxed),
        )
    }

    /// Count a caller whose token was refused.
    pub fn record_auth_failure(&self) {
        self.csrs.fetch_add(1, Ordering::Relaxed);
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The lifetime granted for a request of `requested` (zero: the default).
    pub fn granted_ttl(&self, requested: Duration) -> Duration {
        if requested.is_zero() {
            self.settings.workload_ttl
        } else {
            requested
                .min(self.settings.workload_ttl)
                .max(MIN_WORKLOAD_TTL)
        }
    }

    /// Sign a workload certificate for the public key of `csr_pem`, for `who`.
    /// The CSR's signature must verify (the caller holds the key); the names it
    /// asks for are ignored.
    pub fn sign(
        &self,
        csr_pem: &str,
        who: &WorkloadIdentity,
        requested_ttl: Duration,
    ) -> Result<Signed, CaError> {
        self.csrs.fetch_add(1, Ordering::Relaxed);
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| CaError::Csr(e.to_string()))?;
        let id = spiffe_id(
            &self.settings.trust_domain,
            &who.namespace,
            &who.service_account,
        );
        let ttl = self.granted_ttl(requested_ttl);
        let keys = self.keys();
        let now = time::OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::URI(
            id.clone()
                .try_into()
                .map_err(|e: rcgen::Error| CaError::Sign(e.to_string()))?,
        )];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - BACKDATE;
        params.not_after = now + ttl;
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        let cert = params
            .signed_by(&csr.public_key, &keys.issuer)
            .map_err(|e| CaError::Sign(e.to_string()))?;
        let info = CertInfo::from_der(cert.der()).map_err(|e| CaError::Sign(e.to_string()))?;
        let issued = IssuedCert {
            proxy_id: who.proxy_id.clone(),
            spiffe_id: id,
            serial: info.serial,
            not_before_unix: info.not_before_unix,
            not_after_unix: info.not_after_unix,
            connected: false,
            root_sha256: keys
                .roots_der
                .first()
                .map(|r| sha256_hex(r))
                .unwrap_or_default(),
            trust_bundle_sha256: keys.bundle_der.iter().map(|r| sha256_hex(r)).collect(),
            rotations: None,
            origin: "issued".into(),
            current: true,
        };
        self.signed.fetch_add(1, Ordering::Relaxed);
        {
            let mut record = self
                .issued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Forget the certificates that have expired (their proxies are gone or
            // renewed long ago), so the record stays the size of the mesh.
            let now = now.unix_timestamp();
            if now - record.pruned_at >= PRUNE_EVERY_SECONDS {
                record.by_proxy.retain(|_, c| c.not_after_unix > now);
                record.pruned_at = now;
            }
            record.by_proxy.insert(who.proxy_id.clone(), issued.clone());
        }
        let mut chain_pem = vec![cert.pem()];
        if !keys.roots_der.contains(&keys.signing_cert_der) {
            chain_pem.push(mesh_api::proxy::cert_pem(&keys.signing_cert_der));
        }
        chain_pem.extend(
            keys.intermediates_der
                .iter()
                .map(|d| mesh_api::proxy::cert_pem(d)),
        );
        Ok(Signed {
            chain_pem,
            bundle_pem: self.bundle_pem(),
            issued,
        })
    }

    /// The trust bundle, PEM each.
    pub fn bundle_pem(&self) -> Vec<String> {
        self.keys()
            .bundle_der
            .iter()
            .map(|d| mesh_api::proxy::cert_pem(d))
            .collect()
    }

    /// The certificates signed since start, by proxy (expired ones forgotten).
    pub fn issued(&self) -> Vec<IssuedCert> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_proxy
            .values()
            .filter(|c| c.not_after_unix > now)
            .cloned()
            .collect()
    }

    /// What `meshctl ca status` shows about the CA itself; the caller adds the
    /// proxies and the rotation.
    pub fn status(&self) -> CaStatus {
        let describe = |d: &[u8]| CertInfo::from_der(d).unwrap_or_default();
        let keys = self.keys();
        CaStatus {
            trust_domain: self.settings.trust_domain.clone(),
            source: keys.source.as_str().into(),
            workload_cert_ttl_seconds: self.settings.workload_ttl.as_secs(),
            signing_cert: describe(&keys.signing_cert_der),
            intermediates: keys.intermediates_der.iter().map(|d| describe(d)).collect(),
            roots: keys.bundle_der.iter().map(|d| describe(d)).collect(),
            csrs_signed: self.signed.load(Ordering::Relaxed),
            proxies: Vec::new(),
            rotation: None,
        }
    }
}

/// SHA-256 of `der`, lowercase hex (the fingerprint `ca status` shows).
pub fn sha256_hex(der: &[u8]) -> String {
    mesh_api::proxy::hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// 16 random bytes with the top bit clear (a positive serial, as RFC 5280 wants).
fn random_serial() -> Result<[u8; 16], CaError> {
    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| CaError::Sign("the system's random source failed".into()))?;
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    Ok(serial)
}

/// The CA as the discovery server uses it: token checks, then signing.
#[derive(Debug)]
pub struct Authority {
    ca: Ca,
    home: PathBuf,
    /// The root rotation in progress ([`rotation`]).
    rotation: Mutex<Option<rotation::Rotation>>,
    epoch: AtomicU64,
}

impl Authority {
    /// `home` is the mesh home, where the bootstrap tokens are.
    pub fn new(ca: Ca, home: PathBuf) -> Self {
        Self {
            ca,
            home,
            rotation: Mutex::new(None),
            epoch: AtomicU64::new(0),
        }
    }

    /// The CA.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// The identity bound to `proxy_id`'s bootstrap token, if it has one (to check
    /// that what a proxy says in its hello matches what its certificate will say).
    pub fn bound_identity(&self, proxy_id: &str) -> Option<WorkloadIdentity> {
        tokens::binding(&self.home, proxy_id)
    }

    /// Check the caller's token, then sign its CSR for the identity the token is
    /// bound to.
    pub fn create_certificate(
        &self,
        proxy_id: &str,
        token: &str,
        csr_pem: &str,
        requested_ttl: Duration,
    ) -> Result<Signed, CaError> {
        let who = tokens::verify(&self.home, proxy_id, token).inspect_err(|_| {
            self.ca.record_auth_failure();
        })?;
        self.ca.sign(csr_pem, &who, requested_ttl)
    }
}
