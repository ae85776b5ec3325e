//! A VirtualService rule's policies in the proxy's form, with Istio's defaults:
//! retries (Istio's default policy when none is given), fault injection,
//! mirrors and header operations.

use mesh_api::common::Percent;
use mesh_api::networking::{Headers, HttpFaultInjection, HttpRetry, grpc_status_code};
use mesh_api::proxy::{
    Fault, FaultAbort, FaultDelay, HeaderChanges, HeaderOps, ISTIO_DEFAULT_RETRY_ON, RetryPolicy,
};

/// Istio's retry policy for a route (`retry.ConvertPolicy`): none given means
/// Istio's default (2 retries on connect failures, refused streams, gRPC
/// `unavailable`/`cancelled` and 503); `attempts: 0` means no retries; numbers
/// in `retryOn` are retriable status codes.
pub fn retry_policy(r: Option<&HttpRetry>) -> Option<RetryPolicy> {
    let mut policy = RetryPolicy {
        attempts: 2,
        per_try_timeout: None,
        retry_on: ISTIO_DEFAULT_RETRY_ON.map(str::to_owned).to_vec(),
        retriable_status_codes: vec![503],
        backoff: None,
        other_hosts: true,
    };
    let Some(r) = r else {
        return Some(policy);
    };
    if r.attempts <= 0 {
        return None;
    }
    policy.attempts = u32::try_from(r.attempts).unwrap_or(0);
    if !r.retry_on.trim().is_empty() {
        let (mut on, mut codes) = (Vec::new(), Vec::new());
        for part in r
            .retry_on
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part.parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => codes.push(code),
                _ => on.push(part.to_owned()),
            }
        }
        if !codes.is_empty() && !on.iter().any(|c| c == "retriable-status-codes") {
            on.push("retriable-status-codes".to_owned());
        }
        policy.retry_on = on;
        policy.retriable_status_codes = codes;
    }
    policy.per_try_timeout = r.per_try_timeout;
    policy.backoff = r.backoff;
    if r.retry_ignore_previous_hosts == Some(false) {
        policy.other_hosts = false;
    }
    Some(policy)
}

/// A share of requests: `percentage.value`, else the deprecated integer
/// `percent`, else all of them.
fn share(percentage: Option<&Percent>, percent: i32) -> f64 {
    match percentage {
        Some(p) => p.value,
        None if percent > 0 => f64::from(percent),
        None => 100.0,
    }
}

/// The rule's `fault`, or none when it injects nothing the proxy can do.
pub fn fault(f: &HttpFaultInjection) -> Option<Fault> {
    let delay = f.delay.as_ref().and_then(|d| {
        Some(FaultDelay {
            delay: d.fixed_delay?,
            percent: share(d.percentage.as_ref(), d.percent),
        })
    });
    let abort = f.abort.as_ref().and_then(|a| {
        let http_status = a.http_status.and_then(|s| u16::try_from(s).ok());
        let grpc_status = a.grpc_status.as_deref().and_then(grpc_status_code);
        if http_status.is_none() && grpc_status.is_none() {
            return None;
        }
        Some(FaultAbort {
            http_status,
            grpc_status,
            percent: share(a.percentage.as_ref(), 0),
        })
    });
    (delay.is_some() || abort.is_some()).then_some(Fault { delay, abort })
}

/// Header operations, names lowercase.
pub fn header_ops(h: Option<&Headers>) -> HeaderOps {
    let Some(h) = h else {
        return HeaderOps::default();
    };
    let changes = |o: Option<&mesh_api::networking::HeaderOperations>| {
        o.map(|o| HeaderChanges {
            set: o
                .set
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            add: o
                .add
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            remove: o.remove.iter().map(|k| k.to_ascii_lowercase()).collect(),
        })
        .unwrap_or_default()
    };
    HeaderOps {
        request: changes(h.request.as_ref()),
        response: changes(h.response.as_ref()),
    }
}

/// The rule's `corsPolicy`; deprecated `allowOrigin` strings are exact origins
/// (`*` any origin).
pub fn cors(c: &mesh_api::networking::CorsPolicy) -> mesh_api::proxy::CorsPolicy {
    use mesh_api::common::StringMatch;
    let mut allow_origins = c.allow_origins.clone();
    for o in &c.allow_origin {
        allow_origins.push(if o == "*" {
            StringMatch {
                prefix: Some(String::new()),
                ..StringMatch::default()
            }
        } else {
            StringMatch {
                exact: Some(o.clone()),
                ..StringMatch::default()
            }
        });
    }
    mesh_api::proxy::CorsPolicy {
        allow_origins,
        allow_methods: c.allow_methods.clone(),
        allow_headers: c.allow_headers.clone(),
        expose_headers: c.expose_headers.clone(),
        max_age: c.max_age,
        allow_credentials: c.allow_credentials == Some(true),
        ignore_unmatched_preflights: c.unmatched_preflights
            == Some(mesh_api::networking::UnmatchedPreflights::Ignore),
    }
}

/// The mirror share of the single `mirror` field.
pub fn mirror_share(percentage: Option<&Percent>, percent: Option<u32>) -> f64 {
    match (percentage, percent) {
        (Some(p), _) => p.value,
        (None, Some(p)) => f64::from(p),
        (None, None) => 100.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(yaml_attempts: i32, on: &str) -> HttpRetry {
        HttpRetry {
            attempts: yaml_attempts,
            retry_on: on.into(),
            ..HttpRetry::default()
        }
    }

    #[test]
    fn istio_default_when_no_retries_given() {
        let p = retry_policy(None).unwrap_or_else(|| panic!("default policy"));
        assert_eq!(p.attempts, 2);
        assert_eq!(p.retriable_status_codes, vec![503]);
        assert!(p.retry_on.iter().any(|c| c == "connect-failure"));
        assert!(p.other_hosts);
    }

    #[test]
    fn zero_attempts_disable_retries() {
        assert_eq!(retry_policy(Some(&retry(0, "5xx"))), None);
    }

    #[test]
    fn status_codes_in_retry_on() {
        let p = retry_policy(Some(&retry(3, "gateway-error, 409,reset")))
            .unwrap_or_else(|| panic!("policy"));
        assert_eq!(p.attempts, 3);
        assert_eq!(
            p.retry_on,
            ["gateway-error", "reset", "retriable-status-codes"]
        );
        assert_eq!(p.retriable_status_codes, vec![409]);
    }

    #[test]
    fn fault_percentages_default_to_all() {
        let f: HttpFaultInjection = serde_json::from_value(serde_json::json!({
            "delay": {"fixedDelay": "7s"},
            "abort": {"grpcStatus": "UNAVAILABLE", "percentage": {"value": 50.0}}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let f = fault(&f).unwrap_or_else(|| panic!("fault"));
        let d = f.delay.unwrap_or_else(|| panic!("delay"));
        assert_eq!((d.delay.as_std().as_secs(), d.percent), (7, 100.0));
        let a = f.abort.unwrap_or_else(|| panic!("abort"));
        assert_eq!((a.grpc_status, a.percent), (Some(14), 50.0));
    }
}
