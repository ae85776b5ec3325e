//! The filter's lexer and recursive-descent parser, with type checks.

use std::fmt;

use super::{ATTRS, Attr, Cmp, FilterError, Node, Operand, StrFn, Type, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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

pub(super) fn lex(s: &str) -> Result<Vec<Tok>, FilterError> {
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

pub(super) struct Parser {
    pub(super) tokens: Vec<Tok>,
    pub(super) pos: usize,
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }

    pub(super) fn eat_op(&mut self, op: &str) -> bool {
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

    pub(super) fn or(&mut self) -> Result<Node, FilterError> {
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

    pub(super) fn operand(&mut self) -> Result<Operand, FilterError> {
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

/// An attribute's name as users write it.
pub(super) fn attr_name(a: &Attr) -> String {
    match a {
        Attr::Header(h) => format!("request.headers['{h}']"),
        _ => ATTRS
            .iter()
            .find(|(_, x)| x == a)
            .map_or_else(String::new, |(n, _)| (*n).to_owned()),
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
