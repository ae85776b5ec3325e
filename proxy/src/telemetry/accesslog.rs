//! Access logs: one line per request in Envoy's default text format or as JSON
//! with Istio's keys, written by a task off the request path (a bounded
//! channel: when it is full the line is dropped and counted).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::SystemTime;

use mesh_api::proxy::AccessLogEncoding;
use mesh_api::telemetry::filter::{Attr, Attributes, Value};
use prometheus_client::metrics::counter::Counter;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Lines waiting for the writer at most; more are dropped.
const QUEUE: usize = 8192;

/// One finished request, as its access-log line and filters see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    pub start: Option<SystemTime>,
    pub method: String,
    /// `X-ENVOY-ORIGINAL-PATH`, else `:path`.
    pub path: String,
    pub protocol: &'static str,
    pub code: u16,
    pub flags: &'static str,
    pub code_details: &'static str,
    pub grpc_status: Option<u16>,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub duration_ms: u64,
    pub upstream_service_time: Option<u64>,
    pub forwarded_for: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub authority: Option<String>,
    pub upstream_host: Option<SocketAddr>,
    pub upstream_cluster: Option<String>,
    pub downstream_local: Option<SocketAddr>,
    pub downstream_remote: Option<SocketAddr>,
    pub route_name: Option<String>,
    pub scheme: &'static str,
    pub mtls: bool,
    /// Request headers a filter names (lowercase name, value).
    pub headers: Vec<(String, String)>,
}

/// Envoy's `%START_TIME%`: `2024-05-01T12:00:00.123Z`.
pub(crate) fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

impl Entry {
    /// Envoy's default text format (what Istio's `TEXT` encoding writes).
    pub(crate) fn text(&self) -> String {
        let mut s = String::with_capacity(320);
        let _ = write!(
            s,
            "[{}] \"{} {} {}\" {} {} {} - \"-\" {} {} {} {} \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" {} - {} {} - {}",
            dash(self.start.map(rfc3339_millis)),
            self.method,
            self.path,
            self.protocol,
            self.code,
            self.flags,
            self.code_details,
            self.bytes_received,
            self.bytes_sent,
            self.duration_ms,
            dash(self.upstream_service_time),
            dash(self.forwarded_for.as_deref()),
            dash(self.user_agent.as_deref()),
            dash(self.request_id.as_deref()),
            dash(self.authority.as_deref()),
            dash(self.upstream_host),
            dash(self.upstream_cluster.as_deref()),
            dash(self.downstream_local),
            dash(self.downstream_remote),
            dash(self.route_name.as_deref()),
        );
        s
    }

    /// Istio's JSON encoding: its keys, numbers as numbers, `null` for `-`.
    pub(crate) fn json(&self) -> String {
        json!({
            "start_time": self.start.map(rfc3339_millis),
            "route_name": self.route_name,
            "method": self.method,
            "path": self.path,
            "protocol": self.protocol,
            "response_code": self.code,
            "response_flags": self.flags,
            "response_code_details": self.code_details,
            "connection_termination_details": null,
            "bytes_received": self.bytes_received,
            "bytes_sent": self.bytes_sent,
            "duration": self.duration_ms,
            "upstream_service_time": self.upstream_service_time.map(|t| t.to_string()),
            "x_forwarded_for": self.forwarded_for,
            "user_agent": self.user_agent,
            "request_id": self.request_id,
            "authority": self.authority,
            "upstream_host": self.upstream_host.map(|a| a.to_string()),
            "upstream_cluster": self.upstream_cluster,
            "upstream_local_address": null,
            "downstream_local_address": self.downstream_local.map(|a| a.to_string()),
            "downstream_remote_address": self.downstream_remote.map(|a| a.to_string()),
            "requested_server_name": null,
            "upstream_transport_failure_reason": null,
        })
        .to_string()
    }
}

impl Attributes for Entry {
    fn get(&self, attr: &Attr) -> Option<Value<'_>> {
        let s = |v: &str| Some(Value::Str(v.to_owned().into()));
        match attr {
            Attr::ResponseCode => Some(Value::Int(i64::from(self.code))),
            Attr::GrpcStatus => self.grpc_status.map(|g| Value::Int(i64::from(g))),
            Attr::ResponseSize => Some(Value::Int(self.bytes_sent as i64)),
            Attr::RequestSize => Some(Value::Int(self.bytes_received as i64)),
            Attr::ResponseFlags => s(self.flags),
            Attr::CodeDetails => s(self.code_details),
            Attr::Method => s(&self.method),
            Attr::Path => s(&self.path),
            Attr::UrlPath => s(self.path.split('?').next().unwrap_or("")),
            Attr::Host => self.authority.as_deref().and_then(s),
            Attr::Scheme => s(self.scheme),
            Attr::Protocol => s(self.protocol),
            Attr::RequestId => self.request_id.as_deref().and_then(s),
            Attr::UserAgent => self.user_agent.as_deref().and_then(s),
            Attr::Header(h) => self
                .headers
                .iter()
                .find(|(k, _)| k == h)
                .and_then(|(_, v)| s(v)),
            Attr::ClusterName => self.upstream_cluster.as_deref().and_then(s),
            Attr::RouteName => self.route_name.as_deref().and_then(s),
            Attr::UpstreamAddress => self.upstream_host.and_then(|a| s(&a.to_string())),
            Attr::SourceAddress => self.downstream_remote.and_then(|a| s(&a.to_string())),
            Attr::Mtls => Some(Value::Bool(self.mtls)),
            Attr::DestinationPort => Some(Value::Int(i64::from(super::observe::authority_port(
                self.authority.as_deref(),
                self.scheme,
            )))),
        }
    }
}

