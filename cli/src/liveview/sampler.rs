//! Scrapes every connected proxy's `/stats/prometheus` at once (each with a
//! timeout; a proxy that vanished is noted, not fatal), keeps the previous
//! scrape, and turns two scrapes into a [`Snapshot`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mesh_control_plane::client::{AdminClient, ClientError};
use mesh_control_plane::registry::Workload;
use mesh_control_plane::server::ProxyStatus;

use super::counters;
use super::prom;
use super::snapshot::{self, Inputs, Snapshot};
use super::window::{self, Scrape};

/// Why a sample could not be taken at all.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("ask the control plane for its proxies: {0}")]
    ControlPlane(#[from] ClientError),
}

/// How the sampler scrapes.
#[derive(Debug, Clone)]
pub struct SamplerOptions {
    /// How long one proxy may take to answer.
    pub timeout: Duration,
    /// Only this namespace.
    pub namespace: Option<String>,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            namespace: None,
        }
    }
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Keeps the last scrape of every proxy; each [`Sampler::sample`] reports the
/// window since the previous one.
#[derive(Debug)]
pub struct Sampler {
    admin: AdminClient,
    http: HttpClient,
    opts: SamplerOptions,
    epoch: Instant,
    previous: HashMap<String, Scrape>,
    previous_at: Option<f64>,
}

impl Sampler {
    /// A sampler of the mesh whose control plane `admin` reaches.
    pub fn new(admin: AdminClient, opts: SamplerOptions) -> Self {
        Self {
            admin,
            http: Client::builder(TokioExecutor::new()).build_http(),
            opts,
            epoch: Instant::now(),
            previous: HashMap::new(),
            previous_at: None,
        }
    }

    /// Scrapes every proxy now; rates cover the time since the last call.
    pub async fn sample(&mut self) -> Result<Snapshot, SampleError> {
        let (workloads, status) = tokio::join!(
            self.admin.get::<Vec<Workload>>("/v1/workloads"),
            self.admin.get::<Vec<ProxyStatus>>("/v1/proxy-status"),
        );
        let workloads = workloads?;
        let status = status?;
        let started = Instant::now();
        let results = scrape_all(&self.http, &workloads, self.opts.timeout).await;
        let scrape_ms = started.elapsed().as_secs_f64() * 1000.0;
        let now = self.epoch.elapsed().as_secs_f64();
        let mut current = Vec::new();
        let mut errors = HashMap::new();
        for (proxy_id, at, result) in results {
            match result.and_then(|text| prom::parse(&text).map_err(|e| e.to_string())) {
                Ok(samples) => current.push(Scrape {
                    proxy_id,
                    at: at.duration_since(self.epoch).as_secs_f64(),
                    counters: counters::from_samples(&samples),
                }),
                Err(e) => {
                    errors.insert(proxy_id, e);
                }
            }
        }
        let edges = window::edges(&self.previous, &current);
        let mut snap = snapshot::build(
            edges,
            &Inputs {
                workloads: &workloads,
                status: &status,
                scrape_errors: &errors,
                namespace: self.opts.namespace.as_deref(),
            },
        );
        snap.window_seconds = self.previous_at.map(|p| now - p);
        snap.scrape_ms = scrape_ms;
        snap.time_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for p in &snap.proxies {
            if let Some(e) = &p.scrape_error {
                snap.notes
                    .push(format!("{}: metrics not read: {e}", p.proxy_id));
            }
        }
        self.previous = current
            .into_iter()
            .map(|s| (s.proxy_id.clone(), s))
            .collect();
        self.previous_at = Some(now);
        Ok(snap)
    }
}

type ScrapeResult = (String, Instant, Result<String, String>);

/// Every workload's metrics, scraped concurrently.
async fn scrape_all(
    http: &HttpClient,
    workloads: &[Workload],
    timeout: Duration,
) -> Vec<ScrapeResult> {
    let mut set = tokio::task::JoinSet::new();
    for w in workloads {
        let http = http.clone();
        let id = w.proxy_id.clone();
        let addr = w.admin_address.clone();
        set.spawn(async move {
            let result = match tokio::time::timeout(timeout, scrape(&http, &addr)).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer from {addr} within {timeout:?}")),
            };
            (id, Instant::now(), result)
        });
    }
    let mut out = Vec::with_capacity(workloads.len());
    while let Some(r) = set.join_next().await {
        if let Ok(r) = r {
            out.push(r);
        }
    }
    out
}

/// One proxy's Prometheus text.
async fn scrape(http: &HttpClient, admin: &str) -> Result<String, String> {
    let uri: http::Uri = format!("http://{admin}/stats/prometheus")
        .parse()
        .map_err(|e| format!("admin address {admin:?}: {e}"))?;
    let resp = http
        .get(uri)
        .await
        .map_err(|e| format!("{admin}: {}", chain(&e)))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{admin}: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("{admin} answered {status}"));
    }
    String::from_utf8(body.to_vec()).map_err(|_| format!("{admin}: metrics are not UTF-8"))
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn workload(id: &str, admin: String) -> Workload {
        Workload {
            proxy_id: id.into(),
            service: "s".into(),
            namespace: "default".into(),
            service_account: "default".into(),
            labels: Default::default(),
            inbound_address: String::new(),
            outbound_address: String::new(),
            admin_address: admin,
            ports: Vec::new(),
            proxy_version: "0.1.0".into(),
            connected_unix: 0,
            app_ready: true,
        }
    }

    /// A proxy that answers, one that is gone, and one that accepts and never
    /// answers: the scrape still returns, with a reason for each failure.
    #[tokio::test(start_paused = true)]
    async fn scrapes_tolerate_gone_and_silent_proxies() {
        let answering = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let ok_addr = answering.local_addr().expect("addr").to_string();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = answering.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let body = "istio_requests_total{reporter=\"source\"} 3\n";
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
            }
        });
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let gone_addr = gone.local_addr().expect("addr").to_string();
        drop(gone);
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let silent_addr = silent.local_addr().expect("addr").to_string();
        let _held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                open.push(s);
            }
        });
        let http = Client::builder(TokioExecutor::new()).build_http();
        let ws = [
            workload("ok", ok_addr),
            workload("gone", gone_addr),
            workload("silent", silent_addr.clone()),
        ];
        let mut results = scrape_all(&http, &ws, Duration::from_secs(2)).await;
        results.sort_by(|a, b| a.0.cmp(&b.0));
        let by_id: Vec<(&str, &Result<String, String>)> =
            results.iter().map(|(id, _, r)| (id.as_str(), r)).collect();
        assert_eq!(by_id.len(), 3);
        let gone = by_id[0].1.as_ref().expect_err("gone");
        assert!(gone.contains("onnect"), "{gone}");
        assert!(
            by_id[1]
                .1
                .as_ref()
                .is_ok_and(|t| t.contains("istio_requests_total"))
        );
        let silent = by_id[2].1.as_ref().expect_err("silent");
        assert_eq!(silent, &format!("no answer from {silent_addr} within 2s"));
    }
}
