//! HTTP route rules: one valid and one invalid case for each.

use super::headers::header_value_problem;
use super::tests::{doc, http};
use crate::validation::testing::{assert_error, assert_valid, warnings};

/// A route of `hosts: [reviews]` made only of `body` (no default `route`).
fn bare(body: &str) -> String {
    let body: String = body
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            }
        })
        .collect();
    doc(&format!("hosts: [reviews]\nhttp:\n{body}"))
}

#[test]
fn route_redirect_direct_response_conflicts() {
    assert_valid(&bare("redirect: {uri: /x}"));
    assert_valid(&bare("directResponse: {status: 503}"));
    assert_error(
        &bare("name: empty"),
        "needs one of route, redirect, directResponse or delegate",
    );
    let both = http(
        "redirect: {uri: /x}\nfault: {abort: {httpStatus: 500}}\nrewrite: {uri: /y}\ndirectResponse: {status: 200}",
    );
    for needle in [
        "route and redirect",
        "fault and redirect",
        "rewrite and redirect",
        "directResponse and redirect",
    ] {
        assert_error(&both, needle);
    }
    let dr = http(
        "directResponse: {status: 200}\nfault: {abort: {httpStatus: 500}}\nrewrite: {uri: /y}",
    );
    for needle in [
        "route and directResponse",
        "fault and directResponse",
        "rewrite and directResponse",
    ] {
        assert_error(&dr, needle);
    }
    assert_error(
        &http("mirror: {host: m}\nmirrors:\n- destination: {host: n}"),
        "both mirror and mirrors",
    );
}

#[test]
fn match_requests() {
    assert_valid(&http(
        "match:\n- uri: {prefix: \"\"}\n  scheme: {exact: https}\n  method: {regex: \"GET|POST\"}\n  authority: {prefix: api.}\n  headers: {\":path\": {prefix: /}, x-user: {}}\n  withoutHeaders: {x-debug: {regex: \"*\"}}\n  queryParams: {v: {exact: \"1\"}}\n  port: 8080\n  gateways: [ns/gw]\n  sourceNamespace: web",
    ));
    for (m, needle) in [
        (
            "headers: {\"bad header\": {exact: x}}",
            "headers[bad header]: header name",
        ),
        (
            "headers: {x: {prefix: \"\"}}",
            "headers[x].prefix: prefix match must not be empty",
        ),
        (
            "headers: {x: {exact: a, prefix: b}}",
            "set only one of exact, prefix or regex",
        ),
        (
            "withoutHeaders: {x: {regex: \"(\"}}",
            "withoutHeaders[x].regex",
        ),
        ("uri: {regex: \"a(b\"}", "uri.regex"),
        ("uri: {regex: \"\"}", "uri.regex"),
        ("method: {prefix: \"\"}", "method.prefix"),
        ("scheme: {regex: \"[\"}", "scheme.regex"),
        ("authority: {prefix: \"\"}", "authority.prefix"),
        ("queryParams: {q: {regex: \"(\"}}", "queryParams[q].regex"),
        ("port: 70000", "match[0].port"),
        ("sourceLabels: {app: \"bad value\"}", "sourceLabels[app]"),
        ("gateways: [\"Bad_ns/gw\"]", "match[0].gateways[0]"),
        ("sourceNamespace: Bad_NS", "sourceNamespace"),
    ] {
        assert_error(&http(&format!("match:\n- {m}")), needle);
    }
    let long = "a".repeat(1025);
    assert_error(
        &http(&format!("match:\n- uri: {{regex: {long}}}")),
        "regex is too large",
    );
}

#[test]
fn header_operations() {
    assert_valid(&http(
        "headers:\n  request: {set: {x-a: b, host: new}, add: {x-b: \"%DOWNSTREAM_REMOTE_ADDRESS%\"}, remove: [x-c]}\n  response: {set: {x-d: \"100%%\"}, add: {x-e: f}, remove: [x-f]}",
    ));
    for (h, needle) in [
        (
            "request: {set: {\":path\": /x}}",
            "request.set[:path]: header \":path\" cannot be changed",
        ),
        ("request: {remove: [host]}", "request.remove[0]"),
        ("request: {remove: [\":method\"]}", "request.remove[0]"),
        ("response: {set: {host: x}}", "response.set[host]"),
        (
            "response: {add: {\":status\": \"200\"}}",
            "response.add[:status]",
        ),
        ("request: {set: {x: \"50%\"}}", "un-escaped '%'"),
        (
            "request: {add: {x: \"%START_TIME\"}}",
            "un-terminated variable",
        ),
        ("response: {remove: [\"\"]}", "header name cannot be empty"),
    ] {
        assert_error(&http(&format!("headers:\n  {h}")), needle);
    }
    // Destination-level headers are checked the same way.
    assert_error(
        &doc(
            "hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n    headers: {response: {set: {host: x}}}",
        ),
        "route[0].headers.response.set[host]",
    );
}

