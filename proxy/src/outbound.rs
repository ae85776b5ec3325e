//! The outbound listener (the app's HTTP_PROXY): route by authority and request,
//! then forward to a chosen cluster endpoint, answer locally, or tunnel CONNECT.

use std::borrow::Cow;

use http::header::LOCATION;
use http::uri::PathAndQuery;
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;

use crate::body::ProxyBody;
use crate::config::matcher::RequestView;
use crate::config::{RtAction, RtVirtualHost, Snapshot, split_host_port};
use crate::forward::{self, Answer, local};
use crate::server::Shared;
use crate::stats::Flag;

/// Routes one outbound request.
pub(crate) async fn handle(shared: &Shared, snap: &Snapshot, req: Request<Incoming>) -> Answer {
    let Some(authority) = forward::authority_of(&req) else {
        return no_route("request has no authority (Host header or absolute URI)\n");
    };
    let (host, port) = split_host_port(authority);
    let port = port.unwrap_or(80);
    let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    let Some(vh) = snap.vhost(&host, port) else {
        tracing::debug!(authority, "no virtual host (NR)");
        return no_route("no virtual host for this authority\n");
    };
    if req.method() == Method::CONNECT {
        return connect(vh, req).await;
    }
    let uri = req.uri();
    let view = RequestView {
        method: req.method().as_str(),
        path: uri.path(),
        query: uri.query(),
        authority,
        scheme: uri.scheme_str().unwrap_or("http"),
        headers: req.headers(),
    };
    let Some((route, m)) = vh
        .routes
        .iter()
        .find_map(|r| r.matching(&view).map(|m| (r, m)))
    else {
        tracing::debug!(
            authority,
            path = view.path,
            vhost = &*vh.name,
            "no route matched (NR)"
        );
        return no_route("no route matched\n");
    };
    let rewrite_len = m.map_or(usize::from(view.path.starts_with('/')), |m| {
        m.rewrite_len(view.path)
    });
    match &route.action {
        RtAction::Direct { status, body } => {
            let mut r = Response::new(ProxyBody::local(body.clone()));
            *r.status_mut() = *status;
            (r, Flag::None)
        }
        RtAction::Redirect {
            status,
            scheme,
            authority: to_authority,
            port: to_port,
            path,
        } => {
            let scheme = scheme.as_deref().unwrap_or(view.scheme);
            let (req_host, req_port) = split_host_port(authority);
            let mut loc = String::with_capacity(64);
            loc.push_str(scheme);
            loc.push_str("://");
            match (to_authority.as_deref(), to_port) {
                (Some(a), Some(p)) => {
                    loc.push_str(split_host_port(a).0);
                    loc.push_str(&format!(":{p}"));
                }
                (Some(a), None) => loc.push_str(a),
                (None, Some(p)) => {
                    loc.push_str(req_host);
                    loc.push_str(&format!(":{p}"));
                }
                (None, None) => {
                    loc.push_str(req_host);
                    if let Some(p) = req_port {
                        loc.push_str(&format!(":{p}"));
                    }
                }
            }
            loc.push_str(path.as_deref().unwrap_or(view.path));
            if let Some(q) = view.query {
                loc.push('?');
                loc.push_str(q);
            }
            let mut r = Response::new(ProxyBody::empty());
            *r.status_mut() = *status;
            if let Ok(v) = HeaderValue::from_str(&loc) {
                r.headers_mut().insert(LOCATION, v);
            }
            (r, Flag::None)
        }
        RtAction::Forward(f) => {
            let Some((name, cluster)) = f.pick() else {
                return no_route("route has no destination\n");
            };
            let Some(cluster) = cluster else {
                tracing::debug!(
                    cluster = &**name,
                    route = &*route.name,
                    "unknown cluster (NC)"
                );
                return local(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Flag::NoCluster,
                    "no such cluster\n",
                );
            };
            let Some(ep) = cluster.pick() else {
                tracing::debug!(cluster = &**name, "cluster has no endpoints (UH)");
                return local(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Flag::NoHealthyUpstream,
                    "no healthy upstream\n",
                );
            };
            let (mut parts, body) = req.into_parts();
            let pq = new_path(&parts.uri, f.rewrite_uri.as_deref(), rewrite_len);
            let (authority, host_override) = match &f.rewrite_authority {
                Some((h, a)) => (Some(a.clone()), Some(h)),
                None => (parts.uri.authority().cloned(), None),
            };
            forward::strip_hop_by_hop(&mut parts.headers);
            if let Err(e) = forward::prepare(
                &mut parts,
                cluster.protocol,
                ep,
                pq,
                authority,
                host_override,
            ) {
                return local(
                    StatusCode::BAD_REQUEST,
                    Flag::None,
                    format!("bad request: {e}\n"),
                );
            }
            let fut = forward::send(
                shared,
                cluster.protocol,
                ep,
                Request::from_parts(parts, body),
            );
            let res = match f.timeout {
                Some(t) => match tokio::time::timeout(t, fut).await {
                    Ok(r) => r,
                    Err(_) => {
                        tracing::debug!(cluster = &**name, "route timeout (UT)");
                        return local(
                            StatusCode::GATEWAY_TIMEOUT,
                            Flag::UpstreamTimeout,
                            "upstream request timeout\n",
                        );
                    }
                },
                None => fut.await,
            };
            forward::answer(res, name)
        }
    }
}

