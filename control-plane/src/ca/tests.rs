use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use mesh_api::proxy::{CertInfo, certs_from_pem};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::material::Labels;
use super::*;

fn who(ns: &str, sa: &str) -> WorkloadIdentity {
    WorkloadIdentity {
        proxy_id: format!("app-v1-0001.{ns}"),
        namespace: ns.into(),
        service_account: sa.into(),
    }
}

/// A CSR that asks for names it should not get.
fn csr(key: &KeyPair) -> String {
    let params = CertificateParams::new(vec!["evil.example.com".to_owned()]).expect("params");
    let mut params = params;
    params.subject_alt_names.push(SanType::URI(
        "spiffe://cluster.local/ns/kube-system/sa/admin"
            .try_into()
            .expect("uri"),
    ));
    params
        .serialize_request(key)
        .expect("csr")
        .pem()
        .expect("pem")
}

fn ca(ttl: Duration) -> Ca {
    let files = CaFiles::generate("cluster.local").expect("generate");
    Ca::new(
        files,
        CaSettings {
            trust_domain: "cluster.local".into(),
            workload_ttl: ttl,
        },
    )
    .expect("ca")
}

fn parse_chain(signed: &Signed) -> Vec<CertInfo> {
    signed
        .chain_pem
        .iter()
        .flat_map(|p| CertInfo::from_pem(p).expect("cert"))
        .collect()
}

#[test]
fn signs_only_the_token_identity_whatever_the_csr_asks() {
    let ca = ca(DEFAULT_WORKLOAD_TTL);
    let key = KeyPair::generate().expect("key");
    let signed = ca
        .sign(&csr(&key), &who("shop", "cart"), Duration::ZERO)
        .expect("sign");
    let der = certs_from_pem(&signed.chain_pem[0]).expect("pem").remove(0);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("x509");
    let san = cert
        .subject_alternative_name()
        .expect("san ok")
        .expect("has san");
    let names: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        vec!["URI(spiffe://cluster.local/ns/shop/sa/cart)".to_owned()]
    );
    assert!(san.critical, "an empty subject needs a critical SAN");
    assert!(!cert.is_ca());
    assert_eq!(
        cert.public_key().subject_public_key.data.as_ref(),
        key.public_key_raw(),
        "the certificate is for the proxy's own key"
    );
    // Signed by the root in the bundle.
    let root_der = certs_from_pem(&signed.bundle_pem[0])
        .expect("root")
        .remove(0);
    let (_, root) = x509_parser::parse_x509_certificate(&root_der).expect("root");
    cert.verify_signature(Some(root.public_key()))
        .expect("signed by the root");
    let eku = cert.extended_key_usage().expect("eku").expect("has eku");
    assert!(eku.value.server_auth && eku.value.client_auth);
    assert_eq!(
        signed.issued.spiffe_id,
        "spiffe://cluster.local/ns/shop/sa/cart"
    );
    assert_eq!(ca.counts().1, 1);
}

#[test]
fn lifetime_is_the_configured_one_and_never_longer() {
    let ca = ca(Duration::from_secs(120));
    let key = KeyPair::generate().expect("key");
    let signed = ca
        .sign(
            &csr(&key),
            &who("default", "default"),
            Duration::from_secs(3600),
        )
        .expect("sign");
    let info = &parse_chain(&signed)[0];
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let left = info.not_after_unix - now;
    assert!((115..=120).contains(&left), "{left}s left, want 2m");
    assert!(info.not_before_unix <= now - 59, "backdated for clock skew");
    assert_eq!(ca.granted_ttl(Duration::ZERO), Duration::from_secs(120));
    assert_eq!(
        ca.granted_ttl(Duration::from_secs(90)),
        Duration::from_secs(90)
    );
    assert_eq!(ca.granted_ttl(Duration::from_secs(5)), MIN_WORKLOAD_TTL);
}

#[test]
fn serials_differ_and_the_latest_per_proxy_is_recorded() {
    let ca = ca(DEFAULT_WORKLOAD_TTL);
    let key = KeyPair::generate().expect("key");
    let a = ca
        .sign(&csr(&key), &who("a", "x"), Duration::ZERO)
        .expect("a");
    let b = ca
        .sign(&csr(&key), &who("a", "x"), Duration::ZERO)
        .expect("b");
    assert_ne!(a.issued.serial, b.issued.serial);
    let issued = ca.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].serial, b.issued.serial);
    assert_eq!(issued[0].origin, "issued");
    let status = ca.status();
    assert_eq!(status.csrs_signed, 2);
    assert_eq!(status.roots.len(), 1);
    assert!(status.roots[0].is_ca);
}

