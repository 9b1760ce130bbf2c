//! The transitive ancestors of an entity, as one compact array.

use crate::uid::EntityUid;

/// A set of entity uids held as one array sorted by the uids' hashes: iterating it reads
/// contiguous memory, and membership is a short scan (or, in a large set, a binary search on
/// the hashes), with no table to probe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ancestors(Box<[EntityUid]>);

/// Sets at most this large are scanned rather than searched.
const SCAN: usize = 8;

impl Ancestors {
    pub(crate) fn contains(&self, uid: &EntityUid) -> bool {
        if self.0.len() <= SCAN {
            return self.0.iter().any(|a| a == uid);
        }
        let hash = uid.precomputed_hash();
        let from = self.0.partition_point(|a| a.precomputed_hash() < hash);
        self.0[from..]
            .iter()
            .take_while(|a| a.precomputed_hash() == hash)
            .any(|a| a == uid)
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, EntityUid> {
        self.0.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl FromIterator<EntityUid> for Ancestors {
    fn from_iter<I: IntoIterator<Item = EntityUid>>(iter: I) -> Self {
        let mut uids: Vec<EntityUid> = iter.into_iter().collect();
        uids.sort_unstable_by(|a, b| (a.precomputed_hash(), a).cmp(&(b.precomputed_hash(), b)));
        uids.dedup();
        Ancestors(uids.into_boxed_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::EntityType;

    fn uid(id: &str) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), id)
    }

    #[test]
    fn membership_by_scan_and_by_search() {
        for size in [0, 1, SCAN, SCAN + 1, 100] {
            let members: Vec<EntityUid> = (0..size).map(|i| uid(&format!("m{i}"))).collect();
            // Repeats are kept once.
            let set: Ancestors = members.iter().chain(&members).cloned().collect();
            assert_eq!(set.len(), size);
            for m in &members {
                assert!(set.contains(m), "{m} in a set of {size}");
            }
            for i in 0..100 {
                assert!(!set.contains(&uid(&format!("x{i}"))));
            }
            let mut listed: Vec<_> = set.iter().cloned().collect();
            listed.sort();
            let mut want = members.clone();
            want.sort();
            assert_eq!(listed, want);
        }
    }
}
