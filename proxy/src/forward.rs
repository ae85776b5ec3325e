//! What outbound and inbound share: local answers, the request's authority,
//! hop-by-hop header removal, upstream request preparation and tunnels.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_TYPE, HOST, HeaderName, HeaderValue, TE, TRANSFER_ENCODING, UPGRADE,
};
use http::request::Parts;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use mesh_api::proxy::Protocol;

use crate::body::{ProxyBody, RequestBody};
use crate::cluster::RtEndpoint;
use crate::server::Shared;
use crate::stats::Flag;
use crate::upstream::{UpstreamBody, UpstreamError};

/// The response header carrying the response flag of locally failed requests.
pub const FLAGS_HEADER: &str = "x-meshctl-flags";

static FLAGS: HeaderName = HeaderName::from_static(FLAGS_HEADER);
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

pub(crate) type Answer = (Response<ProxyBody>, Flag);

/// A locally generated answer, flagged when `flag` says why.
pub(crate) fn local(status: StatusCode, flag: Flag, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(ProxyBody::local(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if flag != Flag::None {
        r.headers_mut()
            .insert(FLAGS.clone(), HeaderValue::from_static(flag.as_str()));
    }
    (r, flag)
}

/// The request's authority: the URI's (absolute-form, HTTP/2), else `Host`.
pub(crate) fn authority_of<B>(req: &Request<B>) -> Option<&str> {
    req.uri()
        .authority()
        .map(Authority::as_str)
        .or_else(|| req.headers().get(HOST).and_then(|h| h.to_str().ok()))
}

/// Removes hop-by-hop headers (RFC 9110 7.6.1), keeping `te: trailers` (gRPC).
pub(crate) fn strip_hop_by_hop(h: &mut HeaderMap) {
    // Most requests carry none: one pass comparing names (standard ones by
    // their tag) is cheaper than hashing six names for six removals.
    let hop = |k: &HeaderName| {
        k == CONNECTION
            || k == TRANSFER_ENCODING
            || k == UPGRADE
            || k == TE
            || k == PROXY_CONNECTION
            || k == KEEP_ALIVE
    };
    if !h.keys().any(hop) {
        return;
    }
    if let Some(conn) = h.get(CONNECTION).cloned()
        && let Ok(list) = conn.to_str()
    {
        for name in list.split(',') {
            let name = name.trim();
            if !name.eq_ignore_ascii_case("te") && !name.is_empty() {
                h.remove(name);
            }
        }
    }
    h.remove(CONNECTION);
    h.remove(&PROXY_CONNECTION);
    h.remove(&KEEP_ALIVE);
    h.remove(TRANSFER_ENCODING);
    h.remove(UPGRADE);
    if h.get(TE).is_some_and(|v| v != "trailers") {
        h.remove(TE);
    }
}

pub(crate) fn uses_h2(p: Protocol) -> bool {
    matches!(p, Protocol::Http2 | Protocol::Grpc)
}

/// Points a request at an endpoint: HTTP/1.1 with origin-form and `Host` kept (or
/// set from `authority`), or HTTP/2 with `:authority` = `authority`.
pub(crate) fn prepare(
    parts: &mut Parts,
    protocol: Protocol,
    ep: &RtEndpoint,
    pq: PathAndQuery,
    authority: Option<Authority>,
    host_override: Option<&HeaderValue>,
) -> Result<(), http::Error> {
    let mut u = http::uri::Parts::default();
    u.scheme = Some(Scheme::HTTP);
    u.path_and_query = Some(pq);
    if ep.external {
        // The metadata exchange is for peer sidecars only.
        parts.headers.remove(&crate::telemetry::PEER);
    }
    if ep.origin.is_some() {
        // TLS origination: the pooled client dials the endpoint whatever the
        // URI says; the URI names the service's host (`Host` for HTTP/1.1,
        // `:authority` for HTTP/2, whichever ALPN settles).
        if let Some(h) = host_override {
            parts.headers.insert(HOST, h.clone());
        }
        let host = match parts.headers.get(HOST) {
            Some(h) => Authority::try_from(h.as_bytes())?,
            None => authority.unwrap_or_else(|| ep.authority.clone()),
        };
        parts
            .headers
            .insert(HOST, HeaderValue::from_str(host.as_str())?);
        u.scheme = Some(Scheme::HTTPS);
        u.authority = Some(host);
        parts.version = Version::HTTP_11;
    } else if uses_h2(protocol) {
        let a = match authority {
            Some(a) => a,
            None => match parts.headers.get(HOST) {
                Some(h) => Authority::try_from(h.as_bytes())?,
                None => ep.authority.clone(),
            },
        };
        u.authority = Some(a);
        parts.version = Version::HTTP_2;
        parts.headers.remove(HOST);
    } else {
        if let Some(h) = host_override {
            parts.headers.insert(HOST, h.clone());
        } else if !parts.headers.contains_key(HOST)
            && let Some(a) = &authority
        {
            parts
                .headers
                .insert(HOST, HeaderValue::from_str(a.as_str())?);
        }
        u.authority = Some(ep.authority.clone());
        parts.version = Version::HTTP_11;
    }
    parts.uri = Uri::from_parts(u)?;
    Ok(())
}

/// Whether requests to `ep` go to a peer sidecar over mutual TLS.
fn mutual_tls(shared: &Shared, ep: &RtEndpoint) -> bool {
    ep.slot.identity().is_some() && shared.tls.enabled()
}

/// The protocol a request to `ep` is carried in: the cluster's, except that
/// HTTP/1.1 to a peer sidecar over mutual TLS goes on its multiplexed HTTP/2
/// connection when the DestinationRule says `h2UpgradePolicy: UPGRADE`. By
/// default (Istio's `DO_NOT_UPGRADE`) it stays HTTP/1.1, on keep-alive
/// connections ([`crate::upstream::Slot::send_h1`]).
pub(crate) fn wire(shared: &Shared, protocol: Protocol, ep: &RtEndpoint) -> Protocol {
    if ep.slot.upgrades_h2() && mutual_tls(shared, ep) {
        Protocol::Http2
    } else {
        protocol
    }
}

/// The TLS config for a tunnel or dedicated connection to `ep`: `None` for
/// plaintext.
pub(crate) fn tunnel_tls(
    shared: &Shared,
    ep: &RtEndpoint,
) -> Result<Option<Arc<rustls::ClientConfig>>, UpstreamError> {
    match ep.slot.identity() {
        Some(path) if shared.tls.enabled() => shared.tls.client_for(path).map(Some),
        _ => Ok(None),
    }
}

/// Sends an HTTP/1.1 upgrade request on a connection of its own (plain or
/// mutual TLS): the connection becomes the upgraded tunnel.
pub(crate) async fn send_upgrade(
    shared: &Shared,
    ep: &RtEndpoint,
    req: Request<ProxyBody>,
) -> Result<Response<UpstreamBody>, UpstreamError> {
    let io = match &ep.origin {
        Some(o) => crate::transport::Conn::Client(Box::new(o.dial().await?)),
        None => crate::transport::dial(ep.addr, tunnel_tls(shared, ep)?).await?,
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| UpstreamError::Exchange(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "upgrade connection ended");
        }
    });
    sender
        .send_request(req)
        .await
        .map(|r| r.map(UpstreamBody::from))
        .map_err(|e| UpstreamError::Exchange(e.to_string()))
}

