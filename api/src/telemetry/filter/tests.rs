//! The CEL subset: evaluation and rejection.

use super::*;

struct Req {
    code: i64,
    method: &'static str,
    debug: Option<&'static str>,
    mtls: bool,
}

impl Attributes for Req {
    fn get(&self, attr: &Attr) -> Option<Value<'_>> {
        Some(match attr {
            Attr::ResponseCode => Value::Int(self.code),
            Attr::Method => Value::Str(self.method.into()),
            Attr::Path => Value::Str("/api/v1?x=1".into()),
            Attr::Header(h) if h == "x-debug" => Value::Str(self.debug?.into()),
            Attr::Mtls => Value::Bool(self.mtls),
            _ => return None,
        })
    }
}

fn req(code: i64) -> Req {
    Req {
        code,
        method: "GET",
        debug: None,
        mtls: false,
    }
}

fn check(expr: &str, r: &Req) -> bool {
    Filter::parse(expr)
        .expect("as set up in this test")
        .matches(r)
}

#[test]
fn evaluates_the_subset() {
    assert!(check("response.code >= 400", &req(503)));
    assert!(!check("response.code >= 400", &req(200)));
    assert!(check(
        "response.code == 200 && request.method == 'GET'",
        &req(200)
    ));
    assert!(check(
        "!(response.code < 500) || connection.mtls",
        &req(503)
    ));
    assert!(check("request.path.startsWith(\"/api\")", &req(200)));
    let debug = Req {
        debug: Some("true"),
        ..req(200)
    };
    assert!(check("request.headers['X-Debug'] == 'true'", &debug));
    assert_eq!(
        Filter::parse("request.headers['X-Debug'] == 'a' || request.headers['x-debug'] == 'b'")
            .expect("as set up in this test")
            .headers(),
        ["x-debug"]
    );
    // A missing header is an error: not logged, unless || decides anyway.
    assert!(!check("request.headers['x-debug'] == 'true'", &req(200)));
    assert!(check(
        "request.headers['x-debug'] == 'true' || response.code == 200",
        &req(200)
    ));
}

#[test]
fn rejects_what_it_cannot_evaluate() {
    for (bad, says) in [
        (
            "response.code >= '400'",
            "cannot compare response.code (int)",
        ),
        (
            "size(request.path) > 1",
            "unsupported function or method size()",
        ),
        (
            "response.duration > duration('1s')",
            "unsupported attribute response.duration",
        ),
        ("request.method", "is not a condition"),
        ("response.code >= 400 +", "unsupported character '+'"),
        ("(response.code >= 400", "expected \")\""),
        (
            "request.path.matches('x')",
            "unsupported function or method request.path.matches()",
        ),
    ] {
        let e = Filter::parse(bad).expect_err("fails in this test");
        assert!(e.message.contains(says), "{bad}: {}", e.message);
        assert!(e.to_string().contains("meshctl supports"), "{e}");
    }
}

#[test]
fn label_values_parse_and_evaluate() {
    let r = Req {
        debug: Some("on"),
        ..req(200)
    };
    let eval = |e: &str| {
        ValueExpr::parse(e)
            .expect("as set up in this test")
            .eval(&r)
    };
    assert_eq!(eval("request.method"), "GET");
    assert_eq!(eval("request.path"), "/api/v1?x=1");
    assert_eq!(eval("'v1'"), "v1");
    assert_eq!(eval("\"v2\""), "v2");
    assert_eq!(eval("request.headers['X-Debug']"), "on");
    assert_eq!(
        eval("request.headers['x-missing']"),
        UNKNOWN,
        "an absent header is unknown"
    );
    assert_eq!(eval("string(request.method)"), "GET");
    assert_eq!(
        ValueExpr::parse("request.headers['X-User']")
            .expect("as set up in this test")
            .header(),
        Some("x-user")
    );
    assert_eq!(
        ValueExpr::parse(" string( destination.port ) "),
        Ok(ValueExpr::Attr(Attr::DestinationPort))
    );
}

#[test]
fn label_values_outside_the_subset_are_rejected() {
    for (expr, why) in [
        ("response.code", "not known when the request arrives"),
        ("request.headers['x-debug'] == 'on'", "unexpected \"==\""),
        ("destination.port", "write string(destination.port)"),
        ("connection.mtls", "not known when the request arrives"),
        ("200", "write '200' rather than 200"),
        (
            "size(request.path)",
            "unsupported function or method size()",
        ),
        ("string(request.host", "is not closed"),
        ("request.nope", "unsupported attribute request.nope"),
        ("", "expression ends early"),
    ] {
        let e = ValueExpr::parse(expr).expect_err(expr);
        assert!(e.message.contains(why), "{expr}: {e}");
        assert!(
            e.to_string().contains("meshctl supports: a string literal"),
            "{e}"
        );
    }
}

#[test]
fn label_names() {
    for ok in ["request_host", "_x", "A1"] {
        assert!(valid_label_name(ok), "{ok}");
    }
    for bad in ["", "1a", "a-b", "__name", "héllo", "a.b"] {
        assert!(!valid_label_name(bad), "{bad}");
    }
}

#[test]
fn destination_port_is_an_int_in_filters_too() {
    assert!(Filter::parse("destination.port == 9080").is_ok());
    let e = Filter::parse("destination.port == '9080'").expect_err("types differ");
    assert!(e.message.contains("destination.port (int)"), "{e}");
}
