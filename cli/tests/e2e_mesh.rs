//! The local mesh end to end, as issue #3 defines "done": real `meshctl`
//! processes (control plane, sidecars, sample apps) on loopback and real HTTP
//! requests through a client sidecar.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::mesh::{Mesh, requests, scrape};
use http_body_util::{BodyExt, Empty};
use serde_json::Value;

fn bookinfo(file: &str) -> String {
    common::bookinfo()
        .join("networking")
        .join(file)
        .display()
        .to_string()
}

/// A keep-alive HTTP/1.1 connection to the sidecar listener at `proxy`.
async fn connect(proxy: &str) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = tokio::net::TcpStream::connect(proxy)
        .await
        .expect("connect to sidecar");
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    sender
}

/// Send `n` GETs for `url` through the HTTP proxy at `proxy` on one keep-alive
/// connection, as an app using HTTP_PROXY does; count answers by version
/// (`status` for errors).
fn traffic(proxy: &str, url: &str, n: usize, headers: &[(&str, &str)]) -> BTreeMap<String, usize> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut sender = connect(proxy).await;
        let uri: http::Uri = url.parse().expect("url");
        let mut counts = BTreeMap::new();
        for _ in 0..n {
            let mut req = http::Request::get(uri.clone()).header(
                http::header::HOST,
                uri.authority().expect("authority").as_str(),
            );
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let resp = sender
                .send_request(req.body(Empty::<Bytes>::new()).expect("request"))
                .await
                .expect("response");
            let status = resp.status();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            let key = if status.is_success() {
                let v: Value = serde_json::from_slice(&body).expect("sample app answer");
                v["version"].as_str().unwrap_or("?").to_owned()
            } else {
                format!("status {}", status.as_u16())
            };
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    })
}

fn kill9(pid: u32) {
    assert!(
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill")
            .success()
    );
}