/// Sends a request prepared for [`wire`]`(protocol)` to an endpoint.
pub(crate) async fn send(
    shared: &Shared,
    protocol: Protocol,
    ep: &RtEndpoint,
    req: Request<ProxyBody>,
) -> Result<Response<UpstreamBody>, UpstreamError> {
    if let Some(o) = &ep.origin {
        // Boxed: TLS origination's future is large, and most requests do not take it.
        Box::pin(o.send(req)).await
    } else if uses_h2(wire(shared, protocol, ep)) {
        ep.slot.send(req, &shared.tls).await
    } else {
        ep.slot.send_h1(req, &shared.tls).await
    }
}

/// An upstream answer passed back as is (streaming), or the failure's answer.
pub(crate) fn answer(res: Result<Response<UpstreamBody>, UpstreamError>, what: &str) -> Answer {
    match res {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            parts.version = Version::HTTP_11;
            (
                Response::from_parts(parts, ProxyBody::Upstream(body)),
                Flag::None,
            )
        }
        Err(e) if e.is_connect() => {
            tracing::debug!(%what, error = %e, "upstream connect failure");
            local(
                StatusCode::SERVICE_UNAVAILABLE,
                Flag::UpstreamConnectFailure,
                "upstream connect error\n",
            )
        }
        Err(e) => {
            tracing::debug!(%what, error = %e, "upstream exchange failure");
            local(
                StatusCode::SERVICE_UNAVAILABLE,
                Flag::UpstreamConnectionTermination,
                "upstream connection terminated\n",
            )
        }
    }
}

