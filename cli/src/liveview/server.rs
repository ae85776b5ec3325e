//! The dashboard's HTTP server: the page (`/`, embedded in the binary) and the
//! JSON it polls (`/api/snapshot`), fed by a sampler task. Loopback only; a
//! request whose `Host` is not a loopback name is refused, so a web page
//! elsewhere cannot read the mesh through DNS rebinding.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Sampler, Snapshot};

/// The page: HTML, CSS and JS in one file, no external resources.
const PAGE: &str = include_str!("dashboard.html");

/// What `/api/snapshot` answers.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Feed {
    /// Seconds between samples.
    pub interval_seconds: f64,
    /// Samples taken so far (rates need two).
    pub samples: u64,
    /// Why the last sample failed (the control plane is gone, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
}

/// Samples every `interval` into `tx` until the receivers are gone.
pub async fn feed(mut sampler: Sampler, interval: Duration, tx: watch::Sender<Arc<Feed>>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut samples = 0;
    loop {
        ticker.tick().await;
        let result = sampler.sample().await;
        samples += 1;
        let mut next = Feed {
            interval_seconds: interval.as_secs_f64(),
            samples,
            ..Feed::default()
        };
        match result {
            Ok(s) => next.snapshot = Some(s),
            Err(e) => {
                next.error = Some(e.to_string());
                // Keep showing the last good numbers beside the error.
                next.snapshot = tx.borrow().snapshot.clone();
            }
        }
        if tx.send(Arc::new(next)).is_err() {
            return;
        }
    }
}

/// Serves the page and the feed until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    feed: watch::Receiver<Arc<Feed>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "dashboard accept failed");
                    continue;
                }
            },
        };
        let feed = feed.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let feed = feed.clone();
                async move { Ok::<_, Infallible>(handle(&feed, &req)) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        "content-security-policy",
        http::HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        ),
    );
    r
}

/// Whether `Host` names this machine (`127.0.0.1:port`, `localhost:port`, `[::1]:port`).
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn handle<B>(feed: &watch::Receiver<Arc<Feed>>, req: &Request<B>) -> Response<Full<Bytes>> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return reply(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            "the dashboard answers only on loopback (127.0.0.1, localhost)\n",
        );
    }
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET\n",
        );
    }
    match req.uri().path() {
        "/" | "/index.html" => reply(StatusCode::OK, "text/html; charset=utf-8", PAGE),
        "/api/snapshot" => {
            let current = feed.borrow().clone();
            match serde_json::to_vec(&*current) {
                Ok(body) => reply(StatusCode::OK, "application/json", body),
                Err(e) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    format!("encode the snapshot: {e}\n"),
                ),
            }
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the dashboard serves / and /api/snapshot\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "[::1]:9",
            "LOCALHOST",
            "127.0.0.1",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:80",
            "10.0.0.1:80",
            "",
            "[fe80::1]:1",
            "localhost.evil:1",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn serves_the_page_and_the_feed_and_refuses_other_hosts() {
        let (_tx, rx) = watch::channel(Arc::new(Feed {
            interval_seconds: 2.0,
            samples: 1,
            ..Feed::default()
        }));
        let get = |path: &str, host: &str| {
            let req = Request::get(path)
                .header(header::HOST, host)
                .body(())
                .expect("request");
            handle(&rx, &req)
        };
        let page = get("/", "127.0.0.1:1234");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(PAGE.contains("<svg"));
        // Nothing from the network: no external scripts, styles or images.
        for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
            assert!(!PAGE.contains(external), "{external}");
        }
        let api = get("/api/snapshot", "localhost:1234");
        assert_eq!(api.status(), StatusCode::OK);
        assert_eq!(api.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(get("/", "attacker.example").status(), StatusCode::FORBIDDEN);
        assert_eq!(get("/nope", "127.0.0.1").status(), StatusCode::NOT_FOUND);
    }
}
