//! The subset of CEL that meshctl evaluates in access-log filters
//! (Telemetry `accessLogging[].filter.expression`).
//!
//! Supported: comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) of an attribute
//! with a literal or another attribute of the same type, `&&`, `||`, `!`,
//! parentheses, the string methods `startsWith`, `endsWith`, `contains`, and
//! these attributes (Envoy's names):
//!
//! | attribute | type |
//! |---|---|
//! | `response.code`, `response.grpc_status`, `response.size`, `request.size` | int |
//! | `response.flags` | string (`FI`, `UH`, `-`: meshctl gives Envoy's short names) |
//! | `response.code_details`, `request.method`, `request.path`, `request.url_path`, `request.host`, `request.scheme`, `request.protocol`, `request.id`, `request.useragent`, `request.headers['name']`, `xds.cluster_name`, `xds.route_name`, `upstream.address`, `source.address` | string |
//! | `connection.mtls` | bool |
//!
//! Anything else is rejected with the list above; a missing header makes the
//! comparison an error, and an expression that errors does not log (as in Envoy).

use std::fmt;

/// An attribute a filter reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// `response.code`.
    ResponseCode,
    /// `response.grpc_status`.
    GrpcStatus,
    /// `response.size` (body bytes sent).
    ResponseSize,
    /// `request.size` (body bytes received).
    RequestSize,
    /// `response.flags`.
    ResponseFlags,
    /// `response.code_details`.
    CodeDetails,
    /// `request.method`.
    Method,
    /// `request.path` (with the query).
    Path,
    /// `request.url_path` (without the query).
    UrlPath,
    /// `request.host`.
    Host,
    /// `request.scheme`.
    Scheme,
    /// `request.protocol`.
    Protocol,
    /// `request.id` (`x-request-id`).
    RequestId,
    /// `request.useragent`.
    UserAgent,
    /// `request.headers['name']` (lowercase).
    Header(String),
    /// `xds.cluster_name`.
    ClusterName,
    /// `xds.route_name`.
    RouteName,
    /// `upstream.address`.
    UpstreamAddress,
    /// `source.address`.
    SourceAddress,
    /// `connection.mtls`.
    Mtls,
}

const ATTRS: &[(&str, Attr)] = &[
    ("response.code", Attr::ResponseCode),
    ("response.grpc_status", Attr::GrpcStatus),
    ("response.size", Attr::ResponseSize),
    ("request.size", Attr::RequestSize),
    ("response.flags", Attr::ResponseFlags),
    ("response.code_details", Attr::CodeDetails),
    ("request.method", Attr::Method),
    ("request.path", Attr::Path),
    ("request.url_path", Attr::UrlPath),
    ("request.host", Attr::Host),
    ("request.scheme", Attr::Scheme),
    ("request.protocol", Attr::Protocol),
    ("request.id", Attr::RequestId),
    ("request.useragent", Attr::UserAgent),
    ("xds.cluster_name", Attr::ClusterName),
    ("xds.route_name", Attr::RouteName),
    ("upstream.address", Attr::UpstreamAddress),
    ("source.address", Attr::SourceAddress),
    ("connection.mtls", Attr::Mtls),
];

/// What the supported subset is, for error messages.
pub const SUPPORTED: &str = "comparisons (== != < <= > >=), && || ! and parentheses, \
.startsWith/.endsWith/.contains on strings, over response.code, response.grpc_status, \
response.size, request.size, response.flags, response.code_details, request.method, \
request.path, request.url_path, request.host, request.scheme, request.protocol, request.id, \
request.useragent, request.headers['name'], xds.cluster_name, xds.route_name, \
upstream.address, source.address, connection.mtls";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Int,
    Str,
    Bool,
}

impl Attr {
    fn ty(&self) -> Type {
        match self {
            Attr::ResponseCode | Attr::GrpcStatus | Attr::ResponseSize | Attr::RequestSize => {
                Type::Int
            }
            Attr::Mtls => Type::Bool,
            _ => Type::Str,
        }
    }
}

/// A value of an attribute or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Int(i64),
    Str(std::borrow::Cow<'a, str>),
    Bool(bool),
}

/// What a filter is evaluated against: one finished request.
pub trait Attributes {
    /// The attribute's value; `None` when it is absent (a missing header).
    fn get(&self, attr: &Attr) -> Option<Value<'_>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrFn {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Attr(Attr),
    Int(i64),
    Str(String),
    Bool(bool),
}

impl Operand {
    fn ty(&self) -> Type {
        match self {
            Operand::Attr(a) => a.ty(),
            Operand::Int(_) => Type::Int,
            Operand::Str(_) => Type::Str,
            Operand::Bool(_) => Type::Bool,
        }
    }