fn no_route(msg: &'static str) -> Answer {
    local(StatusCode::NOT_FOUND, Flag::NoRoute, msg)
}

/// The path to send upstream: unchanged, or with the matched prefix rewritten.
fn new_path(uri: &Uri, rewrite: Option<&str>, matched: usize) -> PathAndQuery {
    let pq = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let Some(rw) = rewrite else {
        return pq;
    };
    let path = uri.path();
    let rest = path.get(matched..).unwrap_or("");
    let mut s =
        String::with_capacity(rw.len() + rest.len() + uri.query().map_or(0, |q| q.len() + 1));
    s.push_str(rw);
    s.push_str(rest);
    if let Some(q) = uri.query() {
        s.push('?');
        s.push_str(q);
    }
    PathAndQuery::try_from(s).unwrap_or(pq)
}

/// CONNECT: route on the authority only, then tunnel through the endpoint's
/// sidecar with a CONNECT of the same authority.
async fn connect(vh: &RtVirtualHost, mut req: Request<Incoming>) -> Answer {
    let authority = forward::authority_of(&req).unwrap_or("").to_string();
    let Some(f) = vh.routes.iter().find_map(|r| match &r.action {
        RtAction::Forward(f) if r.matches_authority(&authority) => Some(f),
        _ => None,
    }) else {
        return no_route("no route for CONNECT\n");
    };
    let Some((name, cluster)) = f.pick() else {
        return no_route("route has no destination\n");
    };
    let Some(cluster) = cluster else {
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoCluster,
            "no such cluster\n",
        );
    };
    let Some(ep) = cluster.pick() else {
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoHealthyUpstream,
            "no healthy upstream\n",
        );
    };
    match forward::connect_via(ep.addr, &authority).await {
        Ok(Ok(up)) => forward::relay(&mut req, up, format!("{authority} via {name}")),
        Ok(Err(status)) => {
            let mut r = Response::new(ProxyBody::empty());
            *r.status_mut() = status;
            (r, Flag::None)
        }
        Err(e) => forward::answer(Err(e), name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_prefix_and_keeps_query() {
        let u: Uri = "http://a/old/x?q=1".parse().unwrap_or_default();
        assert_eq!(new_path(&u, Some("/new"), 4).as_str(), "/new/x?q=1");
        assert_eq!(new_path(&u, None, 4).as_str(), "/old/x?q=1");
        assert_eq!(new_path(&u, Some("/v2/"), 1).as_str(), "/v2/old/x?q=1");
    }
}
