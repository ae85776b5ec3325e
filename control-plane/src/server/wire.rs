//! The discovery service on the wire, without copying payloads. tonic's
//! generated server encodes each message into a per-stream buffer: every push
//! copies its payload once per proxy, and each stream keeps a buffer as large as
//! the largest message it ever sent (thousands of streams times the endpoints
//! payload). This service speaks the same gRPC (same path, same framing; any
//! gRPC client works) but writes each push as a small header (gRPC frame prefix
//! and the protobuf fields before the payload) followed by the payload's shared
//! buffer itself: no copy, nothing kept per stream.
//!
//! The request side is tonic's (its decoder and [`DiscoveryService`]'s logic);
//! the other methods (`CreateCertificate`) are served by tonic's generated server.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;
use hyper::body::Frame;
use mesh_api::discovery::discovery_server::{Discovery, DiscoveryServer};
use mesh_api::discovery::{ProxyMessage, Push};
use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Streaming};
use tonic::server::NamedService;

use super::discovery::DiscoveryService;

/// The gRPC method.
const STREAM_PATH: &str = "/meshctl.discovery.v1.Discovery/Stream";
/// The largest message a proxy may send (its Hello, its ACKs).
const MAX_REQUEST: usize = 4 << 20;
/// The receive buffer each stream starts with. A proxy sends a Hello and then
/// ACKs of a few hundred bytes; tonic's default (8 KiB) held 16 MiB for 2,000
/// proxies. The buffer grows when a larger message comes.
const REQUEST_BUFFER: usize = 1024;
/// tonic's default: yield to the runtime after decoding this many bytes.
const YIELD_THRESHOLD: usize = 32 * 1024;
/// Protobuf key of `Push.payload` (field 4, length-delimited).
const PAYLOAD_KEY: u8 = (4 << 3) | 2;

/// [`DiscoveryService`] served with zero-copy pushes.
#[derive(Debug, Clone)]
pub struct WireDiscovery {
    inner: DiscoveryService,
}

impl WireDiscovery {
    pub fn new(inner: DiscoveryService) -> Self {
        WireDiscovery { inner }
    }
}

impl NamedService for WireDiscovery {
    const NAME: &'static str = "meshctl.discovery.v1.Discovery";
}

type Response = http::Response<tonic::body::Body>;

impl tower_service::Service<http::Request<tonic::body::Body>> for WireDiscovery {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            if req.uri().path() != STREAM_PATH {
                // Every other method (CreateCertificate) is tonic's generated
                // server: unary, nothing to share.
                let mut generated = DiscoveryServer::new(inner);
                return generated.call(req).await;
            }
            let (parts, body) = req.into_parts();
            let decoder = tonic_prost::ProstDecoder::<ProxyMessage>::new(BufferSettings::new(
                REQUEST_BUFFER,
                YIELD_THRESHOLD,
            ));
            let messages = Streaming::new_request(decoder, body, None, Some(MAX_REQUEST));
            let request = tonic::Request::from_http(http::Request::from_parts(parts, messages));
            match inner.stream(request).await {
                Ok(pushes) => {
                    let body = PushBody {
                        pushes: pushes.into_inner(),
                        payload: None,
                        done: false,
                    };
                    let mut resp = http::Response::new(tonic::body::Body::new(body));
                    resp.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/grpc"),
                    );
                    Ok(resp)
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

/// The response body: for each push, its header and then its payload buffer;
/// at the end, the gRPC status as trailers.
struct PushBody<S> {
    pushes: S,
    /// The payload of the push whose header was just sent.
    payload: Option<Bytes>,
    done: bool,
}

/// The gRPC frame prefix and the protobuf encoding of `push` up to its payload's
/// bytes (which follow).
pub fn push_header(push: &Push) -> Bytes {
    let fields = Push {
        payload: Bytes::new(),
        ..push.clone()
    };
    let payload_len = push.payload.len();
    let mut key_and_len = BytesMut::with_capacity(11);
    if payload_len > 0 {
        key_and_len.put_u8(PAYLOAD_KEY);
        prost::encoding::encode_varint(payload_len as u64, &mut key_and_len);
    }
    let message_len = fields.encoded_len() + key_and_len.len() + payload_len;
    let mut out = BytesMut::with_capacity(5 + fields.encoded_len() + key_and_len.len());
    out.put_u8(0); // not compressed
    out.put_u32(u32::try_from(message_len).unwrap_or(u32::MAX));
    // Encoding into a BytesMut cannot fail: it grows as needed.
    let _ = fields.encode(&mut out);
    out.put_slice(&key_and_len);
    out.freeze()
}

fn trailers(status: &Status) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    if status.add_header(&mut map).is_err() {
        map.insert("grpc-status", http::HeaderValue::from_static("13"));
    }
    map
}

impl<S> hyper::body::Body for PushBody<S>
where
    S: Stream<Item = Result<Push, Status>> + Unpin + Send,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if let Some(payload) = self.payload.take() {
            return Poll::Ready(Some(Ok(Frame::data(payload))));
        }
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.pushes).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(push))) => {
                let header = push_header(&push);
                if !push.payload.is_empty() {
                    self.payload = Some(push.payload);
                }
                Poll::Ready(Some(Ok(Frame::data(header))))
            }
            Poll::Ready(Some(Err(status))) => {
                self.done = true;
                Poll::Ready(Some(Ok(Frame::trailers(trailers(&status)))))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(Some(Ok(Frame::trailers(trailers(&Status::ok(""))))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.payload.is_none()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use mesh_api::discovery::Push;
    use prost::Message;

    use super::push_header;

    #[test]
    fn header_then_payload_is_the_grpc_frame_of_the_push() {
        for payload in [
            Bytes::new(),
            Bytes::from_static(b"{}"),
            Bytes::from(vec![7u8; 300_000]),
        ] {
            let push = Push {
                type_url: "routes".into(),
                version: "00ff".into(),
                nonce: "42".into(),
                payload,
                encoding: String::new(),
                base_version: String::new(),
            };
            let mut wire = push_header(&push).to_vec();
            wire.extend_from_slice(&push.payload);
            let mut expected = vec![0u8];
            expected.extend_from_slice(&(push.encoded_len() as u32).to_be_bytes());
            expected.extend_from_slice(&push.encode_to_vec());
            assert_eq!(wire, expected);
            let decoded = Push::decode(&wire[5..]).expect("decodes");
            assert_eq!(decoded, push);
            // Fields after the payload's number (a delta's base) come before
            // its bytes on the wire; any decoder reads them back.
            let delta = Push {
                encoding: "gzip".into(),
                base_version: "00aa".into(),
                ..push.clone()
            };
            let mut wire = push_header(&delta).to_vec();
            wire.extend_from_slice(&delta.payload);
            let len = u32::from_be_bytes([wire[1], wire[2], wire[3], wire[4]]) as usize;
            assert_eq!(len, wire.len() - 5);
            assert_eq!(Push::decode(&wire[5..]).expect("decodes"), delta);
        }
    }
}