/// The `Upgrade` header of an upgrade request (`Connection: upgrade`), which
/// hop-by-hop stripping would remove: WebSocket and friends.
pub(crate) fn upgrade_of(h: &HeaderMap) -> Option<HeaderValue> {
    let asks = h
        .get_all(CONNECTION)
        .iter()
        .any(|v| crate::upstream::has_token(v, "upgrade"));
    if asks { h.get(UPGRADE).cloned() } else { None }
}

/// Puts an upgrade request's `Upgrade` and `Connection` back after stripping.
pub(crate) fn restore_upgrade(h: &mut HeaderMap, upgrade: HeaderValue) {
    h.insert(UPGRADE, upgrade);
    h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
}

/// The answer to an upgrade request: on `101 Switching Protocols` both sides
/// are spliced together once upgraded, and the 101 goes back with its headers;
/// anything else is answered as usual.
pub(crate) fn upgraded(
    res: Result<Response<UpstreamBody>, UpstreamError>,
    down: hyper::upgrade::OnUpgrade,
    what: &str,
) -> Answer {
    let mut resp = match res {
        Ok(r) if r.status() == StatusCode::SWITCHING_PROTOCOLS => r,
        other => return answer(other, what),
    };
    let up = hyper::upgrade::on(&mut resp);
    let what = what.to_owned();
    tokio::spawn(async move {
        match tokio::try_join!(down, up) {
            Ok((d, u)) => {
                let (mut d, mut u) = (TokioIo::new(d), TokioIo::new(u));
                match tokio::io::copy_bidirectional(&mut d, &mut u).await {
                    Ok((tx, rx)) => tracing::debug!(%what, tx, rx, "upgraded connection closed"),
                    Err(e) => {
                        tracing::debug!(%what, error = %e, "upgraded connection ended with an error")
                    }
                }
            }
            Err(e) => tracing::debug!(%what, error = %e, "upgrade failed"),
        }
    });
    let (parts, body) = resp.into_parts();
    (
        Response::from_parts(parts, ProxyBody::Upstream(body)),
        Flag::None,
    )
}

/// Answers 200 to a downstream CONNECT and relays bytes between it and `up` once
/// the downstream connection is handed over.
pub(crate) fn relay<U>(req: &mut Request<RequestBody>, mut up: U, what: String) -> Answer
where
    U: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let on_upgrade = hyper::upgrade::on(req);
    // Telemetry: the listener labels the meter; it counts when the tunnel closes.
    let meter = crate::telemetry::TunnelMeter::default();
    let mut resp = Response::new(ProxyBody::empty());
    meter.tag(&mut resp);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(down) => {
                let mut down = TokioIo::new(down);
                match tokio::io::copy_bidirectional(&mut down, &mut up).await {
                    Ok((tx, rx)) => {
                        meter.closed(tx, rx);
                        tracing::debug!(%what, tx, rx, "tunnel closed")
                    }
                    Err(e) => {
                        meter.closed(0, 0);
                        tracing::debug!(%what, error = %e, "tunnel ended with an error")
                    }
                }
            }
            Err(e) => tracing::debug!(%what, error = %e, "downstream upgrade failed"),
        }
    });
    (resp, Flag::None)
}

