//! Field paths such as `spec.http[0].route[1].weight`: where in a resource a problem is.

use std::fmt;

/// One step into a resource: a struct field, a map key, or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A field of the schema, shown as `.name`.
    Field(String),
    /// A key of a user map (labels, headers), shown as `[key]`.
    Key(String),
    /// An index into a list, shown as `[3]`.
    Index(usize),
}

/// A path from the top of a resource to one of its fields.
///
/// Built by cheap appends while validating:
/// `at.field("http").index(0).field("route")`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The top of the resource.
    pub fn root() -> Self {
        Self::default()
    }

    /// `spec`, where most validation starts.
    pub fn spec() -> Self {
        Self::root().field("spec")
    }

    pub fn field(&self, name: &str) -> Self {
        self.push(Segment::Field(name.to_owned()))
    }

    pub fn key(&self, key: &str) -> Self {
        self.push(Segment::Key(key.to_owned()))
    }

    pub fn index(&self, i: usize) -> Self {
        self.push(Segment::Index(i))
    }

    fn push(&self, seg: Segment) -> Self {
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.extend_from_slice(&self.0);
        v.push(seg);
        Self(v)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Parse the path notation serde_path_to_error produces (`spec.http[0].route`),
    /// where map keys and fields look alike: both become [`Segment::Field`], which
    /// [`crate::yaml::Node::locate`] treats the same way.
    pub fn parse_serde(s: &str) -> Self {
        let mut segs = Vec::new();
        if s == "." || s.is_empty() {
            return Self(segs);
        }
        for part in s.split('.') {
            let mut rest = part;
            if let Some(open) = rest.find('[') {
                let name = &rest[..open];
                if !name.is_empty() {
                    segs.push(Segment::Field(name.to_owned()));
                }
                rest = &rest[open..];
                while let Some(stripped) = rest.strip_prefix('[') {
                    let Some(close) = stripped.find(']') else {
                        break;
                    };
                    let inner = &stripped[..close];
                    match inner.parse::<usize>() {
                        Ok(i) => segs.push(Segment::Index(i)),
                        Err(_) => segs.push(Segment::Key(inner.to_owned())),
                    }
                    rest = &stripped[close + 1..];
                }
            } else if !rest.is_empty() && rest != "?" {
                segs.push(Segment::Field(rest.to_owned()));
            }
        }
        Self(segs)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Segment::Field(name) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Key(k) => write!(f, "[{k}]")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_fields_keys_and_indexes() {
        let p = FieldPath::spec()
            .field("http")
            .index(0)
            .field("match")
            .index(1)
            .field("headers")
            .key("end-user");
        assert_eq!(p.to_string(), "spec.http[0].match[1].headers[end-user]");
    }

    #[test]
    fn parses_serde_paths() {
        let p = FieldPath::parse_serde("spec.http[0].route[2].weight");
        assert_eq!(
            p,
            FieldPath::spec()
                .field("http")
                .index(0)
                .field("route")
                .index(2)
                .field("weight")
        );
        assert!(FieldPath::parse_serde(".").is_root());
    }
}
