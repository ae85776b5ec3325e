//! The subset of CEL that meshctl evaluates for metric label values
//! (Telemetry `metrics[].overrides[].tagOverrides[].value` with `UPSERT`).
//!
//! A value is known when the request arrives and is evaluated once per
//! request: a string literal (`'v1'`), a request attribute of the filter's
//! ([`super::Attr`]: `request.method`, `request.path`, `request.url_path`,
//! `request.host`, `request.scheme`, `request.protocol`, `request.id`,
//! `request.useragent`, `request.headers['name']`), or `string(destination.port)`.
//! An absent attribute (a missing header) gives `unknown`, as Istio's label
//! values do when an attribute is missing.

use super::parse::{Parser, Tok, lex};
use super::{Attr, Attributes, Operand, Type, Value};

/// What a label value may be, for error messages.
pub const SUPPORTED_VALUES: &str = "a string literal ('v1'), request.method, request.path, \
request.url_path, request.host, request.scheme, request.protocol, request.id, \
request.useragent, request.headers['name'] or string(destination.port)";

/// What an absent attribute evaluates to.
pub const UNKNOWN: &str = "unknown";

/// A parsed label value expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueExpr {
    /// A fixed value.
    Literal(String),
    /// A string attribute of the request, or an int one through `string()`.
    Attr(Attr),
}

/// Why a value expression is outside the subset or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (meshctl supports: {SUPPORTED_VALUES})")]
pub struct ValueError {
    /// What is wrong, with the offending text.
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError {
        message: message.into(),
    })
}

/// Whether the attribute is known when the request arrives.
fn at_request_start(a: &Attr) -> bool {
    matches!(
        a,
        Attr::Method
            | Attr::Path
            | Attr::UrlPath
            | Attr::Host
            | Attr::Scheme
            | Attr::Protocol
            | Attr::RequestId
            | Attr::UserAgent
            | Attr::Header(_)
            | Attr::DestinationPort
    )
}

impl ValueExpr {
    /// Parses `expr`; the error names what is supported.
    pub fn parse(expr: &str) -> Result<Self, ValueError> {
        let tokens = lex(expr).map_err(|e| ValueError { message: e.message })?;
        let mut p = Parser { tokens, pos: 0 };
        let stringify = matches!(p.tokens.first(), Some(Tok::Ident(f)) if f == "string")
            && matches!(p.tokens.get(1), Some(Tok::Op("(")));
        if stringify {
            p.pos = 2;
        }
        let op = p.operand().map_err(|e| ValueError { message: e.message })?;
        if stringify && !p.eat_op(")") {
            return err(format!("string( is not closed in {expr:?}"));
        }
        if let Some(t) = p.tokens.get(p.pos) {
            return err(format!(
                "unexpected {t} in {expr:?}: a value is one attribute or literal"
            ));
        }
        let value = match op {
            Operand::Str(s) => ValueExpr::Literal(s),
            Operand::Attr(a) if !at_request_start(&a) => {
                return err(format!(
                    "{} is not known when the request arrives, where meshctl computes label values",
                    super::parse::attr_name(&a)
                ));
            }
            Operand::Attr(a) => ValueExpr::Attr(a),
            Operand::Int(i) => {
                return err(format!(
                    "a label value is a string: write '{i}' rather than {i}"
                ));
            }
            Operand::Bool(b) => {
                return err(format!(
                    "a label value is a string: write '{b}' rather than {b}"
                ));
            }
        };
        let ty = match &value {
            ValueExpr::Literal(_) => Type::Str,
            ValueExpr::Attr(a) => a.ty(),
        };
        match (ty, stringify) {
            (Type::Str, _) | (Type::Int, true) => Ok(value),
            (Type::Int, false) => err(format!(
                "{expr} is an int: write string({expr}) for a label value"
            )),
            (Type::Bool, _) => err(format!("{expr} is a bool, not a label value")),
        }
    }

    /// The request header the value reads (lowercase), if any.
    pub fn header(&self) -> Option<&str> {
        match self {
            ValueExpr::Attr(Attr::Header(h)) => Some(h),
            _ => None,
        }
    }

    /// The value for one request; [`UNKNOWN`] when the attribute is absent.
    pub fn eval(&self, input: &dyn Attributes) -> String {
        match self {
            ValueExpr::Literal(s) => s.clone(),
            ValueExpr::Attr(a) => match input.get(a) {
                Some(Value::Str(s)) => s.into_owned(),
                Some(Value::Int(i)) => i.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                None => UNKNOWN.to_owned(),
            },
        }
    }
}

/// Whether `name` is a valid Prometheus label name that users may set
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, which Prometheus keeps).
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}
