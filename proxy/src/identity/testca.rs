//! A small CA for tests: signs workload certificates as the control plane does.

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::Identity;

pub(crate) struct TestCa {
    key: KeyPair,
    params: CertificateParams,
    pub pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("ca key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let pem = params.self_signed(&key).expect("root").pem();
        Self { key, params, pem }
    }

    fn leaf_params(spiffe: &str, ttl: Duration) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![SanType::URI(spiffe.try_into().expect("uri"))];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::minutes(1);
        p.not_after = now + ttl;
        p
    }

    /// Sign a CSR for `spiffe`, valid for `ttl` from now: the chain PEM.
    pub fn sign_csr(&self, csr_pem: &str, spiffe: &str, ttl: Duration) -> String {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).expect("csr");
        Self::leaf_params(spiffe, ttl)
            .signed_by(
                &csr.public_key,
                &Issuer::from_params(&self.params, &self.key),
            )
            .expect("sign")
            .pem()
    }

    /// A ready identity for `spiffe`, trusting this CA.
    pub fn identity(&self, spiffe: &str) -> Identity {
        let key = KeyPair::generate().expect("key");
        let pem = Self::leaf_params(spiffe, Duration::from_secs(3600))
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .expect("sign")
            .pem();
        Identity::from_pem(&[pem], std::slice::from_ref(&self.pem), &key).expect("identity")
    }
}
