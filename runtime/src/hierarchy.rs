//! How large a hierarchy's transitive closure is, found before it is built.
//!
//! An entity store keeps every entity's transitive ancestors, so a hierarchy of `n` entities
//! can take `n²/2` ancestor entries: a chain of 10,000 entities, each the parent of the next (a
//! 300 KB entities file), would take some 50 million. [`check_closure`] tells, in time linear in
//! the hierarchy (plus at most a bounded number of steps), whether the closure stays within a
//! number of ancestor links, so that a reader can refuse a hierarchy too large to close instead
//! of running out of memory closing it.

use std::collections::BTreeSet;

use foldhash::HashMap;

use crate::uid::EntityUid;

/// Whether the transitive closure of `members` (each entity with its direct parents) holds at
/// most `limit` (entity, ancestor) pairs in all. `Err` names an entity whose ancestors take the
/// count past the limit.
///
/// First an upper bound, an entity's parents plus their bounds, is summed in one depth-first
/// walk: exact for trees, and enough for most hierarchies. Where it is over the limit (shared
/// ancestors are counted once per path) or the hierarchy has a cycle, the ancestors are counted
/// exactly, stopping as soon as the count passes the limit.
pub fn check_closure<'a>(
    members: impl IntoIterator<Item = (&'a EntityUid, &'a BTreeSet<EntityUid>)>,
    limit: usize,
) -> Result<(), EntityUid> {
    let graph = Graph::new(members);
    if graph.bounded_within(limit) {
        return Ok(());
    }
    graph.counted_within(limit)
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
    fn new(members: impl IntoIterator<Item = (&'a EntityUid, &'a BTreeSet<EntityUid>)>) -> Self {
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

    /// Whether the summed upper bound is within `limit` (false for a cycle).
    fn bounded_within(&self, limit: usize) -> bool {
        const UNSEEN: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let cap = limit.saturating_add(1);
        let n = self.uids.len();
        let mut bound = vec![0usize; n];
        let mut state = vec![UNSEEN; n];
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
                        OPEN => return false,
                        _ => {}
                    }
                } else {
                    bound[v as usize] = self.parents_of(v).iter().fold(0usize, |sum, &p| {
                        sum.saturating_add(1 + bound[p as usize]).min(cap)
                    });
                    state[v as usize] = DONE;
                    stack.pop();
                }
            }
        }
        bound[..self.members()]
            .iter()
            .try_fold(0usize, |total, &b| {
                let total = total.saturating_add(b);
                (total <= limit).then_some(total)
            })
            .is_some()
    }

    /// Counts every member's distinct ancestors, stopping past `limit` links (or past four
    /// times as many steps: parents met again are steps too).
    fn counted_within(&self, limit: usize) -> Result<(), EntityUid> {
        let mut seen_by = vec![u32::MAX; self.uids.len()];
        let (mut links, mut steps) = (0usize, 0usize);
        let max_steps = limit.saturating_mul(4);
        let mut stack: Vec<u32> = Vec::new();
        for e in 0..self.members() {
            let e32 = e as u32;
            stack.clear();
            stack.extend_from_slice(self.parents_of(e32));
            while let Some(v) = stack.pop() {
                steps += 1;
                if seen_by[v as usize] != e32 {
                    seen_by[v as usize] = e32;
                    links += 1;
                    stack.extend_from_slice(self.parents_of(v));
                }
                if links > limit || steps > max_steps {
                    return Err(self.uids[e].clone());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::name::EntityType;

    fn uid(n: usize) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), n.to_string())
    }

    fn check(edges: &[(usize, Vec<usize>)], limit: usize) -> Result<(), EntityUid> {
        let members: Vec<(EntityUid, BTreeSet<EntityUid>)> = edges
            .iter()
            .map(|(e, ps)| (uid(*e), ps.iter().map(|p| uid(*p)).collect()))
            .collect();
        check_closure(members.iter().map(|(u, ps)| (u, ps)), limit)
    }

    #[test]
    fn chains_are_measured_exactly() {
        // 0 <- 1 <- ... <- 99: 0 + 1 + ... + 99 = 4950 links.
        let chain: Vec<_> = (0..100)
            .map(|i| (i, if i == 0 { vec![] } else { vec![i - 1] }))
            .collect();
        assert!(check(&chain, 4950).is_ok());
        assert!(check(&chain, 4949).is_err());
    }

    #[test]
    fn shared_ancestors_are_counted_once() {
        // A ladder of diamonds: the summed bound doubles at every rung, the closure does not.
        let mut edges = vec![(0, vec![]), (1, vec![0]), (2, vec![0])];
        for rung in 1..60 {
            let (a, b) = (2 * rung + 1, 2 * rung + 2);
            edges.push((a, vec![a - 2, a - 1]));
            edges.push((b, vec![a - 2, a - 1]));
        }
        let exact: usize = (0..edges.len())
            .map(|i| if i == 0 { 0 } else { 1 + 2 * ((i - 1) / 2) })
            .sum();
        assert!(check(&edges, exact).is_ok());
        assert!(check(&edges, exact - 1).is_err());
    }

    #[test]
    fn cycles_are_counted_not_followed_forever() {
        let cycle = vec![(0, vec![2]), (1, vec![0]), (2, vec![1])];
        assert!(check(&cycle, 9).is_ok());
        assert!(check(&cycle, 8).is_err());
        // A long chain into a cycle is refused after a bounded count.
        let mut edges: Vec<_> = (1..100_000).map(|i| (i, vec![i - 1])).collect();
        edges.push((0, vec![99_999]));
        assert!(check(&edges, 1_000_000).is_err());
    }

    #[test]
    fn parents_outside_the_hierarchy_are_leaves() {
        assert!(check(&[(0, vec![5, 6]), (1, vec![0])], 5).is_ok());
        assert!(check(&[(0, vec![5, 6]), (1, vec![0])], 4).is_err());
    }
}
