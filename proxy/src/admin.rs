//! The admin listener (loopback only): config dump, certificates (public parts
//! only), readiness, clusters, stats and log level.

use std::fmt::Write;

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::server::Shared;

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<ProxyBody> {
    let mut r = Response::new(ProxyBody::local(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<ProxyBody> {
    reply(status, "text/plain; charset=utf-8", body.into())
}

/// Serves one admin request.
pub(crate) fn handle(shared: &Shared, req: &Request<Incoming>) -> Response<ProxyBody> {
    let path = req.uri().path();
    let method = req.method();
    match (method, path) {
        (&Method::GET, "/config_dump") => {
            let mut doc = shared.config.dump();
            if let Some(o) = doc.as_object_mut() {
                o.insert("proxyId".into(), shared.proxy_id.clone().into());
            }
            let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
            reply(StatusCode::OK, "application/json", body + "\n")
        }
        (&Method::GET, "/certs") => {
            let body = serde_json::to_string_pretty(&shared.identity.dump(&shared.proxy_id))
                .unwrap_or_default();
            reply(StatusCode::OK, "application/json", body + "\n")
        }
        (&Method::GET, "/ready") => {
            let mut missing = shared.config.missing();
            if !shared.identity.is_ready() {
                missing.push("a workload certificate");
            }
            if missing.is_empty() {
                text(StatusCode::OK, "ready\n")
            } else {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: waiting for {}\n", missing.join(", ")),
                )
            }
        }
        (&Method::GET, "/clusters") => {
            // Envoy's text format: weight, requests in flight, health flags.
            let snap = shared.config.snapshot();
            let mut names: Vec<&str> = snap.clusters.keys().map(|k| &**k).collect();
            names.sort_unstable();
            let mut out = String::new();
            for name in names {
                let Some(c) = snap.clusters.get(name) else {
                    continue;
                };
                for (ep, (addr, ejected, active)) in c.endpoints.iter().zip(c.health_report()) {
                    let health = if ejected {
                        "/failed_outlier_check"
                    } else {
                        "healthy"
                    };
                    let _ = writeln!(out, "{name}::{addr}::weight::{}", ep.weight);
                    let _ = writeln!(out, "{name}::{addr}::rq_active::{active}");
                    let _ = writeln!(out, "{name}::{addr}::health_flags::{health}");
                }
            }
            text(StatusCode::OK, out)
        }
        (&Method::GET, "/stats/prometheus" | "/stats") => {
            // Prometheus text 0.0.4 as Envoy serves it; OpenMetrics on request.
            let openmetrics = req.headers().get_all(http::header::ACCEPT).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|s| s.contains("application/openmetrics-text"))
            });
            let content_type = if openmetrics {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            } else {
                "text/plain; version=0.0.4; charset=utf-8"
            };
            reply(
                StatusCode::OK,
                content_type,
                shared.stats.render(openmetrics),
            )
        }
        (_, "/logging") => logging(shared, req),
        (&Method::GET, "/") => text(
            StatusCode::OK,
            "/config_dump\n/certs\n/ready\n/clusters\n/stats/prometheus\n/logging\n",
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "unknown admin path: try /config_dump, /certs, /ready, /clusters, /stats/prometheus or /logging\n",
        ),
    }
}

fn logging(shared: &Shared, req: &Request<Incoming>) -> Response<ProxyBody> {
    let Some(log) = &shared.log else {
        return text(
            StatusCode::NOT_IMPLEMENTED,
            "log level control is not available in this process\n",
        );
    };
    match *req.method() {
        Method::GET => text(StatusCode::OK, format!("{}\n", log.level())),
        Method::POST => {
            let level = req.uri().query().and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("level="))
                    .filter(|l| !l.is_empty())
            });
            let Some(level) = level else {
                return text(
                    StatusCode::BAD_REQUEST,
                    "missing level: POST /logging?level=<trace|debug|info|warn|error>\n",
                );
            };
            match log.set_level(level) {
                Ok(()) => text(StatusCode::OK, format!("{}\n", log.level())),
                Err(e) => text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            }
        }
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST\n"),
    }
}
