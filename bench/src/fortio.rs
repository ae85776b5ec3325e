//! The gRPC setups' load generator and backend: fortio (built from its Go
//! module), its gRPC ping client against its gRPC ping server.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::oha::Outcome;

/// One gRPC load run: unary pings, each connection one call at a time.
#[derive(Debug, Clone)]
pub struct Load {
    /// Where to connect (`127.0.0.1:PORT`).
    pub addr: String,
    /// The `:authority` of the calls (`echo-grpc:9090` through a sidecar's
    /// outbound listener), when not the address.
    pub authority: Option<String>,
    /// Calls per second; `None` runs as fast as possible (saturation).
    pub rate: Option<u32>,
    pub connections: u32,
    pub seconds: u32,
}

impl Load {
    /// fortio's arguments for this load.
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = [
            "load",
            "-grpc",
            "-ping",
            "-quiet",
            "-json",
            "-",
            "-p",
            "50,90,99,99.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend([
            "-qps".into(),
            self.rate.unwrap_or(0).to_string(),
            "-c".into(),
            self.connections.to_string(),
            "-t".into(),
            format!("{}s", self.seconds),
        ]);
        if let Some(authority) = &self.authority {
            // fortio turns a `host` header into the calls' :authority.
            a.extend(["-H".into(), format!("host: {authority}")]);
        }
        a.push(self.addr.clone());
        a
    }
}

/// Runs fortio (pinned to `cpus` when given) and parses its JSON result.
pub fn run(fortio: &Path, load: &Load, cpus: Option<&str>) -> anyhow::Result<Outcome> {
    let out = crate::procs::pinned_command(fortio, cpus)
        .args(load.args())
        .output()
        .with_context(|| format!("run {}", fortio.display()))?;
    let json: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "fortio {} ({}) wrote no JSON result: {}",
            load.args().join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    parse(&json)
}

/// Reads fortio's `-json` result of a gRPC run.
pub fn parse(json: &Value) -> anyhow::Result<Outcome> {
    let codes = json
        .get("RetCodes")
        .and_then(Value::as_object)
        .context("fortio's JSON has no RetCodes")?;
    let ok = codes.get("SERVING").and_then(Value::as_u64).unwrap_or(0);
    let all: u64 = codes.values().filter_map(Value::as_u64).sum();
    let pct = |want: f64| -> f64 {
        json.get("DurationHistogram")
            .and_then(|h| h.get("Percentiles"))
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter().find(|p| {
                    p.get("Percentile")
                        .and_then(Value::as_f64)
                        .is_some_and(|x| (x - want).abs() < 1e-9)
                })
            })
            .and_then(|p| p.get("Value"))
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let rps = json
        .get("ActualQPS")
        .and_then(Value::as_f64)
        .context("fortio's JSON has no ActualQPS")?;
    Ok(Outcome {
        ok,
        errors: all - ok,
        rps,
        p50: pct(50.0),
        p90: pct(90.0),
        p99: pct(99.0),
        p999: pct(99.9),
    })
}

/// `fortio version`.
pub fn version(fortio: &Path) -> String {
    Command::new(fortio)
        .arg("version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| format!("fortio {}", s.trim()))
        .unwrap_or_else(|| "unknown".into())
}

/// Checks that a gRPC ping through `addr` (with `authority`) succeeds.
pub fn ping(fortio: &Path, addr: &str, authority: Option<&str>) -> anyhow::Result<()> {
    let load = Load {
        addr: addr.into(),
        authority: authority.map(str::to_owned),
        rate: Some(20),
        connections: 1,
        seconds: 1,
    };
    let o = run(fortio, &load, None)?;
    if o.ok == 0 || o.errors > 0 {
        bail!("{} pings answered, {} failed", o.ok, o.errors);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_grpc_run() {
        let json: Value = serde_json::from_str(
            r#"{"RunType": "GRPC Ping", "ActualQPS": 199.8,
                "RetCodes": {"SERVING": 398, "UNAVAILABLE": 2},
                "DurationHistogram": {"Count": 400, "Percentiles": [
                    {"Percentile": 50, "Value": 0.0006}, {"Percentile": 90, "Value": 0.0009},
                    {"Percentile": 99, "Value": 0.0013}, {"Percentile": 99.9, "Value": 0.0015}]}}"#,
        )
        .unwrap();
        let o = parse(&json).unwrap();
        assert_eq!((o.ok, o.errors), (398, 2));
        assert_eq!((o.p50, o.p999), (0.0006, 0.0015));
        assert_eq!(o.rps, 199.8);
    }

    #[test]
    fn sidecar_loads_set_the_authority_and_saturation_has_no_rate() {
        let load = Load {
            addr: "127.0.0.1:15001".into(),
            authority: Some("echo-grpc:9090".into()),
            rate: None,
            connections: 64,
            seconds: 4,
        };
        let args = load.args().join(" ");
        assert!(args.contains("-H host: echo-grpc:9090"), "{args}");
        assert!(args.contains("-qps 0 -c 64 -t 4s"), "{args}");
        assert!(args.ends_with(" 127.0.0.1:15001"), "{args}");
    }
}
