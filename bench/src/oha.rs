//! Running the load generator (oha) and reading its JSON summary.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

/// One load run.
#[derive(Debug, Clone)]
pub struct Load {
    /// The URL requested (`http://echo:9080/` when going through a proxy).
    pub url: String,
    /// An HTTP proxy (`http://127.0.0.1:PORT`): the client sidecar's outbound listener.
    pub proxy: Option<String>,
    /// A Host header, for reverse-proxy targets routed by authority.
    pub host: Option<String>,
    /// `--connect-to HOST:PORT:ADDR:PORT`: connect to the proxy, keep the URL's authority.
    pub connect_to: Option<String>,
    /// Speak HTTP/2 (h2c, prior knowledge, on an `http://` URL).
    pub http2: bool,
    /// Accept the backend's self-signed certificate (`https://` URLs).
    pub insecure: bool,
    /// Requests per second; `None` runs as fast as possible (saturation).
    pub rate: Option<u32>,
    pub connections: u32,
    pub seconds: u32,
}

/// What one run measured. Latencies in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// Responses with status 200.
    pub ok: u64,
    /// Other statuses and transport errors.
    pub errors: u64,
    pub rps: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
}

impl Load {
    /// oha's arguments for this load.
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--no-tui".into(),
            "--output-format".into(),
            "json".into(),
            "-z".into(),
            format!("{}s", self.seconds),
            "-c".into(),
            self.connections.to_string(),
        ];
        if let Some(rate) = self.rate {
            // Latencies measured from when each request was due, not when it
            // was sent: no coordinated omission.
            a.extend(["-q".into(), rate.to_string(), "--latency-correction".into()]);
        }
        if let Some(p) = &self.proxy {
            // The proxy resolves the service name (`echo`), not oha: without
            // --no-pre-lookup oha looks the URL's host up in DNS first and fails.
            a.extend(["-x".into(), p.clone(), "--no-pre-lookup".into()]);
        }
        if let Some(h) = &self.host {
            a.extend(["--host".into(), h.clone()]);
        }
        if let Some(c) = &self.connect_to {
            // As with -x, the name (`echo`) is not for oha to resolve.
            a.extend(["--connect-to".into(), c.clone(), "--no-pre-lookup".into()]);
        }
        if self.http2 {
            a.push("--http2".into());
        }
        if self.insecure {
            a.push("--insecure".into());
        }
        a.push(self.url.clone());
        a
    }
}

/// Runs oha (pinned to `cpus` when given) and parses its summary.
pub fn run(oha: &Path, load: &Load, cpus: Option<&str>) -> anyhow::Result<Outcome> {
    let out = crate::procs::pinned_command(oha, cpus)
        .args(load.args())
        .output()
        .with_context(|| format!("run {}", oha.display()))?;
    if !out.status.success() {
        bail!(
            "oha {} failed ({}): {}",
            load.args().join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let json: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "parse oha's JSON output: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    parse(&json)
}

/// Reads oha's `--output-format json` summary.
pub fn parse(json: &Value) -> anyhow::Result<Outcome> {
    let sum = |v: Option<&Value>| -> u64 {
        v.and_then(Value::as_object)
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    };
    let codes = json
        .get("statusCodeDistribution")
        .and_then(Value::as_object);
    let ok = codes
        .and_then(|m| m.get("200"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let all = sum(json.get("statusCodeDistribution"));
    // Requests still in flight when the duration ends are reported as "aborted
    // due to deadline": an artefact of stopping, not a failure.
    let transport: u64 = json
        .get("errorDistribution")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.contains("deadline"))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0);
    let pct = |key: &str| -> f64 {
        json.get("latencyPercentiles")
            .and_then(|p| p.get(key))
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let rps = json
        .get("summary")
        .and_then(|s| s.get("requestsPerSec"))
        .and_then(Value::as_f64)
        .context("oha's JSON has no summary.requestsPerSec")?;
    Ok(Outcome {
        ok,
        errors: all - ok + transport,
        rps,
        p50: pct("p50"),
        p90: pct("p90"),
        p99: pct("p99"),
        p999: pct("p99.9"),
    })
}

/// `oha --version`.
pub fn version(oha: &Path) -> String {
    Command::new(oha)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_oha_json() {
        let json: Value = serde_json::from_str(
            r#"{"summary": {"successRate": 1.0, "requestsPerSec": 99.9},
                "latencyPercentiles": {"p50": 0.0001, "p90": 0.0002, "p99": 0.0005, "p99.9": 0.001},
                "statusCodeDistribution": {"200": 95, "503": 2},
                "errorDistribution": {"aborted due to deadline": 4, "connection refused": 1}}"#,
        )
        .unwrap();
        let o = parse(&json).unwrap();
        assert_eq!(o.ok, 95);
        assert_eq!(
            o.errors, 3,
            "503s and transport errors, not deadline aborts"
        );
        assert_eq!(o.p999, 0.001);
        assert_eq!(o.rps, 99.9);
    }

    #[test]
    fn proxy_loads_skip_the_dns_pre_lookup() {
        let load = Load {
            url: "http://echo:9080/".into(),
            proxy: Some("http://127.0.0.1:1".into()),
            host: None,
            connect_to: None,
            http2: false,
            insecure: false,
            rate: Some(500),
            connections: 16,
            seconds: 4,
        };
        let args = load.args();
        for want in ["-x", "--no-pre-lookup", "--latency-correction", "-q"] {
            assert!(
                args.iter().any(|a| a == want),
                "{want} missing from {args:?}"
            );
        }
        assert_eq!(args.last().map(String::as_str), Some("http://echo:9080/"));
    }

    #[test]
    fn h2c_loads_keep_the_authority_and_connect_to_the_proxy() {
        let load = Load {
            url: "http://echo:9080/".into(),
            proxy: None,
            host: None,
            connect_to: Some("echo:9080:127.0.0.1:15001".into()),
            http2: true,
            insecure: false,
            rate: Some(500),
            connections: 16,
            seconds: 4,
        };
        let args = load.args().join(" ");
        assert!(
            args.contains("--connect-to echo:9080:127.0.0.1:15001"),
            "{args}"
        );
        assert!(
            args.contains("--http2") && args.contains("--no-pre-lookup"),
            "{args}"
        );
        assert!(!args.contains("-x "), "no HTTP-proxy form: {args}");
    }
}
