//! Consistent hashing (DestinationRule `consistentHash`): the key comes from a
//! header, a cookie, the source IP or a query parameter; the endpoint is the one
//! with the highest rendezvous score for the key, so adding or removing an
//! endpoint moves only the keys that belonged to it.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::COOKIE;
use mesh_api::proxy::HashPolicy;

use super::RtEndpoint;

/// A fixed-seed hasher: the same key picks the same endpoint in every proxy
/// and across restarts.
#[derive(Clone, Copy, Default)]
struct Fixed;

impl BuildHasher for Fixed {
    type Hasher = std::hash::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::hash::DefaultHasher::new()
    }
}

fn hash_bytes(parts: &[&[u8]]) -> u64 {
    let mut h = Fixed.build_hasher();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

/// The hash key of a request, and a cookie to set when the proxy made one up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashKey {
    pub key: u64,
    /// `Set-Cookie` value for the response (a generated cookie).
    pub set_cookie: Option<String>,
}

/// The request's key under `policy`; `None` when the request lacks it (then
/// the cluster's balancing policy decides, as Envoy does).
pub(crate) fn hash_key(
    policy: &HashPolicy,
    headers: &HeaderMap,
    query: Option<&str>,
    peer: Option<SocketAddr>,
) -> Option<HashKey> {
    let plain = |key: u64| {
        Some(HashKey {
            key,
            set_cookie: None,
        })
    };
    match policy {
        HashPolicy::Header(name) => {
            let values: Vec<&[u8]> = headers
                .get_all(name.as_str())
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            if values.is_empty() {
                return None;
            }
            plain(hash_bytes(&values))
        }
        HashPolicy::SourceIp => {
            let ip = peer?.ip();
            match ip {
                IpAddr::V4(v4) => plain(hash_bytes(&[&v4.octets()])),
                IpAddr::V6(v6) => plain(hash_bytes(&[&v6.octets()])),
            }
        }
        HashPolicy::QueryParameter(name) => {
            let value = query?.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == name).then_some(v)
            })?;
            plain(hash_bytes(&[value.as_bytes()]))
        }
        HashPolicy::Cookie { name, path, ttl } => {
            if let Some(v) = cookie(headers, name) {
                return plain(hash_bytes(&[v.as_bytes()]));
            }
            let ttl = ttl.as_ref()?;
            let value = format!("{:016x}", crate::balance::next_random());
            let mut set = format!("{name}=\"{value}\"; Max-Age={}", ttl.as_std().as_secs());
            if !path.is_empty() {
                set.push_str("; Path=");
                set.push_str(path);
            }
            set.push_str("; HttpOnly");
            Some(HashKey {
                key: hash_bytes(&[value.as_bytes()]),
                set_cookie: Some(set),
            })
        }
    }
}

/// A cookie's value from the request's `Cookie` headers (quotes removed).
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.trim_matches('"'))
        })
}

/// The endpoint with the highest weighted rendezvous score for `key` among
/// those `ok` accepts.
pub(crate) fn rendezvous<'a>(
    endpoints: &'a [RtEndpoint],
    key: u64,
    ok: &dyn Fn(&RtEndpoint) -> bool,
) -> Option<&'a RtEndpoint> {
    endpoints
        .iter()
        .filter(|e| ok(e) && e.weight > 0)
        .map(|e| (score(key, e.addr, e.weight), e))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, e)| e)
}

/// Weighted rendezvous: `-w / ln(u)` with `u` uniform in (0, 1) from the hash.
fn score(key: u64, addr: SocketAddr, weight: u32) -> f64 {
    let h = hash_bytes(&[&key.to_le_bytes(), addr.to_string().as_bytes()]);
    // 53 high bits to a float strictly inside (0, 1).
    let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -f64::from(weight) / u.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn header_key_is_stable_and_absent_header_has_none() {
        let p = HashPolicy::Header("x-user".into());
        let mut h = HeaderMap::new();
        assert_eq!(hash_key(&p, &h, None, None), None);
        h.insert("x-user", HeaderValue::from_static("jason"));
        let a = hash_key(&p, &h, None, None);
        let b = hash_key(&p, &h, None, None);
        assert!(a.is_some());
        assert_eq!(a, b);
        h.insert("x-user", HeaderValue::from_static("kim"));
        assert_ne!(hash_key(&p, &h, None, None), a);
    }

    #[test]
    fn cookie_is_read_or_generated_with_ttl() {
        let p = HashPolicy::Cookie {
            name: "user".into(),
            path: "/".into(),
            ttl: Some(mesh_api::common::Duration::from_std(
                std::time::Duration::from_secs(60),
            )),
        };
        let mut h = HeaderMap::new();
        let made = hash_key(&p, &h, None, None);
        let Some(HashKey {
            key,
            set_cookie: Some(set),
        }) = made
        else {
            panic!("expected a generated cookie, got {made:?}");
        };
        assert!(
            set.starts_with("user=\"") && set.contains("Max-Age=60") && set.contains("Path=/"),
            "{set}"
        );
        // Sending the cookie back gives the same key.
        let value = set.split(';').next().unwrap_or_default().to_string();
        h.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {value}")).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(hash_key(&p, &h, None, None).map(|k| k.key), Some(key));
        // Without a TTL no cookie is made.
        let p = HashPolicy::Cookie {
            name: "user".into(),
            path: String::new(),
            ttl: None,
        };
        assert_eq!(hash_key(&p, &HeaderMap::new(), None, None), None);
    }

    #[test]
    fn query_parameter_and_source_ip() {
        let p = HashPolicy::QueryParameter("u".into());
        assert!(hash_key(&p, &HeaderMap::new(), Some("a=1&u=x"), None).is_some());
        assert_eq!(hash_key(&p, &HeaderMap::new(), Some("a=1"), None), None);
        let p = HashPolicy::SourceIp;
        let a: SocketAddr = "10.0.0.1:1000"
            .parse()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        let b: SocketAddr = "10.0.0.1:2000"
            .parse()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        assert_eq!(
            hash_key(&p, &HeaderMap::new(), None, Some(a)),
            hash_key(&p, &HeaderMap::new(), None, Some(b)),
            "the port does not matter"
        );
    }
}
