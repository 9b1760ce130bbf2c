//! Closing an entity hierarchy: every entity's transitive ancestors, held in memory linear in
//! the hierarchy however deep or shared it is.
//!
//! An entity with at most [`Closing::list_at_most`] ancestors lists them. The others are
//! labelled in a spanning forest of the hierarchy (`forest`): an entity holds its cover, one
//! head for an entity of a tree or a chain, at most 32 heads and opens (or its parents) where
//! ancestors are shared through many paths. Closing costs time linear in the hierarchy plus
//! the lists and covers it makes; what it holds is bounded by a number of links, and a
//! hierarchy that needs more is an error naming an entity, never a crash.

use std::sync::Arc;

use foldhash::HashMap;

use crate::ancestors::{Ancestors, LIST_AT_MOST, Labeled};
use crate::entity::{EntitiesError, Parents};
use crate::forest::{Cover, Forest, NO_NODE, Spans};
use crate::json::limits::max_ancestor_links;
use crate::uid::EntityUid;

/// How a hierarchy is closed: what it may hold, and which entities list their ancestors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Closing {
    /// The most (entity, ancestor) links — listed ancestors and forest heads — the hierarchy may
    /// hold; `None` for [`max_ancestor_links`] of its number of entities.
    pub max_links: Option<usize>,
    /// Entities with at most this many ancestors list them; `None` for the default (32). With
    /// `Some(0)` every entity with ancestors is labelled in the forest: for tests that compare
    /// the two ways of holding ancestors.
    pub list_at_most: Option<usize>,
}

/// The ancestors of each of `members` (each entity with its direct parents, every uid once), in
/// their order. A parent that is not a member is an ancestor without ancestors of its own. A
/// cycle, or holding more links than `closing` allows, is an error.
pub(crate) fn close<'a>(
    members: impl IntoIterator<Item = (&'a EntityUid, &'a Parents)>,
    closing: Closing,
) -> Result<Closed, EntitiesError> {
    let graph = Graph::new(members);
    let max_links = closing
        .max_links
        .unwrap_or_else(|| max_ancestor_links(graph.members()));
    let list_at_most = closing.list_at_most.unwrap_or(LIST_AT_MOST);
    let order = graph.parents_first()?;
    let n = graph.uids.len();
    // An upper bound on each node's ancestors, exact for trees.
    let mut bound = vec![0usize; n];
    for &v in &order {
        bound[v as usize] = graph.parents_of(v).iter().fold(0usize, |sum, &p| {
            sum.saturating_add(bound[p as usize].saturating_add(1))
        });
    }
    let mut links = 0usize;
    let count = |v: usize, held: usize, links: &mut usize| {
        *links = links.saturating_add(held);
        match *links > max_links {
            true => Err(EntitiesError::TooLarge {
                uid: graph.uids[v].clone(),
                max_links,
            }),
            false => Ok(()),
        }
    };
    // Lists of the nodes with few ancestors: their parents have fewer, so are listed before.
    let mut lists = Spans::new(n);
    let mut scratch: Vec<u32> = Vec::new();
    for &v in &order {
        if bound[v as usize] > list_at_most {
            continue;
        }
        scratch.clear();
        for &p in graph.parents_of(v) {
            scratch.push(p);
            scratch.extend_from_slice(lists.get(p));
        }
        scratch.sort_unstable();
        scratch.dedup();
        if (v as usize) < graph.members() {
            count(v as usize, scratch.len(), &mut links)?;
        }
        lists.set(v, &scratch);
    }
    let deep = (0..graph.members()).any(|v| bound[v] > list_at_most);
    let forest = match deep {
        true => Some(graph.label(&order, &bound, list_at_most, |v, held| {
            count(v, held, &mut links)
        })?),
        false => None,
    };
    let ancestors = (0..graph.members())
        .map(|v| match &forest {
            Some(forest) if bound[v] > list_at_most => {
                Ancestors::Labeled(Arc::new(Labeled::of_node(forest, v as u32, bound[v])))
            }
            _ => lists
                .get(v as u32)
                .iter()
                .map(|&a| graph.uids[a as usize].clone())
                .collect(),
        })
        .collect();
    Ok(Closed { ancestors, forest })
}

/// A closed hierarchy.
pub(crate) struct Closed {
    /// Each member's ancestors, in the members' order.
    pub(crate) ancestors: Vec<Ancestors>,
    /// The forest the members with many ancestors are labelled in, if any are.
    pub(crate) forest: Option<Arc<Forest>>,
}

/// The hierarchy with its entities numbered (members first, in order, then the parents that are
/// not members, which have no parents), each member's parents one slice of one array.
struct Graph<'a> {
    uids: Vec<&'a EntityUid>,
    /// Member `v`'s parents are `edges[starts[v]..starts[v + 1]]`.
    starts: Vec<usize>,
    edges: Vec<u32>,
}

