//! RequestAuthentication (`security.istio.io`): which JWTs a workload accepts. A request
//! with an invalid token is rejected; one without a token is let through unauthenticated.

use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;
use super::policy::{reject_dry_run, validate_targeting};
use crate::common::{Duration, WorkloadSelector};
use crate::kind::Kind;
use crate::object::{Object, Spec};
use crate::path::FieldPath;
use crate::validation::{Report, rules};

/// A RequestAuthentication resource.
pub type RequestAuthentication = Object<RequestAuthenticationSpec>;

/// The `spec` of a RequestAuthentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestAuthenticationSpec {
    /// The workloads the policy applies to; at most one of selector, targetRef and
    /// targetRefs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<WorkloadSelector>,
    /// A single resource (Gateway, Service, ...) the policy applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<PolicyTargetReference>,
    /// The resources (Gateways, Services, ServiceEntries) the policy applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<PolicyTargetReference>,
    /// The JWTs the selected workloads accept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jwt_rules: Vec<JwtRule>,
}

/// How to find, verify and use one kind of JWT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtRule {
    /// The token issuer (`iss` claim), usually a URL or an email address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuer: String,
    /// Accepted audiences (`aud` claim); any audience when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// URL of the issuer's public key set (http or https).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jwks_uri: String,
    /// `jwks_uri`, the proto field name, which the CRD also accepts.
    #[serde(default, rename = "jwks_uri", skip_serializing_if = "String::is_empty")]
    pub jwks_uri_snake: String,
    /// The public key set inline, as JSON.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jwks: String,
    /// Headers to read the token from; default `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_headers: Vec<JwtHeader>,
    /// Query parameters to read the token from; default `access_token`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_params: Vec<String>,
    /// Cookies to read the token from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_cookies: Vec<String>,
    /// A header to which the verified payload is written (base64url JSON).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output_payload_to_header: String,
    /// Keep the token in the request forwarded upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_original_token: Option<bool>,
    /// Claims copied to request headers after verification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_claim_to_headers: Vec<ClaimToHeader>,
    /// How long istiod waits to fetch the JWKS (when it fetches, not the proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Claims holding space-separated strings (such as `scope`) to match as lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub space_delimited_claims: Vec<String>,
}

impl JwtRule {
    /// The JWKS URL, from `jwksUri` or its `jwks_uri` spelling.
    pub fn jwks_url(&self) -> Option<&str> {
        [&self.jwks_uri, &self.jwks_uri_snake]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(String::as_str)
    }
}

/// A header that carries the token, and the prefix (such as `Bearer `) before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtHeader {
    /// The header name.
    #[serde(default)]
    pub name: String,
    /// Stripped from the header value before the token is decoded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
}

/// Copy a claim to a request header: `{header: x-jwt-sub, claim: sub}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimToHeader {
    /// The header to write.
    #[serde(default)]
    pub header: String,
    /// The claim to read.
    #[serde(default)]
    pub claim: String,
}

impl Spec for RequestAuthenticationSpec {
    const KIND: Kind = Kind::RequestAuthentication;

    /// Istio's `ValidateRequestAuthentication` and `validateJwtRule`, plus the CRD's rules.
    fn validate(&self, meta: &ObjectMeta, r: &mut Report) {
        let at = FieldPath::spec();
        reject_dry_run(meta, "RequestAuthentication", r);
        validate_targeting(
            self.selector.as_ref(),
            self.target_ref.as_ref(),
            &self.target_refs,
            &at,
            r,
        );
        for (i, rule) in self.jwt_rules.iter().enumerate() {
            validate_jwt_rule(rule, &at.field("jwtRules").index(i), r);
        }
    }
}

static STRICT_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[-A-Za-z0-9]+$").expect("static regex"));