#[test]
fn a_csr_that_is_not_one_is_refused() {
    let ca = ca(DEFAULT_WORKLOAD_TTL);
    let err = ca
        .sign(
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            &who("a", "b"),
            Duration::ZERO,
        )
        .expect_err("garbage");
    assert!(matches!(err, CaError::Csr(_)), "{err}");
    // A CSR whose signature does not verify (another key's body).
    let key = KeyPair::generate().expect("key");
    let good = csr(&key);
    let tampered = good.replacen("MII", "MIJ", 1);
    assert!(ca.sign(&tampered, &who("a", "b"), Duration::ZERO).is_err());
}

#[test]
fn trust_domain_and_ttl_checks() {
    assert!(validate_trust_domain("cluster.local").is_ok());
    assert!(validate_trust_domain("Cluster.local").is_err());
    assert!(validate_trust_domain("a/b").is_err());
    assert!(validate_workload_ttl(Duration::from_secs(120)).is_ok());
    assert!(validate_workload_ttl(Duration::from_secs(10)).is_err());
}

#[test]
fn pem_encoding_matches_rcgen() {
    let files = CaFiles::generate("cluster.local").expect("generate");
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["a".to_owned()])
        .expect("p")
        .self_signed(&key)
        .expect("cert");
    assert_eq!(
        mesh_api::proxy::cert_pem(cert.der()),
        cert.pem().replace("\r\n", "\n")
    );
    assert_eq!(
        certs_from_pem(&mesh_api::proxy::cert_pem(&files.cert_der)).expect("parse")[0],
        files.cert_der
    );
}

