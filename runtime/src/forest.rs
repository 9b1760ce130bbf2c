//! A spanning forest of an entity hierarchy, each node labelled with its preorder interval:
//! `a` is a forest ancestor of `b` exactly when `b`'s preorder number falls in `a`'s interval.
//!
//! Every entity of the hierarchy (and every parent named that is not an entity) is a node; each
//! node keeps one of its parents as its forest parent. An entity's ancestors are then the forest
//! paths up from a few of them, its heads (see `ancestors`), and memory stays linear in the
//! hierarchy however deep it is.

use hashbrown::HashTable;

use crate::uid::EntityUid;

/// No node: the forest parent of a root.
pub(crate) const NO_NODE: u32 = u32::MAX;

/// The forest, its nodes numbered as the caller numbered them.
#[derive(Debug)]
pub(crate) struct Forest {
    /// Node numbers, by their uid's hash.
    index: HashTable<u32>,
    uids: Box<[EntityUid]>,
    /// Each node's preorder number, and the end of its subtree's numbers (exclusive).
    pre: Box<[u32]>,
    end: Box<[u32]>,
    parent: Box<[u32]>,
    /// The node with each preorder number.
    at_pre: Box<[u32]>,
}

impl Forest {
    /// The forest of the nodes `uids` in which node `n`'s parent is `parent[n]` ([`NO_NODE`]
    /// for a root). The parents must not form a cycle.
    pub(crate) fn new(uids: Vec<EntityUid>, parent: Vec<u32>) -> Forest {
        let n = uids.len();
        // Children of each node, one slice of one array.
        let mut starts = vec![0u32; n + 1];
        for &p in &parent {
            if let Some(count) = starts.get_mut(p as usize + 1) {
                *count += 1;
            }
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut children = vec![0u32; starts[n] as usize];
        for (child, &p) in parent.iter().enumerate() {
            if let Some(at) = fill.get_mut(p as usize) {
                children[*at as usize] = child as u32;
                *at += 1;
            }
        }
        let mut pre = vec![0u32; n];
        let mut end = vec![0u32; n];
        let mut at_pre = Vec::with_capacity(n);
        let mut stack: Vec<(u32, u32)> = Vec::new();
        for root in (0..n).filter(|&v| parent[v] == NO_NODE) {
            pre[root] = at_pre.len() as u32;
            at_pre.push(root as u32);
            stack.push((root as u32, starts[root]));
            while let Some((v, next)) = stack.last_mut() {
                let v = *v as usize;
                if *next < starts[v + 1] {
                    let child = children[*next as usize];
                    *next += 1;
                    pre[child as usize] = at_pre.len() as u32;
                    at_pre.push(child);
                    stack.push((child, starts[child as usize]));
                } else {
                    end[v] = at_pre.len() as u32;
                    stack.pop();
                }
            }
        }
        let mut index = HashTable::with_capacity(n);
        for (node, uid) in uids.iter().enumerate() {
            index.insert_unique(uid.precomputed_hash(), node as u32, |&v| {
                uids[v as usize].precomputed_hash()
            });
        }
        Forest {
            index,
            uids: uids.into_boxed_slice(),
            pre: pre.into_boxed_slice(),
            end: end.into_boxed_slice(),
            parent: parent.into_boxed_slice(),
            at_pre: at_pre.into_boxed_slice(),
        }
    }

    /// The node of `uid`, if it is one.
    pub(crate) fn node(&self, uid: &EntityUid) -> Option<u32> {
        self.index
            .find(uid.precomputed_hash(), |&v| self.uids[v as usize] == *uid)
            .copied()
    }

    /// The preorder numbers of `uid`'s subtree: from its own, up to (not including) the end.
    pub(crate) fn interval(&self, uid: &EntityUid) -> Option<(u32, u32)> {
        let node = self.node(uid)? as usize;
        Some((self.pre[node], self.end[node]))
    }

    pub(crate) fn pre(&self, node: u32) -> u32 {
        self.pre.get(node as usize).copied().unwrap_or(u32::MAX)
    }

    pub(crate) fn uid(&self, node: u32) -> Option<&EntityUid> {
        self.uids.get(node as usize)
    }

    pub(crate) fn tree_parent(&self, node: u32) -> u32 {
        self.parent.get(node as usize).copied().unwrap_or(NO_NODE)
    }

    /// The node numbered `pre` in preorder.
    pub(crate) fn node_at(&self, pre: u32) -> u32 {
        self.at_pre.get(pre as usize).copied().unwrap_or(NO_NODE)
    }

    /// Sorts preorder numbers, keeping each once and dropping those of forest ancestors of
    /// others (whose paths to the root the others' cover).
    pub(crate) fn reduce(&self, heads: &mut Vec<u32>) {
        heads.sort_unstable();
        heads.dedup();
        let mut kept = 0;
        for i in 0..heads.len() {
            let end = self
                .end
                .get(self.node_at(heads[i]) as usize)
                .copied()
                .unwrap_or(0);
            // The next number is the only one that can be in this node's subtree and be kept.
            if heads.get(i + 1).is_none_or(|&next| next >= end) {
                heads[kept] = heads[i];
                kept += 1;
            }
        }
        heads.truncate(kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::EntityType;

    fn uid(n: usize) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), n.to_string())
    }

    #[test]
    fn intervals_nest_as_the_forest_does() {
        // 0 ← 1 ← 2, 0 ← 3, and a second tree 4 ← 5.
        let parent = vec![NO_NODE, 0, 1, 0, NO_NODE, 4];
        let forest = Forest::new((0..6).map(uid).collect(), parent.clone());
        let within = |a: usize, b: usize| {
            let (from, to) = forest.interval(&uid(a)).unwrap();
            (from..to).contains(&forest.pre(b as u32))
        };
        for a in 0..6 {
            for b in 0..6 {
                let mut up = b as u32;
                let mut is_ancestor = false;
                while up != NO_NODE {
                    is_ancestor |= up as usize == a;
                    up = parent[up as usize];
                }
                assert_eq!(within(a, b), is_ancestor, "{a} over {b}");
            }
        }
        let pre = |n: u32| forest.pre(n);
        let mut heads = vec![pre(2), pre(0), pre(3), pre(1), pre(2), pre(5)];
        forest.reduce(&mut heads);
        let mut want = vec![pre(2), pre(3), pre(5)];
        want.sort_unstable();
        assert_eq!(heads, want);
        assert!(forest.interval(&uid(9)).is_none());
    }
}
