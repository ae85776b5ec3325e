//! Load balancer settings of a DestinationRule: simple algorithms, consistent hashing,
//! locality-aware balancing and warmup, with Istio's `validateLoadBalancer` and
//! `ValidateLocalityLbSetting`.

use serde::{Deserialize, Deserializer, Serialize};

use super::{LocalityLoadBalancerSetting, OutlierDetection};
use crate::common::Duration;
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// Load balancing for a destination: one of `simple` or `consistentHash`, plus
/// locality settings and warmup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancerSettings {
    /// A standard algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple: Option<SimpleLb>,
    /// Hash-based affinity (header, cookie, source IP or query parameter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_hash: Option<ConsistentHashLb>,
    /// Locality weighting and failover; replaces the mesh-wide setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality_lb_setting: Option<LocalityLoadBalancerSetting>,
    /// Deprecated: use `warmup`. Slow-start window for new endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_duration_secs: Option<Duration>,
    /// Slow-start settings for new endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<WarmupConfiguration>,
}

/// Standard load balancing algorithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SimpleLb {
    /// Let Istio choose.
    #[default]
    Unspecified,
    /// Deprecated: use `LEAST_REQUEST`.
    LeastConn,
    /// A random healthy host.
    Random,
    /// Forward to the caller's original destination address.
    Passthrough,
    /// Round robin.
    RoundRobin,
    /// Fewest outstanding requests (of two random picks).
    LeastRequest,
}

/// Consistent-hash load balancing: at most one hash key and one hash algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsistentHashLb {
    /// Hash on this HTTP header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_header_name: Option<String>,
    /// Hash on this cookie (generated when absent and a TTL is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_cookie: Option<HttpCookie>,
    /// Hash on the source IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_source_ip: Option<bool>,
    /// Hash on this query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_query_parameter_name: Option<String>,
    /// Use the ring hash algorithm (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_hash: Option<RingHash>,
    /// Use the Maglev algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maglev: Option<MagLev>,
    /// Deprecated: use `ringHash.minimumRingSize`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub minimum_ring_size: Option<u64>,
}

/// The cookie a consistent hash uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCookie {
    /// Cookie name (required).
    #[serde(default)]
    pub name: String,
    /// Path set on a generated cookie.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Lifetime of a generated cookie (`0s`: a session cookie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// Extra attributes set on a generated cookie (`SameSite`, `Secure`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<CookieAttribute>,
}

/// One attribute of a generated cookie.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CookieAttribute {
    /// Attribute name.
    #[serde(default)]
    pub name: String,
    /// Attribute value (empty for flags such as `Secure`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// Ring hash parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RingHash {
    /// Minimum number of virtual nodes on the ring (default 1024).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub minimum_ring_size: Option<u64>,
}

/// Maglev parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MagLev {
    /// Lookup table size: a prime below 5000011 (default 65537).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub table_size: Option<u64>,
}

/// Slow start for newly added endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WarmupConfiguration {
    /// Length of the warmup window (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Traffic share (0-100) an endpoint gets at the start of warmup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_percent: Option<f64>,
    /// How fast traffic ramps up (1 = linear; at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggression: Option<f64>,
}

/// uint64 fields: protobuf JSON writes them as strings, YAML users as numbers.
fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(u64),
        Str(String),
    }
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Str(s)) => s.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid unsigned integer {s:?}: expected a whole number such as 1024"
            ))
        }),
    }
}

const MAGLEV_TABLE_LIMIT: u64 = 5_000_011;

