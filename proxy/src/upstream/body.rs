//! A response body from an upstream, which on a pooled HTTP/1.1 connection
//! also drives that connection until its exchange is complete (see [`super::h1`]).

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::h1::Lease;

/// A response body from an upstream: hyper's, passed through untouched. On a
/// pooled HTTP/1.1 connection whose exchange was not complete when the head
/// arrived, the body also drives the connection, and hands it back to the
/// pool once the exchange completes (or closes it, if dropped before).
#[derive(Debug)]
pub struct UpstreamBody {
    inner: Incoming,
    lease: Option<Box<Lease>>,
}

impl From<Incoming> for UpstreamBody {
    fn from(inner: Incoming) -> Self {
        Self { inner, lease: None }
    }
}

impl UpstreamBody {
    pub(super) fn new(inner: Incoming, lease: Option<Lease>) -> Self {
        let lease = match lease {
            Some(l) if l.idle() => {
                // Complete already (a small body is buffered in `inner`).
                l.release();
                None
            }
            other => other.map(Box::new),
        };
        Self { inner, lease }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(lease) = &mut this.lease else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        // While the connection is driven here, only driving it brings frames:
        // `inner` is polled without a waker, so that a frame arriving wakes
        // nothing.
        let mut quiet = Context::from_waker(Waker::noop());
        let mut frame = Pin::new(&mut this.inner).poll_frame(&mut quiet);
        let mut ended = false;
        if frame.is_pending() {
            ended = lease.drive(cx);
            frame = Pin::new(&mut this.inner).poll_frame(&mut quiet);
        }
        if ended {
            this.lease = None;
        } else if lease.idle()
            && let Some(l) = this.lease.take()
        {
            l.release();
        }
        if this.lease.is_none() && frame.is_pending() {
            // No longer driven here: the rest is buffered, or the channel's
            // end is, and `inner` wakes this task for it.
            frame = Pin::new(&mut this.inner).poll_frame(cx);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        // Read to its end but not yet seen idle: one more poll settles it. A
        // body dropped before its end closes the connection.
        if let Some(mut l) = self.lease.take()
            && !l.drive(&mut Context::from_waker(Waker::noop()))
            && l.idle()
        {
            l.release();
        }
    }
}