/// Opens a connection straight to an endpoint that is no sidecar (a
/// ServiceEntry's): TLS when its cluster originates it, else plain TCP.
pub(crate) async fn dial_external(
    addr: SocketAddr,
    origin: Option<&crate::origin::OriginSlot>,
) -> Result<crate::transport::Conn, UpstreamError> {
    match origin {
        Some(o) => Ok(crate::transport::Conn::Client(Box::new(o.dial().await?))),
        None => crate::transport::dial(addr, None).await,
    }
}

/// A tunnel through a peer sidecar: the raw upgraded stream, and the peer's
/// metadata-exchange header from its `200` (who answers, for telemetry).
pub(crate) struct Tunnel {
    pub io: TokioIo<hyper::upgrade::Upgraded>,
    pub peer: Option<HeaderValue>,
}

impl Tunnel {
    /// Answers the downstream CONNECT and relays it through this tunnel; the
    /// answer carries the peer's exchange header for the telemetry to take.
    pub(crate) fn relay(self, req: &mut Request<RequestBody>, what: String) -> Answer {
        let (mut resp, flag) = relay(req, self.io, what);
        if let Some(peer) = self.peer {
            resp.headers_mut()
                .insert(crate::telemetry::PEER.clone(), peer);
        }
        (resp, flag)
    }
}

/// Opens a tunnel through a peer sidecar's inbound listener: an HTTP/1.1
/// `CONNECT authority` to `addr`, carrying this workload's exchange header
/// (`me`) so that the peer knows who tunnels; on success the upgraded stream.
pub(crate) async fn connect_via(
    addr: SocketAddr,
    authority: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    me: Option<&HeaderValue>,
) -> Result<Result<Tunnel, StatusCode>, UpstreamError> {
    let io = crate::transport::dial(addr, tls).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(io))
            .await
            .map_err(|e| UpstreamError::Exchange(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "tunnel connection ended");
        }
    });
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(authority)
        .header(HOST, authority)
        .body(Empty::new())
        .map_err(|e| UpstreamError::Exchange(e.to_string()))?;
    if let Some(me) = me {
        req.headers_mut()
            .insert(crate::telemetry::PEER.clone(), me.clone());
    }
    let mut resp = sender
        .send_request(req)
        .await
        .map_err(|e| UpstreamError::Exchange(e.to_string()))?;
    if resp.status() != StatusCode::OK {
        return Ok(Err(resp.status()));
    }
    let peer = resp.headers_mut().remove(&crate::telemetry::PEER);
    let up = hyper::upgrade::on(resp)
        .await
        .map_err(|e| UpstreamError::Exchange(e.to_string()))?;
    Ok(Ok(Tunnel {
        io: TokioIo::new(up),
        peer,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn hop_by_hop_headers_go_end_to_end_ones_stay() {
        let mut h = headers(&[
            ("host", "echo:9080"),
            ("connection", "keep-alive, x-hop, te"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
            ("x-end", "2"),
        ]);
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        // `te: trailers` is what gRPC needs end to end; Connection naming
        // `te` does not remove it.
        assert_eq!(left, ["host", "te", "x-end"]);
        let mut h = headers(&[("te", "gzip")]);
        strip_hop_by_hop(&mut h);
        assert!(h.is_empty(), "{h:?}");
    }

    #[test]
    fn a_request_without_hop_by_hop_headers_is_untouched() {
        let pairs = [
            ("host", "echo:9080"),
            ("user-agent", "curl/8"),
            ("accept", "*/*"),
            ("x-request-id", "abc"),
        ];
        let mut h = headers(&pairs);
        strip_hop_by_hop(&mut h);
        assert_eq!(h, headers(&pairs));
    }
}
