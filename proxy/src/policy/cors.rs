//! CORS (`corsPolicy`), as Envoy's CORS filter applies it: a preflight
//! (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
//! origin is answered by the proxy; other requests from an allowed origin get
//! `Access-Control-Allow-Origin` (and credentials, exposed headers) on the answer.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderValue, ORIGIN,
};
use http::{HeaderMap, Method, Response, StatusCode};
use mesh_api::proxy::CorsPolicy;

use crate::body::ProxyBody;
use crate::config::matcher::Matcher;
use crate::forward::Answer;
use crate::stats::Flag;

/// A compiled CORS policy.
#[derive(Debug)]
pub(crate) struct RtCors {
    origins: Box<[Matcher]>,
    methods: Option<HeaderValue>,
    headers: Option<HeaderValue>,
    expose: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
    credentials: bool,
    ignore_unmatched: bool,
}

/// What CORS decided before forwarding.
#[derive(Debug)]
pub(crate) enum Before {
    /// Answer now (a preflight).
    Answer(Answer),
    /// Forward; add these headers to the answer (`None`: not a CORS request).
    Forward(Option<HeaderValue>),
}

fn joined(list: &[String]) -> Option<HeaderValue> {
    (!list.is_empty())
        .then(|| HeaderValue::from_str(&list.join(",")).ok())
        .flatten()
}

impl RtCors {
    pub(crate) fn compile(c: &CorsPolicy, at: &str, p: &mut Vec<String>) -> Self {
        Self {
            origins: c
                .allow_origins
                .iter()
                .filter_map(|m| match Matcher::compile(m) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        p.push(format!("{at}: cors allowOrigins: {e}"));
                        None
                    }
                })
                .collect(),
            methods: joined(&c.allow_methods),
            headers: joined(&c.allow_headers),
            expose: joined(&c.expose_headers),
            max_age: c.max_age.map(|d| HeaderValue::from(d.as_std().as_secs())),
            credentials: c.allow_credentials,
            ignore_unmatched: c.ignore_unmatched_preflights,
        }
    }

    /// Looks at a request before it is forwarded.
    pub(crate) fn before(&self, method: &Method, headers: &HeaderMap) -> Before {
        let Some(origin) = headers.get(ORIGIN) else {
            return Before::Forward(None);
        };
        let allowed = origin
            .to_str()
            .is_ok_and(|o| self.origins.iter().any(|m| m.matches(o)));
        let preflight =
            method == Method::OPTIONS && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        match (preflight, allowed) {
            (true, true) => {
                let mut r = Response::new(ProxyBody::empty());
                *r.status_mut() = StatusCode::OK;
                let h = r.headers_mut();
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                for (name, v) in [
                    (ACCESS_CONTROL_ALLOW_METHODS, &self.methods),
                    (ACCESS_CONTROL_ALLOW_HEADERS, &self.headers),
                    (ACCESS_CONTROL_MAX_AGE, &self.max_age),
                ] {
                    if let Some(v) = v {
                        h.insert(name, v.clone());
                    }
                }
                if self.credentials {
                    h.insert(
                        ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
                Before::Answer((r, Flag::None))
            }
            (true, false) if self.ignore_unmatched => {
                let mut r = Response::new(ProxyBody::empty());
                *r.status_mut() = StatusCode::OK;
                Before::Answer((r, Flag::None))
            }
            (false, true) => Before::Forward(Some(origin.clone())),
            _ => Before::Forward(None),
        }
    }

    /// Adds the CORS headers for an allowed origin to an answer.
    pub(crate) fn after(&self, origin: HeaderValue, h: &mut HeaderMap) {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(e) = &self.expose {
            h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, e.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_api::common::StringMatch;

    fn cors(ignore: bool) -> RtCors {
        let c = CorsPolicy {
            allow_origins: vec![
                StringMatch {
                    exact: Some("https://example.com".into()),
                    ..StringMatch::default()
                },
                StringMatch {
                    regex: Some(r"https://.*\.trusted\.io".into()),
                    ..StringMatch::default()
                },
            ],
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["x-token".into()],
            expose_headers: vec!["x-trace".into()],
            max_age: Some(mesh_api::common::Duration::from_std(
                std::time::Duration::from_secs(3600),
            )),
            allow_credentials: true,
            ignore_unmatched_preflights: ignore,
        };
        let mut p = Vec::new();
        let rt = RtCors::compile(&c, "route", &mut p);
        assert!(p.is_empty(), "{p:?}");
        rt
    }

    fn headers(origin: &str, preflight: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            ORIGIN,
            HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("")),
        );
        if preflight {
            h.insert(
                ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static("POST"),
            );
        }
        h
    }

    #[test]
    fn preflight_from_an_allowed_origin_is_answered() {
        let Before::Answer((r, _)) =
            cors(false).before(&Method::OPTIONS, &headers("https://a.trusted.io", true))
        else {
            panic!("expected an answer");
        };
        let h = r.headers();
        assert_eq!(
            h.get(ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.as_bytes()),
            Some(&b"https://a.trusted.io"[..])
        );
        assert_eq!(
            h.get(ACCESS_CONTROL_ALLOW_METHODS).map(|v| v.as_bytes()),
            Some(&b"GET,POST"[..])
        );
        assert_eq!(
            h.get(ACCESS_CONTROL_MAX_AGE).map(|v| v.as_bytes()),
            Some(&b"3600"[..])
        );
        assert_eq!(
            h.get(ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
    }

    #[test]
    fn unmatched_preflights_are_forwarded_or_ignored() {
        let h = headers("https://evil.example", true);
        assert!(matches!(
            cors(false).before(&Method::OPTIONS, &h),
            Before::Forward(None)
        ));
        let Before::Answer((r, _)) = cors(true).before(&Method::OPTIONS, &h) else {
            panic!("expected an answer");
        };
        assert!(r.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }

    #[test]
    fn simple_requests_get_the_origin_back() {
        match cors(false).before(&Method::GET, &headers("https://example.com", false)) {
            Before::Forward(Some(o)) => assert_eq!(o, "https://example.com"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cors(false).before(&Method::GET, &headers("https://other.com", false)),
            Before::Forward(None)
        ));
        assert!(matches!(
            cors(false).before(&Method::GET, &HeaderMap::new()),
            Before::Forward(None)
        ));
    }
}