    fn eval<'a>(&'a self, input: &'a dyn Attributes) -> Option<Value<'a>> {
        match self {
            Operand::Attr(a) => input.get(a),
            Operand::Int(i) => Some(Value::Int(*i)),
            Operand::Str(s) => Some(Value::Str(s.as_str().into())),
            Operand::Bool(b) => Some(Value::Bool(*b)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(Operand, Cmp, Operand),
    Call(Operand, StrFn, Operand),
    /// A bool operand on its own (`connection.mtls`, `true`).
    Truth(Operand),
}

/// A parsed access-log filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: Node,
}

/// Why a filter is outside the subset or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (meshctl supports: {SUPPORTED})")]
pub struct FilterError {
    /// What is wrong, with the offending text.
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        message: message.into(),
    })
}

impl Filter {
    /// Parses `expr`; the error names what is outside the subset.
    pub fn parse(expr: &str) -> Result<Self, FilterError> {
        let tokens = lex(expr)?;
        let mut p = Parser { tokens, pos: 0 };
        let root = p.or()?;
        if let Some(t) = p.tokens.get(p.pos) {
            return err(format!("unexpected {t} in {expr:?}"));
        }
        Ok(Filter { root })
    }

    /// Whether the request is logged (an evaluation error logs nothing).
    pub fn matches(&self, input: &dyn Attributes) -> bool {
        eval(&self.root, input) == Some(true)
    }