#[test]
fn routing_follows_applied_config_and_survives_the_control_plane() {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y"]);
    for v in ["v1", "v2", "v3"] {
        mesh.run("reviews", v, &[]);
    }
    mesh.run("client", "v1", &[]);
    mesh.wait_for("four workloads", |m| m.workloads().len() == 4);
    let client = mesh
        .workloads()
        .into_iter()
        .find(|w| w["service"] == "client")
        .expect("client workload");
    let proxy = client["outboundAddress"]
        .as_str()
        .expect("outbound")
        .to_owned();

    // A workload joins when its sidecar connects, and becomes an endpoint once its
    // app accepts connections (the sidecar probes it): wait for all four, then
    // for every proxy to have that state. No request may fail on the way.
    mesh.wait_for("every app ready", |m| {
        let w = m.workloads();
        w.len() == 4 && w.iter().all(|w| w["appReady"] == true)
    });
    mesh.wait_for("proxies synced", |m| m.all_synced(4));
    let c = traffic(&proxy, "http://reviews:9080/", 60, &[]);
    assert_eq!(c.keys().collect::<Vec<_>>(), ["v1", "v2", "v3"], "{c:?}");

    // Istio's metrics: both sides of each call report it, with the workloads
    // that `meshctl run` introduced.
    let edge = |reporter: &str| {
        [
            format!("reporter=\"{reporter}\""),
            "source_workload=\"client-v1\"".to_owned(),
            "destination_service=\"reviews.default.svc.cluster.local\"".to_owned(),
            "response_code=\"200\"".to_owned(),
        ]
    };
    let mut served = 0;
    for w in mesh.workloads() {
        let admin = w["adminAddress"].as_str().expect("admin address");
        let stats = scrape(admin);
        assert!(
            stats.contains("meshctl_control_plane_connected 1"),
            "{stats}"
        );
        if w["service"] == "client" {
            assert_eq!(requests(&stats, &edge("source")), 60, "{stats}");
        } else {
            let version = w["labels"]["version"].as_str().unwrap_or("?").to_owned();
            let mine = format!("destination_workload=\"reviews-{version}\"");
            let mut want = edge("destination").to_vec();
            want.push(mine);
            served += requests(&stats, &want);
        }
    }
    assert_eq!(served, 60, "the three reviews sidecars report the 60 calls");

    // Without routing config: the service is reachable by every name.
    for url in [
        "http://reviews:9080/",
        "http://reviews.default:9080/",
        "http://reviews.default.svc.cluster.local:9080/",
    ] {
        let c = traffic(&proxy, url, 30, &[]);
        assert_eq!(c.values().sum::<usize>(), 30, "{url}: {c:?}");
        assert!(c.keys().all(|k| k.starts_with('v')), "{url}: {c:?}");
    }

    // Istio's 80/20 task, from Istio's own sample files.
    mesh.ok(&["apply", "-f", &bookinfo("destination-rule-reviews.yaml")]);
    mesh.ok(&[
        "apply",
        "-f",
        &bookinfo("virtual-service-reviews-80-20.yaml"),
    ]);
    mesh.wait_for("proxies synced", |m| m.all_synced(4));
    let c = traffic(&proxy, "http://reviews:9080/", 1000, &[]);
    let v1 = c.get("v1").copied().unwrap_or(0);
    let v2 = c.get("v2").copied().unwrap_or(0);
    assert_eq!(v1 + v2, 1000, "{c:?}");
    assert!(
        (750..=850).contains(&v1),
        "80/20 split off by more than 5%: {c:?}"
    );

    // Header routing for user jason.
    mesh.ok(&[
        "apply",
        "-f",
        &bookinfo("virtual-service-reviews-jason-v2-v3.yaml"),
    ]);
    mesh.wait_for("proxies synced", |m| m.all_synced(4));
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 50, &[("end-user", "jason")]),
        BTreeMap::from([("v2".into(), 50)])
    );
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 50, &[]),
        BTreeMap::from([("v3".into(), 50)])
    );

    // All to v3.
    mesh.ok(&["apply", "-f", &bookinfo("virtual-service-reviews-v3.yaml")]);
    mesh.wait_for("v3 everywhere", |_| {
        traffic(&proxy, "http://reviews:9080/", 20, &[]) == BTreeMap::from([("v3".into(), 20)])
    });
    mesh.wait_for("proxies synced", |m| m.all_synced(4));
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 200, &[]),
        BTreeMap::from([("v3".into(), 200)])
    );

    // What the client's sidecar runs, read from the sidecar itself.
    let client_id = client["proxyId"].as_str().expect("proxy id").to_owned();
    let diff = mesh.json(&["proxy-status", &client_id]);
    assert!(
        diff.as_array()
            .is_some_and(|d| d.iter().all(|t| t["inSync"] == true)),
        "{diff:#}"
    );
    let routes = mesh.json(&["proxy-config", "routes", &client_id]);
    let reviews = routes["virtualHosts"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|h| h["name"] == "reviews.default.svc.cluster.local:9080")
        })
        .expect("reviews virtual host");
    assert_eq!(
        reviews["routes"][0]["action"]["forward"]["clusters"][0]["cluster"],
        "outbound|9080|v3|reviews.default.svc.cluster.local"
    );

    // A config Istio accepts but the proxy cannot run (a rewrite authority that
    // is not a host): every proxy NACKs it, proxy-status says why, and traffic
    // keeps the previous config.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad-authority.yaml");
    std::fs::write(
        &bad,
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - rewrite:\n      authority: \"reviews v2\"\n    route:\n    - destination: {host: reviews, subset: v1}\n",
    )
    .expect("write");
    mesh.ok(&["apply", "-f", &bad.display().to_string()]);
    mesh.wait_for("every proxy to reject the routes", |m| {
        let s = m.json(&["proxy-status"]);
        s.as_array().is_some_and(|l| {
            l.len() == 4
                && l.iter().all(|p| {
                    p["types"].as_array().is_some_and(|t| {
                        t.iter().any(|t| {
                            t["typeUrl"] == "routes"
                                && t["status"] == "ERROR"
                                && t["error"]
                                    .as_str()
                                    .is_some_and(|e| e.contains("rewrite authority \"reviews v2\""))
                        })
                    })
                })
        })
    });
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 100, &[]),
        BTreeMap::from([("v3".into(), 100)])
    );
    let diff = mesh.json(&["proxy-status", &client_id]);
    let routes_diff = diff
        .as_array()
        .and_then(|d| d.iter().find(|t| t["typeUrl"] == "routes"))
        .expect("routes entry");
    assert_eq!(routes_diff["inSync"], false);
    assert!(
        routes_diff["diff"]
            .as_str()
            .is_some_and(|d| d.contains("+                  \"cluster\": \"outbound|9080|v3|")),
        "{routes_diff:#}"
    );
    mesh.ok(&["apply", "-f", &bookinfo("virtual-service-reviews-v3.yaml")]);
    mesh.wait_for("proxies synced again", |m| m.all_synced(4));

    // kill -9 the control plane: traffic keeps flowing on the last config.
    kill9(mesh.pid());
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 200, &[]),
        BTreeMap::from([("v3".into(), 200)])
    );

    // Restart it: the proxies reconnect, resync, and the config is intact.
    mesh.ok(&["install", "-y"]);
    mesh.wait_for("proxies reconnected and synced", |m| {
        m.workloads().len() == 4 && m.all_synced(4)
    });
    assert_eq!(
        traffic(&proxy, "http://reviews:9080/", 100, &[]),
        BTreeMap::from([("v3".into(), 100)])
    );
    let vs = mesh.json(&["get", "vs", "reviews"]);
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["subset"],
        "v3"
    );
}

