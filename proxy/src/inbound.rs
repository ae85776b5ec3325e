//! The inbound listener: traffic other sidecars send to this workload, forwarded
//! to the app on loopback by service port, or tunnelled raw for CONNECT.

use http::uri::PathAndQuery;
use http::{Method, Request, StatusCode};
use mesh_api::proxy::InboundMtls;

use crate::authz::audit::Who;
use crate::authz::{Attributes, normalize_path};
use crate::body::{ProxyBody, RequestBody};
use crate::config::{Snapshot, split_host_port};
use crate::forward::{self, Answer, local};
use crate::server::{ConnInfo, Shared};
use crate::stats::Flag;
use crate::upstream::connect_tcp;

/// Forwards one inbound request to the app.
pub(crate) async fn handle(
    shared: &Shared,
    snap: &Snapshot,
    mut req: Request<RequestBody>,
    conn: &ConnInfo,
) -> Answer {
    let port = split_host_port(forward::authority_of(&req).unwrap_or(""))
        .1
        .unwrap_or(80);
    let Some(ib) = snap.inbound(port) else {
        tracing::debug!(port, "no inbound port (NR)");
        return local(
            StatusCode::NOT_FOUND,
            Flag::NoRoute,
            "no inbound port for this authority\n",
        );
    };
    if ib.mtls == InboundMtls::Strict && conn.peer_identity.is_none() {
        tracing::debug!(peer = %conn.peer, port, "plaintext request refused: PeerAuthentication STRICT");
        return local(
            StatusCode::FORBIDDEN,
            Flag::None,
            "mutual TLS required on this port (PeerAuthentication STRICT)\n",
        );
    }
    if !snap.authz.is_empty()
        && let Some(denied) = authorize(shared, snap, &mut req, conn, ib.port)
    {
        return denied;
    }
    if req.method() == Method::CONNECT {
        let authority = forward::authority_of(&req).unwrap_or("");
        let what = format!("{authority} -> {}", ib.app.addr);
        return match connect_tcp(ib.app.addr).await {
            Ok(tcp) => forward::relay(&mut req, tcp, what),
            Err(e) => forward::answer(Err(e), &what),
        };
    }
    let upgrade = forward::upgrade_of(req.headers());
    let down = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    let authority = parts.uri.authority().cloned();
    forward::strip_hop_by_hop(&mut parts.headers);
    if let Some(u) = upgrade {
        forward::restore_upgrade(&mut parts.headers, u);
    }
    if let Err(e) = forward::prepare(&mut parts, ib.protocol, &ib.app, pq, authority, None) {
        return local(
            StatusCode::BAD_REQUEST,
            Flag::None,
            format!("bad request: {e}\n"),
        );
    }
    let req = Request::from_parts(parts, ProxyBody::Downstream(body));
    let (mut resp, flag) = match down {
        // An upgrade goes on a connection of its own, which becomes the tunnel.
        Some(down) => {
            let res = Box::pin(forward::send_upgrade(shared, &ib.app, req)).await;
            forward::upgraded(res, down, "inbound")
        }
        None => forward::answer(
            forward::send(shared, ib.protocol, &ib.app, req).await,
            "inbound",
        ),
    };
    if snap.telemetry().observes() {
        resp.extensions_mut()
            .insert(crate::telemetry::UpstreamInfo { host: ib.app.addr });
    }
    (resp, flag)
}

/// Evaluates the workload's AuthorizationPolicies; `Some`: the denial to send.
/// The request's path is replaced by its normalized form when they differ, so
/// the app serves what was authorized.
fn authorize(
    shared: &Shared,
    snap: &Snapshot,
    req: &mut Request<RequestBody>,
    conn: &ConnInfo,
    port: u16,
) -> Option<Answer> {
    let http = req.method() != Method::CONNECT;
    let raw = req.uri().path();
    let path = normalize_path(raw);
    if http && path != raw {
        let mut parts = req.uri().clone().into_parts();
        let pq = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        if let Ok(pq) = PathAndQuery::try_from(pq) {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    let principal = conn
        .peer_identity
        .as_deref()
        .map(|id| id.strip_prefix("spiffe://").unwrap_or(id));
    let attrs = Attributes {
        http,
        principal,
        source_ip: conn.peer.ip(),
        destination_ip: Some(conn.local.ip()),
        port,
        sni: conn.sni.as_deref(),
        method: req.method().as_str(),
        host: forward::authority_of(req).unwrap_or(""),
        path: &path,
        headers: Some(req.headers()),
    };
    let decision = snap.authz.evaluate(&attrs);
    if decision.loggable() {
        let who = Who {
            proxy: &shared.proxy_id,
            workload: &shared.workload,
        };
        shared.audit.record(&who, &attrs, &decision);
    }
    if decision.allowed {
        return None;
    }
    tracing::debug!(peer = %conn.peer, principal, path, "request denied by authorization policy");
    Some(local(
        StatusCode::FORBIDDEN,
        Flag::None,
        "RBAC: access denied",
    ))
}
