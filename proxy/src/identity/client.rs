//! Getting and renewing the workload certificate: a fresh key pair and CSR per
//! certificate, sent to the CA over the control-plane connection with the
//! workload's bootstrap token; renewal at 80% of the lifetime, or at once when
//! the control plane asks (`IdentityHandle::request_renewal`); on failure,
//! retries with capped exponential backoff while the current certificate keeps
//! serving.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_api::discovery::{CertificateRequest, CertificateResponse};
use rcgen::{CertificateParams, DistinguishedName, KeyPair};

use super::{Identity, IdentityHandle};
use crate::discovery::{ControlChannel, next_backoff};

/// What the CA answered, or why not (a message for logs and `/certs`).
pub type SignFuture = Pin<Box<dyn Future<Output = Result<CertificateResponse, String>> + Send>>;

/// Something that signs CSRs: the control plane, or a test's fake CA.
pub trait CertSigner: Send + Sync + 'static {
    /// Send one request. The request holds the token: implementations never log it.
    fn sign(&self, request: CertificateRequest) -> SignFuture;
}

/// How long the CA has to answer one request.
const SIGN_TIMEOUT: Duration = Duration::from_secs(10);

/// The control plane's CA, over gRPC: on the discovery stream's connection
/// while it is open, else (at start, before the stream is up, or while it
/// reconnects) on a connection of the request's own.
#[derive(Debug, Clone)]
pub struct GrpcSigner {
    /// `http://127.0.0.1:15010`.
    pub address: String,
    /// The discovery stream's channel, when it is connected.
    pub shared: ControlChannel,
}

impl GrpcSigner {
    /// A signer that opens a connection per request (nothing shared).
    pub fn new(address: String) -> Self {
        Self {
            address,
            shared: ControlChannel::default(),
        }
    }
}

impl CertSigner for GrpcSigner {
    fn sign(&self, request: CertificateRequest) -> SignFuture {
        let address = self.address.clone();
        let shared = self.shared.get();
        Box::pin(async move {
            let channel = match shared {
                Some(c) => c,
                None => tonic::transport::Endpoint::from_shared(address)
                    .map_err(|e| e.to_string())?
                    .connect_timeout(Duration::from_secs(2))
                    .connect()
                    .await
                    .map_err(|e| format!("connect to the control plane: {e}"))?,
            };
            let mut client = DiscoveryClient::new(channel);
            match tokio::time::timeout(SIGN_TIMEOUT, client.create_certificate(request)).await {
                Ok(answer) => answer
                    .map(tonic::Response::into_inner)
                    .map_err(|s| format!("the CA refused: {}", s.message())),
                Err(_) => Err(format!(
                    "the CA did not answer within {}s",
                    SIGN_TIMEOUT.as_secs()
                )),
            }
        })
    }
}

/// How the proxy gets its certificates.
#[derive(Debug, Clone)]
pub struct IdentityOptions {
    pub proxy_id: String,
    /// The bootstrap token's file (written by `meshctl run`, mode 0600).
    pub token_file: PathBuf,
    /// The lifetime to ask for; zero for the CA's default.
    pub requested_ttl: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl IdentityOptions {
    /// Defaults: the CA's lifetime; retries from 1 s up to 30 s.
    pub fn new(proxy_id: String, token_file: PathBuf) -> Self {
        Self {
            proxy_id,
            token_file,
            requested_ttl: Duration::ZERO,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// When to renew a certificate that ends at `not_after_unix`, seen at `now`: at
/// 80% of the lifetime it has left.
pub fn renew_delay(not_after_unix: i64, now: SystemTime) -> Duration {
    let now = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let left = (not_after_unix as f64 - now).max(0.0);
    Duration::from_secs_f64(left * 0.8)
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One request: new key, CSR, the CA's answer, checked.
async fn issue(opts: &IdentityOptions, signer: &dyn CertSigner) -> Result<Identity, String> {
    let token = tokio::fs::read_to_string(&opts.token_file)
        .await
        .map_err(|e| {
            format!(
                "read the bootstrap token {}: {e}",
                opts.token_file.display()
            )
        })?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("generate a key pair: {e}"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .and_then(|c| c.pem())
        .map_err(|e| format!("make the CSR: {e}"))?;
    let answer = signer
        .sign(CertificateRequest {
            proxy_id: opts.proxy_id.clone(),
            csr_pem: csr,
            ttl_seconds: opts.requested_ttl.as_secs(),
            token: token.trim().to_owned(),
        })
        .await?;
    Identity::from_pem(&answer.cert_chain_pem, &answer.trust_bundle_pem, &key)
        .map_err(|e| e.to_string())
}

/// Get a certificate, then keep renewing it, until `shutdown` resolves.
pub async fn run(
    opts: IdentityOptions,
    signer: Arc<dyn CertSigner>,
    handle: IdentityHandle,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut backoff = opts.initial_backoff;
    loop {
        let attempt = tokio::select! {
            _ = &mut shutdown => return,
            r = issue(&opts, signer.as_ref()) => r,
        };
        let wait = match attempt {
            Ok(identity) => {
                let now = SystemTime::now();
                let wait = renew_delay(identity.not_after_unix, now);
                tracing::info!(spiffe_id = %identity.spiffe_id, serial = %identity.serial, not_after = identity.not_after_unix, renew_in_s = wait.as_secs(), "workload certificate issued");
                handle.set(identity);
                handle.set_progress(now.checked_add(wait).map(unix), None);
                backoff = opts.initial_backoff;
                wait
            }
            Err(e) => {
                let wait = backoff;
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, has_cert = handle.current().is_some(), "could not get a workload certificate; serving with the current one");
                handle.set_progress(SystemTime::now().checked_add(wait).map(unix), Some(e));
                backoff = next_backoff(backoff, opts.max_backoff);
                wait
            }
        };
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(wait) => {}
            _ = handle.renewal_requested() => {
                tracing::info!("renewing the workload certificate now, as the control plane asked (CA rotation)");
                backoff = opts.initial_backoff;
            }
        }
    }
}
