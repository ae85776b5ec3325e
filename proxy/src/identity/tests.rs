//! The renewal schedule and retries, on tokio's paused clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use mesh_api::discovery::{CertificateRequest, CertificateResponse};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::testca::TestCa;
use super::*;

const ID: &str = "spiffe://cluster.local/ns/shop/sa/cart";

/// Signs with a test CA; fails the calls whose numbers are in `fail`; reports
/// each call (number, paused-clock time) on a channel.
struct FakeCa {
    ca: TestCa,
    ttl: Duration,
    fail: Vec<usize>,
    calls: Mutex<usize>,
    seen: mpsc::UnboundedSender<(usize, Instant, String)>,
}

impl CertSigner for FakeCa {
    fn sign(&self, request: CertificateRequest) -> SignFuture {
        let n = {
            let mut c = self.calls.lock().expect("lock");
            *c += 1;
            *c
        };
        let _ = self.seen.send((n, Instant::now(), request.token.clone()));
        let answer = if self.fail.contains(&n) {
            Err("control plane unreachable".to_owned())
        } else {
            Ok(CertificateResponse {
                cert_chain_pem: vec![self.ca.sign_csr(&request.csr_pem, ID, self.ttl)],
                trust_bundle_pem: vec![self.ca.pem.clone()],
            })
        };
        Box::pin(async move { answer })
    }
}

fn start(
    ttl: Duration,
    fail: Vec<usize>,
) -> (
    IdentityHandle,
    mpsc::UnboundedReceiver<(usize, Instant, String)>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("tmp");
    let token_file = dir.path().join("t.token");
    std::fs::write(&token_file, "s3cret\n").expect("token");
    let (tx, rx) = mpsc::unbounded_channel();
    let signer = Arc::new(FakeCa {
        ca: TestCa::new("Test Root"),
        ttl,
        fail,
        calls: Mutex::new(0),
        seen: tx,
    });
    let handle = IdentityHandle::new();
    let opts = IdentityOptions::new("cart-v1-0001.shop".into(), token_file);
    tokio::spawn(run_client(
        opts,
        signer,
        handle.clone(),
        std::future::pending(),
    ));
    (handle, rx, dir)
}

/// Wait (on the paused clock) until the handle holds a certificate other than `old`.
async fn next_serial(handle: &IdentityHandle, old: Option<&str>) -> String {
    let mut rot = handle.rotations();
    loop {
        if let Some(c) = handle.current()
            && Some(c.serial.as_str()) != old
        {
            return c.serial.clone();
        }
        rot.changed().await.expect("handle alive");
    }
}

#[tokio::test(start_paused = true)]
async fn renews_at_80_percent_of_the_lifetime() {
    let (handle, mut calls, _dir) = start(Duration::from_secs(100), vec![]);
    assert!(!handle.is_ready(), "waits for the first certificate");
    let (n, t0, token) = calls.recv().await.expect("first call");
    assert_eq!(
        (n, token.as_str()),
        (1, "s3cret"),
        "sends the token, trimmed"
    );
    let first = next_serial(&handle, None).await;
    assert!(handle.is_ready());
    assert_eq!(handle.current().expect("cert").spiffe_id, ID);

    let (n, t1, _) = calls.recv().await.expect("renewal");
    assert_eq!(n, 2);
    let after = t1 - t0;
    // 80% of the 100 s left (the certificate's end is whole seconds, so up to 1 s less).
    assert!(
        (Duration::from_secs(79)..=Duration::from_secs(80)).contains(&after),
        "renewed after {after:?}"
    );
    let second = next_serial(&handle, Some(&first)).await;
    assert_ne!(first, second, "a new certificate (and key) each time");
}

#[tokio::test(start_paused = true)]
async fn retries_with_backoff_and_keeps_the_current_certificate() {
    // Calls 2, 3 and 4 (the first renewal and two retries) fail.
    let (handle, mut calls, _dir) = start(Duration::from_secs(100), vec![2, 3, 4]);
    let (_, _, _) = calls.recv().await.expect("first");
    let first = next_serial(&handle, None).await;
    let mut times = Vec::new();
    for _ in 0..3 {
        let (_, t, _) = calls.recv().await.expect("attempt");
        times.push(t);
        assert_eq!(
            handle.current().expect("still has one").serial,
            first,
            "serves with the current certificate while the CA is unreachable"
        );
    }
    let (n, t, _) = calls.recv().await.expect("success");
    times.push(t);
    assert_eq!(n, 5);
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        gaps,
        vec![
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(4)
        ],
        "1 s, then doubled"
    );
    let dump = handle.dump("cart-v1-0001.shop");
    assert_eq!(dump.state, "ACTIVE");
    let renewed = next_serial(&handle, Some(&first)).await;
    assert_ne!(renewed, first);
    assert!(
        handle.dump("x").last_error.is_none(),
        "cleared by the success"
    );
}

#[tokio::test(start_paused = true)]
async fn renews_at_once_when_asked_and_counts_rotations() {
    let (handle, mut calls, _dir) = start(Duration::from_secs(100), vec![]);
    let (_, t0, _) = calls.recv().await.expect("first");
    let first = next_serial(&handle, None).await;
    assert_eq!(handle.dump("p").rotations, 1);
    tokio::time::sleep(Duration::from_secs(10)).await;
    // The control plane asks (a CA rotation phase): renewed now, not at 80 s.
    handle.request_renewal();
    let (n, t1, _) = calls.recv().await.expect("asked renewal");
    assert_eq!((n, t1 - t0), (2, Duration::from_secs(10)));
    let second = next_serial(&handle, Some(&first)).await;
    assert_eq!(handle.dump("p").rotations, 2);
    // The schedule restarts from the new certificate: 80% of its 100 s.
    let (n, t2, _) = calls.recv().await.expect("scheduled renewal");
    assert_eq!(n, 3);
    assert!(
        (Duration::from_secs(79)..=Duration::from_secs(80)).contains(&(t2 - t1)),
        "{:?}",
        t2 - t1
    );
    next_serial(&handle, Some(&second)).await;
    assert_eq!(handle.dump("p").rotations, 3);
}

#[test]
fn renew_delay_is_80_percent_of_what_is_left() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    assert_eq!(renew_delay(1_000_100, now), Duration::from_secs(80));
    assert_eq!(renew_delay(1_086_400, now), Duration::from_secs(69_120));
    assert_eq!(
        renew_delay(999_000, now),
        Duration::ZERO,
        "expired: at once"
    );
}

#[test]
fn debug_and_dump_never_show_the_key() {
    let ca = TestCa::new("Test Root");
    let id = ca.identity(ID);
    let key_der = match id.key() {
        rustls_pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        _ => unreachable!("pkcs8"),
    };
    let handle = IdentityHandle::new();
    handle.set(id);
    let dump = serde_json::to_string(&handle.dump("p")).expect("json");
    assert!(!dump.contains("PRIVATE KEY"));
    let debug = format!("{:?}", handle.current().expect("some"));
    assert!(!debug.contains(&format!("{:?}", &key_der[..8])));
    assert!(dump.contains(ID));
}