fn validate_jwt_rule(rule: &JwtRule, at: &FieldPath, r: &mut Report) {
    for (i, aud) in rule.audiences.iter().enumerate() {
        if aud.is_empty() {
            r.error(
                &at.field("audiences").index(i),
                "audience must not be empty",
            );
        }
    }
    if rule.issuer.is_empty() && rule.jwks_url().is_none() {
        r.error(
            &at.field("issuer"),
            "issuer is required (or at least jwksUri): name the token issuer, the JWT's iss claim",
        );
    }
    let sources = [
        ("jwksUri", &rule.jwks_uri),
        ("jwks_uri", &rule.jwks_uri_snake),
        ("jwks", &rule.jwks),
    ];
    if sources.iter().filter(|(_, s)| !s.is_empty()).count() > 1 {
        r.error(
            at,
            "only one of jwks or jwksUri can be set: give the keys inline or a URL to fetch them from",
        );
    }
    for (name, uri) in &sources[..2] {
        if !uri.is_empty()
            && let Some(p) = jwks_uri_problem(uri)
        {
            r.error(&at.field(name), p);
        }
    }
    if !rule.jwks.is_empty()
        && let Some(p) = jwks_problem(&rule.jwks)
    {
        r.error(&at.field("jwks"), format!("jwks parse error: {p}"));
    }
    for (i, h) in rule.from_headers.iter().enumerate() {
        if h.name.is_empty() {
            r.error(
                &at.field("fromHeaders").index(i).field("name"),
                "header name must not be empty",
            );
        }
    }
    for (field, list, what) in [
        ("fromParams", &rule.from_params, "query parameter name"),
        ("fromCookies", &rule.from_cookies, "cookie name"),
        (
            "spaceDelimitedClaims",
            &rule.space_delimited_claims,
            "claim name",
        ),
    ] {
        for (i, v) in list.iter().enumerate() {
            if v.is_empty() {
                r.error(
                    &at.field(field).index(i),
                    format!("{what} must not be empty"),
                );
            }
        }
    }
    if rule.space_delimited_claims.len() > 64 {
        r.error(
            &at.field("spaceDelimitedClaims"),
            format!(
                "{} space-delimited claims is too many: at most 64",
                rule.space_delimited_claims.len()
            ),
        );
    }
    for (i, c) in rule.output_claim_to_headers.iter().enumerate() {
        let here = at.field("outputClaimToHeaders").index(i);
        if c.claim.is_empty() {
            r.error(&here.field("claim"), "claim must not be empty");
        }
        if c.header.is_empty() {
            r.error(&here.field("header"), "header must not be empty");
        } else if !STRICT_HEADER.is_match(&c.header) {
            r.error(
                &here.field("header"),
                format!(
                    "header name {:?} invalid: only letters, digits and '-'",
                    c.header
                ),
            );
        }
    }
    if let Some(t) = &rule.timeout {
        rules::check_duration(r, &at.field("timeout"), t);
    }
}

/// Istio's `ParseJwksURI` (Go's `url.Parse`, then an http or https scheme) and the
/// CRD's 2048-character limit.
fn jwks_uri_problem(uri: &str) -> Option<String> {
    if uri.len() > 2048 {
        return Some("jwksUri is too long: at most 2048 characters".into());
    }
    if uri.chars().any(|c| c.is_ascii_control()) {
        return Some(format!(
            "jwksUri {uri:?} invalid: contains a control character"
        ));
    }
    let scheme = uri
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
        .map(str::to_ascii_lowercase);
    let Some(scheme @ ("http" | "https")) = scheme.as_deref() else {
        return Some(format!(
            "jwksUri {uri:?} invalid: the scheme must be http or https, as in https://example.com/.well-known/jwks.json"
        ));
    };
    let rest = uri[scheme.len() + 1..].strip_prefix("//")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((_, "")) => None,
            Some((_, after)) => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => {
                    return Some(format!(
                        "jwksUri {uri:?} invalid: unexpected text after the IPv6 address"
                    ));
                }
            },
            None => {
                return Some(format!("jwksUri {uri:?} invalid: missing ']' in the host"));
            }
        }
    } else {
        host_port.rsplit_once(':').map(|(_, p)| p)
    };
    if let Some(p) = port
        && !p.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(format!(
            "jwksUri {uri:?} invalid: port {p:?} is not a number"
        ));
    }
    if host_port.contains([' ', '<', '>', '"', '{', '}', '|', '\\', '^', '`']) {
        return Some(format!(
            "jwksUri {uri:?} invalid: invalid character in the host"
        ));
    }
    None
}

/// What Istio's JWK parser would reject: not JSON, not an object, or keys without a
/// known key type (`kty` RSA, EC, OKP or oct). A set (`{"keys": [...]}`) or a single
/// key is accepted.
fn jwks_problem(jwks: &str) -> Option<String> {
    let value: serde_json::Value = match serde_json::from_str(jwks) {
        Ok(v) => v,
        Err(e) => return Some(format!("not valid JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return Some("expected a JSON object (a key set {\"keys\": [...]} or one key)".into());
    };
    let keys: Vec<&serde_json::Value> = match obj.get("keys") {
        Some(serde_json::Value::Array(keys)) => keys.iter().collect(),
        Some(_) => return Some("\"keys\" must be a list of keys".into()),
        None => vec![&value],
    };
    for (i, key) in keys.iter().enumerate() {
        match key.get("kty").and_then(|k| k.as_str()) {
            Some("RSA" | "EC" | "OKP" | "oct") => {}
            Some(other) => {
                return Some(format!(
                    "key {i}: unsupported key type {other:?} (expected RSA, EC, OKP or oct)"
                ));
            }
            None => return Some(format!("key {i}: missing \"kty\"")),
        }
    }
    None
}

#[cfg(test)]
mod tests;
