//! YAML input: multi-document text parsed into located node trees.

mod node;

pub use node::{Entry, Node, Pos, Value};

/// A YAML syntax error, with where it was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Parse every document of a YAML stream. Empty documents (`---` followed by nothing,
/// or a document holding only comments) are dropped, as kubectl drops them.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    // YAML 1.2 core schema: only true/false are booleans, so a label value or key
    // such as `n`, `yes` or `on` stays the string the user wrote.
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    let docs: Vec<Node> = serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
        let pos = e.location().map(|l| Pos {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        });
        SyntaxError {
            pos: pos.filter(|p| p.line > 0),
            message: first_line(&e.without_snippet().to_string()),
        }
    })?;
    Ok(docs
        .into_iter()
        .filter(|n| n.value != Value::Null)
        .collect())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::FieldPath;

    #[test]
    fn keeps_lines_of_nested_fields_across_documents() {
        let text = "a: 1\n---\n---\n# only a comment\n---\nkind: X\nspec:\n  http:\n  - route:\n    - weight: 80\n    - weight: 20\n";
        let docs = parse_documents(text).expect("valid yaml");
        assert_eq!(docs.len(), 2);
        let doc = &docs[1];
        let p = FieldPath::spec()
            .field("http")
            .index(0)
            .field("route")
            .index(1)
            .field("weight");
        assert_eq!(doc.locate(&p).line, 11);
        // A missing field is reported at its deepest present ancestor.
        let missing = FieldPath::spec().field("http").index(0).field("timeout");
        assert_eq!(doc.locate(&missing).line, 9);
        assert_eq!(doc.get_str("kind"), Some("X"));
    }

    #[test]
    fn converts_scalars_with_yaml_types() {
        let docs =
            parse_documents("n: 80\ns: \"80\"\nb: true\nf: 0.5\nz: ~\nyes: on\n").expect("valid");
        let j = docs[0].to_json();
        assert_eq!(j["n"], serde_json::json!(80));
        assert_eq!(j["s"], serde_json::json!("80"));
        assert_eq!(j["b"], serde_json::json!(true));
        assert_eq!(j["f"], serde_json::json!(0.5));
        assert!(j["z"].is_null());
        // YAML 1.2: `yes`/`on`/`n` are strings, keys and values alike (no Norway problem).
        assert_eq!(j["yes"], serde_json::json!("on"));
    }

    #[test]
    fn reports_syntax_errors_with_a_line() {
        let err =
            parse_documents("a: 1\nb: [1, 2\nc: 3\n").expect_err("unterminated flow sequence");
        assert!(err.pos.is_some(), "{err:?}");
    }

    #[test]
    fn rejects_duplicate_keys() {
        let err = parse_documents("a: 1\na: 2\n").expect_err("duplicate key");
        assert!(err.message.contains("duplicate"), "{err:?}");
    }
}