#[test]
fn header_values() {
    for ok in [
        "foo",
        "%HOSTNAME%",
        "100%%",
        "prefix %HOSTNAME% suffix",
        "%REQ(x-foo)%",
        "%ENVIRONMENT([\"A\", \"B\"])%",
        "a\tb",
    ] {
        assert_eq!(header_value_problem(ok), None, "{ok}");
    }
    for bad in ["abc%123", "%START_TIME%%", "a\u{1}b", "%VAR([\"a\" x])%"] {
        assert!(header_value_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn authority_rewritten_once() {
    assert_valid(&http("rewrite: {authority: a}"));
    assert_valid(&http("headers: {request: {set: {\":authority\": a}}}"));
    assert_error(
        &http("rewrite: {authority: a}\nheaders: {request: {set: {host: b}}}"),
        "authority cannot be set more than once",
    );
    assert_error(
        &http("headers: {request: {set: {host: a}, add: {\":authority\": b}}}"),
        "authority cannot be set more than once",
    );
}

#[test]
fn cors_policy() {
    assert_valid(&http(
        "corsPolicy:\n  allowOrigin: [\"https://a.com\"]\n  allowOrigins: [{prefix: \"https://\"}]\n  allowMethods: [GET, OPTIONS, \"*\"]\n  allowHeaders: [\"*\", X-Custom]\n  exposeHeaders: [X-Id]\n  maxAge: 1m\n  unmatchedPreflights: FORWARD",
    ));
    for (c, needle) in [
        (
            "allowOrigins: [{exact: \"\"}]",
            "allowOrigins[0]: allowOrigins entry must set",
        ),
        ("allowOrigins: [{regex: \"(\"}]", "allowOrigins[0].regex"),
        (
            "allowMethods: [get]",
            "\"get\" is not a supported HTTP method",
        ),
        ("allowHeaders: [\"bad header\"]", "allowHeaders[0]"),
        ("exposeHeaders: [\"\"]", "exposeHeaders[0]"),
        ("maxAge: 1500ms", "only whole seconds"),
        ("maxAge: 0s", "maxAge"),
    ] {
        assert_error(&http(&format!("corsPolicy:\n  {c}")), needle);
    }
}

#[test]
fn fault_injection() {
    assert_valid(&http(
        "fault:\n  delay: {fixedDelay: 5s, percentage: {value: 0.001}}\n  abort: {grpcStatus: UNAVAILABLE, percentage: {value: 0}}",
    ));
    assert_valid(&http("fault: {abort: {httpStatus: 600}}"));
    for (f, needle) in [
        ("{}", "needs an abort, a delay, or both"),
        (
            "{abort: {httpStatus: 199}}",
            "abort.httpStatus: HTTP status 199",
        ),
        ("{abort: {httpStatus: 601}}", "HTTP status 601"),
        ("{abort: {grpcStatus: NOPE}}", "gRPC status \"NOPE\""),
        ("{abort: {http2Error: x}}", "not supported yet"),
        (
            "{abort: {httpStatus: 500, grpcStatus: INTERNAL}}",
            "set only one of httpStatus",
        ),
        (
            "{abort: {httpStatus: 500, percentage: {value: 101}}}",
            "abort.percentage.value",
        ),
        (
            "{delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}",
            "delay.percentage.value",
        ),
        ("{delay: {fixedDelay: 0s}}", "delay.fixedDelay"),
        (
            "{delay: {exponentialDelay: 1s}}",
            "exponentialDelay is not supported",
        ),
    ] {
        assert_error(&http(&format!("fault: {f}")), needle);
    }
    let untyped = http("fault: {abort: {percentage: {value: 1}}}");
    assert_valid(&untyped);
    assert!(
        warnings(&untyped)
            .iter()
            .any(|w| w.contains("no error type"))
    );
}

#[test]
fn mirrors() {
    assert_valid(&http("mirror: {host: m}\nmirrorPercentage: {value: 100}"));
    assert_valid(&http(
        "mirrors:\n- destination: {host: m}\n  percentage: {value: 5}",
    ));
    for (m, needle) in [
        ("mirror: {host: \"*\"}", "mirror.host"),
        ("mirrorPercentage: {value: 101}", "mirrorPercentage.value"),
        ("mirrorPercentage: {value: -1}", "mirrorPercentage.value"),
        (
            "mirrors:\n- percentage: {value: 5}",
            "destination is required for mirrors",
        ),
        (
            "mirrors:\n- destination: {host: m}\n  percentage: {value: 200}",
            "mirrors[0].percentage.value",
        ),
        ("mirrorPercent: 101", "mirrorPercent 101"),
    ] {
        assert_error(&http(m), needle);
    }
    let deprecated = http("mirror: {host: m}\nmirrorPercent: 50");
    assert_valid(&deprecated);
    assert!(
        warnings(&deprecated)
            .iter()
            .any(|w| w.contains("deprecated"))
    );
}

#[test]
fn redirects() {
    assert_valid(&bare(
        "redirect: {port: 8443, scheme: https, redirectCode: 302}",
    ));
    assert_valid(&bare("redirect: {derivePort: FROM_PROTOCOL_DEFAULT}"));
    for (rd, needle) in [
        ("{redirectCode: 301}", "redirect must set at least one of"),
        ("{uri: /x, redirectCode: 200}", "redirect code 200 invalid"),
        ("{scheme: ftp}", "redirect scheme \"ftp\""),
        ("{port: 70000}", "redirect.port"),
        (
            "{port: 80, derivePort: FROM_REQUEST_PORT}",
            "set only one of port or derivePort",
        ),
    ] {
        assert_error(&bare(&format!("redirect: {rd}")), needle);
    }
}

#[test]
fn direct_responses() {
    assert_valid(&bare(
        "directResponse: {status: 418, body: {bytes: aGVsbG8=}}",
    ));
    for (dr, needle) in [
        ("{status: 0}", "directResponse.status"),
        ("{status: 700}", "HTTP status 700"),
        (
            "{status: 200, body: {string: a, bytes: YQ==}}",
            "set only one of string or bytes",
        ),
        (
            "{status: 200, body: {bytes: \"not base64!\"}}",
            "bytes must be base64",
        ),
    ] {
        assert_error(&bare(&format!("directResponse: {dr}")), needle);
    }
    let big = "x".repeat(200 * 1024);
    let large = bare(&format!(
        "directResponse: {{status: 200, body: {{string: {big}}}}}"
    ));
    assert_valid(&large);
    assert!(warnings(&large).iter().any(|w| w.contains("large bodies")));
    let huge = "x".repeat(1024 * 1024 + 1);
    assert_error(
        &bare(&format!(
            "directResponse: {{status: 200, body: {{string: {huge}}}}}"
        )),
        "less than 1MB",
    );
}

#[test]
fn retries() {
    assert_valid(&http(
        "retries: {attempts: 3, perTryTimeout: 2s, retryOn: \"5xx,gateway-error,reset,503,unavailable,cancelled\", backoff: 100ms}",
    ));
    assert_valid(&http("retries: {attempts: 0}"));
    for (rt, needle) in [
        ("{attempts: -1}", "cannot be negative"),
        ("{perTryTimeout: 1s}", "while attempts is 0"),
        (
            "{attempts: 2, retryOn: \"5xx,bogus\"}",
            "\"bogus\" is not a valid retryOn policy",
        ),
        (
            "{attempts: 2, retryOn: \"999\"}",
            "\"999\" is not a valid retryOn policy",
        ),
        (
            "{attempts: 2, retryOn: \"5xx, reset\"}",
            "\" reset\" is not a valid",
        ),
        ("{attempts: 2, perTryTimeout: 0.5ms}", "perTryTimeout"),
        ("{attempts: 2, backoff: 0s}", "backoff"),
    ] {
        assert_error(&http(&format!("retries: {rt}")), needle);
    }
}

#[test]
fn rewrites() {
    assert_valid(&http(
        "rewrite: {uriRegexRewrite: {match: \"^/v1/(.*)\", rewrite: \"/\\\\1\"}}",
    ));
    for (rw, needle) in [
        ("{}", "rewrite must set at least one of"),
        (
            "{uri: /a, uriRegexRewrite: {match: a, rewrite: b}}",
            "only one of uri or uriRegexRewrite",
        ),
        (
            "{uriRegexRewrite: {match: a}}",
            "needs both match and rewrite",
        ),
        (
            "{uriRegexRewrite: {match: \"(\", rewrite: b}}",
            "uriRegexRewrite.match",
        ),
    ] {
        assert_error(&http(&format!("rewrite: {rw}")), needle);
    }
}

#[test]
fn timeouts_and_weights() {
    assert_valid(&http("timeout: 1.5s"));
    assert_error(&http("timeout: 0s"), "spec.http[0].timeout");
    assert_valid(&doc(
        "hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n    weight: 30\n  - destination: {host: b}\n    weight: 70",
    ));
    assert_error(
        &doc("hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n  - destination: {host: b}"),
        "spec.http[0].route: total destination weight is 0",
    );
    assert_error(
        &doc("hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n    weight: -5"),
        "route[0].weight",
    );
    // Relative weights are valid, with a warning that shows the real split.
    let odd = doc(
        "hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n    weight: 1\n  - destination: {host: b}\n    weight: 3",
    );
    assert_valid(&odd);
    assert_eq!(
        warnings(&odd),
        [
            "spec.http[0].route: weights sum to 4, not 100: traffic is split in proportion (25.0% / 75.0%)"
        ]
    );
    let exact = doc(
        "hosts: [a]\nhttp:\n- route:\n  - destination: {host: a}\n    weight: 30\n  - destination: {host: b}\n    weight: 70",
    );
    assert!(warnings(&exact).is_empty());
}
