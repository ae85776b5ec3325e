//! The one response body type of every listener: either an upstream's streaming
//! body passed through untouched (trailers included), or a small local body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// A response body: streamed from upstream or generated locally.
#[derive(Debug)]
pub enum ProxyBody {
    /// Streamed from an upstream, frame by frame.
    Upstream(Incoming),
    /// A locally generated body, sent once.
    Local(Option<Bytes>),
}

impl ProxyBody {
    /// A local body with this content.
    pub fn local(b: impl Into<Bytes>) -> Self {
        let b = b.into();
        if b.is_empty() {
            ProxyBody::Local(None)
        } else {
            ProxyBody::Local(Some(b))
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        ProxyBody::Local(None)
    }

    /// Collects the whole body (for tests and small admin payloads).
    pub async fn collect_bytes(self) -> Result<Bytes, hyper::Error> {
        Ok(self.collect().await?.to_bytes())
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Upstream(b) => Pin::new(b).poll_frame(cx),
            ProxyBody::Local(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Upstream(b) => b.is_end_stream(),
            ProxyBody::Local(b) => b.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Upstream(b) => b.size_hint(),
            ProxyBody::Local(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }
}
