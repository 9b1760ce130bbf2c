//! The scope index: which policies' scopes can hold for a request, without looking at any policy.
//!
//! [`ScopeIndex::build`] numbers the active policies of a [`PolicySet`] — the order of
//! [`PolicySet::active`]: static policies as added, then template links — from 0, and files each
//! number under the keys its principal, action and resource constraints name, one set of policy
//! numbers per key:
//!
//! | constraint | key |
//! |---|---|
//! | `principal` / `resource` | any |
//! | `== E` | eq\[E\] |
//! | `in E` | in\[E\] |
//! | `is T` | is\[T\] |
//! | `is T in E` | is_in\[T\]\[E\] |
//! | `action` | any |
//! | `action == A` | eq\[A\] |
//! | `action in [A, B, ...]` | in\[A\], in\[B\], ... |
//!
//! Template slots are resolved with the link's values when the index is built, so a link is
//! indexed as the static policy it stands for. Each policy also records the keys it is filed
//! under, so that whether one policy's scope holds is a few comparisons of key numbers.
//!
//! [`ScopeIndex::candidates`] answers a request with the union, for the principal `p`, of
//! any, eq\[p\], is\[type(p)\], and in\[a\] and is_in\[type(p)\]\[a\] for every `a` in `p` and
//! its ancestors in the entity store (an entity absent from the store is only in itself); the
//! same for the resource; for the action, any, eq\[action\] and in\[g\] for `g` the action and
//! its ancestors (action groups come from the store too); and the intersection of the three.
//! It computes that without materialising unions: when one side selects few policies (a
//! request's principal usually names a handful, however large the set), each of those is
//! checked against the keys the other sides matched. Joined with a store
//! ([`ScopeIndex::join`]), a principal's few policies are listed beforehand with the keys they
//! need the other sides to match.
//!
//! ## What it promises
//!
//! For every request and entity store, `candidates` is *exactly* the set of numbers of the
//! active policies whose scope (principal, action and resource constraints, ignoring `when` and
//! `unless`) holds as the reference interpreter's `is_satisfied` decides it: `in` reflexive and
//! transitive through the store's ancestors, `action in [..]` true when in any listed group. A
//! tier that evaluates the candidates may therefore skip their scope checks, and may skip every
//! other policy: its scope does not hold.
//!
//! A link whose template names a slot the link gives no value for (which linking never makes)
//! has no scope that can hold: the interpreter reports it as an error when it reaches the slot.
//! The index files such a policy under [`ScopeIndex::unresolved`] and never returns it as a
//! candidate; a tier that must report those errors evaluates them itself. Building and lookup
//! never panic.
//!
//! The index is plain data (policy ids, hash maps of uids and types to key numbers, policy
//! numbers per key), cheap to clone and ready to embed in a compiled program.

mod bits;
mod candidates;
mod join;
mod listing;
mod matched;
mod side;
#[cfg(test)]
mod tests;
mod uid_table;

use std::collections::BTreeMap;

pub use roaring::RoaringBitmap;
use thuja_runtime::{Entities, EntityLookup, EntityType, EntityUid, PolicyId, Request};

use crate::ast::{Effect, EntityRef, PolicySet, ScopeConstraint, SlotId};
pub use candidates::Candidates;
use candidates::FewNumbers;
pub use join::EntityKeys;
use join::Role;
use matched::Matched;
use side::{ActionKeys, ActionLists, KeyId, Side};

/// An active policy as the index numbers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedPolicy {
    /// The policy's id, or the link's id for a template link.
    pub id: PolicyId,
    pub effect: Effect,
}

/// Policy numbers filed under the keys their scope constraints name; see the
/// [module documentation](self).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeIndex {
    /// Entry `n` is the policy numbered `n`: the `n`th of [`PolicySet::active`].
    policies: Vec<IndexedPolicy>,
    /// Entry `n` is the keys policy `n` is filed under.
    keys: Vec<PolicyKeys>,
    /// The keys of `action in [...]` lists of other than one group.
    action_lists: ActionLists,
    principal: Side,
    action: Side,
    resource: Side,
    /// Policies whose scope names a slot without a value.
    unresolved: RoaringBitmap,
}

/// The keys one policy is filed under: its number is in exactly the sets of these keys. 16
/// bytes: four policies to a cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PolicyKeys {
    principal: KeyId,
    resource: KeyId,
    action: ActionKeys,
}

const _: () = assert!(size_of::<PolicyKeys>() == 16);

impl PolicyKeys {
    /// The keys of a policy that is filed nowhere (an unresolved link).
    const NOWHERE: PolicyKeys = PolicyKeys {
        principal: side::NO_KEY,
        action: ActionKeys::NONE,
        resource: side::NO_KEY,
    };
}

/// Policy sets at most this large have their candidates computed on machine words.
const SMALL: usize = 64;