impl<'a> Graph<'a> {
    fn new(members: impl IntoIterator<Item = (&'a EntityUid, &'a Parents)>) -> Self {
        let members: Vec<_> = members.into_iter().collect();
        let mut index: HashMap<&EntityUid, u32> =
            HashMap::with_capacity_and_hasher(members.len(), Default::default());
        let mut uids: Vec<&EntityUid> = Vec::with_capacity(members.len());
        let mut number = |uid: &'a EntityUid, uids: &mut Vec<&'a EntityUid>| {
            *index.entry(uid).or_insert_with(|| {
                uids.push(uid);
                u32::try_from(uids.len() - 1).unwrap_or(u32::MAX)
            })
        };
        for (uid, _) in &members {
            number(uid, &mut uids);
        }
        let mut starts = Vec::with_capacity(uids.len() + 1);
        let mut edges = Vec::new();
        for (uid, parents) in &members {
            // A repeated entity keeps its first parents (differing repeats are an error later):
            // first occurrences come in the order they were numbered.
            if number(uid, &mut uids) as usize != starts.len() {
                continue;
            }
            starts.push(edges.len());
            for p in parents.iter() {
                edges.push(number(p, &mut uids));
            }
        }
        starts.push(edges.len());
        Graph {
            uids,
            starts,
            edges,
        }
    }

    /// How many members there are (they are numbered first).
    fn members(&self) -> usize {
        self.starts.len() - 1
    }

    fn parents_of(&self, v: u32) -> &[u32] {
        let v = v as usize;
        match (self.starts.get(v), self.starts.get(v + 1)) {
            (Some(&from), Some(&to)) => self.edges.get(from..to).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Every node, each after its parents; a cycle is an error naming a member on it.
    fn parents_first(&self) -> Result<Vec<u32>, EntitiesError> {
        const UNSEEN: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.uids.len();
        let mut state = vec![UNSEEN; n];
        let mut order = Vec::with_capacity(n);
        let mut stack: Vec<(u32, usize)> = Vec::new();
        for root in 0..n {
            if state[root] != UNSEEN {
                continue;
            }
            state[root] = OPEN;
            stack.push((root as u32, 0));
            while let Some((v, next)) = stack.last_mut() {
                let v = *v;
                if let Some(&p) = self.parents_of(v).get(*next) {
                    *next += 1;
                    match state[p as usize] {
                        UNSEEN => {
                            state[p as usize] = OPEN;
                            stack.push((p, 0));
                        }
                        OPEN => return Err(EntitiesError::Cycle(self.uids[p as usize].clone())),
                        _ => {}
                    }
                } else {
                    state[v as usize] = DONE;
                    order.push(v);
                    stack.pop();
                }
            }
        }
        Ok(order)
    }

    /// The forest of the hierarchy, each node's forest parent the parent with the most
    /// ancestors, with every node's cover; `count` is told how many links each member labelled
    /// holds.
    fn label(
        &self,
        order: &[u32],
        bound: &[usize],
        list_at_most: usize,
        mut count: impl FnMut(usize, usize) -> Result<(), EntitiesError>,
    ) -> Result<Arc<Forest>, EntitiesError> {
        let n = self.uids.len();
        let parent: Vec<u32> = (0..n as u32)
            .map(|v| {
                let parents = self.parents_of(v);
                parents
                    .iter()
                    .copied()
                    .max_by_key(|&p| bound[p as usize])
                    .unwrap_or(NO_NODE)
            })
            .collect();
        let mut forest = Forest::new(self.uids.iter().map(|&u| u.clone()).collect(), parent);
        let (mut heads, mut opens) = (Spans::new(n), Spans::new(n));
        let mut depth = vec![0u32; n];
        let mut cover = Cover::default();
        for &v in order {
            depth[v as usize] = self
                .parents_of(v)
                .iter()
                .map(|&p| depth[p as usize].saturating_add(1))
                .max()
                .unwrap_or(0);
            forest.cover_into(self.parents_of(v), &heads, &opens, &mut cover);
            if (v as usize) < self.members() && bound[v as usize] > list_at_most {
                count(v as usize, cover.heads.len() + cover.opens.len())?;
            }
            heads.set(v, &cover.heads);
            opens.set(v, &cover.opens);
        }
        forest.set_covers(heads, opens, depth);
        Ok(Arc::new(forest))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use super::*;
    use crate::name::EntityType;

    fn uid(n: usize) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), n.to_string())
    }

    fn close_edges(
        edges: &[(usize, Vec<usize>)],
        limit: usize,
    ) -> Result<Vec<Ancestors>, EntitiesError> {
        let members: Vec<(EntityUid, Parents)> = edges
            .iter()
            .map(|(e, ps)| (uid(*e), ps.iter().map(|p| uid(*p)).collect()))
            .collect();
        let closing = Closing {
            max_links: Some(limit),
            list_at_most: None,
        };
        close(members.iter().map(|(u, ps)| (u, ps)), closing).map(|c| c.ancestors)
    }

