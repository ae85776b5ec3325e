//! The CSR signing rate through the real discovery server: many simulated
//! proxies, each with its own bootstrap token (created in the control plane's
//! home as `meshctl run` creates them), send `CreateCertificate` requests over
//! gRPC at once, and the rate is the certificates signed per second of wall
//! time. Three ways of connecting: each proxy over its own connection, open
//! before the run (as sidecars renew: `GrpcSigner` sends over the discovery
//! stream's connection); a new connection per request (a sidecar's first
//! certificate, asked before its stream is up); requests multiplexed over a
//! few shared HTTP/2 connections (the CA's own throughput). The
//! proxies' key pairs and CSRs are made before the clock starts; the in-process
//! signing rate (`mesh-bench ca`) is measured alongside for comparison.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use mesh_api::discovery::CertificateRequest;
use mesh_api::discovery::discovery_client::DiscoveryClient;
use mesh_control_plane::ca::tokens;
use mesh_proxy::identity::{CertSigner, GrpcSigner};

use super::ControlPlane;

/// One way of connecting, measured.
#[derive(Debug, Clone)]
pub struct CsrRun {
    /// Certificates signed per second of wall time.
    pub rate: f64,
    /// The control plane's CPU seconds over the run.
    pub cpu_s: f64,
}

/// What the CSR measurement found.
#[derive(Debug, Clone)]
pub struct CsrResult {
    /// Simulated proxies sending requests at once.
    pub proxies: usize,
    /// Certificates requested (and signed) per way of connecting.
    pub requests: usize,
    /// Each proxy over its own connection, open before the run: as sidecars
    /// renew, over their discovery stream's connection.
    pub own_connection: CsrRun,
    /// A new connection per request: as a sidecar asks for its first
    /// certificate, before its discovery stream is up.
    pub new_connection: CsrRun,
    /// Attempts of that run that failed (to connect, mostly) and were made
    /// again after 1 s, as the sidecar does; the wall time includes the waits.
    pub retries: usize,
    /// Over `shared_connections` connections shared by every proxy.
    pub shared: CsrRun,
    pub shared_connections: usize,
    /// In process, one thread: CSR verification and signing alone.
    pub in_process_sign: f64,
    /// In process, one thread: the whole request (token check + signing).
    pub in_process_whole: f64,
}

/// Keeps the first few reasons a request failed.
fn fail(errors: &std::sync::Mutex<Vec<String>>, e: String) {
    if let Ok(mut v) = errors.lock()
        && v.len() < 5
    {
        v.push(e);
    }
}

