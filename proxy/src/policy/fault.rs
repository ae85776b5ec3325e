//! Fault injection (`fault`): a delay before forwarding and an abort instead of
//! forwarding, each for a percentage of requests. Envoy's flags: `DI` for a
//! delayed request, `FI` for an aborted one.

use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use mesh_api::proxy::Fault;

use super::chance;
use crate::body::ProxyBody;
use crate::forward::{Answer, local};
use crate::stats::Flag;

#[derive(Debug)]
enum Abort {
    Http(StatusCode),
    Grpc(u32),
}

/// A compiled `fault`.
#[derive(Debug)]
pub(crate) struct RtFault {
    delay: Option<(Duration, f64)>,
    abort: Option<(Abort, f64)>,
}

/// What fault injection did to a request.
#[derive(Debug)]
pub(crate) enum Injected {
    /// Nothing, or only a delay (then `delayed` is true).
    Continue { delayed: bool },
    /// The request is answered with this.
    Abort(Answer),
}

impl RtFault {
    pub(crate) fn compile(f: &Fault, at: &str, p: &mut Vec<String>) -> Self {
        let delay = f
            .delay
            .as_ref()
            .map(|d| (d.delay.as_std(), d.percent.clamp(0.0, 100.0)));
        let abort = f.abort.as_ref().and_then(|a| {
            let kind = match (a.http_status, a.grpc_status) {
                (_, Some(g)) => Abort::Grpc(g),
                (Some(s), None) => match StatusCode::from_u16(s) {
                    Ok(s) if (200..=599).contains(&s.as_u16()) => Abort::Http(s),
                    _ => {
                        p.push(format!(
                            "{at}: fault abort status {s} invalid: must be between 200 and 599"
                        ));
                        return None;
                    }
                },
                (None, None) => {
                    p.push(format!(
                        "{at}: fault abort needs an httpStatus or a grpcStatus"
                    ));
                    return None;
                }
            };
            Some((kind, a.percent.clamp(0.0, 100.0)))
        });
        Self { delay, abort }
    }

    /// Applies the fault to one request: sleeps when the delay fires, then
    /// answers when the abort fires.
    pub(crate) async fn inject(&self) -> Injected {
        let mut delayed = false;
        if let Some((d, pct)) = self.delay
            && chance(pct)
        {
            tokio::time::sleep(d).await;
            delayed = true;
        }
        match &self.abort {
            Some((kind, pct)) if chance(*pct) => Injected::Abort(abort_answer(kind)),
            _ => Injected::Continue { delayed },
        }
    }
}

fn abort_answer(kind: &Abort) -> Answer {
    match kind {
        Abort::Http(s) => local(*s, Flag::FaultInjected, "fault filter abort"),
        Abort::Grpc(code) => {
            let mut r = Response::new(ProxyBody::empty());
            let h = r.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
            h.insert("grpc-status", HeaderValue::from(*code));
            h.insert(
                "grpc-message",
                HeaderValue::from_static("fault filter abort"),
            );
            h.insert(
                crate::forward::FLAGS_HEADER,
                HeaderValue::from_static(Flag::FaultInjected.as_str()),
            );
            (r, Flag::FaultInjected)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_api::common::Duration as ApiDuration;
    use mesh_api::proxy::{FaultAbort, FaultDelay};

    fn fault(delay_pct: Option<f64>, abort: Option<(Option<u16>, Option<u32>, f64)>) -> RtFault {
        let f = Fault {
            delay: delay_pct.map(|percent| FaultDelay {
                delay: ApiDuration::from_std(Duration::from_secs(7)),
                percent,
            }),
            abort: abort.map(|(http_status, grpc_status, percent)| FaultAbort {
                http_status,
                grpc_status,
                percent,
            }),
        };
        let mut p = Vec::new();
        let rt = RtFault::compile(&f, "route", &mut p);
        assert!(p.is_empty(), "{p:?}");
        rt
    }

    #[tokio::test(start_paused = true)]
    async fn delay_sleeps_for_the_fixed_delay() {
        let f = fault(Some(100.0), None);
        let start = tokio::time::Instant::now();
        let r = f.inject().await;
        assert!(matches!(r, Injected::Continue { delayed: true }));
        assert_eq!(start.elapsed(), Duration::from_secs(7));
        let f = fault(Some(0.0), None);
        let start = tokio::time::Instant::now();
        assert!(matches!(
            f.inject().await,
            Injected::Continue { delayed: false }
        ));
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn abort_answers_http_and_grpc() {
        let f = fault(None, Some((Some(500), None, 100.0)));
        let Injected::Abort((r, flag)) = f.inject().await else {
            panic!("expected an abort");
        };
        assert_eq!(r.status(), 500);
        assert_eq!(flag, Flag::FaultInjected);
        let f = fault(None, Some((None, Some(14), 100.0)));
        let Injected::Abort((r, _)) = f.inject().await else {
            panic!("expected an abort");
        };
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers().get("grpc-status").map(|v| v.as_bytes()),
            Some(&b"14"[..])
        );
    }

    #[test]
    fn percentages_are_honoured() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build();
        let Ok(rt) = rt else { panic!("runtime") };
        let f = fault(None, Some((Some(503), None, 25.0)));
        let aborted = (0..4000)
            .filter(|_| matches!(rt.block_on(f.inject()), Injected::Abort(_)))
            .count();
        assert!(
            (800..1200).contains(&aborted),
            "{aborted} of 4000 aborted at 25%"
        );
    }
}
