//! AuthorizationPolicy enforced by a real sidecar between real sidecars over
//! mutual TLS: a DENY policy for one path answers 403 for that path only and the
//! audit log names the policy; an ALLOW policy for one principal denies every
//! other principal (and plaintext callers); path tricks do not get around a
//! policy; TCP tunnels are closed; AUDIT policies are logged, not enforced.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::ca::{Ca, mesh_client, mesh_server_with};
use common::*;
use http::StatusCode;
use mesh_api::proxy::{
    AuthzAction, AuthzAttr, AuthzField, AuthzPolicy, AuthzRule, InboundMtls, InboundPort,
    Listeners, Protocol, RouteConfig, TcpRoute, TcpService, WeightedCluster,
};
use mesh_proxy::ProxyOptions;
use mesh_proxy::authz::audit::AuditLog;
use mesh_proxy::identity::IdentityHandle;
use serde_json::Value;

const PRODUCTPAGE: &str = "cluster.local/ns/default/sa/productpage";

fn field(attr: AuthzAttr, values: &[&str]) -> AuthzField {
    AuthzField {
        attr,
        values: values.iter().map(|v| v.to_string()).collect(),
        not: false,
    }
}

fn policy(name: &str, action: AuthzAction, rule: AuthzRule) -> AuthzPolicy {
    AuthzPolicy {
        name: name.into(),
        action,
        dry_run: false,
        rules: vec![rule],
    }
}

/// What each test starts from: a CA, a `reviews` app, and where its sidecar's
/// audit log goes.
struct Setup {
    _dir: tempfile::TempDir,
    audit: PathBuf,
    ca: Ca,
    app: SocketAddr,
}

async fn setup(app: SocketAddr) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    Setup {
        audit: dir.path().join("audit.log"),
        _dir: dir,
        ca: Ca::new("mesh root"),
        app,
    }
}

impl Setup {
    /// The `reviews` sidecar (PERMISSIVE, so plaintext callers reach the
    /// policies), writing its audit log to `self.audit`.
    async fn reviews(&self, authz: Vec<AuthzPolicy>, protocol: Protocol) -> TestProxy {
        let mut opts = ProxyOptions::local("reviews-v1");
        opts.identity = self.ca.handle("ns/default/sa/reviews");
        opts.audit = AuditLog::to_file(&self.audit).await.unwrap();
        mesh_server_with(opts, self.app, protocol, InboundMtls::Permissive, authz).await
    }

    /// A client sidecar with the identity `ns/default/sa/<sa>` (none: plaintext).
    async fn client(&self, srv: &TestProxy, sa: Option<&str>) -> TestProxy {
        match sa {
            Some(sa) => {
                let id = self.ca.handle(&format!("ns/{sa}"));
                mesh_client(id, srv.inbound, Some("ns/default/sa/reviews")).await
            }
            None => mesh_client(IdentityHandle::disabled(), srv.inbound, None).await,
        }
    }
}

