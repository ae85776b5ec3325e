//! Retry decisions with Envoy's conditions, and the jittered exponential backoff
//! between tries.

use std::time::Duration;

use mesh_api::proxy::{RETRY_CONDITIONS, RetryPolicy};

use crate::balance::next_random;

/// How one try ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An answer with this status (and `grpc-status` header, if any).
    Answer { status: u16, grpc: Option<u32> },
    /// No connection could be made.
    ConnectFailure,
    /// The upstream refused the HTTP/2 stream.
    RefusedStream,
    /// The connection broke before an answer.
    Reset,
    /// The per-try timeout expired.
    Timeout,
}

const C_5XX: u32 = 1;
const C_GATEWAY: u32 = 1 << 1;
const C_RESET: u32 = 1 << 2;
const C_CONNECT: u32 = 1 << 3;
const C_4XX: u32 = 1 << 4;
const C_REFUSED: u32 = 1 << 5;
const C_STATUS: u32 = 1 << 6;
const C_CANCELLED: u32 = 1 << 7;
const C_DEADLINE: u32 = 1 << 8;
const C_INTERNAL: u32 = 1 << 9;
const C_EXHAUSTED: u32 = 1 << 10;
const C_UNAVAILABLE: u32 = 1 << 11;

/// A compiled retry policy.
#[derive(Debug, Clone)]
pub(crate) struct RtRetry {
    pub attempts: u32,
    pub per_try_timeout: Option<Duration>,
    conditions: u32,
    status_codes: Box<[u16]>,
    backoff: Duration,
    pub other_hosts: bool,
}

/// Envoy's default base interval between retries.
const DEFAULT_BACKOFF: Duration = Duration::from_millis(25);

