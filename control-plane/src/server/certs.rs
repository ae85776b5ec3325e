//! What each proxy reports about its workload certificate, and asking the ones
//! behind the CA (after a rotation phase) to renew now.

use mesh_api::discovery::{CertificateReport, Push};
use mesh_api::proxy::{CaStatus, IssuedCert, TYPE_RENEW_CERTIFICATE};

use super::state::Shared;
use crate::ca::{Phase, ProxyCert, RotateError, sha256_hex};

impl Shared {
    /// A proxy reported the certificate and trust bundle it runs. If they are
    /// not the CA's current ones, it is asked to renew (once per CA epoch).
    pub fn report_certificate(&self, proxy_id: &str, stream_id: u64, report: CertificateReport) {
        let root_der = self
            .authority()
            .and_then(|a| a.root_of(&report.cert_chain_der));
        let cert = ProxyCert {
            chain_der: report.cert_chain_der,
            bundle_der: report.trust_bundle_der,
            rotations: report.rotations,
            root_der,
        };
        self.with_conns(|conns| {
            if let Some(conn) = conns
                .map
                .get_mut(proxy_id)
                .filter(|c| c.stream_id == stream_id)
            {
                conn.cert = Some(cert);
            }
        });
        self.renew_laggards(Some(proxy_id));
    }

    /// The connected proxies with a workload identity (a bootstrap token, or a
    /// reported certificate), with what each reported, sorted by id.
    pub fn identity_proxies(&self) -> Vec<(String, Option<ProxyCert>)> {
        let authority = self.authority();
        let mut out: Vec<(String, Option<ProxyCert>)> = self.with_conns(|conns| {
            conns
                .map
                .values()
                .map(|c| (c.workload.proxy_id.clone(), c.cert.clone()))
                .collect()
        });
        out.retain(|(id, cert)| {
            cert.is_some()
                || authority
                    .as_ref()
                    .is_some_and(|a| a.bound_identity(id).is_some())
        });
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Ask every connected proxy (or only `only`) whose certificate or bundle
    /// is not the CA's current one to renew now (each at most once per CA
    /// epoch and stream).
    pub fn renew_laggards(&self, only: Option<&str>) {
        let Some(authority) = self.authority() else {
            return;
        };
        let epoch = authority.epoch();
        let asked = self.with_conns(|conns| {
            let mut asked = Vec::new();
            for conn in conns.map.values_mut() {
                if only.is_some_and(|id| id != conn.workload.proxy_id) {
                    continue;
                }
                let Some(cert) = &conn.cert else { continue };
                if conn.renew_asked == Some(epoch) || authority.is_current(cert) {
                    continue;
                }
                let push = Push {
                    type_url: TYPE_RENEW_CERTIFICATE.into(),
                    ..Push::default()
                };
                if conn.tx.try_send(Box::new(push)).is_ok() {
                    conn.renew_asked = Some(epoch);
                    asked.push(conn.workload.proxy_id.clone());
                }
            }
            asked
        });
        if !asked.is_empty() {
            tracing::info!(proxies = ?asked, epoch, "asked proxies to renew their certificates");
        }
    }

    /// Move the CA rotation to `phase` (see [`crate::ca::rotation`]), then ask
    /// the proxies to catch up.
    pub fn rotate(
        &self,
        phase: Phase,
        new_ca: Option<crate::ca::CaFiles>,
    ) -> Result<(), RotateError> {
        let Some(authority) = self.authority() else {
            return Err(RotateError::Order(
                "this control plane runs without a CA".into(),
            ));
        };
        let proxies = self.identity_proxies();
        authority.rotate(phase, new_ca, &proxies)?;
        self.renew_laggards(None);
        Ok(())
    }

    /// What `meshctl ca status` shows: the CA, each proxy's certificate (as it
    /// reported it, or as the CA signed it since start) and the rotation.
    pub fn ca_status(&self) -> Option<CaStatus> {
        let authority = self.authority()?;
        let mut status = authority.ca().status();
        let connected: Vec<String> = self.workloads().into_iter().map(|w| w.proxy_id).collect();
        let proxies = self.identity_proxies();
        let mut issued = authority.ca().issued();
        let mut out: Vec<IssuedCert> = Vec::new();
        for (id, cert) in &proxies {
            let Some(cert) = cert else { continue };
            let Some(info) = cert
                .chain_der
                .first()
                .and_then(|d| mesh_api::proxy::CertInfo::from_der(d).ok())
            else {
                continue;
            };
            out.push(IssuedCert {
                proxy_id: id.clone(),
                spiffe_id: info.spiffe_id.unwrap_or_default(),
                serial: info.serial,
                not_before_unix: info.not_before_unix,
                not_after_unix: info.not_after_unix,
                connected: true,
                root_sha256: cert.root_der.as_deref().map(sha256_hex).unwrap_or_default(),
                trust_bundle_sha256: cert.bundle_der.iter().map(|d| sha256_hex(d)).collect(),
                rotations: Some(cert.rotations),
                origin: "reported".into(),
                current: authority.is_current(cert),
            });
        }
        issued.retain(|i| !out.iter().any(|o| o.proxy_id == i.proxy_id));
        for mut i in issued {
            i.connected = connected.contains(&i.proxy_id);
            out.push(i);
        }
        out.sort_by(|a, b| a.proxy_id.cmp(&b.proxy_id));
        status.proxies = out;
        status.rotation = authority.rotation_status(&proxies);
        Some(status)
    }
}