/// Attempts per request over a new connection, and the wait between them
/// (the sidecar's first backoff step).
const ATTEMPTS: usize = 5;
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Sends `csrs.len()` requests from `proxies` concurrent proxies; `shared`:
/// proxy `p` over channel `p` modulo their number, else a new connection
/// each, retried as the sidecar retries. Returns the wall time and the retries.
async fn send_all(
    address: &str,
    who: &Arc<Vec<(String, String)>>,
    csrs: &Arc<Vec<String>>,
    shared: Option<Vec<tonic::transport::Channel>>,
) -> anyhow::Result<(Duration, usize)> {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..who.len() {
        let (next, errors, failed, retries, who, csrs) = (
            next.clone(),
            errors.clone(),
            failed.clone(),
            retries.clone(),
            who.clone(),
            csrs.clone(),
        );
        let signer = GrpcSigner::new(format!("http://{address}"));
        let channel = shared.as_ref().map(|c| c[p % c.len()].clone());
        tasks.push(tokio::spawn(async move {
            let (proxy_id, token) = &who[p];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(csr) = csrs.get(i) else { break };
                let request = CertificateRequest {
                    proxy_id: proxy_id.clone(),
                    csr_pem: csr.clone(),
                    token: token.clone(),
                    ttl_seconds: 0,
                };
                let answer = match &channel {
                    Some(ch) => DiscoveryClient::new(ch.clone())
                        .create_certificate(request)
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(|s| s.message().to_owned()),
                    None => {
                        // As the sidecar does: a failed attempt is tried
                        // again after its first backoff step (1 s).
                        let mut attempt = 1;
                        loop {
                            match signer.sign(request.clone()).await {
                                Err(_) if attempt < ATTEMPTS => {
                                    attempt += 1;
                                    retries.fetch_add(1, Ordering::Relaxed);
                                    tokio::time::sleep(RETRY_AFTER).await;
                                }
                                answer => break answer,
                            }
                        }
                    }
                };
                match answer {
                    Ok(a) if !a.cert_chain_pem.is_empty() => {}
                    Ok(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        fail(&errors, "an empty certificate chain".into());
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        fail(&errors, e);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.context("a CSR task failed")?;
    }
    let took = t0.elapsed();
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        let errors = errors.lock().map(|v| v.join("; ")).unwrap_or_default();
        anyhow::bail!(
            "{failed} of {} certificate requests failed: {errors}",
            csrs.len()
        );
    }
    Ok((took, retries.load(Ordering::Relaxed)))
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(f64::EPSILON)
}

/// `n` connections to the discovery server.
async fn connect(address: &str, n: usize) -> anyhow::Result<Vec<tonic::transport::Channel>> {
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        let ch = tonic::transport::Endpoint::from_shared(format!("http://{address}"))?
            .connect()
            .await
            .context("connect to the discovery server")?;
        channels.push(ch);
    }
    Ok(channels)
}

/// Measure on a fresh control plane from `meshctl`.
pub async fn measure(
    meshctl: &std::path::Path,
    proxies: usize,
    requests: usize,
    shared_connections: usize,
) -> anyhow::Result<CsrResult> {
    let proxies = proxies.max(1);
    let requests = requests.max(1);
    let shared_connections = shared_connections.max(1);
    let mut cp = ControlPlane::new(meshctl, usize::MAX)?;
    cp.start().await?;
    let who: Vec<(String, String)> = (0..proxies)
        .map(|i| -> anyhow::Result<(String, String)> {
            let id = format!("csr-{i}.ns-{}", i % 10);
            let path = tokens::create(&cp.home, &id, &format!("ns-{}", i % 10), "bench")?;
            Ok((id, std::fs::read_to_string(path)?))
        })
        .collect::<anyhow::Result<_>>()
        .context("create the bootstrap tokens")?;
    let who = Arc::new(who);
    let csrs: Vec<String> = (0..requests)
        .map(|_| crate::ca::csr())
        .collect::<anyhow::Result<_>>()?;
    let csrs = Arc::new(csrs);
    let run = |took: Duration, cpu_s: f64| CsrRun {
        rate: rate(requests, took),
        cpu_s: cpu_s.max(0.0),
    };

    // Each way's control-plane CPU counts from after its connections are made.
    let own = connect(&cp.discovery, proxies).await?;
    let cpu0 = cp.cpu_s();
    let (took, _) = send_all(&cp.discovery, &who, &csrs, Some(own)).await?;
    let own_connection = run(took, cp.cpu_s() - cpu0);

    let cpu0 = cp.cpu_s();
    let (took, retries) = send_all(&cp.discovery, &who, &csrs, None).await?;
    let new_connection = run(took, cp.cpu_s() - cpu0);

    let channels = connect(&cp.discovery, shared_connections).await?;
    let cpu0 = cp.cpu_s();
    let (took, _) = send_all(&cp.discovery, &who, &csrs, Some(channels)).await?;
    let shared = run(took, cp.cpu_s() - cpu0);
    drop(cp);

    let n = requests.min(2000);
    let in_process = tokio::task::spawn_blocking(move || crate::ca::in_process(n))
        .await
        .context("in-process CA task")??;
    Ok(CsrResult {
        proxies,
        requests,
        own_connection,
        new_connection,
        retries,
        shared,
        shared_connections,
        in_process_sign: in_process.0,
        in_process_whole: in_process.1,
    })
}
