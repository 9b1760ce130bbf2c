//! The transitive ancestors of an entity: a short sorted array when there are few, or a handful
//! of labels into the store's [`Forest`] when there are many.
//!
//! A hierarchy of `n` entities can have `n²/2` (entity, ancestor) pairs (a chain, each entity
//! the parent of the next), so an entity with many ancestors does not list them: it holds its
//! *cover* in a spanning forest of the hierarchy: heads, ancestors whose paths to the root hold
//! its ancestors (one for an entity in a tree), and where the hierarchy shares through many
//! paths, opens, ancestors whose own ancestors are searched. `in` is a lookup of the other
//! entity's interval in the forest and a binary search among the heads (and the opens' heads).

use std::sync::Arc;

use foldhash::{HashSet, HashSetExt};

use crate::forest::{Forest, NO_NODE};
use crate::uid::EntityUid;

/// Entities with at most this many ancestors list them.
pub(crate) const LIST_AT_MOST: usize = 32;

/// An entity's transitive ancestors.
#[derive(Clone, Debug)]
pub(crate) enum Ancestors {
    /// Every ancestor, sorted by the uids' hashes: iterating reads contiguous memory, and
    /// membership is a short scan (or, in a larger set, a binary search on the hashes).
    Listed(Box<[EntityUid]>),
    /// Heads in a forest.
    Labeled(Arc<Labeled>),
}

/// The ancestors of an entity with many: the forest paths from each head to its root, and
/// the ancestors of each open (see [`Forest`]).
#[derive(Debug)]
pub(crate) struct Labeled {
    pub(crate) forest: Arc<Forest>,
    /// The heads' preorder numbers, increasing; no head is a forest ancestor of another.
    pub(crate) heads: Box<[u32]>,
    /// Nodes whose ancestors are also the entity's, increasing.
    pub(crate) opens: Box<[u32]>,
    /// Ancestors that are not nodes of the forest (entities added since it was made), listed
    /// in uid order.
    pub(crate) extra: Box<[EntityUid]>,
    /// How many ancestors there are, at most: exact where the hierarchy is a tree.
    pub(crate) count: usize,
}

impl Default for Ancestors {
    fn default() -> Self {
        Ancestors::Listed(Box::default())
    }
}

/// Sets at most this large are scanned rather than searched.
const SCAN: usize = 8;

impl Ancestors {
    pub(crate) fn contains(&self, uid: &EntityUid) -> bool {
        match self {
            Ancestors::Listed(list) => listed_contains(list, uid),
            Ancestors::Labeled(labeled) => labeled.contains(uid),
        }
    }

    pub(crate) fn iter(&self) -> Iter<'_> {
        match self {
            Ancestors::Listed(list) => Iter::Listed(list.iter()),
            Ancestors::Labeled(labeled) => Iter::Labeled {
                extra: labeled.extra.iter(),
                forest: &labeled.forest,
                heads: labeled.heads.to_vec(),
                opens: labeled.opens.to_vec(),
                expanded: HashSet::new(),
                next: NO_NODE,
                seen: HashSet::new(),
            },
        }
    }

    /// How many ancestors there are: exact for a list, at most this for labels.
    pub(crate) fn len(&self) -> usize {
        match self {
            Ancestors::Listed(list) => list.len(),
            Ancestors::Labeled(labeled) => labeled.count,
        }
    }

    /// Whether the two are the same set, told without walking labelled ancestors: `false`
    /// may still be the same set held otherwise (an update then recomputes more than needed).
    pub(crate) fn surely_same(&self, other: &Ancestors) -> bool {
        match (self, other) {
            (Ancestors::Listed(a), Ancestors::Listed(b)) => a == b,
            (Ancestors::Labeled(a), Ancestors::Labeled(b)) => {
                Arc::ptr_eq(a, b)
                    || (Arc::ptr_eq(&a.forest, &b.forest)
                        && a.heads == b.heads
                        && a.opens == b.opens
                        && a.extra == b.extra)
            }
            _ => false,
        }
    }

    /// The listed ancestors, if they are listed.
    pub(crate) fn listed(&self) -> Option<&[EntityUid]> {
        match self {
            Ancestors::Listed(list) => Some(list),
            Ancestors::Labeled(_) => None,
        }
    }
}

