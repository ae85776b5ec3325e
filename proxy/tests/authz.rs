//! AuthorizationPolicy enforced by a real sidecar between real sidecars over
//! mutual TLS: a DENY policy for one path answers 403 for that path only and the
//! audit log names the policy; an ALLOW policy for one principal denies every
//! other principal (and plaintext callers); path tricks do not get around a
//! policy; TCP tunnels are closed; AUDIT policies are logged, not enforced.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::ca::{Ca, mesh_client};
use common::*;
use http::StatusCode;
use mesh_api::proxy::{
    AuthzAction, AuthzAttr, AuthzField, AuthzPolicy, AuthzRule, InboundMtls, InboundPort,
    Listeners, Protocol, ProxyConfig, RouteConfig, TcpRoute, TcpService, WeightedCluster,
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

/// The `reviews` sidecar (PERMISSIVE, so plaintext callers reach the policies),
/// writing its audit log to `audit`.
async fn reviews(ca: &Ca, app: SocketAddr, audit: &Path, authz: Vec<AuthzPolicy>) -> TestProxy {
    reviews_with(ca, app, audit, authz, Protocol::Http).await
}

async fn reviews_with(
    ca: &Ca,
    app: SocketAddr,
    audit: &Path,
    authz: Vec<AuthzPolicy>,
    protocol: Protocol,
) -> TestProxy {
    let mut opts = ProxyOptions::local("reviews-v1");
    opts.identity = ca.handle("ns/default/sa/reviews");
    opts.audit = AuditLog::to_file(audit).await.unwrap();
    let p = start_proxy(opts).await;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port: 9080,
                app_port: app.port(),
                protocol,
                mtls: InboundMtls::Permissive,
                ..Default::default()
            }],
            authz,
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
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
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let deny = policy(
        "default/deny-admin",
        AuthzAction::Deny,
        AuthzRule {
            to: vec![vec![field(AuthzAttr::Path, &["/admin*"])]],
            ..Default::default()
        },
    );
    let srv = reviews(&ca, app, &audit, vec![deny]).await;
    let cli = mesh_client(
        ca.handle("ns/default/sa/productpage"),
        srv.inbound,
        Some("ns/default/sa/reviews"),
    )
    .await;
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

    let lines = audit_lines(&audit, 2).await;
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
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
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
    let srv = reviews(&ca, app, &audit, vec![allow, audit_posts]).await;
    let peer = Some("ns/default/sa/reviews");
    let productpage = mesh_client(ca.handle("ns/default/sa/productpage"), srv.inbound, peer).await;
    let ratings = mesh_client(ca.handle("ns/default/sa/ratings"), srv.inbound, peer).await;
    let intruder = mesh_client(ca.handle("ns/other/sa/productpage"), srv.inbound, peer).await;
    let plaintext = mesh_client(IdentityHandle::disabled(), srv.inbound, None).await;

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

    let lines = audit_lines(&audit, 4).await;
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
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let ca = Ca::new("mesh root");
    let app = echo_app("reviews", None).await;
    let srv = reviews(&ca, app, &audit, vec![]).await;
    let cli = mesh_client(
        ca.handle("ns/default/sa/productpage"),
        srv.inbound,
        Some("ns/default/sa/reviews"),
    )
    .await;
    let mut h = H1::connect(cli.outbound).await;
    assert_eq!(
        h.get("http://reviews:9080/", &[]).await.status,
        StatusCode::OK
    );
    // `spec: {}`: an ALLOW policy with no rules allows nothing.
    let listeners = Listeners {
        inbound: vec![InboundPort {
            port: 9080,
            app_port: app.port(),
            protocol: Protocol::Http,
            ..Default::default()
        }],
        authz: vec![AuthzPolicy {
            name: "default/allow-nothing".into(),
            action: AuthzAction::Allow,
            dry_run: false,
            rules: vec![],
        }],
    };
    apply(&srv.config, "listeners", "2", &listeners);
    assert_eq!(
        h.get("http://reviews:9080/", &[]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_denied_tcp_tunnel_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let ca = Ca::new("mesh root");
    let app = tcp_echo().await;
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
    let srv = reviews_with(&ca, app, &audit, vec![deny], Protocol::Tcp).await;
    let peer = Some("ns/default/sa/reviews");
    let ok = mesh_client(ca.handle("ns/default/sa/productpage"), srv.inbound, peer).await;
    let denied = mesh_client(ca.handle("ns/default/sa/ratings"), srv.inbound, peer).await;
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
    let lines = audit_lines(&audit, 1).await;
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
