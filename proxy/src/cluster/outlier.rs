//! Passive health checking, as Envoy's outlier detection does it: an endpoint that
//! answers `consecutive5xxErrors` 5xx (or `consecutiveGatewayErrors` 502/503/504)
//! in a row is ejected for `baseEjectionTime` times the number of times it was
//! ejected; each `interval` it stays healthy lowers that number again.

use std::sync::{Mutex, MutexGuard};

use mesh_api::proxy::OutlierPolicy;
use tokio::time::{Duration, Instant};

/// What one exchange with an endpoint says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A non-5xx answer.
    Success,
    /// A 5xx answer other than 502/503/504.
    ServerError,
    /// 502, 503, 504, or a locally detected failure (connect failure, reset,
    /// timeout), which Envoy counts as gateway errors too.
    GatewayError,
}

impl Verdict {
    pub(crate) fn of_status(status: u16) -> Self {
        match status {
            502..=504 => Verdict::GatewayError,
            500..=599 => Verdict::ServerError,
            _ => Verdict::Success,
        }
    }
}

/// One endpoint's record.
#[derive(Debug, Default)]
pub(crate) struct Health(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    consecutive_5xx: u32,
    consecutive_gateway: u32,
    /// Ejected until then.
    ejected_until: Option<Instant>,
    /// Ejections not yet forgiven (multiplies the ejection time).
    ejections: u32,
    /// When `ejections` was last lowered or raised.
    last_review: Option<Instant>,
}

impl Health {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn is_ejected(&self, now: Instant) -> bool {
        self.state().ejected_until.is_some_and(|t| now < t)
    }

    /// Records a verdict; returns true when this ejected the endpoint.
    /// `may_eject` says whether the cluster's ejection budget allows it.
    pub(crate) fn record(
        &self,
        p: &OutlierPolicy,
        verdict: Verdict,
        now: Instant,
        may_eject: bool,
    ) -> bool {
        let mut s = self.state();
        s.forgive(p, now);
        match verdict {
            Verdict::Success => {
                s.consecutive_5xx = 0;
                s.consecutive_gateway = 0;
                return false;
            }
            Verdict::ServerError => {
                s.consecutive_5xx += 1;
                s.consecutive_gateway = 0;
            }
            Verdict::GatewayError => {
                s.consecutive_5xx += 1;
                s.consecutive_gateway += 1;
            }
        }
        if s.ejected_until.is_some_and(|t| now < t) {
            return false;
        }
        let tripped = (p.consecutive_5xx > 0 && s.consecutive_5xx >= p.consecutive_5xx)
            || (p.consecutive_gateway > 0 && s.consecutive_gateway >= p.consecutive_gateway);
        if !tripped || !may_eject {
            return false;
        }
        s.ejections += 1;
        s.consecutive_5xx = 0;
        s.consecutive_gateway = 0;
        let base = p.base_ejection_time.as_std();
        // Envoy caps an ejection at max(300 s, base).
        let time = (base * s.ejections).min(base.max(Duration::from_secs(300)));
        s.ejected_until = Some(now + time);
        s.last_review = Some(now);
        true
    }
}

impl State {
    /// Lowers the ejection count by one for each whole interval the endpoint
    /// spent un-ejected since the last review.
    fn forgive(&mut self, p: &OutlierPolicy, now: Instant) {
        let interval = p.interval.as_std();
        if self.ejections == 0 || interval.is_zero() {
            return;
        }
        let since = match self.ejected_until {
            Some(t) if now < t => return,
            Some(t) => t.max(self.last_review.unwrap_or(t)),
            None => self.last_review.unwrap_or(now),
        };
        let periods =
            (now.saturating_duration_since(since).as_millis() / interval.as_millis().max(1)) as u32;
        if periods > 0 {
            self.ejections = self.ejections.saturating_sub(periods);
            self.last_review = Some(now);
            self.ejected_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_api::common::Duration as ApiDuration;

    fn policy() -> OutlierPolicy {
        OutlierPolicy {
            consecutive_5xx: 5,
            consecutive_gateway: 0,
            interval: ApiDuration::from_std(Duration::from_secs(10)),
            base_ejection_time: ApiDuration::from_std(Duration::from_secs(30)),
            max_ejection_percent: 100,
            min_health_percent: 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn five_consecutive_errors_eject_for_base_time() {
        let h = Health::default();
        let p = policy();
        for _ in 0..4 {
            assert!(!h.record(&p, Verdict::ServerError, Instant::now(), true));
        }
        assert!(!h.is_ejected(Instant::now()));
        assert!(h.record(&p, Verdict::ServerError, Instant::now(), true));
        assert!(h.is_ejected(Instant::now()));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(h.is_ejected(Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!h.is_ejected(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let h = Health::default();
        let p = policy();
        for _ in 0..4 {
            h.record(&p, Verdict::GatewayError, Instant::now(), true);
        }
        h.record(&p, Verdict::Success, Instant::now(), true);
        for _ in 0..4 {
            assert!(!h.record(&p, Verdict::ServerError, Instant::now(), true));
        }
        assert!(!h.is_ejected(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn ejection_time_grows_with_each_ejection_and_is_forgiven() {
        let h = Health::default();
        let p = policy();
        let eject = |h: &Health| {
            let mut hit = false;
            for _ in 0..5 {
                hit |= h.record(&p, Verdict::ServerError, Instant::now(), true);
            }
            hit
        };
        assert!(eject(&h));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!h.is_ejected(Instant::now()));
        // Ejected again right away: twice the base time.
        assert!(eject(&h));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(h.is_ejected(Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!h.is_ejected(Instant::now()));
        // Healthy for 3 intervals: both ejections forgiven, back to the base time.
        tokio::time::advance(Duration::from_secs(30)).await;
        h.record(&p, Verdict::Success, Instant::now(), true);
        assert!(eject(&h));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(!h.is_ejected(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn gateway_errors_alone_when_5xx_is_off() {
        let h = Health::default();
        let p = OutlierPolicy {
            consecutive_5xx: 0,
            consecutive_gateway: 2,
            ..policy()
        };
        assert!(!h.record(&p, Verdict::ServerError, Instant::now(), true));
        assert!(!h.record(&p, Verdict::ServerError, Instant::now(), true));
        assert!(!h.record(&p, Verdict::GatewayError, Instant::now(), true));
        assert!(h.record(&p, Verdict::GatewayError, Instant::now(), true));
    }

    #[tokio::test(start_paused = true)]
    async fn no_ejection_over_budget() {
        let h = Health::default();
        let p = policy();
        for _ in 0..10 {
            assert!(!h.record(&p, Verdict::ServerError, Instant::now(), false));
        }
        assert!(!h.is_ejected(Instant::now()));
    }
}
