//! An entity's attributes or its tags: names to values.
//!
//! Held as one array sorted by name, each name beside its value, plus a compact array of a
//! 16-bit fingerprint of each name. Reading an attribute scans the fingerprints (one cache
//! line for up to 32 attributes) and compares the name of the entry whose fingerprint matches:
//! for an entity not in cache that is two or three lines, where a binary search over the
//! entries (80 bytes each) read four or five, and compared a string at each step.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::value::Value;

/// Names to values, each name once, in name order; no allocation when empty.
#[derive(Clone, Debug, Default)]
pub struct Attrs {
    /// `prints[i]` is the [`fingerprint`] of `entries[i]`'s name.
    prints: Box<[u16]>,
    entries: Box<[(Arc<str>, Value)]>,
}

/// A name's fingerprint: equal names have equal fingerprints. Made from the length and the
/// first, middle and last bytes, in a few instructions (a hash of the whole name cost more than
/// the scan it saves): names that share all four are told apart by the comparison that
/// confirms a match, so a poor fingerprint costs comparisons, never a wrong answer.
fn fingerprint(name: &str) -> u16 {
    let b = name.as_bytes();
    let byte = |i: usize| u16::from(b.get(i).copied().unwrap_or(0));
    let len = b.len();
    (len as u16).wrapping_mul(0x9e37)
        ^ byte(0)
        ^ byte(len / 2).rotate_left(5)
        ^ byte(len.wrapping_sub(1)).rotate_left(10)
}

impl Attrs {
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let print = fingerprint(name);
        // A plain loop over the fingerprints; a match is confirmed on the name (fingerprints of
        // different names may be equal).
        for (i, &p) in self.prints.iter().enumerate() {
            if p == print
                && let Some((k, v)) = self.entries.get(i)
                && **k == *name
            {
                return Some(v);
            }
        }
        None
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in name order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&Arc<str>, &Value)> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Arc<str>> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in their names' order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// Equal when the entries are (the fingerprints follow from the names).
impl PartialEq for Attrs {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Attrs {}

impl From<BTreeMap<Arc<str>, Value>> for Attrs {
    /// The map's entries, already in name order and each name once.
    fn from(map: BTreeMap<Arc<str>, Value>) -> Self {
        let entries: Box<[(Arc<str>, Value)]> = map.into_iter().collect();
        let prints = entries.iter().map(|(k, _)| fingerprint(k)).collect();
        Attrs { prints, entries }
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a Arc<str>, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, Value)>,
        fn(&'a (Arc<str>, Value)) -> (&'a Arc<str>, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
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
    fn finds_every_name_and_only_those() {
        for count in [0, 1, 2, 8, 9, 40, 300] {
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

    #[test]
    fn equal_fingerprints_are_told_apart_by_the_name() {
        // Every entry's fingerprint made that of "b": "a" matches it first and is passed over.
        let mut held = attrs(&["a", "b", "c"]);
        held.prints = vec![fingerprint("b"); 3].into();
        assert_eq!(held.get("b"), Some(&Value::Long(1)));
        held.prints = vec![fingerprint("z"); 3].into();
        assert_eq!(held.get("z"), None);
    }
}
