//! A spanning forest of an entity hierarchy, each node labelled with its preorder interval:
//! `a` is a forest ancestor of `b` exactly when `b`'s preorder number falls in `a`'s interval.
//!
//! Every entity of the hierarchy (and every parent named that is not an entity) is a node; each
//! node keeps one of its parents as its forest parent. A node's ancestors are then given by its
//! *cover*: its heads, nodes whose forest paths up hold its ancestors, and — where sharing
//! would take more than [`COVER_AT_MOST`] heads — its opens, nodes whose own ancestors are to
//! be searched through their covers. A chain or a tree has one head per node and no opens, so
//! `in` is an interval lookup and a binary search; a hierarchy that shares ancestors through
//! many paths stays linear in memory, and `in` searches the opens it meets.

use foldhash::HashSet;
use hashbrown::HashTable;

use crate::uid::EntityUid;

/// No node: the forest parent of a root.
pub(crate) const NO_NODE: u32 = u32::MAX;

/// A cover with more heads and opens than this is replaced by the node's parents as opens.
pub(crate) const COVER_AT_MOST: usize = 32;

/// A node's cover in the making: heads (preorder numbers, increasing, none a forest ancestor
/// of another) and opens (node numbers, increasing).
#[derive(Debug, Default)]
pub(crate) struct Cover {
    pub(crate) heads: Vec<u32>,
    pub(crate) opens: Vec<u32>,
}

/// Where a node is in the forest: its subtree's preorder numbers `from..to`, and its depth.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    pub(crate) from: u32,
    pub(crate) to: u32,
    pub(crate) depth: u32,
}

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
    /// Each node's cover.
    heads: Spans,
    opens: Spans,
    /// Each node's depth: the longest path up from it to a node without parents. An ancestor
    /// is shallower than its descendants, which prunes the search through opens.
    depth: Box<[u32]>,
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
            heads: Spans::default(),
            opens: Spans::default(),
            depth: Box::default(),
        }
    }

    /// Sets every node's cover (as [`cover_into`](Self::cover_into) made them, parents first)
    /// and depth.
    pub(crate) fn set_covers(&mut self, heads: Spans, opens: Spans, depth: Vec<u32>) {
        self.heads = heads;
        self.opens = opens;
        self.depth = depth.into_boxed_slice();
    }

    /// The cover of a node whose parents are `parents` (nodes of this forest, whose covers are
    /// in `heads` and `opens`): its parents and their heads, and their opens; or, when that
    /// comes to more than [`COVER_AT_MOST`], its parents as heads and as opens.
    pub(crate) fn cover_into(
        &self,
        parents: &[u32],
        heads: &Spans,
        opens: &Spans,
        cover: &mut Cover,
    ) {
        cover.heads.clear();
        cover.opens.clear();
        for &p in parents {
            cover.heads.push(self.pre(p));
            cover.heads.extend_from_slice(heads.get(p));
            cover.opens.extend_from_slice(opens.get(p));
        }
        self.reduce(&mut cover.heads);
        cover.opens.sort_unstable();
        cover.opens.dedup();
        if cover.heads.len() + cover.opens.len() > COVER_AT_MOST {
            cover.heads.clear();
            cover.heads.extend(parents.iter().map(|&p| self.pre(p)));
            self.reduce(&mut cover.heads);
            cover.opens.clear();
            cover.opens.extend_from_slice(parents);
            cover.opens.sort_unstable();
            cover.opens.dedup();
        }
    }

    /// The cover of a forest node.
    pub(crate) fn cover_of(&self, node: u32) -> (&[u32], &[u32]) {
        (self.heads.get(node), self.opens.get(node))
    }

    /// Whether the ancestors a cover (`heads`, `opens`) stands for include the node at
    /// `place`. Opens no deeper than it are passed over: their ancestors are shallower still.
    pub(crate) fn covers(&self, heads: &[u32], opens: &[u32], place: Place) -> bool {
        let within = |heads: &[u32]| {
            let at = heads.partition_point(|&h| h < place.from);
            heads.get(at).is_some_and(|&h| h < place.to)
        };
        if within(heads) {
            return true;
        }
        if opens.is_empty() {
            return false;
        }
        let deeper = |node: &u32| {
            self.depth
                .get(*node as usize)
                .is_some_and(|&d| d > place.depth)
        };
        let mut seen: HashSet<u32> = HashSet::default();
        let mut stack: Vec<u32> = opens.iter().copied().filter(deeper).collect();
        while let Some(node) = stack.pop() {
            if !seen.insert(node) {
                continue;
            }
            let (heads, opens) = self.cover_of(node);
            if within(heads) {
                return true;
            }
            stack.extend(opens.iter().copied().filter(deeper));
        }
        false
    }

    /// The node of `uid`, if it is one.
    pub(crate) fn node(&self, uid: &EntityUid) -> Option<u32> {
        self.index
            .find(uid.precomputed_hash(), |&v| self.uids[v as usize] == *uid)
            .copied()
    }

    /// Where `uid` is: the preorder numbers of its subtree (from its own, up to but not
    /// including the end), and its depth.
    pub(crate) fn place(&self, uid: &EntityUid) -> Option<Place> {
        let node = self.node(uid)? as usize;
        Some(Place {
            from: self.pre[node],
            to: self.end[node],
            depth: self.depth.get(node).copied().unwrap_or(u32::MAX),
        })
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

/// A slice of numbers for each node, in one array.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    spans: Vec<(u32, u32)>,
    items: Vec<u32>,
}

impl Spans {
    pub(crate) fn new(n: usize) -> Self {
        Spans {
            spans: vec![(0, 0); n],
            items: Vec::new(),
        }
    }

    pub(crate) fn get(&self, v: u32) -> &[u32] {
        let (from, len) = self.spans.get(v as usize).copied().unwrap_or_default();
        self.items
            .get(from as usize..from as usize + len as usize)
            .unwrap_or(&[])
    }

    pub(crate) fn set(&mut self, v: u32, items: &[u32]) {
        let from = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.items.extend_from_slice(items);
        if let Some(span) = self.spans.get_mut(v as usize) {
            *span = (from, u32::try_from(items.len()).unwrap_or(u32::MAX));
        }
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
            let place = forest.place(&uid(a)).unwrap();
            (place.from..place.to).contains(&forest.pre(b as u32))
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
        assert!(forest.place(&uid(9)).is_none());
    }
}