/// One GET through the sidecar at `proxy`; `None` if no answer came within `wait`.
fn get_within(proxy: &str, url: &str, headers: &[(&str, &str)], wait: Duration) -> Option<u16> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut sender = connect(proxy).await;
        let uri: http::Uri = url.parse().expect("url");
        let mut req = http::Request::get(uri.clone()).header(
            http::header::HOST,
            uri.authority().expect("authority").as_str(),
        );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let call = sender.send_request(req.body(Empty::<Bytes>::new()).expect("request"));
        tokio::time::timeout(wait, call)
            .await
            .ok()
            .map(|r| r.expect("response").status().as_u16())
    })
}

/// Istio's fault-injection task with its own sample files: an abort for user
/// jason (500 from the client's sidecar, the app never called), then a 7s delay
/// for jason that a caller waiting 3s (as bookinfo's productpage does) gives up on.
#[test]
fn bookinfo_fault_injection() {
    let (mesh, proxy) = ratings_and_client();
    // Only ratings v1 runs: apply refuses the rule's other subsets (IST0173)
    // unless forced.
    let dr = bookinfo("destination-rule-all.yaml");
    assert!(!mesh.cmd(&["apply", "-f", &dr]).status.success());
    mesh.ok(&["apply", "--force", "-f", &dr]);
    mesh.ok(&[
        "apply",
        "-f",
        &bookinfo("virtual-service-ratings-test-abort.yaml"),
    ]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    let url = "http://ratings:9080/ratings/0";
    assert_eq!(
        traffic(&proxy, url, 20, &[("end-user", "jason")]),
        BTreeMap::from([("status 500".into(), 20)])
    );
    assert_eq!(
        traffic(&proxy, url, 20, &[]),
        BTreeMap::from([("v1".into(), 20)])
    );

    mesh.ok(&[
        "apply",
        "-f",
        &bookinfo("virtual-service-ratings-test-delay.yaml"),
    ]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    assert_eq!(
        get_within(
            &proxy,
            url,
            &[("end-user", "jason")],
            Duration::from_secs(3)
        ),
        None,
        "jason's request is delayed 7s: a 3s caller gives up"
    );
    assert_eq!(
        get_within(&proxy, url, &[], Duration::from_secs(3)),
        Some(200),
        "other users are not delayed"
    );

    // Mesh-wide STRICT mutual TLS (`meshctl mtls mode strict` writes Istio's
    // PeerAuthentication istio-system/default): the client's sidecar still gets
    // through (it speaks mTLS with the workload certificates `install` set up),
    // while a plaintext connection straight to ratings' sidecar is refused.
    // Before: the client's calls are mTLS (auto mTLS), and one plaintext call
    // straight to ratings' sidecar is still served (PERMISSIVE).
    let ratings_inbound = mesh
        .workloads()
        .into_iter()
        .find(|w| w["service"] == "ratings")
        .and_then(|w| w["inboundAddress"].as_str().map(str::to_owned))
        .expect("ratings inbound address");
    assert_eq!(
        get_within(&ratings_inbound, url, &[], Duration::from_secs(3)),
        Some(200)
    );
    let status = mesh.json(&["mtls", "status"]);
    assert_eq!(status["ports"][0]["mode"], "PERMISSIVE", "{status}");
    let edge = |client: &str| {
        status["edges"]
            .as_array()
            .and_then(|e| {
                e.iter()
                    .find(|e| e["client"].as_str().is_some_and(|c| c.ends_with(client)))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no edge from {client}: {status}"))
    };
    assert_eq!(edge("/client-v1")["mtls"], "mutual_tls", "{status}");
    assert_eq!(
        edge("/client-v1")["server"],
        "default/ratings-v1",
        "{status}"
    );
    assert_eq!(edge("unknown/unknown")["mtls"], "none", "{status}");
    let plan = mesh.ok(&["mtls", "mode", "strict", "--dry-run"]);
    assert!(
        plan.contains("PeerAuthentication istio-system/default") && plan.contains("dry run"),
        "{plan}"
    );
    assert!(
        plan.contains("would be refused")
            && plan.contains("unknown/unknown -> default/ratings-v1")
            && !plan.contains("client-v1 -> "),
        "STRICT warns about the plaintext caller only: {plan}"
    );
    assert_eq!(
        mesh.json(&["mtls", "status"])["ports"][0]["mode"],
        "PERMISSIVE",
        "a dry run changes nothing"
    );
    mesh.ok(&["mtls", "mode", "strict"]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    assert_eq!(
        traffic(&proxy, url, 20, &[]),
        BTreeMap::from([("v1".into(), 20)])
    );
    let ratings = mesh
        .workloads()
        .into_iter()
        .find(|w| w["service"] == "ratings")
        .expect("ratings workload");
    // The server side saw those calls over mutual TLS, from the client's
    // SPIFFE identity.
    let stats = scrape(ratings["adminAddress"].as_str().expect("admin address"));
    let mtls_calls = requests(
        &stats,
        &[
            "reporter=\"destination\"".to_owned(),
            "connection_security_policy=\"mutual_tls\"".to_owned(),
            "source_principal=\"spiffe://cluster.local/ns/default/sa/default\"".to_owned(),
        ],
    );
    assert!(
        mtls_calls >= 20,
        "{mtls_calls} mTLS calls seen by ratings:\n{stats}"
    );
    let refused = std::panic::catch_unwind(|| {
        get_within(
            &ratings_inbound,
            "http://ratings:9080/ratings/0",
            &[],
            Duration::from_secs(3),
        )
    });
    assert!(
        !matches!(refused, Ok(Some(200))),
        "a plaintext request to a STRICT sidecar must not be served: {refused:?}"
    );
}

/// An installed mesh running ratings v1 and a client, both ready; the client
/// sidecar's outbound address.
fn ratings_and_client() -> (Mesh, String) {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y"]);
    mesh.run("ratings", "v1", &[]);
    mesh.run("client", "v1", &[]);
    mesh.wait_for("both apps ready", |m| {
        let w = m.workloads();
        w.len() == 2 && w.iter().all(|w| w["appReady"] == true)
    });
    let proxy = mesh
        .workloads()
        .into_iter()
        .find(|w| w["service"] == "client")
        .and_then(|w| w["outboundAddress"].as_str().map(str::to_owned))
        .expect("client outbound address");
    (mesh, proxy)
}

/// AuthorizationPolicy through the real mesh: a DENY for one path answers 403
/// for that path only and the mesh's audit log names the policy and the caller's
/// SPIFFE identity; an ALLOW for another principal shuts the client out;
/// `meshctl authz check` shows the policies and decides a request as the
/// sidecar does.
#[test]
fn authorization_policies() {
    let (mesh, proxy) = ratings_and_client();
    let policy = mesh.home.path().join("deny.yaml");
    std::fs::write(
        &policy,
        "apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-ratings-1, namespace: default}
spec:
  selector: {matchLabels: {app: ratings}}
  action: DENY
  rules:
  - to: [{operation: {paths: [\"/ratings/1\"]}}]
",
    )
    .expect("write policy");
    mesh.ok(&["apply", "-f", &policy.display().to_string()]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    assert_eq!(
        traffic(&proxy, "http://ratings:9080/ratings/1", 5, &[]),
        BTreeMap::from([("status 403".into(), 5)])
    );
    assert_eq!(
        traffic(&proxy, "http://ratings:9080/ratings/0", 5, &[]),
        BTreeMap::from([("v1".into(), 5)])
    );
    let audit = mesh.home.path().join("audit.log");
    let mut lines = Vec::new();
    mesh.wait_for("5 audit lines", |_| {
        lines = std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("audit line is JSON"))
            .collect();
        lines.len() >= 5
    });
    assert_eq!(lines.len(), 5, "only the denials: {lines:?}");
    for l in &lines {
        assert_eq!(l["policy"], "default/deny-ratings-1");
        assert_eq!(l["request"]["path"], "/ratings/1");
        assert_eq!(
            l["source"]["principal"],
            "cluster.local/ns/default/sa/default"
        );
    }

    let check = mesh.ok(&["authz", "check", "ratings"]);
    assert!(
        check
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["DENY", "default/deny-ratings-1", "1", "no"])
            && check.contains("rule 0: to request.path in /ratings/1"),
        "{check}"
    );
    let decide = mesh.json(&["authz", "check", "ratings", "--path", "/ratings/1"]);
    assert_eq!(decide["decision"]["allowed"], false, "{decide}");
    assert_eq!(decide["decision"]["policy"], "default/deny-ratings-1");

    // ALLOW only productpage's identity: the client (service account default)
    // is denied everywhere now.
    let allow = mesh.home.path().join("allow.yaml");
    std::fs::write(
        &allow,
        "apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-viewer, namespace: default}
spec:
  selector: {matchLabels: {app: ratings}}
  rules:
  - from: [{source: {principals: [\"cluster.local/ns/default/sa/productpage\"]}}]
",
    )
    .expect("write policy");
    mesh.ok(&["apply", "-f", &allow.display().to_string()]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    assert_eq!(
        traffic(&proxy, "http://ratings:9080/ratings/0", 5, &[]),
        BTreeMap::from([("status 403".into(), 5)])
    );
    let decide = mesh.json(&[
        "authz",
        "check",
        "ratings",
        "--principal",
        "cluster.local/ns/default/sa/productpage",
        "--path",
        "/ratings/0",
    ]);
    assert_eq!(decide["decision"]["allowed"], true, "{decide}");
    assert_eq!(decide["decision"]["policy"], "default/ratings-viewer");
}

/// Access logs from the install's mesh config, then a mesh-wide Telemetry
/// resource turns them off (the compiled config reaches both sidecars).
#[test]
fn install_mesh_config_logs_and_telemetry_turns_it_off() {
    let mut mesh = Mesh::new();
    let log = mesh.home.path().join("access.log");
    mesh.ok(&[
        "install",
        "-y",
        "--set",
        &format!("meshConfig.accessLogFile={}", log.display()),
        "--set",
        "meshConfig.accessLogEncoding=JSON",
    ]);
    mesh.run("reviews", "v1", &[]);
    mesh.run("client", "v1", &[]);
    mesh.wait_for("both apps ready", |m| {
        let w = m.workloads();
        w.len() == 2 && w.iter().all(|w| w["appReady"] == true)
    });
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    let client = mesh
        .workloads()
        .into_iter()
        .find(|w| w["service"] == "client")
        .expect("client workload");
    let proxy = client["outboundAddress"]
        .as_str()
        .expect("outbound")
        .to_owned();
    let admin = client["adminAddress"].as_str().expect("admin").to_owned();
    assert_eq!(traffic(&proxy, "http://reviews:9080/", 10, &[])["v1"], 10);
    let lines = || -> Vec<Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    mesh.wait_for("20 lines: both sidecars log each request", |_| {
        lines().len() >= 20
    });
    let by_cluster = |prefix: &str| {
        lines()
            .iter()
            .filter(|l| {
                l["upstream_cluster"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(prefix))
            })
            .count()
    };
    assert_eq!(
        by_cluster("outbound|9080||reviews.default.svc.cluster.local"),
        10
    );
    assert_eq!(by_cluster("inbound|9080||"), 10);

    let dir = tempfile::tempdir().expect("tempdir");
    let off = dir.path().join("off.yaml");
    std::fs::write(
        &off,
        "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh-default, namespace: istio-system}\nspec:\n  accessLogging:\n  - disabled: true\n",
    )
    .expect("write");
    mesh.ok(&["apply", "-f", off.to_str().expect("path")]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));
    assert_eq!(traffic(&proxy, "http://reviews:9080/", 5, &[])["v1"], 5);
    // Lines are counted as each response ends: none after the Telemetry.
    assert!(scrape(&admin).contains("meshctl_access_log_lines_total 10"));
}