    /// The request headers the filter reads (lowercase), so that a proxy keeps
    /// only those.
    pub fn headers(&self) -> Vec<String> {
        fn op(o: &Operand, out: &mut Vec<String>) {
            if let Operand::Attr(Attr::Header(h)) = o
                && !out.contains(h)
            {
                out.push(h.clone());
            }
        }
        fn walk(n: &Node, out: &mut Vec<String>) {
            match n {
                Node::Or(a, b) | Node::And(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Node::Not(a) => walk(a, out),
                Node::Cmp(a, _, b) | Node::Call(a, _, b) => {
                    op(a, out);
                    op(b, out);
                }
                Node::Truth(a) => op(a, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

fn eval(n: &Node, input: &dyn Attributes) -> Option<bool> {
    match n {
        Node::Or(a, b) => match (eval(a, input), eval(b, input)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Node::And(a, b) => match (eval(a, input), eval(b, input)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Node::Not(a) => eval(a, input).map(|b| !b),
        Node::Truth(o) => match o.eval(input)? {
            Value::Bool(b) => Some(b),
            _ => None,
        },
        Node::Cmp(a, op, b) => {
            let (a, b) = (a.eval(input)?, b.eval(input)?);
            let ord = match (&a, &b) {
                (Value::Int(x), Value::Int(y)) => x.cmp(y),
                (Value::Str(x), Value::Str(y)) => x.cmp(y),
                (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
                _ => return None,
            };
            Some(match op {
                Cmp::Eq => ord.is_eq(),
                Cmp::Ne => ord.is_ne(),
                Cmp::Lt => ord.is_lt(),
                Cmp::Le => ord.is_le(),
                Cmp::Gt => ord.is_gt(),
                Cmp::Ge => ord.is_ge(),
            })
        }
        Node::Call(a, f, b) => {
            let (Value::Str(a), Value::Str(b)) = (a.eval(input)?, b.eval(input)?) else {
                return None;
            };
            Some(match f {
                StrFn::StartsWith => a.starts_with(&*b),
                StrFn::EndsWith => a.ends_with(&*b),
                StrFn::Contains => a.contains(&*b),
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Str(String),
    Op(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "{s:?}"),
            Tok::Int(i) => write!(f, "{i}"),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Op(o) => write!(f, "{o:?}"),
        }
    }
}

const OPS: [&str; 15] = [
    "&&", "||", "==", "!=", ">=", "<=", ">", "<", "!", "(", ")", "[", "]", ".", ",",
];

fn lex(s: &str) -> Result<Vec<Tok>, FilterError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n = s[start..i].parse().map_err(|_| FilterError {
                message: format!("number {} is too large", &s[start..i]),
            })?;
            out.push(Tok::Int(n));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_owned()));
        } else if c == b'\'' || c == b'"' {
            let end = s[i + 1..].find(c as char).ok_or_else(|| FilterError {
                message: format!("unterminated string at offset {i}"),
            })?;
            let text = &s[i + 1..i + 1 + end];
            if text.contains('\\') {
                return err(format!("escapes in strings are not supported: {text:?}"));
            }
            out.push(Tok::Str(text.to_owned()));
            i += end + 2;
        } else if let Some(op) = OPS.iter().find(|op| s[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            return err(format!(
                "unsupported character {:?} at offset {i}",
                c as char
            ));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.peek_op(op);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_op(&mut self, op: &str) -> Result<(), FilterError> {
        if self.eat_op(op) {
            return Ok(());
        }
        match self.tokens.get(self.pos) {
            Some(t) => err(format!("expected {op:?}, found {t}")),
            None => err(format!("expected {op:?} at the end")),
        }
    }

    fn or(&mut self) -> Result<Node, FilterError> {
        let mut left = self.and()?;
        while self.eat_op("||") {
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        while self.eat_op("&&") {
            left = Node::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        if self.eat_op("!") {
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        if self.eat_op("(") {
            let inner = self.or()?;
            self.expect_op(")")?;
            return Ok(inner);
        }
        let left = self.operand()?;
        if self.eat_op(".") {
            let f = match self.tokens.get(self.pos) {
                Some(Tok::Ident(m)) if m == "startsWith" => StrFn::StartsWith,
                Some(Tok::Ident(m)) if m == "endsWith" => StrFn::EndsWith,
                Some(Tok::Ident(m)) if m == "contains" => StrFn::Contains,
                Some(t) => return err(format!("unsupported method {t}")),
                None => return err("expected a method name at the end"),
            };
            self.pos += 1;
            self.expect_op("(")?;
            let arg = self.operand()?;
            self.expect_op(")")?;
            if left.ty() != Type::Str || arg.ty() != Type::Str {
                return err("startsWith, endsWith and contains take strings");
            }
            return Ok(Node::Call(left, f, arg));
        }
        let op = match self.tokens.get(self.pos) {
            Some(Tok::Op("==")) => Cmp::Eq,
            Some(Tok::Op("!=")) => Cmp::Ne,
            Some(Tok::Op("<")) => Cmp::Lt,
            Some(Tok::Op("<=")) => Cmp::Le,
            Some(Tok::Op(">")) => Cmp::Gt,
            Some(Tok::Op(">=")) => Cmp::Ge,
            _ => {
                if left.ty() != Type::Bool {
                    return err(format!(
                        "{} is not a condition: compare it with a value",
                        describe(&left)
                    ));
                }
                return Ok(Node::Truth(left));
            }
        };
        self.pos += 1;
        let right = self.operand()?;
        if left.ty() != right.ty() {
            return err(format!(
                "cannot compare {} with {}",
                describe(&left),
                describe(&right)
            ));
        }
        Ok(Node::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let Some(t) = self.tokens.get(self.pos).cloned() else {
            return err("expression ends early");
        };
        self.pos += 1;
        match t {
            Tok::Int(i) => Ok(Operand::Int(i)),
            Tok::Str(s) => Ok(Operand::Str(s)),
            Tok::Ident(id) if id == "true" => Ok(Operand::Bool(true)),
            Tok::Ident(id) if id == "false" => Ok(Operand::Bool(false)),
            Tok::Ident(first) => self.attribute(first).map(Operand::Attr),
            Tok::Op(o) => err(format!("unexpected {o:?}")),
        }
    }

    fn attribute(&mut self, first: String) -> Result<Attr, FilterError> {
        let mut name = first;
        while self.peek_op(".") {
            match self.tokens.get(self.pos + 1) {
                Some(Tok::Ident(next))
                    if !matches!(next.as_str(), "startsWith" | "endsWith" | "contains") =>
                {
                    name.push('.');
                    name.push_str(next);
                    self.pos += 2;
                }
                _ => break,
            }
        }
        if self.peek_op("(") {
            return err(format!("unsupported function or method {name}()"));
        }
        if name == "request.headers" {
            self.expect_op("[")?;
            let Some(Tok::Str(h)) = self.tokens.get(self.pos).cloned() else {
                return err(
                    "request.headers takes a quoted header name: request.headers['x-debug']",
                );
            };
            self.pos += 1;
            self.expect_op("]")?;
            return Ok(Attr::Header(h.to_ascii_lowercase()));
        }
        ATTRS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a.clone())
            .ok_or_else(|| FilterError {
                message: format!("unsupported attribute {name}"),
            })
    }
}

fn describe(o: &Operand) -> String {
    let ty = match o.ty() {
        Type::Int => "int",
        Type::Str => "string",
        Type::Bool => "bool",
    };
    match o {
        Operand::Attr(a) => match ATTRS.iter().find(|(_, x)| x == a) {
            Some((n, _)) => format!("{n} ({ty})"),
            None => format!("a request header ({ty})"),
        },
        Operand::Int(i) => format!("{i} ({ty})"),
        Operand::Str(s) => format!("'{s}' ({ty})"),
        Operand::Bool(b) => format!("{b} ({ty})"),
    }
}

#[cfg(test)]
mod tests {
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
}
