//! The audit log: one JSON line per denied request, per request an AUDIT policy
//! matched, and per request a dry-run policy would have denied, saying who asked
//! (principal, address), what for (protocol, method, host, path, port) and which
//! policy decided. Lines are written by a task of their own (a full queue drops
//! lines and counts them rather than slowing requests); without a file they go
//! to the proxy's log at `info` under the `audit` target.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{Attributes, Decision, Matched};

/// Lines queued before the writer falls behind and lines are dropped.
const QUEUE: usize = 4096;

/// Where audit lines go.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    tx: Option<mpsc::Sender<String>>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Lines go to the proxy's log.
    pub fn to_tracing() -> Self {
        Self::default()
    }

    /// Lines are appended to `path` (created 0600 if missing). Must be called
    /// inside a tokio runtime.
    pub async fn to_file(path: &Path) -> std::io::Result<Self> {
        let mut opts = tokio::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut file = opts.open(path).await?;
        let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
        let shown = path.display().to_string();
        tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                // One write per line: with O_APPEND, lines of several proxies
                // sharing the file do not interleave.
                if let Err(e) = file.write_all(line.as_bytes()).await {
                    tracing::warn!(path = %shown, error = %e, "cannot write the audit log");
                }
            }
        });
        Ok(AuditLog {
            tx: Some(tx),
            dropped: Arc::default(),
        })
    }

    /// Lines dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records one request's decision.
    pub fn record(&self, who: &Who<'_>, a: &Attributes<'_>, d: &Decision) {
        let line = line(who, a, d, &now());
        match &self.tx {
            Some(tx) => {
                if tx.try_send(format!("{line}\n")).is_err() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => tracing::info!(target: "audit", "{line}"),
        }
    }
}

/// The proxy writing the line.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub proxy: &'a str,
    /// `namespace/name` of the workload.
    pub workload: &'a str,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn matched(m: &Matched) -> Value {
    json!({"policy": m.policy, "action": m.action.as_str(), "rule": m.rule})
}

/// The JSON line for a decision.
pub(crate) fn line(who: &Who<'_>, a: &Attributes<'_>, d: &Decision, time: &str) -> String {
    let reason = match (&d.decided_by, d.allowed) {
        (Some(m), false) => format!("denied by {} policy {}", m.action.as_str(), m.policy),
        (None, false) => format!(
            "denied: no ALLOW policy matched ({})",
            d.unmatched_allow.join(", ")
        ),
        (Some(m), true) => format!("allowed by ALLOW policy {}", m.policy),
        (None, true) => "allowed: no ALLOW or DENY policy applies".to_string(),
    };
    let mut v = json!({
        "time": time,
        "proxy": who.proxy,
        "workload": who.workload,
        "decision": if d.allowed { "ALLOW" } else { "DENY" },
        "reason": reason,
        "policy": d.decided_by.as_ref().map(|m| m.policy.as_str()),
        "rule": d.decided_by.as_ref().and_then(|m| m.rule),
        "source": {"principal": a.principal, "ip": a.source_ip.to_string()},
        "request": if a.http {
            json!({"protocol": "HTTP", "method": a.method, "host": a.host, "path": a.path, "port": a.port})
        } else {
            json!({"protocol": "TCP", "port": a.port})
        },
    });
    if !d.audited.is_empty() {
        v["audit"] = d.audited.iter().map(matched).collect();
    }
    if !d.dry_run_denied.is_empty() {
        v["dryRunDenied"] = d.dry_run_denied.iter().map(matched).collect();
    }
    v.to_string()
}
