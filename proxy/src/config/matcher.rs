//! Compiled request matchers: Istio's `StringMatch` and `HTTPMatchRequest`
//! semantics, evaluated without allocating.

use http::HeaderMap;
use http::header::HeaderName;
use mesh_api::common::{MatchKind, StringMatch};
use mesh_api::proxy::RouteMatch;
use regex::Regex;

/// One compiled `StringMatch`.
#[derive(Debug)]
pub(crate) enum Matcher {
    /// Present with any value (an empty `StringMatch`).
    Present,
    Exact(Box<str>),
    Prefix(Box<str>),
    /// Anchored: the whole value must match, as with RE2 in Istio.
    Regex(Regex),
}

impl Matcher {
    pub(crate) fn compile(m: &StringMatch) -> Result<Self, String> {
        Ok(match m.kind() {
            MatchKind::Present => Matcher::Present,
            MatchKind::Exact(e) => Matcher::Exact(e.into()),
            MatchKind::Prefix(p) => Matcher::Prefix(p.into()),
            MatchKind::Regex(r) => Matcher::Regex(
                Regex::new(&format!("^(?:{r})$"))
                    .map_err(|e| format!("regex {r:?} does not compile: {e}"))?,
            ),
        })
    }

    pub(crate) fn matches(&self, v: &str) -> bool {
        match self {
            Matcher::Present => true,
            Matcher::Exact(e) => v == &**e,
            Matcher::Prefix(p) => v.starts_with(&**p),
            Matcher::Regex(r) => r.is_match(v),
        }
    }

    /// Exact and prefix compare ASCII case-insensitively; regex as written.
    fn matches_ignore_case(&self, v: &str) -> bool {
        match self {
            Matcher::Exact(e) => v.eq_ignore_ascii_case(e),
            Matcher::Prefix(p) => {
                v.len() >= p.len() && v.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            }
            _ => self.matches(v),
        }
    }
}

/// The parts of a request routes match on, borrowed from the request.
#[derive(Debug)]
pub(crate) struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authority: &'a str,
    pub scheme: &'a str,
    pub headers: &'a HeaderMap,
}

/// One compiled `RouteMatch` (all conditions must hold).
#[derive(Debug)]
pub(crate) struct RtMatch {
    uri: Option<Matcher>,
    ignore_uri_case: bool,
    method: Option<Matcher>,
    authority: Option<Matcher>,
    scheme: Option<Matcher>,
    headers: Box<[(HeaderName, Matcher)]>,
    without_headers: Box<[(HeaderName, Matcher)]>,
    query_params: Box<[(Box<str>, Matcher)]>,
}

fn opt(m: &Option<StringMatch>, what: &str, problems: &mut Vec<String>) -> Option<Matcher> {
    let m = m.as_ref()?;
    match Matcher::compile(m) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(format!("{what}: {e}"));
            None
        }
    }
}

fn header_list(
    map: &std::collections::BTreeMap<String, StringMatch>,
    what: &str,
    problems: &mut Vec<String>,
) -> Box<[(HeaderName, Matcher)]> {
    let mut out = Vec::with_capacity(map.len());
    for (name, m) in map {
        let Ok(h) = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()) else {
            problems.push(format!(
                "{what} {name:?} is not a valid header name: use token characters only"
            ));
            continue;
        };
        match Matcher::compile(m) {
            Ok(m) => out.push((h, m)),
            Err(e) => problems.push(format!("{what} {name:?}: {e}")),
        }
    }
    out.into_boxed_slice()
}

impl RtMatch {
    /// Compiles a match; problems are reported with `at` as context.
    pub(crate) fn compile(m: &RouteMatch, at: &str, problems: &mut Vec<String>) -> Self {
        let mut p = Vec::new();
        let out = RtMatch {
            uri: opt(&m.uri, "uri", &mut p),
            ignore_uri_case: m.ignore_uri_case,
            method: opt(&m.method, "method", &mut p),
            authority: opt(&m.authority, "authority", &mut p),
            scheme: opt(&m.scheme, "scheme", &mut p),
            headers: header_list(&m.headers, "header", &mut p),
            without_headers: header_list(&m.without_headers, "withoutHeaders header", &mut p),
            query_params: m
                .query_params
                .iter()
                .filter_map(|(k, v)| match Matcher::compile(v) {
                    Ok(m) => Some((k.as_str().into(), m)),
                    Err(e) => {
                        p.push(format!("query param {k:?}: {e}"));
                        None
                    }
                })
                .collect(),
        };
        problems.extend(p.into_iter().map(|e| format!("{at}: {e}")));
        out
    }