/// The audit log's lines, once `n` have been written.
async fn audit_lines(path: &Path, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the audit log has fewer than {n} lines:\n{}",
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

#[tokio::test]
async fn deny_one_path_and_the_audit_log_names_the_policy() {
    let t = setup(echo_app("reviews", None).await).await;
    let deny = policy(
        "default/deny-admin",
        AuthzAction::Deny,
        AuthzRule {
            to: vec![vec![field(AuthzAttr::Path, &["/admin*"])]],
            ..Default::default()
        },
    );
    let srv = t.reviews(vec![deny], Protocol::Http).await;
    let cli = t.client(&srv, Some("default/sa/productpage")).await;
    let mut h = H1::connect(cli.outbound).await;
    let r = h.get("http://reviews:9080/books/1", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = h.get("http://reviews:9080/admin/users", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, "RBAC: access denied");
    // Dot segments are resolved before the policy looks, and the app is sent
    // the normalized path, so `/books/../admin` is `/admin`.
    let r = h.get("http://reviews:9080/books/../admin", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = h.get("http://reviews:9080/books/./x/../2", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("path=/books/2"), "{}", r.body);

    let lines = audit_lines(&t.audit, 2).await;
    assert_eq!(lines.len(), 2, "only denials are logged: {lines:?}");
    let l = &lines[0];
    assert_eq!(l["decision"], "DENY");
    assert_eq!(l["policy"], "default/deny-admin");
    assert_eq!(l["reason"], "denied by DENY policy default/deny-admin");
    assert_eq!(l["source"]["principal"], PRODUCTPAGE);
    assert_eq!(l["request"]["path"], "/admin/users");
    assert_eq!(l["request"]["method"], "GET");
    assert_eq!(l["proxy"], "reviews-v1");
    assert_eq!(lines[1]["request"]["path"], "/admin");
}

#[tokio::test]
async fn allow_one_principal_denies_every_other() {
    let t = setup(echo_app("reviews", None).await).await;
    let allow = policy(
        "default/reviews-viewer",
        AuthzAction::Allow,
        AuthzRule {
            from: vec![vec![field(AuthzAttr::Principal, &[PRODUCTPAGE])]],
            ..Default::default()
        },
    );
    let audit_posts = policy(
        "default/audit-posts",
        AuthzAction::Audit,
        AuthzRule {
            to: vec![vec![field(AuthzAttr::Method, &["POST"])]],
            ..Default::default()
        },
    );
    let srv = t.reviews(vec![allow, audit_posts], Protocol::Http).await;
    let productpage = t.client(&srv, Some("default/sa/productpage")).await;
    let ratings = t.client(&srv, Some("default/sa/ratings")).await;
    let intruder = t.client(&srv, Some("other/sa/productpage")).await;
    let plaintext = t.client(&srv, None).await;

    let status = |p: SocketAddr, method: &'static str| async move {
        H1::connect(p)
            .await
            .request(method, "http://reviews:9080/reviews/1", &[])
            .await
            .status
    };
    assert_eq!(status(productpage.outbound, "GET").await, StatusCode::OK);
    assert_eq!(status(productpage.outbound, "POST").await, StatusCode::OK);
    for other in [&ratings, &intruder, &plaintext] {
        assert_eq!(status(other.outbound, "GET").await, StatusCode::FORBIDDEN);
    }

    let lines = audit_lines(&t.audit, 4).await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    // The POST was allowed and audited.
    assert_eq!(lines[0]["decision"], "ALLOW");
    assert_eq!(lines[0]["audit"][0]["policy"], "default/audit-posts");
    let denied: Vec<&Value> = lines[1..]
        .iter()
        .map(|l| &l["source"]["principal"])
        .collect();
    assert_eq!(
        denied,
        [
            &Value::from("cluster.local/ns/default/sa/ratings"),
            &Value::from("cluster.local/ns/other/sa/productpage"),
            &Value::Null,
        ]
    );
    for l in &lines[1..] {
        assert_eq!(
            l["reason"],
            "denied: no ALLOW policy matched (default/reviews-viewer)"
        );
    }
}

#[tokio::test]
async fn policies_change_with_the_config() {
    let t = setup(echo_app("reviews", None).await).await;
    let srv = t.reviews(vec![], Protocol::Http).await;
    let cli = t.client(&srv, Some("default/sa/productpage")).await;
    let mut h = H1::connect(cli.outbound).await;
    assert_eq!(
        h.get("http://reviews:9080/", &[]).await.status,
        StatusCode::OK
    );
    // `spec: {}`: an ALLOW policy with no rules allows nothing.
    let listeners = Listeners {
        inbound: vec![InboundPort {
            port: 9080,
            app_port: t.app.port(),
            protocol: Protocol::Http,
            ..Default::default()
        }],
        authz: vec![AuthzPolicy {
            name: "default/allow-nothing".into(),
            action: AuthzAction::Allow,
            dry_run: false,
            rules: vec![],
        }],
        ..Default::default()
    };
    apply(&srv.config, "listeners", "2", &listeners);
    assert_eq!(
        h.get("http://reviews:9080/", &[]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_denied_tcp_tunnel_is_closed() {
    let t = setup(tcp_echo().await).await;
    let deny = policy(
        "default/deny-ratings",
        AuthzAction::Deny,
        AuthzRule {
            from: vec![vec![field(
                AuthzAttr::Principal,
                &["cluster.local/ns/default/sa/ratings"],
            )]],
            // HTTP-only: ignored for TCP, so the DENY still applies.
            to: vec![vec![field(AuthzAttr::Method, &["POST"])]],
            ..Default::default()
        },
    );
    let srv = t.reviews(vec![deny], Protocol::Tcp).await;
    let ok = t.client(&srv, Some("default/sa/productpage")).await;
    let denied = t.client(&srv, Some("default/sa/ratings")).await;
    // reviews:9080 as a TCP service for both clients.
    let tcp = RouteConfig {
        tcp_services: vec![TcpService {
            name: "reviews:9080".into(),
            domains: vec!["reviews".into(), "reviews:9080".into()],
            port: 9080,
            routes: vec![TcpRoute {
                name: "reviews".into(),
                sni_hosts: vec![],
                clusters: vec![WeightedCluster {
                    cluster: "reviews".into(),
                    weight: 1,
                    ..WeightedCluster::default()
                }],
                origin: None,
            }],
        }],
        ..RouteConfig::default()
    };
    apply(&ok.config, "routes", "2", &tcp);
    apply(&denied.config, "routes", "2", &tcp);
    assert_eq!(tunnel_echo(ok.outbound).await.as_deref(), Some("ping"));
    assert_eq!(tunnel_echo(denied.outbound).await, None);
    let lines = audit_lines(&t.audit, 1).await;
    assert_eq!(lines[0]["request"]["protocol"], "TCP");
    assert_eq!(lines[0]["policy"], "default/deny-ratings");
}

/// Opens a CONNECT tunnel to `reviews:9080` through the client sidecar and
/// sends `ping`; the echo, or `None` when the tunnel is refused or closed.
async fn tunnel_echo(outbound: SocketAddr) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(outbound).await.unwrap();
    s.write_all(b"CONNECT reviews:9080 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b).await {
            Ok(1) => head.push(b[0]),
            _ => return None,
        }
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return None;
    }
    s.write_all(b"ping").await.ok()?;
    let mut buf = [0u8; 4];
    match tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&buf).into_owned()),
        _ => None,
    }
}
