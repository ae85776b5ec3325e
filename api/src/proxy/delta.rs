//! Route deltas: what changes one [`RouteConfig`] into another, by virtual host
//! (and TCP service) name. A VirtualService change touches a few virtual hosts
//! of a mesh's thousands; a proxy that runs the previous routes is sent only
//! those. Applying [`RoutesDelta::between`]`(a, b)` to `a` gives exactly `b`
//! (same entries, same order), so a proxy fed deltas runs, dumps and hashes the
//! same config as one fed whole pushes.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{RouteConfig, TcpService, VirtualHost};

/// The changes from one [`RouteConfig`] to the next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutesDelta {
    /// Changes to the HTTP virtual hosts.
    #[serde(default, skip_serializing_if = "ListDelta::is_empty")]
    pub virtual_hosts: ListDelta<VirtualHost>,
    /// Changes to the TCP services.
    #[serde(default, skip_serializing_if = "ListDelta::is_empty")]
    pub tcp_services: ListDelta<TcpService>,
}

/// The changes to one list of named entries: names removed, then entries
/// replaced (same name, in place) or added (at `at`, their index in the new
/// list, in ascending order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListDelta<T> {
    /// Names of entries to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Entries to replace (by name) or add, in the new list's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upserted: Vec<Upsert<T>>,
}

impl<T> Default for ListDelta<T> {
    fn default() -> Self {
        ListDelta {
            removed: Vec::new(),
            upserted: Vec::new(),
        }
    }
}

/// One entry of a [`ListDelta`], with its index in the new list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upsert<T> {
    /// The entry's index in the new list.
    pub at: usize,
    /// The entry, whole.
    pub entry: T,
}

/// Entries that a delta names.
pub trait Named {
    /// The entry's name, unique within its list.
    fn name(&self) -> &str;
}

impl Named for VirtualHost {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for TcpService {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for &str {
    fn name(&self) -> &str {
        self
    }
}

impl<T> ListDelta<T> {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.upserted.is_empty()
    }
}

impl<T: Named + Clone + PartialEq> ListDelta<T> {
    /// What turns `old` into `new`, or `None` when no delta does (a name twice
    /// in one list, or entries that kept their names but changed their order).
    pub fn between(old: &[T], new: &[T]) -> Option<Self> {
        let before: HashMap<&str, &T> = old.iter().map(|e| (e.name(), e)).collect();
        let after: HashSet<&str> = new.iter().map(Named::name).collect();
        if before.len() != old.len() || after.len() != new.len() {
            return None;
        }
        let removed: Vec<String> = old
            .iter()
            .map(Named::name)
            .filter(|n| !after.contains(n))
            .map(str::to_owned)
            .collect();
        let upserted: Vec<Upsert<T>> = new
            .iter()
            .enumerate()
            .filter(|(_, e)| before.get(e.name()) != Some(e))
            .map(|(at, e)| Upsert {
                at,
                entry: e.clone(),
            })
            .collect();
        // Check the order by applying the delta to the names alone: the entries
        // themselves are right by construction.
        let mut names: Vec<&str> = old.iter().map(Named::name).collect();
        let name_edits = ListDelta {
            removed: removed.clone(),
            upserted: upserted
                .iter()
                .map(|u| Upsert {
                    at: u.at,
                    entry: u.entry.name(),
                })
                .collect(),
        };
        name_edits.apply(&mut names).ok()?;
        names
            .iter()
            .copied()
            .eq(new.iter().map(Named::name))
            .then_some(ListDelta { removed, upserted })
    }

    /// Applies the delta to `list`. Fails, leaving `list` in an unspecified
    /// state, when it removes a name `list` lacks or adds past the end.
    pub fn apply(self, list: &mut Vec<T>) -> Result<(), String> {
        if !self.removed.is_empty() {
            let removed: HashSet<&str> = self.removed.iter().map(String::as_str).collect();
            let len = list.len();
            list.retain(|e| !removed.contains(e.name()));
            if len - list.len() != removed.len() {
                return Err(format!(
                    "the delta removes {} entries but only {} of them are running",
                    removed.len(),
                    len - list.len()
                ));
            }
        }
        let index: HashMap<String, usize> = list
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name().to_owned(), i))
            .collect();
        let mut added = Vec::new();
        for u in self.upserted {
            match index.get(u.entry.name()) {
                Some(&i) => list[i] = u.entry,
                None => added.push(u),
            }
        }
        added.sort_by_key(|u| u.at);
        for u in added {
            if u.at > list.len() {
                return Err(format!(
                    "the delta adds {:?} at index {}, past the end ({})",
                    u.entry.name(),
                    u.at,
                    list.len()
                ));
            }
            list.insert(u.at, u.entry);
        }
        Ok(())
    }
}

impl RoutesDelta {
    /// What turns `old` into `new`, or `None` when no delta does.
    pub fn between(old: &RouteConfig, new: &RouteConfig) -> Option<Self> {
        Some(RoutesDelta {
            virtual_hosts: ListDelta::between(&old.virtual_hosts, &new.virtual_hosts)?,
            tcp_services: ListDelta::between(&old.tcp_services, &new.tcp_services)?,
        })
    }

    /// Applies the delta to `routes`; an error leaves `routes` unspecified.
    pub fn apply(self, routes: &mut RouteConfig) -> Result<(), String> {
        self.virtual_hosts.apply(&mut routes.virtual_hosts)?;
        self.tcp_services.apply(&mut routes.tcp_services)
    }
}

#[cfg(test)]
mod tests {
    use super::ListDelta;

    fn apply(old: &[&'static str], new: &[&'static str]) -> Option<Vec<&'static str>> {
        let d = ListDelta::between(old, new)?;
        let mut list = old.to_vec();
        d.apply(&mut list).ok()?;
        Some(list)
    }

    #[test]
    fn a_delta_turns_the_old_list_into_exactly_the_new_one() {
        let cases: [(&[&str], &[&str]); 6] = [
            (&["a", "b", "c"], &["a", "b", "c"]),
            (&["a", "b", "c"], &["a", "c"]),
            (&["a", "c"], &["a", "b", "c", "d"]),
            (&[], &["x", "y"]),
            (&["a", "b"], &[]),
            (&["a", "b", "c", "d"], &["z", "b", "e", "d", "f"]),
        ];
        for (old, new) in cases {
            assert_eq!(apply(old, new).as_deref(), Some(new), "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn reordered_or_duplicate_names_have_no_delta() {
        assert!(ListDelta::between(&["a", "b"], &["b", "a"]).is_none());
        assert!(ListDelta::between(&["a", "a"], &["a"]).is_none());
        assert!(ListDelta::between(&["a"], &["a", "a"]).is_none());
    }

    #[test]
    fn a_delta_for_another_list_is_refused() {
        let d = ListDelta::between(&["a", "b"], &["a"]).expect("delta");
        let mut other = vec!["a", "c"];
        assert!(d.apply(&mut other).is_err());
        let d = ListDelta::between(&["a"], &["a", "b", "c"]).expect("delta");
        let mut empty: Vec<&str> = Vec::new();
        assert!(d.apply(&mut empty).is_err());
    }
}
