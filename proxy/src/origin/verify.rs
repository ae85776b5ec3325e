//! Verifying an external server's certificate for TLS origination: webpki
//! chain verification to the DestinationRule's `caCertificates`, then the name:
//! one of `subjectAltNames` when given (DNS names, IP addresses or URIs), else
//! the server name sent (SNI). `insecureSkipVerify` accepts any certificate
//! (the handshake signatures are still checked).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

/// The server certificate carries none of the names it must.
#[derive(Debug, thiserror::Error)]
#[error("the server certificate has none of the subjectAltNames {}", .0.join(", "))]
pub(crate) struct SanMismatch(pub Vec<String>);

/// A [`ServerCertVerifier`] for servers outside the mesh.
#[derive(Debug)]
pub(crate) struct OriginVerifier {
    /// `None`: `insecureSkipVerify`.
    roots: Option<Vec<TrustAnchor<'static>>>,
    subject_alt_names: Vec<String>,
    algs: WebPkiSupportedAlgorithms,
}

impl OriginVerifier {
    pub(crate) fn new(
        roots: Option<Vec<TrustAnchor<'static>>>,
        subject_alt_names: Vec<String>,
        algs: WebPkiSupportedAlgorithms,
    ) -> Self {
        Self {
            roots,
            subject_alt_names,
            algs,
        }
    }
}

/// Whether the certificate has this name: a DNS name or IP address as webpki
/// checks it, anything else (a URI such as a SPIFFE ID) among its URI SANs.
fn has_name(cert: &webpki::EndEntityCert<'_>, der: &[u8], name: &str) -> bool {
    if let Ok(n) = ServerName::try_from(name) {
        return cert.verify_is_valid_for_subject_name(&n).is_ok();
    }
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der) else {
        return false;
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return false;
    };
    san.value
        .general_names
        .iter()
        .any(|g| matches!(g, x509_parser::extensions::GeneralName::URI(u) if *u == name))
}

impl ServerCertVerifier for OriginVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = crate::tls::verify_chain(end_entity, intermediates, roots, now, &self.algs)?;
        if self.subject_alt_names.is_empty() {
            cert.verify_is_valid_for_subject_name(server_name)
                .map_err(crate::tls::pki_error)?;
            return Ok(ServerCertVerified::assertion());
        }
        if self
            .subject_alt_names
            .iter()
            .any(|n| has_name(&cert, end_entity, n))
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(CertificateError::Other(OtherError(Arc::new(SanMismatch(
                self.subject_alt_names.clone(),
            ))))
            .into())
        }
    }

    crate::tls::handshake_signatures!();
}
