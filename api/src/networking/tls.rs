//! TLS settings: what a sidecar or egress gateway presents when it originates TLS
//! (`ClientTlsSettings`, in DestinationRules) and what a gateway or sidecar listener
//! accepts (`ServerTlsSettings`, in Gateways and Sidecars).

use serde::{Deserialize, Serialize};

use crate::path::FieldPath;
use crate::validation::Report;

/// How a client connects to an upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientTlsMode {
    /// Plaintext (or whatever the app itself does).
    #[default]
    Disable,
    /// TLS, verifying the server.
    Simple,
    /// Mutual TLS with the given client certificate.
    Mutual,
    /// Mutual TLS with the mesh's own workload certificates.
    IstioMutual,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientTlsSettings {
    #[serde(default)]
    pub mode: ClientTlsMode,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub private_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_certificates: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sni: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_crl: String,
}

impl ClientTlsSettings {
    /// Istio's `validateTLS` for client settings.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        let files_set = !self.client_certificate.is_empty()
            || !self.private_key.is_empty()
            || !self.ca_certificates.is_empty()
            || !self.ca_crl.is_empty();
        if matches!(self.mode, ClientTlsMode::Simple | ClientTlsMode::Mutual)
            && !self.credential_name.is_empty()
        {
            if files_set {
                r.error(
                    &at.field("credentialName"),
                    "cannot set clientCertificate, privateKey, caCertificates or caCrl together with credentialName: the credential supplies them",
                );
            }
            return;
        }
        if self.mode == ClientTlsMode::Mutual {
            if self.client_certificate.is_empty() {
                r.error(
                    &at.field("clientCertificate"),
                    "mode MUTUAL requires clientCertificate (or credentialName)",
                );
            }
            if self.private_key.is_empty() {
                r.error(
                    &at.field("privateKey"),
                    "mode MUTUAL requires privateKey (or credentialName)",
                );
            }
        }
        if self.mode == ClientTlsMode::IstioMutual
            && (files_set || !self.credential_name.is_empty())
        {
            r.error(
                &at.field("mode"),
                "mode ISTIO_MUTUAL uses the mesh's own certificates: clientCertificate, privateKey, caCertificates and credentialName must not be set",
            );
        }
        if self.insecure_skip_verify == Some(true) && self.mode == ClientTlsMode::Disable {
            r.warning(
                &at.field("insecureSkipVerify"),
                "insecureSkipVerify has no effect when mode is DISABLE",
            );
        }
    }
}

/// How a gateway or sidecar listener treats TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServerTlsMode {
    /// Forward the TLS stream untouched, routed by SNI.
    #[default]
    Passthrough,
    Simple,
    Mutual,
    AutoPassthrough,
    IstioMutual,
    OptionalMutual,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsProtocol {
    #[default]
    #[serde(rename = "TLS_AUTO")]
    TlsAuto,
    #[serde(rename = "TLSV1_0")]
    TlsV1_0,
    #[serde(rename = "TLSV1_1")]
    TlsV1_1,
    #[serde(rename = "TLSV1_2")]
    TlsV1_2,
    #[serde(rename = "TLSV1_3")]
    TlsV1_3,
}

/// One certificate of several served by one listener (RSA and ECDSA, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsCertificate {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub private_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_certificates: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerTlsSettings {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub https_redirect: bool,
    #[serde(default)]
    pub mode: ServerTlsMode,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub private_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_certificates: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_crl: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_certificates: Vec<TlsCertificate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify_certificate_spki: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify_certificate_hash: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_protocol_version: Option<TlsProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_protocol_version: Option<TlsProtocol>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
}