impl RtRetry {
    /// Compiles a policy; an unknown condition is a problem (the push is refused).
    pub(crate) fn compile(p: &RetryPolicy) -> Result<Self, String> {
        let mut conditions = 0;
        for c in &p.retry_on {
            conditions |= match c.as_str() {
                "5xx" => C_5XX,
                "gateway-error" => C_GATEWAY,
                "reset" | "reset-before-request" => C_RESET,
                "connect-failure" => C_CONNECT,
                "retriable-4xx" => C_4XX,
                "refused-stream" => C_REFUSED,
                "retriable-status-codes" => C_STATUS,
                "cancelled" => C_CANCELLED,
                "deadline-exceeded" => C_DEADLINE,
                "internal" => C_INTERNAL,
                "resource-exhausted" => C_EXHAUSTED,
                "unavailable" => C_UNAVAILABLE,
                // Accepted by Envoy, never true here (no rate limit service, no
                // HTTP/3, no retriable-headers config).
                other if RETRY_CONDITIONS.contains(&other) => 0,
                other => {
                    return Err(format!(
                        "retry condition {other:?} unknown: expected one of {}",
                        RETRY_CONDITIONS.join(", ")
                    ));
                }
            };
        }
        Ok(Self {
            attempts: p.attempts,
            per_try_timeout: p
                .per_try_timeout
                .map(|d| d.as_std())
                .filter(|d| !d.is_zero()),
            conditions,
            status_codes: p.retriable_status_codes.clone().into_boxed_slice(),
            backoff: p
                .backoff
                .map(|d| d.as_std())
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_BACKOFF),
            other_hosts: p.other_hosts,
        })
    }

    fn on(&self, c: u32) -> bool {
        self.conditions & c != 0
    }

    /// Whether a try that ended so may be retried.
    pub(crate) fn retriable(&self, o: Outcome) -> bool {
        match o {
            Outcome::ConnectFailure => self.on(C_CONNECT | C_5XX | C_GATEWAY | C_RESET),
            Outcome::Reset | Outcome::Timeout => self.on(C_5XX | C_GATEWAY | C_RESET),
            Outcome::RefusedStream => self.on(C_REFUSED | C_5XX | C_GATEWAY | C_RESET),
            Outcome::Answer { status, grpc } => {
                (self.on(C_5XX) && (500..=599).contains(&status))
                    || (self.on(C_GATEWAY) && (502..=504).contains(&status))
                    || (self.on(C_4XX) && status == 409)
                    || (self.on(C_STATUS) && self.status_codes.contains(&status))
                    || grpc.is_some_and(|g| {
                        (self.on(C_CANCELLED) && g == 1)
                            || (self.on(C_DEADLINE) && g == 4)
                            || (self.on(C_EXHAUSTED) && g == 8)
                            || (self.on(C_INTERNAL) && g == 13)
                            || (self.on(C_UNAVAILABLE) && g == 14)
                    })
            }
        }
    }

    /// The wait before retry number `n` (1 for the first retry): Envoy's fully
    /// jittered exponential backoff, uniform in [0, base * (2^n - 1)], capped at
    /// ten times the base.
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        let cap = self.backoff * 10;
        let ceiling = self
            .backoff
            .saturating_mul((1u32 << n.min(16)).saturating_sub(1))
            .min(cap);
        let ms = ceiling.as_micros() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(next_random() % (ms + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(on: &[&str], codes: &[u16]) -> RtRetry {
        RtRetry::compile(&RetryPolicy {
            attempts: 2,
            per_try_timeout: None,
            retry_on: on.iter().map(|s| s.to_string()).collect(),
            retriable_status_codes: codes.to_vec(),
            backoff: None,
            other_hosts: true,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn answer(status: u16) -> Outcome {
        Outcome::Answer { status, grpc: None }
    }

    #[test]
    fn istio_default_conditions() {
        let p = policy(
            &[
                "connect-failure",
                "refused-stream",
                "unavailable",
                "cancelled",
                "retriable-status-codes",
            ],
            &[503],
        );
        assert!(p.retriable(Outcome::ConnectFailure));
        assert!(p.retriable(Outcome::RefusedStream));
        assert!(p.retriable(answer(503)));
        assert!(!p.retriable(answer(500)));
        assert!(!p.retriable(Outcome::Reset));
        assert!(!p.retriable(Outcome::Timeout));
        assert!(p.retriable(Outcome::Answer {
            status: 200,
            grpc: Some(14)
        }));
        assert!(!p.retriable(Outcome::Answer {
            status: 200,
            grpc: Some(13)
        }));
    }

    #[test]
    fn five_xx_and_gateway_error() {
        let p = policy(&["5xx"], &[]);
        assert!(p.retriable(answer(500)) && p.retriable(answer(503)));
        assert!(p.retriable(Outcome::Reset) && p.retriable(Outcome::Timeout));
        assert!(!p.retriable(answer(404)));
        let p = policy(&["gateway-error"], &[]);
        assert!(!p.retriable(answer(500)));
        assert!(p.retriable(answer(502)) && p.retriable(answer(504)));
        let p = policy(&["retriable-4xx"], &[]);
        assert!(p.retriable(answer(409)) && !p.retriable(answer(404)));
    }

    #[test]
    fn unknown_condition_is_refused() {
        let err = RtRetry::compile(&RetryPolicy {
            attempts: 1,
            per_try_timeout: None,
            retry_on: vec!["sometimes".into()],
            retriable_status_codes: vec![],
            backoff: None,
            other_hosts: false,
        });
        assert!(err.is_err_and(|e| e.contains("\"sometimes\" unknown")));
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = policy(&["5xx"], &[]);
        for n in 1..20 {
            let b = p.backoff(n);
            let ceiling = DEFAULT_BACKOFF * ((1u32 << n.min(16)) - 1).min(10);
            assert!(b <= ceiling.min(DEFAULT_BACKOFF * 10), "retry {n}: {b:?}");
        }
        // Not always zero.
        assert!((0..100).any(|_| p.backoff(3) > Duration::ZERO));
    }
}