/// When one side of a larger set selects at most this many policies, its policies are checked
/// one by one against the other sides.
const FEW: u64 = 256;

/// A principal selecting at most this many policies has them checked one by one without
/// looking at the other sides' sizes.
const VERY_FEW: u64 = 8;

/// A principal or resource constraint with its slot resolved.
enum Resolved<'a> {
    Any,
    Eq(&'a EntityUid),
    In(&'a EntityUid),
    Is(&'a EntityType),
    IsIn(&'a EntityType, &'a EntityUid),
}

impl ScopeIndex {
    /// Indexes the active policies of `set`, numbered in the order of [`PolicySet::active`].
    /// Only the first 2³² policies get a number (the sets of numbers hold `u32`s).
    pub fn build(set: &PolicySet) -> ScopeIndex {
        let mut index = ScopeIndex::default();
        for (n, active) in set.active().enumerate() {
            let Ok(n) = u32::try_from(n) else {
                break;
            };
            let policy = active.policy;
            index.policies.push(IndexedPolicy {
                id: active.id.clone(),
                effect: policy.effect,
            });
            let principal = resolve_constraint(&policy.principal, active.slots);
            let resource = resolve_constraint(&policy.resource, active.slots);
            let (Some(principal), Some(resource)) = (principal, resource) else {
                index.unresolved.insert(n);
                index.keys.push(PolicyKeys::NOWHERE);
                continue;
            };
            let keys = PolicyKeys {
                principal: index.principal.insert(n, principal),
                action: index
                    .action
                    .insert_action(n, &policy.action, &mut index.action_lists),
                resource: index.resource.insert(n, resource),
            };
            index.keys.push(keys);
        }
        index
    }

    /// The numbers of the active policies whose scope holds for `request`, with `entities`
    /// giving the ancestors of its principal, action and resource.
    pub fn candidates(&self, request: &Request, entities: &Entities) -> Candidates {
        self.candidates_of(
            request.principal(),
            request.action(),
            request.resource(),
            entities,
        )
    }

    /// [`candidates`](Self::candidates) of the request with this principal, action and
    /// resource, reading the entities through any [`EntityLookup`].
    pub fn candidates_of(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> Candidates {
        self.candidates_given(principal, action, resource, entities, None)
    }

    /// Finds, for every entity of `entities`, the keys it matches as a principal, as an action
    /// and as a resource, for [`candidates_joined`](Self::candidates_joined).
    pub fn join(&self, entities: &Entities) -> EntityKeys {
        EntityKeys::build(self, entities)
    }

    /// [`candidates_of`](Self::candidates_of), reading the keys of a principal, action or
    /// resource found in `entities` from `joined` rather than from its ancestors. `joined` must be this
    /// index's [`join`](Self::join) with the store `entities` reads (or views) unchanged since:
    /// the entities' positions are read as positions in it.
    pub fn candidates_joined(
        &self,
        joined: &EntityKeys,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> Candidates {
        self.candidates_given(principal, action, resource, entities, Some(joined))
    }

    /// The keys `uid` matches as `role`: from `joined` when it has them.
    #[inline(always)]
    fn matched<'j>(
        &self,
        role: Role,
        uid: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
        joined: Option<&'j EntityKeys>,
    ) -> Matched<'j> {
        let side = match role {
            Role::Principal => &self.principal,
            Role::Action => &self.action,
            Role::Resource => &self.resource,
        };
        joined
            .zip(entities.entity(uid))
            .and_then(|(joined, entity)| joined.matched(entity, role))
            .unwrap_or_else(|| side.matches(uid, entities))
    }

    fn candidates_given(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
        joined: Option<&EntityKeys>,
    ) -> Candidates {
        if self.policies.len() <= SMALL {
            // Unjoined, the masks are or-ed as keys are found, without listing them (listing
            // them first cost ~360 more instructions per request on the RBAC-10 workload).
            if joined.is_some() {
                let p = self.matched(Role::Principal, principal, entities, joined);
                let a = self.matched(Role::Action, action, entities, joined);
                let r = self.matched(Role::Resource, resource, entities, joined);
                let p_mask = self.principal.low_bits_of(&p);
                let mask = p_mask & self.action.low_bits_of(&a) & self.resource.low_bits_of(&r);
                return Candidates::from_mask(mask);
            }
            let p_mask = self.principal.low_bits(principal, entities);
            if p_mask == 0 {
                return Candidates::none();
            }
            let a_mask = self.action.low_bits(action, entities);
            let r_mask = self.resource.low_bits(resource, entities);
            return Candidates::from_mask(p_mask & a_mask & r_mask);
        }
        // A principal the join listed few policies for: each checked against the keys the
        // action and the resource matched (its principal key holds by construction).
        let listed = joined
            .zip(entities.entity(principal))
            .and_then(|(joined, entity)| joined.listed(entity));
        if let Some(listed) = listed {
            let a = self.matched(Role::Action, action, entities, joined);
            let r = self.matched(Role::Resource, resource, entities, joined);
            let mut few = FewNumbers::new();
            for policy in listed.iter() {
                if r.contains(policy.resource)
                    && self.action_lists.any(policy.action, |key| a.contains(key))
                {
                    few.push(policy.number);
                }
            }
            return Candidates::from_sorted_numbers(few);
        }
        // The three lists first: from a join, their loads overlap.
        let p = self.matched(Role::Principal, principal, entities, joined);
        let a = self.matched(Role::Action, action, entities, joined);
        let r = self.matched(Role::Resource, resource, entities, joined);
        let p_size = self.principal.size(&p);
        if p_size == 0 {
            return Candidates::none();
        }
        let matched = [p, a, r];
        let sides = [&self.principal, &self.action, &self.resource];
        // A principal selecting very few policies has them checked at once; otherwise the
        // side selecting fewest does, when they are few (each check costs a look at the
        // policy's keys, so the work is bounded by the smallest side, not the principal's).
        if p_size <= VERY_FEW {
            return self.check_each(0, sides[0], &matched);
        }
        let sizes = [
            p_size,
            sides[1].size(&matched[1]),
            sides[2].size(&matched[2]),
        ];
        let smallest = (0..3).min_by_key(|&s| sizes[s]).unwrap_or(0);
        if sizes[smallest] <= FEW {
            return self.check_each(smallest, sides[smallest], &matched);
        }
        Candidates::from_bitmap(self.intersect(sides, &matched, sizes))
    }

    /// The candidates among the policies of side number `s` (`side`, whose matched keys are
    /// `matched[s]`): each checked against the keys the other two sides matched (its own
    /// side's key is among `matched[s]` by construction).
    fn check_each(&self, s: usize, side: &Side, matched: &[Matched<'_>; 3]) -> Candidates {
        let mut few = FewNumbers::new();
        let [p, a, r] = matched;
        side.each_number(&matched[s], &mut |n| {
            let Some(keys) = self.keys.get(n as usize) else {
                return;
            };
            let admitted = (s == 0 || p.contains(keys.principal))
                && (s == 2 || r.contains(keys.resource))
                && (s == 1 || self.action_lists.any(keys.action, |key| a.contains(key)));
            if admitted {
                few.push(n);
            }
        });
        Candidates::from_numbers(few)
    }

    /// The intersection of the three sides' unions, starting from the smallest so that the
    /// work is bounded by its size.
    fn intersect(
        &self,
        sides: [&Side; 3],
        matched: &[Matched<'_>; 3],
        sizes: [u64; 3],
    ) -> RoaringBitmap {
        let mut order = [0, 1, 2];
        order.sort_by_key(|&s| sizes[s]);
        let [first, rest @ ..] = order;
        let mut out = sides[first].union(&matched[first]);
        for s in rest {
            if out.is_empty() {
                break;
            }
            sides[s].restrict(&matched[s], &mut out);
        }
        out
    }

    /// [`candidates`](Self::candidates) as the intersection of the three sides' unions, on
    /// roaring bitmaps whatever the size of the set (the model the faster paths are tested
    /// against).
    #[cfg(test)]
    fn candidates_roaring(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> RoaringBitmap {
        let p = self
            .principal
            .union(&self.principal.matches(principal, entities));
        let a = self.action.union(&self.action.matches(action, entities));
        let r = self
            .resource
            .union(&self.resource.matches(resource, entities));
        p & a & r
    }

    /// How many policies are numbered (the active policies of the set it was built from).
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policy numbered `n`.
    pub fn policy(&self, n: u32) -> Option<&IndexedPolicy> {
        self.policies.get(usize::try_from(n).ok()?)
    }

    /// Every numbered policy, entry `n` being number `n`.
    pub fn policies(&self) -> &[IndexedPolicy] {
        &self.policies
    }

    /// Policies whose scope names a template slot without a value: never candidates, since
    /// their scope cannot hold (the interpreter reports an error for them instead).
    pub fn unresolved(&self) -> &RoaringBitmap {
        &self.unresolved
    }
}

fn resolve_constraint<'a>(
    constraint: &'a ScopeConstraint,
    slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
) -> Option<Resolved<'a>> {
    let resolve = |r: &'a EntityRef| match r {
        EntityRef::Uid(uid) => Some(uid),
        EntityRef::Slot(slot) => slots.and_then(|s| s.get(slot)),
    };
    Some(match constraint {
        ScopeConstraint::Any => Resolved::Any,
        ScopeConstraint::Eq(r) => Resolved::Eq(resolve(r)?),
        ScopeConstraint::In(r) => Resolved::In(resolve(r)?),
        ScopeConstraint::Is(ty) => Resolved::Is(ty),
        ScopeConstraint::IsIn(ty, r) => Resolved::IsIn(ty, resolve(r)?),
    })
}
