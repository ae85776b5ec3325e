//! Header operations of routes and destinations (`headers.request` and
//! `headers.response`): removals first, then `set` (replace), then `add`
//! (append), as Envoy evaluates them.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use mesh_api::proxy::{HeaderChanges, HeaderOps};

/// Compiled header changes for one direction.
#[derive(Debug, Default)]
pub(crate) struct RtChanges {
    remove: Box<[HeaderName]>,
    set: Box<[(HeaderName, HeaderValue)]>,
    add: Box<[(HeaderName, HeaderValue)]>,
}

/// Compiled header operations of a route or destination.
#[derive(Debug, Default)]
pub(crate) struct RtHeaderOps {
    pub request: RtChanges,
    pub response: RtChanges,
}

impl RtHeaderOps {
    pub(crate) fn compile(ops: &HeaderOps, at: &str, p: &mut Vec<String>) -> Self {
        Self {
            request: RtChanges::compile(&ops.request, &format!("{at} request headers"), p),
            response: RtChanges::compile(&ops.response, &format!("{at} response headers"), p),
        }
    }
}

impl RtChanges {
    fn compile(c: &HeaderChanges, at: &str, p: &mut Vec<String>) -> Self {
        let name = |n: &str, p: &mut Vec<String>| match HeaderName::from_bytes(
            n.to_ascii_lowercase().as_bytes(),
        ) {
            Ok(h) => Some(h),
            Err(_) => {
                p.push(format!("{at}: {n:?} is not a valid header name"));
                None
            }
        };
        let pairs = |m: &std::collections::BTreeMap<String, String>, p: &mut Vec<String>| {
            m.iter()
                .filter_map(|(k, v)| {
                    let k = name(k, p)?;
                    match HeaderValue::from_str(v) {
                        Ok(v) => Some((k, v)),
                        Err(_) => {
                            p.push(format!("{at}: value of {k} is not a valid header value"));
                            None
                        }
                    }
                })
                .collect()
        };
        Self {
            remove: c.remove.iter().filter_map(|n| name(n, p)).collect(),
            set: pairs(&c.set, p),
            add: pairs(&c.add, p),
        }
    }

    pub(crate) fn apply(&self, h: &mut HeaderMap) {
        for n in &self.remove {
            h.remove(n);
        }
        for (n, v) in &self.set {
            h.insert(n.clone(), v.clone());
        }
        for (n, v) in &self.add {
            h.append(n.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_then_set_then_add() {
        let mut ops = HeaderOps::default();
        ops.request.remove = vec!["X-Old".into()];
        ops.request.set.insert("x-set".into(), "new".into());
        ops.request.add.insert("x-add".into(), "two".into());
        let mut p = Vec::new();
        let rt = RtHeaderOps::compile(&ops, "route", &mut p);
        assert!(p.is_empty(), "{p:?}");
        let mut h = HeaderMap::new();
        h.insert("x-old", HeaderValue::from_static("1"));
        h.insert("x-set", HeaderValue::from_static("old"));
        h.insert("x-add", HeaderValue::from_static("one"));
        rt.request.apply(&mut h);
        assert!(h.get("x-old").is_none());
        assert_eq!(h.get_all("x-set").iter().collect::<Vec<_>>(), ["new"]);
        assert_eq!(
            h.get_all("x-add").iter().collect::<Vec<_>>(),
            ["one", "two"]
        );
    }

    #[test]
    fn bad_names_and_values_are_problems() {
        let mut ops = HeaderOps::default();
        ops.response.set.insert("bad name".into(), "v".into());
        ops.response.add.insert("x-ok".into(), "bad\nvalue".into());
        let mut p = Vec::new();
        RtHeaderOps::compile(&ops, "route r", &mut p);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("\"bad name\" is not a valid header name"));
    }
}
