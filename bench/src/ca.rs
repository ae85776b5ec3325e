//! `mesh-bench ca`: how fast the mesh CA signs workload certificates, in
//! process (no network): the signing alone, and the whole request as the
//! discovery server runs it (bootstrap-token check, CSR verification, signing).
//! The proxies' side (a P-256 key pair and a CSR) is timed apart.

use std::time::{Duration, Instant};

use anyhow::Context;
use mesh_control_plane::ca::{Authority, Ca, CaFiles, CaSettings, WorkloadIdentity, tokens};

use crate::CaArgs;

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(f64::EPSILON)
}

/// A fresh P-256 key pair's CSR, as a sidecar makes one.
pub fn csr() -> anyhow::Result<String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    Ok(params.serialize_request(&key)?.pem()?)
}

/// The in-process signing rates on one thread, in certificates per second:
/// (CSR verification and signing, the whole request with the token check).
pub fn in_process(n: usize) -> anyhow::Result<(f64, f64)> {
    let csrs = (0..n.max(1))
        .map(|_| csr())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (sign_only, whole) = time_signing(&csrs)?;
    Ok((rate(csrs.len(), sign_only), rate(csrs.len(), whole)))
}

/// Times signing `csrs`: alone, and as the whole request.
fn time_signing(csrs: &[String]) -> anyhow::Result<(Duration, Duration)> {
    let home = tempfile::tempdir().context("temporary mesh home")?;
    let settings = CaSettings::default();
    let ca = Ca::new(CaFiles::generate(&settings.trust_domain)?, settings.clone())?;
    let who = WorkloadIdentity {
        proxy_id: "bench-v1-0001.default".into(),
        namespace: "default".into(),
        service_account: "bench".into(),
    };
    let t = Instant::now();
    for c in csrs {
        ca.sign(c, &who, Duration::ZERO)?;
    }
    let sign_only = t.elapsed();

    let authority = Authority::new(
        Ca::new(CaFiles::generate(&settings.trust_domain)?, settings)?,
        home.path().to_owned(),
    );
    let token_path = tokens::create(home.path(), &who.proxy_id, "default", "bench")?;
    let token = std::fs::read_to_string(token_path)?;
    let t = Instant::now();
    for c in csrs {
        authority.create_certificate(&who.proxy_id, &token, c, Duration::ZERO)?;
    }
    Ok((sign_only, t.elapsed()))
}

pub fn run(args: &CaArgs) -> anyhow::Result<()> {
    let n = args.count.max(1);
    let t = Instant::now();
    let csrs = (0..n).map(|_| csr()).collect::<anyhow::Result<Vec<_>>>()?;
    let proxy_side = t.elapsed();
    let (sign_only, whole) = time_signing(&csrs)?;

    println!("mesh CA, in process, one thread, {n} CSRs (ECDSA P-256 keys, root ECDSA P-256):");
    println!(
        "  sign (verify CSR + issue):         {:>8.0} certificates/s  ({:.1} µs each)",
        rate(n, sign_only),
        sign_only.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "  whole request (token + sign):      {:>8.0} certificates/s  ({:.1} µs each)",
        rate(n, whole),
        whole.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "  proxy side (key pair + CSR):       {:>8.0} per second      ({:.1} µs each)",
        rate(n, proxy_side),
        proxy_side.as_secs_f64() * 1e6 / n as f64
    );
    if cfg!(debug_assertions) {
        println!("  (a debug build: run with --release for meaningful figures)");
    }
    Ok(())
}
