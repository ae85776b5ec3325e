//! Root rotation: the phases in order, each refused until every proxy reached
//! the one before, the state kept in the home and resumed after a crash.

use std::time::Duration;

use rcgen::KeyPair;

use super::rotation::{NEXT_DIR, ROTATION_FILE, chain_root};
use super::*;

fn settings() -> CaSettings {
    CaSettings {
        trust_domain: "cluster.local".into(),
        workload_ttl: Duration::from_secs(3600),
    }
}

fn home() -> (tempfile::TempDir, Authority) {
    let dir = tempfile::tempdir().expect("tmp");
    let a = Authority::open(dir.path().to_path_buf(), settings()).expect("open");
    (dir, a)
}

/// What a proxy would report after getting a certificate from `a` now.
fn renewed(a: &Authority) -> ProxyCert {
    let key = KeyPair::generate().expect("key");
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    let who = WorkloadIdentity {
        proxy_id: "p".into(),
        namespace: "default".into(),
        service_account: "default".into(),
    };
    let signed = a.ca().sign(&csr, &who, Duration::ZERO).expect("sign");
    let ders = |pems: &[String]| -> Vec<Vec<u8>> {
        pems.iter()
            .flat_map(|p| mesh_api::proxy::certs_from_pem(p).expect("pem"))
            .collect()
    };
    let chain_der = ders(&signed.chain_pem);
    ProxyCert {
        root_der: a.root_of(&chain_der),
        chain_der,
        bundle_der: ders(&signed.bundle_pem),
        rotations: 1,
    }
}

fn proxies(certs: &[(&str, &ProxyCert)]) -> Vec<(String, Option<ProxyCert>)> {
    certs
        .iter()
        .map(|(id, c)| ((*id).to_owned(), Some((*c).clone())))
        .collect()
}

