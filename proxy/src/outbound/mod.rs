//! The outbound listener (the app's HTTP_PROXY): route by authority and request,
//! then forward to a chosen cluster endpoint, answer locally, or tunnel CONNECT.

use std::borrow::Cow;

use http::header::LOCATION;
use http::{HeaderValue, Method, Request, Response, StatusCode};

mod forward;
mod tcp;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::body::{ProxyBody, RequestBody};
use crate::cluster::PickRequest;
use crate::config::matcher::RequestView;
use crate::config::{RtAction, RtVirtualHost, Snapshot, split_host_port};
use crate::forward::{Answer, authority_of, connect_via, local, relay};
use crate::policy::cors::Before;
use crate::policy::fault::Injected;
use crate::server::Shared;
use crate::stats::Flag;

/// Routes one outbound request from `peer` (the app).
pub(crate) async fn handle(
    shared: &Shared,
    snap: &Arc<Snapshot>,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Answer {
    let Some(authority) = authority_of(&req) else {
        return no_route("request has no authority (Host header or absolute URI)\n");
    };
    let (host, port) = split_host_port(authority);
    let port = port.unwrap_or(80);
    let host: Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    if req.method() == Method::CONNECT
        && let Some(svc) = snap.tcp.get(&host, port)
    {
        let authority = authority.to_owned();
        let host = host.into_owned();
        // Tunnels are boxed, here and below: their futures are large, and most
        // requests are not tunnels.
        return Box::pin(tcp::connect(shared, snap, svc, &host, port, authority, req)).await;
    }
    let Some(vh) = snap.vhost(&host, port) else {
        tracing::debug!(authority, "no virtual host (NR)");
        return no_route("no virtual host for this authority\n");
    };
    if req.method() == Method::CONNECT {
        return Box::pin(connect(shared, vh, req)).await;
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
            let cors_origin = match route
                .cors
                .as_ref()
                .map(|c| c.before(req.method(), req.headers()))
            {
                Some(Before::Answer(a)) => return a,
                Some(Before::Forward(origin)) => origin,
                None => None,
            };
            let (mut resp, flag) =
                forward_with_faults(shared, route, f, req, rewrite_len, peer).await;
            if let (Some(c), Some(o)) = (&route.cors, cors_origin) {
                c.after(o, resp.headers_mut());
            }
            (resp, flag)
        }
    }
}

/// Fault injection, then forwarding.
async fn forward_with_faults(
    shared: &Shared,
    route: &crate::config::RtRoute,
    f: &crate::config::RtForward,
    req: Request<RequestBody>,
    rewrite_len: usize,
    peer: SocketAddr,
) -> Answer {
    let tag = |(mut r, flag): Answer| {
        r.extensions_mut()
            .insert(crate::telemetry::RouteName(route.name.clone()));
        (r, flag)
    };
    let delayed = match &route.fault {
        Some(fault) => match fault.inject().await {
            Injected::Abort(answer) => return tag(answer),
            Injected::Continue { delayed } => delayed,
        },
        None => false,
    };
    let (r, flag) = tag(forward::forward(shared, route, f, req, rewrite_len, peer).await);
    match flag {
        Flag::None if delayed => (r, Flag::DelayInjected),
        _ => (r, flag),
    }
}

fn no_route(msg: &'static str) -> Answer {
    local(StatusCode::NOT_FOUND, Flag::NoRoute, msg)
}

/// CONNECT: route on the authority only, then tunnel through the endpoint's
/// sidecar with a CONNECT of the same authority.
async fn connect(shared: &Shared, vh: &RtVirtualHost, mut req: Request<RequestBody>) -> Answer {
    let authority = authority_of(&req).unwrap_or("").to_string();
    let Some(f) = vh.routes.iter().find_map(|r| match &r.action {
        RtAction::Forward(f) if r.matches_authority(&authority) => Some(f),
        _ => None,
    }) else {
        return no_route("no route for CONNECT\n");
    };
    let Some(target) = f.pick() else {
        return no_route("route has no destination\n");
    };
    let name = &target.name;
    let Some(cluster) = &target.cluster else {
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoCluster,
            "no such cluster\n",
        );
    };
    let Some(ep) = cluster.pick(&PickRequest::default()) else {
        return local(
            StatusCode::SERVICE_UNAVAILABLE,
            Flag::NoHealthyUpstream,
            "no healthy upstream\n",
        );
    };
    if ep.external {
        return match crate::forward::dial_external(ep.addr, ep.origin.as_deref()).await {
            Ok(up) => {
                let (mut resp, flag) = relay(&mut req, up, format!("{authority} via {name}"));
                crate::telemetry::UpstreamCluster::tag(cluster, &mut resp);
                (resp, flag)
            }
            Err(e) => crate::forward::answer(Err(e), name),
        };
    }
    let tls = match crate::forward::tunnel_tls(shared, ep) {
        Ok(t) => t,
        Err(e) => return crate::forward::answer(Err(e), name),
    };
    let me = req.headers().get(&crate::telemetry::PEER).cloned();
    match connect_via(ep.addr, &authority, tls, me.as_ref()).await {
        Ok(Ok(tunnel)) => {
            let (mut resp, flag) = tunnel.relay(&mut req, format!("{authority} via {name}"));
            crate::telemetry::UpstreamCluster::tag(cluster, &mut resp);
            (resp, flag)
        }
        Ok(Err(status)) => {
            let mut r = Response::new(ProxyBody::empty());
            *r.status_mut() = status;
            (r, Flag::None)
        }
        Err(e) => crate::forward::answer(Err(e), name),
    }
}
