//! Telemetry metric overrides through the whole pipeline: `meshctl apply` of a
//! Telemetry with `tagOverrides` UPSERT, compiled by the control plane, pushed
//! to real `meshctl run` sidecars (mutual TLS with the installed CA), whose
//! scrapes then carry the new labels with each request's values; a value
//! outside meshctl's subset is refused by `apply`, naming the line.

mod common;

use std::process::Command;

use common::mesh::{Mesh, requests, scrape};

const TELEMETRY: &str = r#"apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: custom-metrics, namespace: default}
spec:
  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        request_host: {value: request.host}
        user: {value: "request.headers['x-user']"}
        destination_port: {value: "string(destination.port)"}
"#;

/// `GET url` through the sidecar at `proxy`, with an `x-user` header when given.
fn get(proxy: &str, url: &str, user: Option<&str>) -> String {
    let mut c = Command::new("curl");
    c.args(["-sf", "-o", "/dev/null", "-w", "%{http_code}", "-x"])
        .arg(format!("http://{proxy}"));
    if let Some(u) = user {
        c.args(["-H", &format!("x-user: {u}")]);
    }
    let out = c.arg(url).output().expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn applied_upsert_overrides_label_both_sidecars_metrics() {
    let mut mesh = Mesh::new();
    mesh.ok(&["install", "-y"]);
    mesh.run("reviews", "v1", &[]);
    mesh.run("client", "v1", &[]);
    mesh.wait_for("two synced proxies", |m| m.all_synced(2));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        TELEMETRY.replace("request.headers['x-user']", "response.code"),
    )
    .expect("write");
    let out = mesh.cmd(&["apply", "-f", bad.to_str().expect("path")]);
    let err =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("bad.yaml:11:"), "the value's line: {err}");
    assert!(err.contains("tagOverrides[user].value"), "{err}");
    assert!(err.contains("meshctl supports: a string literal"), "{err}");

    let good = dir.path().join("telemetry.yaml");
    std::fs::write(&good, TELEMETRY).expect("write");
    mesh.ok(&["apply", "-f", good.to_str().expect("path")]);
    mesh.wait_for("proxies synced", |m| m.all_synced(2));

    let client = mesh.workload("client");
    let proxy = client["outboundAddress"].as_str().expect("outbound");
    for user in [Some("kim"), Some("kim"), None] {
        assert_eq!(get(proxy, "http://reviews:9080/", user), "200");
    }
    let reviews = mesh.workload("reviews");
    for (admin, reporter) in [
        (client["adminAddress"].as_str().expect("admin"), "source"),
        (
            reviews["adminAddress"].as_str().expect("admin"),
            "destination",
        ),
    ] {
        let base = [
            format!("reporter=\"{reporter}\""),
            "destination_service=\"reviews.default.svc.cluster.local\"".to_owned(),
            "request_host=\"reviews:9080\"".to_owned(),
            "destination_port=\"9080\"".to_owned(),
        ];
        fn with<'a>(base: &'a [String], user: &'a str) -> Vec<&'a str> {
            let mut w: Vec<&str> = base.iter().map(String::as_str).collect();
            w.push(user);
            w
        }
        let mut stats = scrape(admin);
        mesh.wait_for("the requests recorded", |_| {
            stats = scrape(admin);
            requests(&stats, &with(&base, "user=")) >= 3
        });
        assert_eq!(requests(&stats, &with(&base, "user=\"kim\"")), 2, "{stats}");
        assert_eq!(
            requests(&stats, &with(&base, "user=\"unknown\"")),
            1,
            "{stats}"
        );
        assert!(
            stats
                .lines()
                .filter(|l| l.starts_with("istio_request_duration_milliseconds_count{"))
                .all(|l| !l.contains("request_host=")),
            "REQUEST_COUNT only: {stats}"
        );
    }
}