#[test]
fn kept_in_the_home_with_a_private_key_and_loaded_back() {
    let home = tempfile::tempdir().expect("tmp");
    let first = CaFiles::ensure(home.path(), "cluster.local").expect("generate");
    let again = CaFiles::ensure(home.path(), "cluster.local").expect("load");
    assert_eq!(
        first.cert_der, again.cert_der,
        "a second install keeps the root"
    );
    assert_eq!(again.source, CaSource::SelfSigned);
    let mode = |p: &str| {
        std::fs::metadata(home.path().join("ca").join(p))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("ca-key.pem"), 0o600);
    assert_eq!(
        std::fs::metadata(home.path().join("ca"))
            .expect("dir")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

// ---- plugged-in CAs ----

struct Made {
    pem: String,
    key: KeyPair,
    params: CertificateParams,
}

fn make_ca(name: &str, issuer: Option<&Made>, ca: bool, expired: bool) -> Made {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    }
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = match issuer {
        Some(i) => params
            .signed_by(&key, &Issuer::from_params(&i.params, &i.key))
            .expect("sign"),
        None => params.self_signed(&key).expect("self"),
    };
    Made {
        pem: cert.pem(),
        key,
        params,
    }
}

fn labels() -> Labels {
    Labels {
        cert: "--set ca.cert=ca-cert.pem".into(),
        key: "--set ca.key=ca-key.pem".into(),
        chain: "--set ca.chain=cert-chain.pem".into(),
    }
}

fn check(cert: &Made, key: &KeyPair, chain: Option<&str>) -> Result<CaFiles, CaError> {
    CaFiles::check(
        CaSource::PluggedIn,
        &cert.pem,
        &key.serialize_pem(),
        chain,
        &labels(),
    )
}

#[test]
fn plugged_in_intermediate_signs_and_chains_to_the_root() {
    let root = make_ca("Acme Root", None, true, false);
    let inter = make_ca("Acme Mesh CA", Some(&root), true, false);
    // Istio's cert-chain.pem: the CA certificate, then the root.
    let chain = format!("{}{}", inter.pem, root.pem);
    let files = check(&inter, &inter.key, Some(&chain)).expect("valid");
    assert_eq!(files.roots_der.len(), 1);
    let ca = Ca::new(files, CaSettings::default()).expect("ca");
    let key = KeyPair::generate().expect("key");
    let signed = ca
        .sign(&csr(&key), &who("a", "b"), Duration::ZERO)
        .expect("sign");
    let chain = parse_chain(&signed);
    assert_eq!(chain.len(), 2, "leaf + the intermediate");
    assert_eq!(chain[1].subject, "CN=Acme Mesh CA");
    assert_eq!(chain[0].issuer, "CN=Acme Mesh CA");
    let bundle = CertInfo::from_pem(&signed.bundle_pem[0]).expect("bundle");
    assert_eq!(bundle[0].subject, "CN=Acme Root");
    // Kept and loaded back the same.
    let home = tempfile::tempdir().expect("tmp");
    let files = check(&inter, &inter.key, Some(&root.pem)).expect("valid");
    files.save(home.path()).expect("save");
    let loaded = CaFiles::load(home.path()).expect("load").expect("some");
    assert_eq!(loaded.source, CaSource::PluggedIn);
    assert_eq!(loaded.roots_der, files.roots_der);
}

fn message(r: Result<CaFiles, CaError>) -> String {
    r.expect_err("must be refused").to_string()
}

#[test]
fn plugged_in_mistakes_are_explained() {
    let root = make_ca("Acme Root", None, true, false);
    let other = make_ca("Other", None, true, false);
    let m = message(check(&root, &other.key, None));
    assert!(
        m.contains("--set ca.key=ca-key.pem") && m.contains("does not belong"),
        "{m}"
    );

    let leaf = make_ca("Not a CA", Some(&root), false, false);
    let m = message(check(&leaf, &leaf.key, Some(&root.pem)));
    assert!(m.contains("not a CA certificate"), "{m}");

    let old = make_ca("Old Root", None, true, true);
    let m = message(check(&old, &old.key, None));
    assert!(m.contains("expired on 2021-01-01"), "{m}");

    let inter = make_ca("Acme Mesh CA", Some(&root), true, false);
    let m = message(check(&inter, &inter.key, None));
    assert!(
        m.contains("not a self-signed root") && m.contains("ca.chain"),
        "{m}"
    );

    let m = message(check(&inter, &inter.key, Some(&other.pem)));
    assert!(m.contains("did not issue CN=Acme Mesh CA"), "{m}");

    let m = message(CaFiles::check(
        CaSource::PluggedIn,
        &root.pem,
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        None,
        &labels(),
    ));
    assert!(m.contains("PKCS#8"), "{m}");

    let two = format!("{}{}", inter.pem, root.pem);
    let m = message(CaFiles::check(
        CaSource::PluggedIn,
        &two,
        &inter.key.serialize_pem(),
        None,
        &labels(),
    ));
    assert!(m.contains("holds 2 certificates"), "{m}");

    let m = message(CaFiles::import(&PluggedCa {
        cert: "/nonexistent/ca-cert.pem".into(),
        key: "/nonexistent/ca-key.pem".into(),
        chain: None,
    }));
    assert!(
        m.contains("--set ca.cert=/nonexistent/ca-cert.pem: cannot read it"),
        "{m}"
    );
}

// ---- bootstrap tokens ----

#[test]
fn a_token_proves_its_own_workload_only() {
    let home = tempfile::tempdir().expect("tmp");
    let a = tokens::create(home.path(), "cart-v1-0001.shop", "shop", "cart").expect("a");
    let b = tokens::create(home.path(), "pay-v1-0002.shop", "shop", "payments").expect("b");
    let token_a = std::fs::read_to_string(&a).expect("read a");
    let token_b = std::fs::read_to_string(&b).expect("read b");
    assert_eq!(
        std::fs::metadata(&a).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    let id = tokens::verify(home.path(), "cart-v1-0001.shop", &token_a).expect("valid");
    assert_eq!(
        (id.namespace.as_str(), id.service_account.as_str()),
        ("shop", "cart")
    );

    // A's token presented as B: refused, so A cannot get B's identity.
    let e = tokens::verify(home.path(), "pay-v1-0002.shop", &token_a).expect_err("a as b");
    assert!(matches!(e, tokens::TokenError::Mismatch(_)), "{e}");
    assert!(
        !e.to_string().contains(&token_a),
        "the error never shows the token"
    );
    let e = tokens::verify(home.path(), "cart-v1-0001.shop", "").expect_err("missing");
    assert!(matches!(e, tokens::TokenError::Missing));
    let e = tokens::verify(home.path(), "cart-v1-0001.shop", "00ff").expect_err("wrong");
    assert!(matches!(e, tokens::TokenError::Mismatch(_)));
    let e = tokens::verify(home.path(), "ghost-v1-0003.shop", &token_b).expect_err("unknown");
    assert!(matches!(e, tokens::TokenError::Unknown(_)));
    let e = tokens::verify(home.path(), "../ca/ca-key", &token_b).expect_err("path");
    assert!(matches!(e, tokens::TokenError::BadProxyId(_)));
    // The binding file keeps a digest, not the secret.
    let binding = std::fs::read_to_string(home.path().join("tokens/cart-v1-0001.shop.json"))
        .expect("binding");
    assert!(!binding.contains(&token_a));

    tokens::remove(home.path(), "cart-v1-0001.shop");
    assert!(tokens::verify(home.path(), "cart-v1-0001.shop", &token_a).is_err());
}
