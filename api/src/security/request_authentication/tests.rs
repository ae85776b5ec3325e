use super::{jwks_problem, jwks_uri_problem};
use crate::validation::testing::{assert_error, assert_valid};

const HEAD: &str = "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: jwt\n  namespace: foo\n";

fn doc(spec: &str) -> String {
    format!("{HEAD}spec:\n{spec}")
}

fn rule(fields: &str) -> String {
    doc(&format!("  jwtRules:\n  - issuer: issuer-foo\n{fields}"))
}

const RICH: &str = r#"apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "issuer-foo"
    audiences: ["bookstore_android.apps.googleusercontent.com"]
    jwksUri: https://example.com/.well-known/jwks.json
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams: ["my_token"]
    fromCookies: ["session"]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - header: x-jwt-claim-foo
      claim: foo
    timeout: 20s
    spaceDelimitedClaims: ["scope", "permissions"]
  - issuer: "issuer-bar"
    jwks: '{"keys": [{"kty": "RSA", "e": "AQAB", "n": "xAE7"}]}'
"#;

#[test]
fn reference_example_is_valid_and_round_trips() {
    assert_valid(RICH);
    let docs = crate::yaml::parse_documents(RICH).expect("yaml");
    let res = crate::resource::Resource::from_node(&docs[0]).expect("decode");
    let back: super::RequestAuthentication =
        serde_json::from_value(res.to_json()).expect("re-decode");
    let crate::resource::Resource::RequestAuthentication(orig) = res else {
        panic!("kind");
    };
    assert_eq!(*orig, back);
}

#[test]
fn issuer_or_jwks_uri_required() {
    assert_valid(&doc(
        "  jwtRules:\n  - jwksUri: https://example.com/jwks.json\n",
    ));
    assert_error(
        &doc("  jwtRules:\n  - audiences: [a]\n"),
        "issuer is required",
    );
}

#[test]
fn audiences_not_empty() {
    assert_error(
        &rule("    audiences: [\"\"]\n"),
        "audiences[0]: audience must not be empty",
    );
}

#[test]
fn jwks_uri_scheme_and_port() {
    assert_valid(&rule("    jwksUri: http://keys.example.com:8080/jwks\n"));
    assert_valid(&rule("    jwks_uri: HTTPS://[::1]:443/jwks\n"));
    assert_error(
        &rule("    jwksUri: \"hTPp\\\\blah\"\n"),
        "scheme must be http or https",
    );
    assert_error(
        &rule("    jwksUri: ftp://example.com/jwks\n"),
        "scheme must be http or https",
    );
    assert_error(
        &rule("    jwksUri: https://example.com:abc/jwks\n"),
        "is not a number",
    );
    for ok in [
        "https://example.com",
        "http://a.b/c?d=e",
        "https://user@host:1/x",
    ] {
        assert_eq!(jwks_uri_problem(ok), None, "{ok}");
    }
    for bad in [
        "example.com/jwks",
        "https://[::1/jwks",
        "https://ex ample.com/",
    ] {
        assert!(jwks_uri_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn one_of_jwks_and_jwks_uri() {
    assert_error(
        &rule("    jwksUri: https://example.com/jwks\n    jwks: '{\"keys\": []}'\n"),
        "only one of jwks or jwksUri",
    );
    assert_error(
        &rule("    jwksUri: https://example.com/jwks\n    jwks_uri: https://example.com/jwks\n"),
        "only one of jwks or jwksUri",
    );
}

#[test]
fn jwks_must_parse() {
    assert_valid(&rule("    jwks: '{\"kty\": \"EC\", \"crv\": \"P-256\"}'\n"));
    assert_error(&rule("    jwks: 'not json'\n"), "jwks parse error");
    assert_eq!(jwks_problem("{\"keys\": []}"), None);
    assert!(jwks_problem("[1]").is_some());
    assert!(jwks_problem("{\"keys\": [{\"kty\": \"DSA\"}]}").is_some());
    assert!(jwks_problem("{\"keys\": [{\"n\": \"x\"}]}").is_some());
}

#[test]
fn token_locations_not_empty() {
    assert_valid(&rule("    fromHeaders:\n    - name: x-token\n"));
    assert_error(
        &rule("    fromHeaders:\n    - prefix: baz\n"),
        "fromHeaders[0].name: header name must not be empty",
    );
    assert_error(&rule("    fromParams: [\"\"]\n"), "fromParams[0]");
    assert_error(&rule("    fromCookies: [\"\"]\n"), "fromCookies[0]");
    assert_error(
        &rule("    spaceDelimitedClaims: [\"\"]\n"),
        "spaceDelimitedClaims[0]",
    );
}

#[test]
fn claim_to_header() {
    assert_valid(&rule(
        "    outputClaimToHeaders:\n    - header: x-sub\n      claim: sub\n",
    ));
    assert_error(
        &rule("    outputClaimToHeaders:\n    - header: h\n      claim: \"\"\n"),
        "claim must not be empty",
    );
    assert_error(
        &rule("    outputClaimToHeaders:\n    - header: \":authority\"\n      claim: x\n"),
        "only letters, digits and '-'",
    );
    assert_error(
        &rule("    outputClaimToHeaders:\n    - header: x_sub\n      claim: x\n"),
        "only letters, digits and '-'",
    );
}

#[test]
fn timeout_duration() {
    assert_valid(&rule("    timeout: 1ms\n"));
    assert_error(&rule("    timeout: 0s\n"), "at least 1ms");
}

#[test]
fn targeting() {
    assert_valid(&doc(
        "  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: gw\n",
    ));
    assert_error(
        &doc(
            "  selector:\n    matchLabels:\n      a: b\n  targetRef:\n    group: \"\"\n    kind: Service\n    name: foo\n",
        ),
        "only one of",
    );
    assert_error(
        &doc("  targetRef:\n    group: \"__\"\n    kind: Service\n    name: foo\n"),
        "spec.targetRef.group",
    );
    assert_error(
        &doc("  targetRef:\n    group: \"\"\n    kind: Serv_ice\n    name: foo\n"),
        "spec.targetRef.kind",
    );
}