fn listed_contains(list: &[EntityUid], uid: &EntityUid) -> bool {
    if list.len() <= SCAN {
        return list.iter().any(|a| a == uid);
    }
    let hash = uid.precomputed_hash();
    let from = list.partition_point(|a| a.precomputed_hash() < hash);
    list[from..]
        .iter()
        .take_while(|a| a.precomputed_hash() == hash)
        .any(|a| a == uid)
}

impl Labeled {
    /// The ancestors of forest node `node`, as its cover in the forest says.
    pub(crate) fn of_node(forest: &Arc<Forest>, node: u32, count: usize) -> Labeled {
        let (heads, opens) = forest.cover_of(node);
        Labeled {
            forest: Arc::clone(forest),
            heads: heads.into(),
            opens: opens.into(),
            extra: Box::default(),
            count,
        }
    }

    fn contains(&self, uid: &EntityUid) -> bool {
        let Some(place) = self.forest.place(uid) else {
            return self.extra.binary_search(uid).is_ok();
        };
        // An ancestor is a forest ancestor (or itself) of some head, or an ancestor of an open.
        self.forest.covers(&self.heads, &self.opens, place)
    }
}

/// Two sets of ancestors are equal when they hold the same uids, however each is held.
impl PartialEq for Ancestors {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Ancestors::Listed(a), Ancestors::Listed(b)) => a == b,
            (Ancestors::Labeled(a), Ancestors::Labeled(b))
                if Arc::ptr_eq(&a.forest, &b.forest)
                    && a.heads == b.heads
                    && a.opens == b.opens
                    && a.extra == b.extra =>
            {
                true
            }
            _ => {
                let ours: HashSet<&EntityUid> = self.iter().collect();
                let theirs: HashSet<&EntityUid> = other.iter().collect();
                ours == theirs
            }
        }
    }
}

impl Eq for Ancestors {}

impl FromIterator<EntityUid> for Ancestors {
    fn from_iter<I: IntoIterator<Item = EntityUid>>(iter: I) -> Self {
        let mut uids: Vec<EntityUid> = iter.into_iter().collect();
        uids.sort_unstable_by(|a, b| (a.precomputed_hash(), a).cmp(&(b.precomputed_hash(), b)));
        uids.dedup();
        Ancestors::Listed(uids.into_boxed_slice())
    }
}

/// The ancestors of an entity, each once, in no particular order.
pub(crate) enum Iter<'a> {
    Listed(std::slice::Iter<'a, EntityUid>),
    /// Walks up the forest from each head until it meets a node already met (whose forest
    /// ancestors were met with it), taking in the heads and opens of each open.
    Labeled {
        extra: std::slice::Iter<'a, EntityUid>,
        forest: &'a Forest,
        heads: Vec<u32>,
        opens: Vec<u32>,
        expanded: HashSet<u32>,
        next: u32,
        seen: HashSet<u32>,
    },
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a EntityUid;

    fn next(&mut self) -> Option<&'a EntityUid> {
        match self {
            Iter::Listed(list) => list.next(),
            Iter::Labeled {
                extra,
                forest,
                heads,
                opens,
                expanded,
                next,
                seen,
            } => loop {
                if let Some(uid) = extra.next() {
                    return Some(uid);
                }
                if *next != NO_NODE && seen.insert(*next) {
                    let node = *next;
                    *next = forest.tree_parent(node);
                    return forest.uid(node);
                }
                if let Some(head) = heads.pop() {
                    *next = forest.node_at(head);
                    continue;
                }
                let open = opens.pop()?;
                if expanded.insert(open) {
                    let (more_heads, more_opens) = forest.cover_of(open);
                    heads.extend_from_slice(more_heads);
                    opens.extend_from_slice(more_opens);
                }
            },
        }
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
