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
//! | `destination.port` (the request authority's port, 80/443 when it names none) | int |
//! | `connection.mtls` | bool |
//!
//! Anything else is rejected with the list above; a missing header makes the
//! comparison an error, and an expression that errors does not log (as in Envoy).
//! `value.rs` parses metric label values (Telemetry `tagOverrides` `UPSERT`)
//! with the same lexer and attributes.

mod parse;
mod value;

pub use value::{SUPPORTED_VALUES, UNKNOWN, ValueError, ValueExpr, valid_label_name};

/// An attribute a filter reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// `destination.port`: the port the request addressed (its authority's,
    /// else the scheme's default).
    DestinationPort,
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
    ("destination.port", Attr::DestinationPort),
];

/// What the supported subset is, for error messages.
pub const SUPPORTED: &str = "comparisons (== != < <= > >=), && || ! and parentheses, \
.startsWith/.endsWith/.contains on strings, over response.code, response.grpc_status, \
response.size, request.size, response.flags, response.code_details, request.method, \
request.path, request.url_path, request.host, request.scheme, request.protocol, request.id, \
request.useragent, request.headers['name'], xds.cluster_name, xds.route_name, \
upstream.address, source.address, destination.port, connection.mtls";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Int,
    Str,
    Bool,
}

impl Attr {
    fn ty(&self) -> Type {
        match self {
            Attr::ResponseCode
            | Attr::GrpcStatus
            | Attr::ResponseSize
            | Attr::RequestSize
            | Attr::DestinationPort => Type::Int,
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
        let tokens = parse::lex(expr)?;
        let mut p = parse::Parser { tokens, pos: 0 };
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

#[cfg(test)]
mod tests;