impl LoadBalancerSettings {
    /// Istio's `validateLoadBalancer`; `outlier` is the sibling outlier detection,
    /// which locality failover needs.
    pub fn validate(&self, at: &FieldPath, outlier: Option<&OutlierDetection>, r: &mut Report) {
        if self.simple.is_some() && self.consistent_hash.is_some() {
            r.error(
                at,
                "set only one of simple and consistentHash: they are alternative load balancing policies",
            );
        }
        if let Some(ch) = &self.consistent_hash {
            ch.validate(&at.field("consistentHash"), r);
        }
        if let Some(l) = &self.locality_lb_setting {
            l.validate(&at.field("localityLbSetting"), outlier, r);
        }
        if let Some(d) = &self.warmup_duration_secs {
            rules::check_duration(r, &at.field("warmupDurationSecs"), d);
        }
        if let Some(w) = &self.warmup {
            w.validate(&at.field("warmup"), r);
        }
    }
}

impl ConsistentHashLb {
    fn validate(&self, at: &FieldPath, r: &mut Report) {
        let keys = [
            self.http_header_name.is_some(),
            self.http_cookie.is_some(),
            self.use_source_ip.is_some(),
            self.http_query_parameter_name.is_some(),
        ];
        if keys.iter().filter(|k| **k).count() > 1 {
            r.error(
                at,
                "set only one hash key: httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName",
            );
        }
        if self.ring_hash.is_some() && self.maglev.is_some() {
            r.error(at, "set only one hash algorithm: ringHash or maglev");
        }
        if let Some(c) = &self.http_cookie {
            let c_at = at.field("httpCookie");
            if c.name.is_empty() {
                r.error(&c_at.field("name"), "name required for httpCookie");
            }
            for (i, a) in c.attributes.iter().enumerate() {
                if a.name.is_empty() {
                    r.error(
                        &c_at.field("attributes").index(i).field("name"),
                        "cookie attribute name is required",
                    );
                }
            }
        }
        let min_ring = self.minimum_ring_size.unwrap_or(0);
        if min_ring != 0 {
            r.warning(
                &at.field("minimumRingSize"),
                "consistent hash minimumRingSize is deprecated, use ringHash.minimumRingSize instead",
            );
            if self.ring_hash.is_some() || self.maglev.is_some() {
                r.error(
                    &at.field("minimumRingSize"),
                    "only one of minimumRingSize or maglev/ringHash can be specified",
                );
            }
        }
        if let Some(m) = &self.maglev {
            let ts_at = at.field("maglev").field("tableSize");
            let ts = m.table_size.unwrap_or(0);
            if ts == 0 {
                r.error(
                    &ts_at,
                    "tableSize must be set for maglev: a prime number below 5000011, such as 65537",
                );
            } else {
                if ts >= MAGLEV_TABLE_LIMIT {
                    r.error(
                        &ts_at,
                        format!("tableSize {ts} invalid: must be less than 5000011 for maglev"),
                    );
                }
                if !is_prime(ts) {
                    r.error(
                        &ts_at,
                        format!("tableSize {ts} invalid: must be a prime number for maglev"),
                    );
                }
            }
        }
    }
}

/// Envoy's (and Istio's) primality test for Maglev table sizes.
fn is_prime(x: u64) -> bool {
    if x != 0 && x < 4 {
        return true;
    }
    if x & 1 == 0 {
        return false;
    }
    let mut f = 3u64;
    while f.saturating_mul(f) <= x {
        if x.is_multiple_of(f) {
            return false;
        }
        f += 2;
    }
    true
}

impl WarmupConfiguration {
    fn validate(&self, at: &FieldPath, r: &mut Report) {
        match &self.duration {
            None => r.error(
                &at.field("duration"),
                "warmup duration is required, such as 60s",
            ),
            Some(d) => rules::check_duration(r, &at.field("duration"), d),
        }
        if let Some(p) = self.minimum_percent
            && !(0.0..=100.0).contains(&p)
        {
            r.error(
                &at.field("minimumPercent"),
                format!("minimumPercent {p} invalid: must be between 0 and 100"),
            );
        }
        if let Some(a) = self.aggression
            && (a.is_nan() || a < 1.0)
        {
            r.error(
                &at.field("aggression"),
                format!("aggression {a} invalid: must be at least 1 (1 ramps up linearly)"),
            );
        }
    }
}