    /// Every ancestor of each member, found by walking the parents.
    fn walked(edges: &[(usize, Vec<usize>)]) -> Vec<BTreeSet<usize>> {
        let parents: HashMap<usize, &Vec<usize>> = edges.iter().map(|(e, p)| (*e, p)).collect();
        edges
            .iter()
            .map(|(e, _)| {
                let mut seen = BTreeSet::new();
                let mut stack = vec![*e];
                while let Some(v) = stack.pop() {
                    for &p in parents.get(&v).into_iter().flat_map(|p| p.iter()) {
                        if seen.insert(p) {
                            stack.push(p);
                        }
                    }
                }
                seen
            })
            .collect()
    }

    /// Closes `edges` and checks every member's `in` against every node, and its listing.
    fn check(edges: &[(usize, Vec<usize>)], nodes: usize) {
        let closed = close_edges(edges, usize::MAX).unwrap();
        for ((_, _), (ancestors, want)) in edges.iter().zip(closed.iter().zip(walked(edges))) {
            for a in 0..nodes {
                assert_eq!(ancestors.contains(&uid(a)), want.contains(&a));
            }
            let listed: BTreeSet<usize> =
                ancestors.iter().map(|u| u.id().parse().unwrap()).collect();
            assert_eq!(listed, want);
            assert!(ancestors.len() >= want.len());
        }
    }

    #[test]
    fn chains_trees_and_shared_hierarchies_close_exactly() {
        let chain: Vec<_> = (0..300)
            .map(|i| (i, if i == 0 { vec![] } else { vec![i - 1] }))
            .collect();
        check(&chain, 301);
        // A binary tree 9 levels deep.
        let tree: Vec<_> = (0..1023)
            .map(|i| (i, if i == 0 { vec![] } else { vec![(i - 1) / 2] }))
            .collect();
        check(&tree, 1024);
        // A ladder of diamonds: the summed bound doubles at every rung, the closure does not.
        let mut ladder = vec![(0, vec![]), (1, vec![0]), (2, vec![0])];
        for rung in 1..60 {
            let (a, b) = (2 * rung + 1, 2 * rung + 2);
            ladder.push((a, vec![a - 2, a - 1]));
            ladder.push((b, vec![a - 2, a - 1]));
        }
        check(&ladder, 125);
        // Several parents each, some outside the hierarchy, members in any order.
        let mut dag: Vec<(usize, Vec<usize>)> = (0..400)
            .map(|i: usize| {
                let parents = [i * 7 % 13, i / 2, i / 3 + 1, 1000 + i % 5]
                    .into_iter()
                    .filter(|&p| p < i || p >= 1000)
                    .collect();
                (i, parents)
            })
            .collect();
        dag.reverse();
        check(&dag, 1010);
    }

    #[test]
    fn chains_hold_one_link_per_entity() {
        let chain: Vec<_> = (0..100_000)
            .map(|i| (i, if i == 0 { vec![] } else { vec![i - 1] }))
            .collect();
        let closed = close_edges(&chain, 200_000).unwrap();
        assert!(closed[99_999].contains(&uid(0)));
        assert!(!closed[5].contains(&uid(6)));
        assert!(close_edges(&chain, 50_000).is_err());
    }

    #[test]
    fn hierarchies_sharing_through_many_paths_stay_linear() {
        // Levels of 8 entities, each under every entity of the level above: each entity's
        // ancestors are spread over the forest, soon too many for heads: its parents are opens.
        let (width, depth) = (8, 16);
        let ladder: Vec<_> = (0..width * depth)
            .map(|i| {
                let level = i / width;
                let parents = match level {
                    0 => vec![],
                    _ => ((level - 1) * width..level * width).collect(),
                };
                (i, parents)
            })
            .collect();
        check(&ladder, width * depth);
        let closed = close_edges(&ladder, usize::MAX).unwrap();
        let open = |a: &Ancestors| matches!(a, Ancestors::Labeled(l) if !l.opens.is_empty());
        assert!(closed.iter().filter(|a| open(a)).count() > width * depth / 2);
        // Each holds at most 32 listed ancestors, or a cover of 32 (or of its parents, twice).
        let links = 32 * width * depth;
        assert!(close_edges(&ladder, links).is_ok());
        let err = close_edges(&ladder, 500).err();
        assert!(matches!(
            err,
            Some(EntitiesError::TooLarge { max_links: 500, .. })
        ));
    }

    #[test]
    fn cycles_are_errors() {
        let cycle = vec![(0, vec![2]), (1, vec![0]), (2, vec![1])];
        assert!(matches!(
            close_edges(&cycle, 100),
            Err(EntitiesError::Cycle(_))
        ));
        let mut edges: Vec<_> = (1..100_000).map(|i| (i, vec![i - 1])).collect();
        edges.push((0, vec![99_999]));
        assert!(matches!(
            close_edges(&edges, usize::MAX),
            Err(EntitiesError::Cycle(_))
        ));
    }
}
