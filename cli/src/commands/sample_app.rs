//! `meshctl sample-app` (hidden): the services of the demo and the end-to-end
//! tests. Each answers with who it is and, when told to call other services,
//! calls them through `$HTTP_PROXY` (its sidecar) and includes their answers,
//! forwarding the headers that routing and tracing depend on.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Serialize;

use crate::cli::SampleAppArgs;
use crate::commands::signals;

/// Headers a well-behaved mesh app forwards (Istio's list, plus `end-user` used by
/// the bookinfo routing tasks).
const FORWARDED: &[&str] = &[
    "end-user",
    "x-request-id",
    "traceparent",
    "tracestate",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "b3",
];

#[derive(Debug, Serialize)]
struct Answer {
    service: String,
    version: String,
    path: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calls: Vec<Call>,
}

#[derive(Debug, Serialize)]
struct Call {
    url: String,
    status: u16,
    body: serde_json::Value,
}

struct App {
    service: String,
    version: String,
    calls: Vec<String>,
    proxy: Option<String>,
}

pub fn run(args: &SampleAppArgs) -> anyhow::Result<()> {
    let listen = match args.listen {
        Some(a) => a,
        None => {
            let port: u16 = std::env::var("PORT")
                .context("--listen or $PORT is required")?
                .parse()
                .context("$PORT")?;
            SocketAddr::from(([127, 0, 0, 1], port))
        }
    };
    let proxy = std::env::var("HTTP_PROXY")
        .or_else(|_| std::env::var("http_proxy"))
        .ok()
        .map(|p| {
            p.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned()
        });
    let app = Arc::new(App {
        service: args.service.clone(),
        version: args.version.clone(),
        calls: args.calls.clone(),
        proxy,
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listen on {listen}"))?;
        let stop = signals::terminated();
        tokio::pin!(stop);
        loop {
            let (stream, _) = tokio::select! {
                _ = &mut stop => return Ok(()),
                r = listener.accept() => r?,
            };
            let app = app.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(handle(&app, req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
            });
        }
    })
}

async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let mut calls = Vec::new();
    for url in &app.calls {
        calls.push(call(app, url, &req).await);
    }
    let answer = Answer {
        service: app.service.clone(),
        version: app.version.clone(),
        path: req.uri().path().to_owned(),
        calls,
    };
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

async fn call(app: &App, url: &str, incoming: &Request<Incoming>) -> Call {
    match fetch(app, url, incoming).await {
        Ok((status, bytes)) => Call {
            url: url.to_owned(),
            status,
            body: serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            }),
        },
        Err(e) => Call {
            url: url.to_owned(),
            status: StatusCode::BAD_GATEWAY.as_u16(),
            body: serde_json::Value::String(format!("{e:#}")),
        },
    }
}

/// GET `url` through the sidecar (absolute-form, as HTTP proxies expect), or
/// directly when there is no proxy.
async fn fetch(app: &App, url: &str, incoming: &Request<Incoming>) -> anyhow::Result<(u16, Bytes)> {
    let uri: http::Uri = url.parse().with_context(|| format!("bad URL {url:?}"))?;
    let authority = uri.authority().context("URL without host")?.to_string();
    let connect_to = match &app.proxy {
        Some(p) => p.clone(),
        None if authority.contains(':') => authority.clone(),
        None => format!("{authority}:80"),
    };
    let stream = tokio::net::TcpStream::connect(&connect_to)
        .await
        .with_context(|| format!("connect {connect_to}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let target: http::Uri = if app.proxy.is_some() {
        uri.clone()
    } else {
        uri.path_and_query().map_or("/", |p| p.as_str()).parse()?
    };
    let mut req = Request::get(target).header(http::header::HOST, authority);
    for h in FORWARDED {
        if let Some(v) = incoming.headers().get(*h) {
            req = req.header(*h, v);
        }
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::new()))?)
        .await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}
