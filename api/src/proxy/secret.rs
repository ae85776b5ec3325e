//! What the mesh's certificates look like to people: the proxy's admin `/certs`
//! (shown by `meshctl proxy-config secret`) and the control plane's `/v1/ca`
//! (shown by `meshctl ca status`). Public parts only: there is no field for a key.

use serde::{Deserialize, Serialize};

/// One certificate, as `openssl x509 -noout -text` would summarise it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    /// The subject's distinguished name (`O=meshctl, CN=...`; empty for workload certs).
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The serial number, lowercase hex.
    pub serial: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub fingerprint_sha256: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// The certificate's SPIFFE ID (its `spiffe://` URI SAN), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spiffe_id: Option<String>,
    /// Whether it is a CA certificate.
    #[serde(default)]
    pub is_ca: bool,
    /// The certificate in PEM.
    pub pem: String,
}

/// A proxy's workload identity as its admin endpoint shows it (`/certs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretDump {
    /// The proxy this is.
    pub proxy_id: String,
    /// `ACTIVE` once a certificate was issued, `WARMING` while waiting for the
    /// first one, `DISABLED` when the proxy runs without an identity.
    pub state: String,
    /// The workload certificate first, then intermediates.
    pub cert_chain: Vec<CertInfo>,
    /// The roots peers' certificates are verified against.
    pub trust_bundle: Vec<CertInfo>,
    /// When the proxy will ask for its next certificate (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_at_unix: Option<i64>,
    /// The last failed request to the CA, if the latest attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How many certificates the proxy has installed since it started (the
    /// first one counts: two renewals make 3).
    #[serde(default)]
    pub rotations: u64,
}

/// One proxy's current certificate, as the CA recorded it when it signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCert {
    pub proxy_id: String,
    pub spiffe_id: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// Whether the proxy has an open discovery stream now.
    pub connected: bool,
    /// SHA-256 of the root the certificate chains to (empty when unknown).
    #[serde(default)]
    pub root_sha256: String,
    /// SHA-256 of each root in the proxy's trust bundle (when it reported it).
    #[serde(default)]
    pub trust_bundle_sha256: Vec<String>,
    /// Certificates the proxy installed since it started (when it reported it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotations: Option<u64>,
    /// `reported` (the proxy said it runs this certificate) or `issued` (the CA
    /// signed it since it started; the proxy has not reported).
    #[serde(default)]
    pub origin: String,
    /// Whether the certificate comes from the CA's current signing root and the
    /// proxy's trust bundle is the CA's current one.
    #[serde(default)]
    pub current: bool,
}

/// A root rotation in progress (`meshctl ca rotate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationStatus {
    /// `add-root`, `reissue` or `remove-old`.
    pub phase: String,
    /// When the rotation started, Unix seconds.
    pub started_unix: i64,
    /// The root(s) being rotated out.
    pub old_roots: Vec<CertInfo>,
    /// The root(s) being rotated in.
    pub new_roots: Vec<CertInfo>,
    /// Connected proxies with a workload identity.
    pub proxies: usize,
    /// Of those, how many have reached this phase (trust bundle and certificate
    /// as the CA now gives them).
    pub done: usize,
    /// The proxies that have not (ids).
    pub laggards: Vec<String>,
}

/// The control plane's CA, as `meshctl ca status` shows it (`/v1/ca`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaStatus {
    pub trust_domain: String,
    /// `self-signed` (generated at install) or `plugged-in` (from `--set ca.cert=...`).
    pub source: String,
    /// The lifetime of the workload certificates it signs, in seconds.
    pub workload_cert_ttl_seconds: u64,
    /// The certificate it signs with.
    pub signing_cert: CertInfo,
    /// Certificates between the signing certificate and the root.
    pub intermediates: Vec<CertInfo>,
    /// The trust bundle every proxy gets.
    pub roots: Vec<CertInfo>,
    /// CSRs signed since the control plane started.
    pub csrs_signed: u64,
    /// Each proxy's certificate: what it reported, or the latest signed for it.
    pub proxies: Vec<IssuedCert>,
    /// The root rotation in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationStatus>,
}

/// Why a certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertParseError {
    #[error("not PEM: {0}")]
    Pem(String),
    #[error("no certificate in the PEM text")]
    Empty,
    #[error("not an X.509 certificate: {0}")]
    X509(String),
}

/// Every certificate (DER) in a PEM text, in order.
pub fn certs_from_pem(text: &str) -> Result<Vec<Vec<u8>>, CertParseError> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        let pem = pem.map_err(|e| CertParseError::Pem(e.to_string()))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        return Err(CertParseError::Empty);
    }
    Ok(out)
}

/// One certificate in PEM.
pub fn cert_pem(der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The `spiffe://` URI SANs of a parsed certificate.
pub fn spiffe_ids(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::URI(u) if u.starts_with("spiffe://") => {
                Some((*u).to_owned())
            }
            _ => None,
        })
        .collect()
}

impl CertInfo {
    /// Summarise one certificate (DER).
    pub fn from_der(der: &[u8]) -> Result<Self, CertParseError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| CertParseError::X509(e.to_string()))?;
        let fingerprint = ring::digest::digest(&ring::digest::SHA256, der);
        Ok(Self {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: hex(cert.raw_serial()),
            fingerprint_sha256: hex(fingerprint.as_ref()),
            not_before_unix: cert.validity().not_before.timestamp(),
            not_after_unix: cert.validity().not_after.timestamp(),
            spiffe_id: spiffe_ids(&cert).into_iter().next(),
            is_ca: cert.is_ca(),
            pem: cert_pem(der),
        })
    }

    /// Summarise every certificate of a PEM text.
    pub fn from_pem(text: &str) -> Result<Vec<Self>, CertParseError> {
        certs_from_pem(text)?
            .iter()
            .map(|d| Self::from_der(d))
            .collect()
    }
}

/// Lowercase hex, no separators.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
