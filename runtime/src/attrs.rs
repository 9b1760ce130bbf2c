//! An entity's attributes or its tags: names to values.
//!
//! Held as one array sorted by name, each name beside its value, so that reading an attribute
//! of an entity not in cache costs the lines of that array only (a `BTreeMap` node keeps its
//! keys and its values in separate parts of a ~900-byte allocation made for any number of
//! entries, and an entity store holds one per entity).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::value::Value;

/// Names to values, each name once, in name order; no allocation when empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs(Box<[(Arc<str>, Value)]>);

/// Up to this many entries a lookup scans; beyond, it searches.
const SCAN: usize = 8;

impl Attrs {
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let entries = &self.0;
        let found = if entries.len() <= SCAN {
            entries.iter().find(|(k, _)| **k == *name)
        } else {
            let at = entries.binary_search_by(|(k, _)| (**k).cmp(name)).ok();
            at.and_then(|i| entries.get(i))
        };
        found.map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in name order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&Arc<str>, &Value)> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Arc<str>> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in their names' order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, v)| v)
    }
}

impl From<BTreeMap<Arc<str>, Value>> for Attrs {
    /// The map's entries, already in name order and each name once.
    fn from(map: BTreeMap<Arc<str>, Value>) -> Self {
        Attrs(map.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a Arc<str>, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, Value)>,
        fn(&'a (Arc<str>, Value)) -> (&'a Arc<str>, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(names: &[&str]) -> Attrs {
        let map: BTreeMap<Arc<str>, Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (Arc::from(*n), Value::Long(i as i64)))
            .collect();
        Attrs::from(map)
    }

    #[test]
    fn finds_every_name_and_only_those_scanned_or_searched() {
        for count in [0, 1, 2, SCAN, SCAN + 1, 40] {
            let names: Vec<String> = (0..count).map(|i| format!("a{i:03}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let held = attrs(&refs);
            assert_eq!(held.len(), count);
            // The map numbered them in name order, which is the order they were made in.
            for (i, name) in names.iter().enumerate() {
                assert_eq!(
                    held.get(name),
                    Some(&Value::Long(i as i64)),
                    "{name} of {count}"
                );
            }
            for absent in ["", "a", "a0000", "b", "a00"] {
                assert_eq!(held.get(absent), None, "{absent} of {count}");
            }
            assert!(held.keys().map(|k| &**k).eq(refs.iter().copied()));
        }
    }
}
