//! An entity's direct parents, as written in the data: sorted, each once, in one array (a
//! `BTreeSet` of one uid takes a whole B-tree node, some 500 bytes; this takes the uids).

use std::collections::BTreeSet;

use crate::uid::EntityUid;

/// An entity's direct parents, in uid order, each once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Parents(Box<[EntityUid]>);

impl Parents {
    pub fn iter(&self) -> std::slice::Iter<'_, EntityUid> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, uid: &EntityUid) -> bool {
        self.0.binary_search(uid).is_ok()
    }
}

impl<'a> IntoIterator for &'a Parents {
    type Item = &'a EntityUid;
    type IntoIter = std::slice::Iter<'a, EntityUid>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<EntityUid> for Parents {
    fn from_iter<I: IntoIterator<Item = EntityUid>>(iter: I) -> Self {
        let mut uids: Vec<EntityUid> = iter.into_iter().collect();
        uids.sort_unstable();
        uids.dedup();
        Parents(uids.into_boxed_slice())
    }
}

impl From<BTreeSet<EntityUid>> for Parents {
    fn from(set: BTreeSet<EntityUid>) -> Self {
        Parents(set.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::EntityType;

    #[test]
    fn sorted_once_like_a_set() {
        let uid = |id: &str| EntityUid::new(EntityType::parse("T").unwrap(), id);
        let parents: Parents = ["c", "a", "b", "a"].into_iter().map(uid).collect();
        let set: BTreeSet<EntityUid> = ["c", "a", "b"].into_iter().map(uid).collect();
        assert!(parents.iter().eq(set.iter()));
        assert_eq!(parents, Parents::from(set));
        assert!(parents.contains(&uid("b")) && !parents.contains(&uid("d")));
        assert_eq!(parents.len(), 3);
    }
}
