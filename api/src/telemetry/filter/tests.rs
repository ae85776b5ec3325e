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
