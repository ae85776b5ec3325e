//! Test fixtures: tiny apps, proxies on 127.0.0.1 and a config builder.
#![allow(dead_code, clippy::unwrap_used)]

pub mod ca;
pub mod prom;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_api::proxy::{
    Cluster, ClusterEndpoints, Endpoint, Forward, InboundPort, LbPolicy, Listeners, Protocol,
    ProxyConfig, Route, RouteAction, RouteConfig, RouteMatch, VirtualHost, WeightedCluster,
};
use mesh_proxy::{ConfigStore, Proxy, ProxyOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

pub type AppBody = UnsyncBoxBody<Bytes, hyper::Error>;

fn full(s: impl Into<Bytes>) -> AppBody {
    Full::new(s.into())
        .map_err(|n: Infallible| match n {})
        .boxed_unsync()
}

/// A gate for `/gate` requests: the app reports arrival, then waits to be released.
#[derive(Clone)]
pub struct Gate {
    pub arrived: mpsc::Sender<()>,
    pub release: Arc<Notify>,
}

/// An HTTP app (h1 and h2c): `/echo` streams the body back with a `grpc-status`
/// trailer, `/hang` never answers, `/gate` waits for its gate, anything else
/// answers `name=.. method=.. path=.. host=..`.
pub async fn echo_app(name: &'static str, gate: Option<Gate>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let gate = gate.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let gate = gate.clone();
                    async move { Ok::<_, Infallible>(app(name, gate, req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

async fn app(name: &str, gate: Option<Gate>, req: Request<Incoming>) -> Response<AppBody> {
    match req.uri().path() {
        "/echo" => {
            let body = req.into_body().with_trailers(async {
                let mut t = HeaderMap::new();
                t.insert("grpc-status", HeaderValue::from_static("0"));
                Some(Ok(t))
            });
            Response::new(body.boxed_unsync())
        }
        "/hang" => std::future::pending().await,
        "/gate" => {
            if let Some(g) = gate {
                let released = g.release.notified();
                let _ = g.arrived.send(()).await;
                released.await;
            }
            Response::new(full(format!("{name} released")))
        }
        _ => {
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
                .or_else(|| req.uri().authority().map(|a| a.to_string()))
                .unwrap_or_default();
            Response::new(full(format!(
                "name={name} method={} path={} host={host}",
                req.method(),
                req.uri().path()
            )))
        }
    }
}

/// A TCP app echoing every byte.
pub async fn tcp_echo() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A running proxy.
pub struct TestProxy {
    pub outbound: SocketAddr,
    pub inbound: SocketAddr,
    pub admin: SocketAddr,
    pub config: ConfigStore,
}

pub async fn start_proxy(opts: ProxyOptions) -> TestProxy {
    let bound = Proxy::new(opts).bind().await.unwrap();
    let p = TestProxy {
        outbound: bound.outbound_addr(),
        inbound: bound.inbound_addr(),
        admin: bound.admin_addr(),
        config: bound.config(),
    };
    tokio::spawn(bound.run(std::future::pending()));
    p
}

/// A workload: `app` behind a proxy whose inbound maps `port` to it.
pub async fn server_proxy(id: &str, port: u16, app: SocketAddr, protocol: Protocol) -> TestProxy {
    let p = start_proxy(ProxyOptions::local(id)).await;
    let cfg = ProxyConfig {
        listeners: Listeners {
            inbound: vec![InboundPort {
                port,
                app_port: app.port(),
                protocol,
                ..Default::default()
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    p.config.apply_all("1", &cfg).unwrap();
    p
}

pub fn cluster(name: &str, port: u16, protocol: Protocol) -> Cluster {
    Cluster {
        name: name.into(),
        service: "svc".into(),
        port,
        subset: None,
        protocol,
        lb_policy: LbPolicy::RoundRobin,
        ..Cluster::default()
    }
}

pub fn members(cluster: &str, addrs: &[SocketAddr]) -> ClusterEndpoints {
    ClusterEndpoints {
        cluster: cluster.into(),
        endpoints: addrs
            .iter()
            .map(|a| Endpoint {
                address: a.to_string(),
                proxy_id: format!("proxy-{}", a.port()),
                labels: Default::default(),
                weight: 1,
                ..Default::default()
            })
            .collect(),
    }
}

pub fn forward(to: &[(&str, u32)]) -> RouteAction {
    RouteAction::Forward(Forward {
        clusters: to
            .iter()
            .map(|(c, w)| WeightedCluster {
                cluster: (*c).into(),
                weight: *w,
                ..WeightedCluster::default()
            })
            .collect(),
        ..Default::default()
    })
}

pub fn route(name: &str, matches: Vec<RouteMatch>, action: RouteAction) -> Route {
    Route {
        name: name.into(),
        matches,
        action,
        origin: None,
        fault: None,
        headers: Default::default(),
        cors: None,
    }
}

pub fn vhost(host: &str, port: u16, routes: Vec<Route>) -> VirtualHost {
    VirtualHost {
        name: format!("{host}:{port}"),
        domains: vec![host.into(), format!("{host}:{port}")],
        port,
        routes,
    }
}

pub fn routes(vhosts: Vec<VirtualHost>) -> RouteConfig {
    RouteConfig {
        virtual_hosts: vhosts,
        ..RouteConfig::default()
    }
}

pub fn apply<T: serde::Serialize>(store: &ConfigStore, type_url: &str, version: &str, v: &T) {
    store
        .apply(type_url, version, &serde_json::to_vec(v).unwrap())
        .unwrap();
}

/// A keep-alive HTTP/1.1 connection to a proxy listener.
pub struct H1 {
    send: http1::SendRequest<Full<Bytes>>,
}

impl H1 {
    pub async fn connect(addr: SocketAddr) -> Self {
        let s = TcpStream::connect(addr).await.unwrap();
        let (send, conn) = http1::handshake(TokioIo::new(s)).await.unwrap();
        tokio::spawn(conn);
        Self { send }
    }

    /// Sends `uri` as written (absolute-form when it has a scheme).
    pub async fn get(&mut self, uri: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", uri, headers).await
    }

    /// Sends a bodiless request with `method`.
    pub async fn request(&mut self, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host"))
            && let Ok(u) = uri.parse::<http::Uri>()
            && let Some(a) = u.authority()
        {
            b = b.header("host", a.as_str());
        }
        self.send.ready().await.unwrap();
        let resp = self
            .send
            .send_request(b.body(Full::default()).unwrap())
            .await
            .unwrap();
        Reply::read(resp).await
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn read(resp: Response<Incoming>) -> Self {
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub fn flag(&self) -> &str {
        self.headers
            .get(mesh_proxy::FLAGS_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }
}

/// One request on a fresh connection (origin-form, for admin endpoints).
pub async fn fetch(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = http1::handshake::<_, Empty<Bytes>>(TokioIo::new(s))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Empty::new())
        .unwrap();
    Reply::read(send.send_request(req).await.unwrap()).await
}
