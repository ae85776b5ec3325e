//! The push loop: after any change to the store or the registry, wait for the
//! burst to settle (a debounce), then compile and push once.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::state::Shared;

/// Quiet time that ends a burst of changes.
pub const DEBOUNCE: Duration = Duration::from_millis(20);
/// The longest a change waits for a busy burst to end.
pub const MAX_DELAY: Duration = Duration::from_millis(200);

/// Run until the store and registry senders are gone.
pub async fn run(shared: Arc<Shared>) {
    let mut store_rx = shared.store.subscribe();
    let mut registry_rx = shared.registry_changes();
    let mut stuck = tokio::time::interval(super::conns::STUCK / 4);
    loop {
        tokio::select! {
            r = store_rx.changed() => if r.is_err() { return },
            r = registry_rx.changed() => if r.is_err() { return },
            _ = stuck.tick() => {
                shared.reclaim_stuck();
                continue;
            }
        }
        let first = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(DEBOUNCE) => break,
                r = store_rx.changed() => if r.is_err() { return },
                r = registry_rx.changed() => if r.is_err() { return },
            }
            if first.elapsed() >= MAX_DELAY {
                break;
            }
        }
        store_rx.borrow_and_update();
        registry_rx.borrow_and_update();
        let s = shared.clone();
        match tokio::task::spawn_blocking(move || s.push_all()).await {
            Ok(Ok(n)) => tracing::debug!(pushes = n, "pushed"),
            Ok(Err(e)) => tracing::error!(error = %e, "push failed: cannot read the store"),
            Err(e) => tracing::error!(error = %e, "push task failed"),
        }
    }
}
