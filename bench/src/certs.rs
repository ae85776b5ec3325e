//! Certificates for the Envoy pair's mutual TLS, made the way the mesh CA makes
//! them: a P-256 root, and workload certificates whose only SAN is a SPIFFE ID.

use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::envoy::TlsFiles;

/// The SPIFFE ID of a workload in the bench's trust domain.
pub fn spiffe(sa: &str) -> String {
    format!("spiffe://cluster.local/ns/default/sa/{sa}")
}

/// Writes a root and one certificate per service account into `dir`; the
/// files each side presents, with the peer it expects (`sides`: own account,
/// peer account or none).
pub fn write(dir: &Path, sides: &[(&str, Option<&str>)]) -> anyhow::Result<Vec<TlsFiles>> {
    let ca_key = KeyPair::generate().context("generate the root key")?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "mesh-bench root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_pem = ca.self_signed(&ca_key).context("sign the root")?.pem();
    let ca_path = dir.join("root-cert.pem");
    std::fs::write(&ca_path, &ca_pem).context("write the root")?;
    let issuer = Issuer::from_params(&ca, &ca_key);
    let mut out = Vec::new();
    for (sa, peer) in sides {
        let key = KeyPair::generate().context("generate a workload key")?;
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.subject_alt_names = vec![SanType::URI(spiffe(sa).as_str().try_into()?)];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p.signed_by(&key, &issuer).context("sign a workload")?;
        let cert_path = dir.join(format!("{sa}-cert.pem"));
        let key_path = dir.join(format!("{sa}-key.pem"));
        std::fs::write(&cert_path, cert.pem()).context("write a workload certificate")?;
        std::fs::write(&key_path, key.serialize_pem()).context("write a workload key")?;
        out.push(TlsFiles {
            cert: cert_path,
            key: key_path,
            ca: ca_path.clone(),
            peer_san: peer.map(spiffe),
        });
    }
    Ok(out)
}
