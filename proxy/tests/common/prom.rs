//! Reading a sidecar's `/stats/prometheus` in tests: parse samples, sum a
//! metric over matching labels, scrape until a count is reached, and check the
//! text with the real `promtool check metrics`.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use http::StatusCode;

use super::fetch;

/// One sample: metric name, labels, value.
pub type Sample = (String, BTreeMap<String, String>, f64);

pub fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        // Values here never contain `",`.
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once("=\"").unwrap();
            map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
        }
        out.push((name.to_owned(), map, value.parse().unwrap()));
    }
    out
}

/// The sum of `name` over samples whose labels include all of `want`.
pub fn sum(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && want
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

pub async fn scrape(admin: SocketAddr) -> String {
    let r = fetch(admin, "GET", "/stats/prometheus").await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

/// Scrapes until `name` with `want` reaches `n` (metrics are recorded as the
/// response body ends, which may be a moment after the client read it).
pub async fn scrape_until(
    admin: SocketAddr,
    name: &str,
    want: &[(&str, &str)],
    n: f64,
) -> Vec<Sample> {
    let mut samples = parse(&scrape(admin).await);
    for _ in 0..100 {
        if sum(&samples, name, want) >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        samples = parse(&scrape(admin).await);
    }
    samples
}

/// `promtool check metrics` on a scrape: no parse error, no lint problem
/// except Istio's own names (milliseconds, not seconds).
pub fn promtool_check(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is required (Debian package `prometheus`; .ci/run installs it)");
    child.stdin.take().unwrap().write_all_sync(text.as_bytes());
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Exit 1 is a parse error; 3 lists lint problems. Istio's own names
    // break one naming rule (milliseconds, not seconds): report it, allow it.
    let istio_naming = |l: &str| l.starts_with("istio_") && l.contains("use base unit");
    let problems: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    for p in problems.iter().filter(|l| istio_naming(l)) {
        eprintln!("promtool lint (Istio's name, kept): {p}");
    }
    let lint_only = out.status.code() == Some(3) && problems.iter().all(|l| istio_naming(l));
    assert!(
        out.status.success() || lint_only,
        "promtool check metrics failed ({}):\n{report}\n--- scrape ---\n{text}",
        out.status
    );
}

trait WriteAllSync {
    fn write_all_sync(self, bytes: &[u8]);
}

impl WriteAllSync for std::process::ChildStdin {
    fn write_all_sync(mut self, bytes: &[u8]) {
        std::io::Write::write_all(&mut self, bytes).unwrap();
    }
}
