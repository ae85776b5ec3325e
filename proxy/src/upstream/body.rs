//! A response body from an upstream: hyper's (HTTP/2, TLS origination,
//! upgrades), or one of a pooled HTTP/1.1 connection, complete with its head
//! or read from the connection as it is polled (see [`super::h1`]).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::h1::H1Body;
use crate::body::BoxError;

/// A response body from an upstream, passed through untouched.
#[derive(Debug)]
pub struct UpstreamBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// hyper's.
    Hyper(Incoming),
    /// A pooled HTTP/1.1 connection's body that came whole with its head (the
    /// connection is back in the pool already).
    Full(Option<Bytes>),
    /// A pooled HTTP/1.1 connection's body still to be read from it.
    H1(Box<H1Body>),
}

impl From<Incoming> for UpstreamBody {
    fn from(inner: Incoming) -> Self {
        Self {
            kind: Kind::Hyper(inner),
        }
    }
}

impl UpstreamBody {
    pub(super) fn full(data: Option<Bytes>) -> Self {
        Self {
            kind: Kind::Full(data.filter(|d| !d.is_empty())),
        }
    }

    pub(super) fn h1(body: H1Body) -> Self {
        Self {
            kind: Kind::H1(Box::new(body)),
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Hyper(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            Kind::Full(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
            Kind::H1(b) => b.poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Hyper(b) => b.is_end_stream(),
            Kind::Full(b) => b.is_none(),
            Kind::H1(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Hyper(b) => b.size_hint(),
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::H1(b) => b.size_hint(),
        }
    }
}
