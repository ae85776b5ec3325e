//! A syntax check of CEL expressions (access-log filters). Istio parses them with
//! cel-go; without a CEL parser this catches the syntax errors users make most: an
//! empty expression, unbalanced brackets, unterminated strings, and a dangling
//! operator at either end.

/// What is wrong with the expression's syntax, if anything this check can see.
pub(super) fn syntax_problem(expr: &str) -> Option<String> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Some("expression is empty".into());
    }
    let mut stack: Vec<char> = Vec::new();
    let mut chars = trimmed.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\'' => {
                let triple = trimmed[i..].starts_with(&format!("{c}{c}{c}"));
                let raw = trimmed[..i].ends_with(['r', 'R']);
                let Some(end) = string_end(&trimmed[i..], c, triple, raw) else {
                    return Some(format!("unterminated string literal at offset {i}"));
                };
                // Skip to the closing quote.
                while chars.peek().is_some_and(|&(j, _)| j < i + end) {
                    chars.next();
                }
            }
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    return Some(format!("unbalanced {c:?} at offset {i}"));
                }
            }
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Some(format!("unclosed {open:?}"));
    }
    const BINARY: [&str; 12] = [
        "&&", "||", "==", "!=", ">=", "<=", ">", "<", "+", "*", "/", "%",
    ];
    if let Some(op) = BINARY.iter().find(|op| trimmed.ends_with(*op)) {
        return Some(format!("expression ends with the operator {op}"));
    }
    if let Some(op) = BINARY.iter().find(|op| trimmed.starts_with(*op)) {
        return Some(format!("expression starts with the operator {op}"));
    }
    None
}

/// The byte length of the string literal at the start of `s`, quotes included; `None`
/// when it is not terminated.
fn string_end(s: &str, quote: char, triple: bool, raw: bool) -> Option<usize> {
    let open = if triple { 3 } else { 1 };
    let body = &s[open..];
    let mut escaped = false;
    for (j, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' && !raw {
            escaped = true;
            continue;
        }
        if !triple && c == '\n' {
            return None;
        }
        let closes = if triple {
            body[j..].starts_with(&format!("{quote}{quote}{quote}"))
        } else {
            c == quote
        };
        if closes {
            return Some(open + j + if triple { 3 } else { 1 });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::syntax_problem;

    #[test]
    fn expressions() {
        for ok in [
            "response.code >= 400",
            "response.code >= 400 || xds.cluster_name == 'BlackHoleCluster'",
            "request.headers['x-debug'] == \"true\"",
            "has(request.headers.foo) && size(request.path) > 1",
            "'a)b' == r'c\\d'",
        ] {
            assert_eq!(syntax_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "  ",
            "response.code >= ",
            "(response.code >= 400",
            "request.headers['x-debug'] == \"true",
            "a == b)",
            "&& a",
        ] {
            assert!(syntax_problem(bad).is_some(), "{bad:?}");
        }
    }
}
