use std::net::IpAddr;

use http::HeaderMap;
use mesh_api::proxy::{AuthzAction, AuthzAttr, AuthzField, AuthzPolicy, AuthzRule};

use super::audit::{Who, line};
use super::*;

fn f(attr: AuthzAttr, values: &[&str]) -> AuthzField {
    AuthzField {
        attr,
        values: values.iter().map(|v| v.to_string()).collect(),
        not: false,
    }
}

fn not(attr: AuthzAttr, values: &[&str]) -> AuthzField {
    AuthzField {
        not: true,
        ..f(attr, values)
    }
}

fn policy(name: &str, action: AuthzAction, rules: Vec<AuthzRule>) -> AuthzPolicy {
    AuthzPolicy {
        name: name.into(),
        action,
        dry_run: false,
        rules,
    }
}

fn to(fields: Vec<AuthzField>) -> AuthzRule {
    AuthzRule {
        to: vec![fields],
        ..Default::default()
    }
}

fn from(fields: Vec<AuthzField>) -> AuthzRule {
    AuthzRule {
        from: vec![fields],
        ..Default::default()
    }
}

fn compile(p: Vec<AuthzPolicy>) -> RtAuthz {
    let mut problems = Vec::new();
    let rt = RtAuthz::compile(&p, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    rt
}

const PRODUCTPAGE: &str = "cluster.local/ns/default/sa/productpage";
const OTHER: &str = "cluster.local/ns/other/sa/intruder";

fn req<'a>(principal: Option<&'a str>, method: &'a str, path: &'a str) -> Attributes<'a> {
    Attributes {
        http: true,
        principal,
        source_ip: IpAddr::from([127, 0, 0, 1]),
        destination_ip: None,
        port: 9080,
        sni: None,
        method,
        host: "reviews:9080",
        path,
        headers: None,
    }
}

#[test]
fn no_policy_allows_everything() {
    let d = compile(vec![]).evaluate(&req(None, "GET", "/"));
    assert!(d.allowed && !d.loggable());
}

#[test]
fn deny_one_path_only() {
    let rt = compile(vec![policy(
        "default/deny-admin",
        AuthzAction::Deny,
        vec![to(vec![f(AuthzAttr::Path, &["/admin*"])])],
    )]);
    let d = rt.evaluate(&req(Some(PRODUCTPAGE), "GET", "/admin/users"));
    assert!(!d.allowed);
    assert_eq!(
        d.decided_by.as_ref().map(|m| (m.policy.as_str(), m.rule)),
        Some(("default/deny-admin", Some(0)))
    );
    assert!(
        rt.evaluate(&req(Some(PRODUCTPAGE), "GET", "/reviews/1"))
            .allowed
    );
}

#[test]
fn allow_one_principal_denies_the_others() {
    let rt = compile(vec![policy(
        "default/viewer",
        AuthzAction::Allow,
        vec![from(vec![f(AuthzAttr::Principal, &[PRODUCTPAGE])])],
    )]);
    assert!(rt.evaluate(&req(Some(PRODUCTPAGE), "GET", "/")).allowed);
    let d = rt.evaluate(&req(Some(OTHER), "GET", "/"));
    assert!(!d.allowed && d.decided_by.is_none());
    assert_eq!(d.unmatched_allow, ["default/viewer"]);
    assert!(
        !rt.evaluate(&req(None, "GET", "/")).allowed,
        "plaintext has no principal"
    );
}

#[test]
fn deny_wins_over_allow_and_audit_never_decides() {
    let rt = compile(vec![
        policy(
            "a/allow-all",
            AuthzAction::Allow,
            vec![AuthzRule::default()],
        ),
        policy(
            "a/audit-writes",
            AuthzAction::Audit,
            vec![to(vec![f(AuthzAttr::Method, &["POST", "PUT"])])],
        ),
        policy(
            "a/deny-other-ns",
            AuthzAction::Deny,
            vec![from(vec![not(AuthzAttr::Namespace, &["default"])])],
        ),
    ]);
    let d = rt.evaluate(&req(Some(PRODUCTPAGE), "POST", "/x"));
    assert!(d.allowed && d.loggable());
    assert_eq!(d.audited[0].policy, "a/audit-writes");
    let d = rt.evaluate(&req(Some(OTHER), "GET", "/x"));
    assert!(!d.allowed);
    assert_eq!(
        d.decided_by.map(|m| m.policy),
        Some("a/deny-other-ns".into())
    );
    // No principal: notNamespaces matches (the namespace is absent), so denied.
    assert!(!rt.evaluate(&req(None, "GET", "/x")).allowed);
}

#[test]
fn allow_nothing_and_custom_fail_closed() {
    let rt = compile(vec![policy("ns/allow-nothing", AuthzAction::Allow, vec![])]);
    assert!(!rt.evaluate(&req(Some(PRODUCTPAGE), "GET", "/")).allowed);
    let rt = compile(vec![policy("ns/deny-none", AuthzAction::Deny, vec![])]);
    assert!(
        rt.evaluate(&req(None, "GET", "/")).allowed,
        "DENY without rules matches nothing"
    );
    let rt = compile(vec![policy(
        "ns/ext",
        AuthzAction::Custom,
        vec![to(vec![f(AuthzAttr::Path, &["/ext/*"])])],
    )]);
    assert!(!rt.evaluate(&req(None, "GET", "/ext/a")).allowed);
    assert!(rt.evaluate(&req(None, "GET", "/public")).allowed);
}

