//! Envoy's circuit breakers for one cluster (DestinationRule `connectionPool`):
//! HTTP/1.1 requests in flight up to `maxConnections` (one request per
//! connection), then up to `http1MaxPendingRequests` waiting, then overflow;
//! `http2MaxRequests` requests in flight at most; `maxRetries` retries in flight at
//! most. Overflow is answered at once (503, flag `UO`), never queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use mesh_api::proxy::ConnectionLimits;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The limits of one cluster and what is in use.
#[derive(Debug)]
pub(crate) struct Limits {
    pub config: ConnectionLimits,
    /// HTTP/1.1 connections (requests in flight); none when unlimited.
    connections: Option<Arc<Semaphore>>,
    pending: AtomicU32,
    requests: AtomicU32,
    retries: AtomicU32,
}

/// A request's hold on the cluster's limits, released on drop.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: Arc<Limits>,
    _connection: Option<OwnedSemaphorePermit>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.limits.requests.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A retry's hold on `maxRetries`, released on drop.
#[derive(Debug)]
pub(crate) struct RetryToken(Arc<Limits>);

impl Drop for RetryToken {
    fn drop(&mut self) {
        self.0.retries.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements on drop (a pending request stops waiting, whatever the outcome).
struct Pending<'a>(&'a AtomicU32);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limits {
    /// Limits for a cluster; `http1` says whether `maxConnections` bounds requests.
    pub(crate) fn new(config: ConnectionLimits, http1: bool) -> Self {
        let connections = config
            .max_connections
            .filter(|_| http1)
            .map(|n| Arc::new(Semaphore::new(n as usize)));
        Self {
            config,
            connections,
            pending: AtomicU32::new(0),
            requests: AtomicU32::new(0),
            retries: AtomicU32::new(0),
        }
    }

    /// Whether these limits can be kept for a new config of the cluster.
    pub(crate) fn same(&self, config: &ConnectionLimits, http1: bool) -> bool {
        self.config == *config
            && self.connections.is_some() == (http1 && config.max_connections.is_some())
    }

    /// Admits a request, waiting for a connection when all are busy and the
    /// pending queue has room; `None` on overflow.
    pub(crate) async fn admit(self: &Arc<Self>) -> Option<Admission> {
        let max_requests = self.config.max_requests.unwrap_or(u32::MAX);
        if self
            .requests
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max_requests).then_some(n + 1)
            })
            .is_err()
        {
            return None;
        }
        // From here the request counts; an early return releases it.
        let mut admission = Admission {
            limits: self.clone(),
            _connection: None,
        };
        let Some(sem) = &self.connections else {
            return Some(admission);
        };
        match sem.clone().try_acquire_owned() {
            Ok(p) => {
                admission._connection = Some(p);
                Some(admission)
            }
            Err(_) => {
                let max_pending = self.config.max_pending_requests.unwrap_or(u32::MAX);
                if self
                    .pending
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        (n < max_pending).then_some(n + 1)
                    })
                    .is_err()
                {
                    return None;
                }
                let _pending = Pending(&self.pending);
                admission._connection = Some(sem.clone().acquire_owned().await.ok()?);
                Some(admission)
            }
        }
    }

    /// Takes a retry from the `maxRetries` budget; `None` when it is spent.
    pub(crate) fn retry(self: &Arc<Self>) -> Option<RetryToken> {
        let max = self.config.max_retries.unwrap_or(u32::MAX);
        self.retries
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| RetryToken(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(conns: u32, pending: u32) -> Arc<Limits> {
        Arc::new(Limits::new(
            ConnectionLimits {
                max_connections: Some(conns),
                max_pending_requests: Some(pending),
                ..ConnectionLimits::default()
            },
            true,
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn one_connection_one_pending_then_overflow() {
        let l = limits(1, 1);
        let first = l.admit().await;
        assert!(first.is_some());
        // The second waits (pending); the third overflows at once.
        let l2 = l.clone();
        let waiting = tokio::spawn(async move { l2.admit().await.is_some() });
        tokio::task::yield_now().await;
        assert!(l.admit().await.is_none(), "third request must overflow");
        drop(first);
        assert!(
            waiting.await.unwrap_or(false),
            "pending request gets the connection"
        );
        // Everything released: admitted again.
        assert!(l.admit().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn max_requests_bounds_requests_in_flight() {
        let l = Arc::new(Limits::new(
            ConnectionLimits {
                max_requests: Some(2),
                ..ConnectionLimits::default()
            },
            false,
        ));
        let a = l.admit().await;
        let b = l.admit().await;
        assert!(a.is_some() && b.is_some());
        assert!(l.admit().await.is_none());
        drop(a);
        assert!(l.admit().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_budget() {
        let l = Arc::new(Limits::new(
            ConnectionLimits {
                max_retries: Some(1),
                ..ConnectionLimits::default()
            },
            true,
        ));
        let t = l.retry();
        assert!(t.is_some());
        assert!(l.retry().is_none());
        drop(t);
        assert!(l.retry().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_by_default() {
        let l = Arc::new(Limits::new(ConnectionLimits::default(), true));
        let held: Vec<_> = futures_util::future::join_all((0..1000).map(|_| l.admit())).await;
        assert!(held.iter().all(Option::is_some));
    }
}