impl ServerTlsSettings {
    /// Istio's `validateTLSOptions`.
    pub fn validate(&self, at: &FieldPath, r: &mut Report) {
        let has_files = !self.server_certificate.is_empty()
            || !self.private_key.is_empty()
            || !self.tls_certificates.is_empty();
        let has_credential = !self.credential_name.is_empty() || !self.credential_names.is_empty();
        if self.mode == ServerTlsMode::IstioMutual {
            for (set, field) in [
                (!self.server_certificate.is_empty(), "serverCertificate"),
                (!self.private_key.is_empty(), "privateKey"),
                (!self.ca_certificates.is_empty(), "caCertificates"),
                (!self.credential_name.is_empty(), "credentialName"),
            ] {
                if set {
                    r.error(
                        &at.field(field),
                        format!("mode ISTIO_MUTUAL uses the mesh's own certificates: {field} must not be set"),
                    );
                }
            }
            return;
        }
        if let (Some(min), Some(max)) = (self.min_protocol_version, self.max_protocol_version)
            && min != TlsProtocol::TlsAuto
            && max != TlsProtocol::TlsAuto
            && min > max
        {
            r.error(
                &at.field("minProtocolVersion"),
                "minProtocolVersion must not be higher than maxProtocolVersion",
            );
        }
        if !self.credential_name.is_empty() && !self.credential_names.is_empty() {
            r.error(
                &at.field("credentialNames"),
                "set only one of credentialName and credentialNames",
            );
        }
        if self.credential_names.len() > 2 {
            r.error(
                &at.field("credentialNames"),
                "at most 2 credentialNames (one RSA, one ECDSA) are supported",
            );
        }
        if self.tls_certificates.len() > 2 {
            r.error(
                &at.field("tlsCertificates"),
                "at most 2 tlsCertificates (one RSA, one ECDSA) are supported",
            );
        }
        if has_files && has_credential {
            r.error(
                &at.field("credentialName"),
                "set either credentialName(s) or certificate files (serverCertificate/privateKey/tlsCertificates), not both",
            );
        }
        let needs_cert = matches!(
            self.mode,
            ServerTlsMode::Simple | ServerTlsMode::Mutual | ServerTlsMode::OptionalMutual
        );
        if needs_cert && !has_credential && self.tls_certificates.is_empty() {
            let mode = mode_name(self.mode);
            if self.server_certificate.is_empty() {
                r.error(
                    &at.field("serverCertificate"),
                    format!("mode {mode} requires serverCertificate (or credentialName)"),
                );
            }
            if self.private_key.is_empty() {
                r.error(
                    &at.field("privateKey"),
                    format!("mode {mode} requires privateKey (or credentialName)"),
                );
            }
            if matches!(
                self.mode,
                ServerTlsMode::Mutual | ServerTlsMode::OptionalMutual
            ) && self.ca_certificates.is_empty()
            {
                r.error(
                    &at.field("caCertificates"),
                    format!(
                        "mode {mode} requires caCertificates to verify clients (or credentialName)"
                    ),
                );
            }
        }
        for (i, c) in self.tls_certificates.iter().enumerate() {
            let here = at.field("tlsCertificates").index(i);
            if c.server_certificate.is_empty() {
                r.error(
                    &here.field("serverCertificate"),
                    "serverCertificate is required",
                );
            }
            if c.private_key.is_empty() {
                r.error(&here.field("privateKey"), "privateKey is required");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.cipher_suites.iter().enumerate() {
            if !seen.insert(c) {
                r.warning(
                    &at.field("cipherSuites").index(i),
                    format!("cipher suite {c:?} is listed more than once"),
                );
            }
        }
    }
}

fn mode_name(m: ServerTlsMode) -> &'static str {
    match m {
        ServerTlsMode::Passthrough => "PASSTHROUGH",
        ServerTlsMode::Simple => "SIMPLE",
        ServerTlsMode::Mutual => "MUTUAL",
        ServerTlsMode::AutoPassthrough => "AUTO_PASSTHROUGH",
        ServerTlsMode::IstioMutual => "ISTIO_MUTUAL",
        ServerTlsMode::OptionalMutual => "OPTIONAL_MUTUAL",
    }
}