/// Where lines go: a writer task per file.
#[derive(Debug, Clone)]
pub(crate) struct LogSink {
    tx: mpsc::Sender<String>,
    dropped: Counter,
    written: Counter,
}

impl LogSink {
    /// Queues a line; a full queue drops it (counted).
    pub(crate) fn send(&self, line: String) {
        if self.tx.try_send(line).is_err() {
            self.dropped.inc();
        } else {
            self.written.inc();
        }
    }

    /// Formats `entry` in `encoding` and queues it.
    pub(crate) fn log(&self, entry: &Entry, encoding: AccessLogEncoding) {
        let mut line = match encoding {
            AccessLogEncoding::Text => entry.text(),
            AccessLogEncoding::Json => entry.json(),
        };
        line.push('\n');
        self.send(line);
    }
}

/// The writers, one per path, shared by every config snapshot.
#[derive(Debug, Default)]
pub(crate) struct LogSinks {
    sinks: Mutex<HashMap<String, LogSink>>,
    pub(crate) dropped: Counter,
    pub(crate) written: Counter,
}

impl LogSinks {
    /// The writer of `path`, started on first use (needs a tokio runtime).
    pub(crate) fn get(&self, path: &str) -> LogSink {
        let mut map = self
            .sinks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = map.get(path) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_lines(path.to_owned(), rx));
        let sink = LogSink {
            tx,
            dropped: self.dropped.clone(),
            written: self.written.clone(),
        };
        map.insert(path.to_owned(), sink.clone());
        sink
    }
}

async fn write_lines(path: String, mut rx: mpsc::Receiver<String>) {
    // `/dev/stdout` and `/dev/stderr` open like any file (append, no create).
    let file = match tokio::fs::OpenOptions::new()
        .create(!path.starts_with("/dev/"))
        .append(true)
        .open(&path)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path, error = %e, "cannot open the access log: lines are dropped");
            while rx.recv().await.is_some() {}
            return;
        }
    };
    let mut out = tokio::io::BufWriter::new(file);
    while let Some(line) = rx.recv().await {
        let mut batch = line;
        // Take what is queued, then write and flush once.
        while batch.len() < 64 * 1024 {
            match rx.try_recv() {
                Ok(l) => batch.push_str(&l),
                Err(_) => break,
            }
        }
        if let Err(e) = out.write_all(batch.as_bytes()).await.and(out.flush().await) {
            tracing::warn!(path = %path, error = %e, "access log write failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            start: Some(
                SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_606_339_578_409),
            ),
            method: "GET".into(),
            path: "/status/418".into(),
            protocol: "HTTP/1.1",
            code: 418,
            flags: "-",
            code_details: "via_upstream",
            bytes_sent: 135,
            duration_ms: 4,
            upstream_service_time: Some(4),
            user_agent: Some("curl/7.73.0".into()),
            request_id: Some("84961386-6d84-929d-98bd-c5aee93b5c88".into()),
            authority: Some("httpbin:8000".into()),
            upstream_host: Some("10.44.1.27:80".parse().expect("as set up in this test")),
            upstream_cluster: Some("outbound|8000||httpbin.foo.svc.cluster.local".into()),
            downstream_local: Some("10.0.45.184:8000".parse().expect("as set up in this test")),
            downstream_remote: Some("10.44.1.23:46520".parse().expect("as set up in this test")),
            route_name: Some("default".into()),
            ..Entry::default()
        }
    }

    #[test]
    fn destination_port_comes_from_the_authority() {
        let f = mesh_api::telemetry::filter::Filter::parse("destination.port == 8000")
            .expect("as set up in this test");
        assert!(f.matches(&entry()));
        let bare = Entry {
            authority: Some("httpbin".into()),
            scheme: "https",
            ..entry()
        };
        assert_eq!(bare.get(&Attr::DestinationPort), Some(Value::Int(443)));
    }

    #[test]
    fn text_is_envoys_default_format() {
        assert_eq!(
            entry().text(),
            "[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 135 4 4 \"-\" \"curl/7.73.0\" \"84961386-6d84-929d-98bd-c5aee93b5c88\" \"httpbin:8000\" \"10.44.1.27:80\" outbound|8000||httpbin.foo.svc.cluster.local - 10.0.45.184:8000 10.44.1.23:46520 - default"
        );
    }

    #[test]
    fn json_has_istios_keys() {
        let v: serde_json::Value =
            serde_json::from_str(&entry().json()).expect("as set up in this test");
        assert_eq!(v["response_code"], 418);
        assert_eq!(v["start_time"], "2020-11-25T21:26:18.409Z");
        assert_eq!(
            v["upstream_cluster"],
            "outbound|8000||httpbin.foo.svc.cluster.local"
        );
        assert_eq!(v["x_forwarded_for"], serde_json::Value::Null);
        assert_eq!(v.as_object().expect("as set up in this test").len(), 24);
    }

    #[test]
    fn dates() {
        let at =
            |ms: u64| rfc3339_millis(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