#[test]
fn three_phases_each_waiting_for_every_proxy() {
    let (dir, a) = home();
    let old_root = a.ca().signing_root_der();
    let x = renewed(&a);
    let y = renewed(&a);
    assert!(a.is_current(&x));
    let epoch = a.epoch();

    a.rotate(Phase::AddRoot, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect("add-root");
    assert_eq!(a.rotation_phase(), Some(Phase::AddRoot));
    assert!(a.epoch() > epoch, "proxies are asked again");
    assert_eq!(a.ca().bundle_der().len(), 2, "both roots trusted");
    assert_eq!(
        a.ca().signing_root_der(),
        old_root,
        "the old root still signs"
    );
    assert!(!a.is_current(&x), "x must renew to get the new bundle");
    assert!(
        dir.path()
            .join("ca")
            .join(NEXT_DIR)
            .join("ca-key.pem")
            .exists()
    );

    // y has not renewed: reissue is refused and names it.
    let x = renewed(&a);
    let err = a
        .rotate(Phase::Reissue, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect_err("y lags")
        .to_string();
    assert!(
        err.contains("1 of 2")
            && err.contains(": y;")
            && err.contains("trust bundle with the new root"),
        "{err}"
    );
    let y = renewed(&a);
    a.rotate(Phase::Reissue, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect("reissue");
    let new_root = a.ca().signing_root_der();
    assert_ne!(new_root, old_root, "the new root signs");
    assert_eq!(a.ca().bundle_der().len(), 2);

    // remove-old is refused while a proxy has a certificate from the old root.
    let x = renewed(&a);
    let err = a
        .rotate(Phase::RemoveOld, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect_err("y still has the old root's certificate")
        .to_string();
    assert!(
        err.contains("certificate from the new root") && err.contains(": y;"),
        "{err}"
    );
    assert_eq!(
        chain_root(&y.chain_der, &a.ca().bundle_der()),
        Some(&old_root)
    );
    let y = renewed(&a);
    a.rotate(Phase::RemoveOld, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect("remove-old");
    assert_eq!(
        a.ca().bundle_der(),
        vec![new_root.clone()],
        "only the new root"
    );
    assert!(!dir.path().join("ca").join(NEXT_DIR).exists(), "promoted");
    let kept = CaFiles::load(dir.path()).expect("load").expect("some");
    assert_eq!(
        kept.roots_der,
        vec![new_root.clone()],
        "the new CA is the kept one"
    );

    let x = renewed(&a);
    let y = renewed(&a);
    a.rotate(Phase::Complete, None, &proxies(&[("x", &x), ("y", &y)]))
        .expect("complete");
    assert_eq!(a.rotation_phase(), None);
    assert!(!dir.path().join("ca").join(ROTATION_FILE).exists());
}

#[test]
fn phases_out_of_order_are_refused_and_repeats_are_no_ops() {
    let (_dir, a) = home();
    let err = a
        .rotate(Phase::Reissue, None, &[])
        .expect_err("no rotation");
    assert!(
        err.to_string().contains("no rotation is in progress"),
        "{err}"
    );
    a.rotate(Phase::AddRoot, None, &[]).expect("add-root");
    let bundle = a.ca().bundle_der();
    a.rotate(Phase::AddRoot, None, &[]).expect("again: resumes");
    assert_eq!(a.ca().bundle_der(), bundle, "not a second new root");
    let err = a
        .rotate(Phase::RemoveOld, None, &[])
        .expect_err("skips reissue");
    assert!(err.to_string().contains("next phase is reissue"), "{err}");
    let other = CaFiles::generate("cluster.local").expect("generate");
    let err = a
        .rotate(Phase::AddRoot, Some(other), &[])
        .expect_err("another root mid-rotation");
    assert!(
        err.to_string().contains("already in phase add-root"),
        "{err}"
    );
}

#[test]
fn a_restarted_control_plane_resumes_the_recorded_phase() {
    let (dir, a) = home();
    a.rotate(Phase::AddRoot, None, &[]).expect("add-root");
    a.rotate(Phase::Reissue, None, &[]).expect("reissue");
    let signing = a.ca().signing_root_der();
    let bundle = a.ca().bundle_der();
    drop(a);
    let b = Authority::open(dir.path().to_path_buf(), settings()).expect("reopen");
    assert_eq!(b.rotation_phase(), Some(Phase::Reissue));
    assert_eq!(b.ca().signing_root_der(), signing);
    assert_eq!(b.ca().bundle_der(), bundle);
    b.rotate(Phase::RemoveOld, None, &[]).expect("continues");
}

#[test]
fn a_crash_while_promoting_the_new_ca_is_finished_at_start() {
    let (dir, a) = home();
    a.rotate(Phase::AddRoot, None, &[]).expect("add-root");
    a.rotate(Phase::Reissue, None, &[]).expect("reissue");
    let new_root = a.ca().signing_root_der();
    drop(a);
    // The record says remove-old, the new CA is still in next/ and only its
    // key made it into ca/ (a crash between two files).
    let ca = dir.path().join("ca");
    let record = std::fs::read_to_string(ca.join(ROTATION_FILE)).expect("record");
    std::fs::write(
        ca.join(ROTATION_FILE),
        record.replace("\"reissue\"", "\"remove-old\""),
    )
    .expect("write");
    std::fs::copy(ca.join(NEXT_DIR).join("ca-key.pem"), ca.join("ca-key.pem")).expect("copy");
    let b = Authority::open(dir.path().to_path_buf(), settings()).expect("recovers");
    assert_eq!(b.rotation_phase(), Some(Phase::RemoveOld));
    assert_eq!(b.ca().bundle_der(), vec![new_root.clone()]);
    assert_eq!(b.ca().signing_root_der(), new_root);
    assert!(!ca.join(NEXT_DIR).exists());
}

#[test]
fn a_plugged_in_new_root_must_differ_from_the_current_one() {
    let (dir, a) = home();
    let same = CaFiles::load(dir.path()).expect("load").expect("some");
    let err = a
        .rotate(Phase::AddRoot, Some(same), &[])
        .expect_err("same root");
    assert!(err.to_string().contains("needs another root"), "{err}");
    assert_eq!(a.rotation_phase(), None);
}
