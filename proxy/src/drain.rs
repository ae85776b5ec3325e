//! The proxy's shutdown signal, as its listeners and connections wait on it.
//!
//! A connection task polls [`Stopped`] beside its connection on every wake-up,
//! two or more per request. A `watch` or `Notify` future takes a lock and
//! re-registers the waker on each such poll; [`Stopped`] registers its task's
//! waker once, and afterwards a poll is one atomic load and a waker comparison.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::FastMap;

/// Sends the signal; clones of its [`Drain::watcher`] receive it.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    inner: Arc<Inner>,
}

/// Hands out [`Stopped`] futures.
#[derive(Debug, Clone)]
pub(crate) struct Watcher {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stopped: AtomicBool,
    next_id: AtomicU64,
    /// Wakers of the pending [`Stopped`] futures, by id.
    wakers: Mutex<FastMap<u64, Waker>>,
}

impl Inner {
    fn wakers(&self) -> MutexGuard<'_, FastMap<u64, Waker>> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drain {
    pub(crate) fn watcher(&self) -> Watcher {
        Watcher {
            inner: self.inner.clone(),
        }
    }

    /// Signals every watcher, those that start waiting later included.
    pub(crate) fn stop(&self) {
        self.inner.stopped.store(true, Ordering::Release);
        let wakers: Vec<Waker> = self.inner.wakers().drain().map(|(_, w)| w).collect();
        for w in wakers {
            w.wake();
        }
    }
}

impl Watcher {
    /// Resolves once [`Drain::stop`] was called (at once if it already was).
    pub(crate) fn stopped(&self) -> Stopped {
        Stopped {
            inner: self.inner.clone(),
            registered: None,
        }
    }
}

/// See [`Watcher::stopped`].
#[derive(Debug)]
pub(crate) struct Stopped {
    inner: Arc<Inner>,
    /// The id and waker this future is registered with.
    registered: Option<(u64, Waker)>,
}

impl Future for Stopped {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.inner.stopped.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        match &mut this.registered {
            Some((_, w)) if w.will_wake(cx.waker()) => {}
            Some((id, w)) => {
                w.clone_from(cx.waker());
                this.inner.wakers().insert(*id, w.clone());
            }
            None => {
                let id = this.inner.next_id.fetch_add(1, Ordering::Relaxed);
                this.inner.wakers().insert(id, cx.waker().clone());
                this.registered = Some((id, cx.waker().clone()));
            }
        }
        // `stop` may have run between the load and the registration: it took
        // the wakers before this one went in.
        if this.inner.stopped.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some((id, _)) = self.registered.take() {
            self.inner.wakers().remove(&id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_waiter_wakes_on_stop_and_later_ones_at_once() {
        let drain = Drain::default();
        let waiters: Vec<_> = (0..3)
            .map(|_| tokio::spawn(drain.watcher().stopped()))
            .collect();
        tokio::task::yield_now().await;
        assert_eq!(drain.inner.wakers().len(), 3, "each waiter registered once");
        assert!(waiters.iter().all(|w| !w.is_finished()));
        drain.stop();
        for w in waiters {
            tokio::time::timeout(Duration::from_secs(5), w)
                .await
                .unwrap()
                .unwrap();
        }
        drain.watcher().stopped().await;
        assert!(drain.inner.wakers().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_waiter_leaves_no_waker_behind() {
        let drain = Drain::default();
        let watcher = drain.watcher();
        {
            let mut s = std::pin::pin!(watcher.stopped());
            for _ in 0..5 {
                // Polled again and again: registered once.
                assert!(poll_once(s.as_mut()).await.is_pending());
            }
            assert_eq!(drain.inner.wakers().len(), 1);
        }
        assert!(drain.inner.wakers().is_empty());
    }

    /// Polls a future once with the current task's waker.
    async fn poll_once<F: Future + Unpin>(f: F) -> Poll<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut f).poll(cx))).await
    }
}
