//! Verifying a server sidecar by SPIFFE ID: a webpki chain check against the
//! mesh's trust bundle, then the certificate's one URI SAN must be one of the
//! expected identities. Host names play no part (peers are reached by IP).

use std::sync::Arc;

use mesh_api::proxy::spiffe_ids;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

/// The peer's certificate does not carry the identity the client expected.
#[derive(Debug, thiserror::Error)]
#[error("peer SPIFFE ID {got} is not the expected {}", .expected.join(" or "))]
pub struct SpiffeMismatch {
    /// What the certificate says (`<none>` if it has no SPIFFE ID).
    pub got: String,
    /// What was expected.
    pub expected: Vec<String>,
}

/// A [`ServerCertVerifier`] for mesh peers.
#[derive(Debug)]
pub struct SpiffeVerifier {
    roots: Vec<TrustAnchor<'static>>,
    expected: Vec<String>,
    algs: WebPkiSupportedAlgorithms,
}

impl SpiffeVerifier {
    /// Accept servers whose chain ends at one of `roots` and whose SPIFFE ID is
    /// one of `expected`.
    pub fn new(
        roots: Vec<TrustAnchor<'static>>,
        expected: Vec<String>,
        algs: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            roots,
            expected,
            algs,
        }
    }
}

/// webpki's verdicts in rustls's terms (as rustls's own verifier maps them).
pub(crate) fn pki_error(e: webpki::Error) -> Error {
    use webpki::Error as E;
    match e {
        E::BadDer | E::BadDerTime | E::TrailingData(_) => CertificateError::BadEncoding.into(),
        E::CertNotValidYet { .. } => CertificateError::NotValidYet.into(),
        E::CertExpired { .. } => CertificateError::Expired.into(),
        E::UnknownIssuer => CertificateError::UnknownIssuer.into(),
        E::InvalidSignatureForPublicKey => CertificateError::BadSignature.into(),
        other => CertificateError::Other(OtherError(Arc::new(other))).into(),
    }
}

/// Checks that `end_entity` chains to one of `roots` for server authentication
/// (webpki), and returns it parsed for the name checks that follow.
pub(crate) fn verify_chain<'a>(
    end_entity: &'a CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &[TrustAnchor<'_>],
    now: UnixTime,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<webpki::EndEntityCert<'a>, Error> {
    let cert = webpki::EndEntityCert::try_from(end_entity).map_err(pki_error)?;
    cert.verify_for_usage(
        algs.all,
        roots,
        intermediates,
        now,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(pki_error)?;
    Ok(cert)
}

/// The handshake-signature half of a [`ServerCertVerifier`], which every
/// verifier here does alike: rustls's checks with the verifier's `algs`.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs.supported_schemes()
        }
    };
}
pub(crate) use handshake_signatures;

impl ServerCertVerifier for SpiffeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        verify_chain(end_entity, intermediates, &self.roots, now, &self.algs)?;
        let (_, parsed) = x509_parser::parse_x509_certificate(end_entity)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let ids = spiffe_ids(&parsed);
        match ids.as_slice() {
            [id] if self.expected.iter().any(|e| e == id) => Ok(ServerCertVerified::assertion()),
            _ => Err(CertificateError::Other(OtherError(Arc::new(SpiffeMismatch {
                got: if ids.is_empty() {
                    "<none>".into()
                } else {
                    ids.join(",")
                },
                expected: self.expected.clone(),
            })))
            .into()),
        }
    }

    handshake_signatures!();
}
