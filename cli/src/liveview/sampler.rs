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