#[test]
fn tcp_connections_ignore_http_fields_safely() {
    let rt = compile(vec![policy(
        "ns/deny-post",
        AuthzAction::Deny,
        vec![AuthzRule {
            from: vec![vec![f(AuthzAttr::Principal, &[OTHER])]],
            to: vec![vec![f(AuthzAttr::Method, &["POST"])]],
            ..Default::default()
        }],
    )]);
    let tcp = |p| Attributes {
        http: false,
        ..req(p, "", "")
    };
    assert!(
        !rt.evaluate(&tcp(Some(OTHER))).allowed,
        "DENY: the method is not checked for TCP"
    );
    assert!(rt.evaluate(&tcp(Some(PRODUCTPAGE))).allowed);
    let rt = compile(vec![policy(
        "ns/allow-get",
        AuthzAction::Allow,
        vec![to(vec![f(AuthzAttr::Method, &["GET"])])],
    )]);
    assert!(
        !rt.evaluate(&tcp(Some(PRODUCTPAGE))).allowed,
        "ALLOW: an HTTP rule never matches TCP"
    );
}

#[test]
fn when_conditions_headers_ips_ports_hosts() {
    let rt = compile(vec![policy(
        "ns/p",
        AuthzAction::Allow,
        vec![AuthzRule {
            to: vec![vec![
                f(AuthzAttr::Host, &["Reviews"]),
                f(AuthzAttr::Port, &["9080"]),
            ]],
            when: vec![
                f(AuthzAttr::Header("x-token".into()), &["abc*"]),
                not(AuthzAttr::SourceIp, &["10.0.0.0/8"]),
                f(AuthzAttr::RequestPrincipal, &["*"]),
            ],
            ..Default::default()
        }],
    )]);
    let mut headers = HeaderMap::new();
    headers.insert("x-token", http::HeaderValue::from_static("abcdef"));
    let a = Attributes {
        headers: Some(&headers),
        ..req(None, "GET", "/")
    };
    assert!(
        !rt.evaluate(&a).allowed,
        "request principals need a JWT, which is never present yet"
    );
    let rt = compile(vec![policy(
        "ns/p",
        AuthzAction::Allow,
        vec![AuthzRule {
            to: vec![vec![
                f(AuthzAttr::Host, &["REVIEWS"]),
                f(AuthzAttr::Port, &["9080"]),
            ]],
            when: vec![
                f(AuthzAttr::Header("x-token".into()), &["abc*"]),
                not(AuthzAttr::SourceIp, &["10.0.0.0/8"]),
            ],
            ..Default::default()
        }],
    )]);
    assert!(
        rt.evaluate(&a).allowed,
        "host without port, case-insensitive"
    );
    assert!(!rt.evaluate(&Attributes { port: 9081, ..a }).allowed);
    assert!(!rt.evaluate(&Attributes { headers: None, ..a }).allowed);
    let ten = IpAddr::from([10, 1, 2, 3]);
    assert!(
        !rt.evaluate(&Attributes {
            source_ip: ten,
            ..a
        })
        .allowed
    );
}

#[test]
fn dry_run_is_logged_not_enforced() {
    let mut p = policy("ns/shadow", AuthzAction::Deny, vec![AuthzRule::default()]);
    p.dry_run = true;
    let rt = compile(vec![p]);
    let d = rt.evaluate(&req(None, "GET", "/"));
    assert!(d.allowed && d.loggable());
    assert_eq!(d.dry_run_denied[0].policy, "ns/shadow");
}

#[test]
fn bad_values_are_rejected_at_compile() {
    let mut problems = Vec::new();
    RtAuthz::compile(
        &[policy(
            "ns/p",
            AuthzAction::Deny,
            vec![from(vec![f(AuthzAttr::SourceIp, &["10.0.0.0/99"])])],
        )],
        &mut problems,
    );
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("ns/p") && problems[0].contains("10.0.0.0/99"),
        "{problems:?}"
    );
}

#[test]
fn audit_line_says_who_what_and_which_policy() {
    let rt = compile(vec![policy(
        "default/deny-admin",
        AuthzAction::Deny,
        vec![to(vec![f(AuthzAttr::Path, &["/admin"])])],
    )]);
    let a = req(Some(PRODUCTPAGE), "DELETE", "/admin");
    let d = rt.evaluate(&a);
    let who = Who {
        proxy: "reviews-1",
        workload: "default/reviews-v1",
    };
    let v: serde_json::Value =
        serde_json::from_str(&line(&who, &a, &d, "2026-11-25T00:00:00Z")).expect("json");
    assert_eq!(v["decision"], "DENY");
    assert_eq!(v["policy"], "default/deny-admin");
    assert_eq!(v["reason"], "denied by DENY policy default/deny-admin");
    assert_eq!(v["source"]["principal"], PRODUCTPAGE);
    assert_eq!(v["request"]["method"], "DELETE");
    assert_eq!(v["request"]["path"], "/admin");
    assert_eq!(v["workload"], "default/reviews-v1");
}