    /// Whether the request satisfies every condition.
    pub(crate) fn matches(&self, r: &RequestView<'_>) -> bool {
        if let Some(u) = &self.uri {
            let ok = if self.ignore_uri_case {
                u.matches_ignore_case(r.path)
            } else {
                u.matches(r.path)
            };
            if !ok {
                return false;
            }
        }
        if let Some(m) = &self.method
            && !m.matches(r.method)
        {
            return false;
        }
        if !self.matches_authority(r.authority) {
            return false;
        }
        if let Some(m) = &self.scheme
            && !m.matches(r.scheme)
        {
            return false;
        }
        for (name, m) in self.headers.iter() {
            if !header_matches(r.headers, name, m) {
                return false;
            }
        }
        for (name, m) in self.without_headers.iter() {
            if header_matches(r.headers, name, m) {
                return false;
            }
        }
        for (name, m) in self.query_params.iter() {
            match query_param(r.query, name) {
                Some(v) if m.matches(v) => {}
                _ => return false,
            }
        }
        true
    }

    /// Only the authority condition (how CONNECT requests are routed).
    pub(crate) fn matches_authority(&self, authority: &str) -> bool {
        self.authority.as_ref().is_none_or(|m| m.matches(authority))
    }

    /// The length of the matched URI prefix, for `rewrite.uri`: a prefix match's
    /// prefix, the whole path for exact/regex, `/` when there is no URI condition.
    pub(crate) fn rewrite_len(&self, path: &str) -> usize {
        match &self.uri {
            Some(Matcher::Prefix(p)) => p.len().min(path.len()),
            Some(_) => path.len(),
            None => usize::from(path.starts_with('/')),
        }
    }
}

fn header_matches(headers: &HeaderMap, name: &HeaderName, m: &Matcher) -> bool {
    match headers.get(name) {
        None => false,
        Some(_) if matches!(m, Matcher::Present) => true,
        Some(v) => v.to_str().is_ok_and(|v| m.matches(v)),
    }
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm(kind: &str, v: &str) -> StringMatch {
        let mut m = StringMatch::default();
        match kind {
            "exact" => m.exact = Some(v.into()),
            "prefix" => m.prefix = Some(v.into()),
            "regex" => m.regex = Some(v.into()),
            _ => {}
        }
        m
    }

    fn view<'a>(path: &'a str, query: Option<&'a str>, headers: &'a HeaderMap) -> RequestView<'a> {
        RequestView {
            method: "GET",
            path,
            query,
            authority: "reviews:9080",
            scheme: "http",
            headers,
        }
    }

    fn compile(m: &RouteMatch) -> RtMatch {
        let mut p = Vec::new();
        let out = RtMatch::compile(m, "test", &mut p);
        assert!(p.is_empty(), "{p:?}");
        out
    }

    #[test]
    fn uri_kinds_and_case() {
        let h = HeaderMap::new();
        let mut m = RouteMatch {
            uri: Some(sm("prefix", "/API")),
            ..Default::default()
        };
        assert!(!compile(&m).matches(&view("/api/x", None, &h)));
        m.ignore_uri_case = true;
        assert!(compile(&m).matches(&view("/api/x", None, &h)));
        m.uri = Some(sm("exact", "/a"));
        assert!(compile(&m).matches(&view("/A", None, &h)));
        assert!(!compile(&m).matches(&view("/ab", None, &h)));
        m.uri = Some(sm("regex", "/v[0-9]+"));
        assert!(compile(&m).matches(&view("/v12", None, &h)));
        assert!(
            !compile(&m).matches(&view("/v12/x", None, &h)),
            "regex is anchored"
        );
    }

    #[test]
    fn headers_and_query() {
        let mut h = HeaderMap::new();
        h.insert("end-user", http::HeaderValue::from_static("jason"));
        let mut m = RouteMatch::default();
        m.headers.insert("End-User".into(), sm("exact", "jason"));
        m.headers.insert("end-user".into(), StringMatch::default());
        assert!(compile(&m).matches(&view("/", None, &h)));
        m.without_headers
            .insert("x-debug".into(), StringMatch::default());
        assert!(compile(&m).matches(&view("/", None, &h)));
        h.insert("x-debug", http::HeaderValue::from_static("1"));
        assert!(!compile(&m).matches(&view("/", None, &h)));
        let mut m = RouteMatch::default();
        m.query_params.insert("v".into(), sm("exact", "2"));
        assert!(compile(&m).matches(&view("/", Some("a=1&v=2"), &h)));
        assert!(!compile(&m).matches(&view("/", Some("v=3"), &h)));
        assert!(!compile(&m).matches(&view("/", None, &h)));
    }

    #[test]
    fn bad_regex_is_a_problem() {
        let m = RouteMatch {
            uri: Some(sm("regex", "(")),
            ..Default::default()
        };
        let mut p = Vec::new();
        RtMatch::compile(&m, "route r", &mut p);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("route r: uri: regex"), "{p:?}");
    }

    #[test]
    fn rewrite_len() {
        let m = compile(&RouteMatch {
            uri: Some(sm("prefix", "/old")),
            ..Default::default()
        });
        assert_eq!(m.rewrite_len("/old/x"), 4);
        assert_eq!(compile(&RouteMatch::default()).rewrite_len("/x"), 1);
    }
}
