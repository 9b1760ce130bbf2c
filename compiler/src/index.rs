//! The scope index: which policies' scopes can hold for a request, without looking at any policy.
//!
//! [`ScopeIndex::build`] numbers the active policies of a [`PolicySet`] — the order of
//! [`PolicySet::active`]: static policies as added, then template links — from 0, and files each
//! number under the keys its principal, action and resource constraints name, in one roaring
//! bitmap per key:
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
//! indexed as the static policy it stands for.
//!
//! [`ScopeIndex::candidates`] answers a request with the union, for the principal `p`, of
//! any, eq\[p\], is\[type(p)\], and in\[a\] and is_in\[type(p)\]\[a\] for every `a` in `p` and
//! its ancestors in the entity store (an entity absent from the store is only in itself); the
//! same for the resource; for the action, any, eq\[action\] and in\[g\] for `g` the action and
//! its ancestors (action groups come from the store too); and the intersection of the three.
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
//! The index is plain data (policy ids, hash maps of uids and types to bitmaps), cheap to clone
//! and ready to embed in a compiled program. Keys are the runtime's `EntityUid` and `EntityType`
//! as they are; they become interned ids when the entity store interns them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use foldhash::HashMap;
pub use roaring::RoaringBitmap;
use smallvec::SmallVec;
use thuja_runtime::{Entities, Entity, EntityLookup, EntityType, EntityUid, Request};

use crate::ast::{ActionConstraint, Effect, EntityRef, PolicySet, ScopeConstraint, SlotId};

/// An active policy as the index numbers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedPolicy {
    /// The policy's id, or the link's id for a template link.
    pub id: Arc<str>,
    pub effect: Effect,
}

/// Roaring bitmaps of policy numbers keyed by the scope constraints that name them; see the
/// [module documentation](self).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeIndex {
    /// Entry `n` is the policy numbered `n`: the `n`th of [`PolicySet::active`].
    policies: Vec<IndexedPolicy>,
    principal: EntityScopeIndex,
    action: ActionScopeIndex,
    resource: EntityScopeIndex,
    /// Policies whose scope names a slot without a value.
    unresolved: RoaringBitmap,
}

/// The principal's or the resource's half of the index.
#[derive(Clone, Debug, Default, PartialEq)]
struct EntityScopeIndex {
    any: Bits,
    eq: HashMap<EntityUid, Bits>,
    in_: HashMap<EntityUid, Bits>,
    is: HashMap<EntityType, Bits>,
    /// By type first: a request's entity has one type, so one lookup finds its only candidates.
    is_in: HashMap<EntityType, HashMap<EntityUid, Bits>>,
}

/// The action's part of the index.
#[derive(Clone, Debug, Default, PartialEq)]
struct ActionScopeIndex {
    any: Bits,
    eq: HashMap<EntityUid, Bits>,
    in_: HashMap<EntityUid, Bits>,
}

/// The policy numbers filed under one key: a roaring bitmap; the numbers below 64 again as a
/// machine word, which is all a set of at most 64 policies needs; and, while there are at most
/// [`INLINE`] of them, the numbers again in the entry itself, so that a key naming few
/// policies (most keys of a large store) is read without following the bitmap's pointers.
#[derive(Clone, Debug, Default, PartialEq)]
struct Bits {
    all: RoaringBitmap,
    low: u64,
    len: u64,
    /// Sorted; complete while `len <= INLINE`, empty after.
    inline: SmallVec<[u32; INLINE]>,
}

/// How many policy numbers a key keeps inline.
const INLINE: usize = 12;

impl Bits {
    fn insert(&mut self, n: u32) {
        if !self.all.insert(n) {
            return;
        }
        self.len += 1;
        if n < 64 {
            self.low |= 1 << n;
        }
        if self.len as usize <= INLINE {
            let at = self.inline.partition_point(|&m| m < n);
            self.inline.insert(at, n);
        } else {
            self.inline = SmallVec::new();
        }
    }

    /// The numbers, when they are kept inline.
    fn inline(&self) -> Option<&[u32]> {
        (self.len as usize <= INLINE).then_some(self.inline.as_slice())
    }

    fn contains(&self, n: u32) -> bool {
        match self.inline() {
            Some(v) => v.contains(&n),
            None => self.all.contains(n),
        }
    }
}

/// Policy sets at most this large have their candidates computed on machine words.
const SMALL: usize = 64;

/// When one side of a larger set selects at most this many policies, its policies are checked
/// one by one against the other sides.
const FEW: usize = 32;

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
    /// Only the first 2³² policies get a number (a roaring bitmap holds `u32`s).
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
                continue;
            };
            index.principal.insert(n, principal);
            index.action.insert(n, &policy.action);
            index.resource.insert(n, resource);
        }
        index
    }

    /// The numbers of the active policies whose scope holds for `request`, with `entities`
    /// giving the ancestors of its principal, action and resource.
    pub fn candidates(&self, request: &Request, entities: &Entities) -> Candidates {
        self.candidates_of(
            &request.principal,
            &request.action,
            &request.resource,
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
        if self.policies.len() <= SMALL {
            let mut p_mask = 0u64;
            self.principal
                .each_match(principal, entities, &mut |b| p_mask |= b.low);
            if p_mask == 0 {
                return Candidates(Repr::Small(0));
            }
            let (mut a_mask, mut r_mask) = (0u64, 0u64);
            self.action
                .each_match(action, entities, &mut |b| a_mask |= b.low);
            self.resource
                .each_match(resource, entities, &mut |b| r_mask |= b.low);
            return Candidates(Repr::Small(p_mask & a_mask & r_mask));
        }
        self.candidates_large(principal, action, resource, entities)
    }

    /// The candidates of a large set: when one side selects few policies (the usual case),
    /// each of them is looked up in the other sides' bitmaps; otherwise bitmaps are
    /// intersected.
    fn candidates_large(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> Candidates {
        let sides = self.unions(principal, action, resource, entities);
        if sides[0].parts.is_empty() {
            return Candidates(Repr::Small(0));
        }
        let sides = by_size(sides);
        let [first, rest @ ..] = &sides;
        if first.size_bound() > FEW as u64 {
            return Candidates(Repr::Large(intersect(sides)));
        }
        let mut few: SmallVec<[u32; FEW]> = SmallVec::new();
        first.each(&mut |n| few.push(n));
        few.sort_unstable();
        few.dedup();
        few.retain(|n| rest.iter().all(|side| side.contains(*n)));
        Candidates(Repr::Few(few))
    }

    /// [`candidates`](Self::candidates) on roaring bitmaps, whatever the size of the set (the
    /// model the faster paths are tested against).
    #[cfg(test)]
    fn candidates_roaring(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> RoaringBitmap {
        intersect(self.unions(principal, action, resource, entities))
    }

    /// The keys each side of the request matches: principal, action, resource.
    fn unions<'a>(
        &'a self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> [Union<'a>; 3] {
        let mut sides: [Union<'a>; 3] = Default::default();
        let [p, a, r] = &mut sides;
        self.principal
            .each_match(principal, entities, &mut |b| p.add(b));
        self.action.each_match(action, entities, &mut |b| a.add(b));
        self.resource
            .each_match(resource, entities, &mut |b| r.add(b));
        sides
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

/// Adds `n` to the bitmap under `key`.
fn add<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Bits>, key: K, n: u32) {
    map.entry(key).or_default().insert(n);
}

/// Calls `f` with the bits of every key of `map` that `uid` is in: `uid` itself or one of its
/// `ancestor_count` ancestors (`entity` is `uid`'s entity, if it exists). Walks whichever is
/// shorter, the ancestors (looking each up in the map) or the keys (looking each up among the
/// ancestors), and calls `f` in the same way either way.
fn each_key_within<'a>(
    map: &'a HashMap<EntityUid, Bits>,
    uid: &EntityUid,
    entity: Option<&Entity>,
    ancestor_count: usize,
    f: &mut dyn FnMut(&'a Bits),
) {
    if map.len() <= ancestor_count {
        for (key, bits) in map {
            if key == uid || entity.is_some_and(|e| e.is_descendant_of(key)) {
                f(bits);
            }
        }
    } else {
        let ancestors = entity.into_iter().flat_map(Entity::ancestors);
        for a in std::iter::once(uid).chain(ancestors) {
            if let Some(bits) = map.get(a) {
                f(bits);
            }
        }
    }
}

impl EntityScopeIndex {
    fn insert(&mut self, n: u32, constraint: Resolved<'_>) {
        match constraint {
            Resolved::Any => {
                self.any.insert(n);
            }
            Resolved::Eq(uid) => add(&mut self.eq, uid.clone(), n),
            Resolved::In(uid) => add(&mut self.in_, uid.clone(), n),
            Resolved::Is(ty) => add(&mut self.is, ty.clone(), n),
            Resolved::IsIn(ty, uid) => {
                add(self.is_in.entry(ty.clone()).or_default(), uid.clone(), n);
            }
        }
    }

    /// Calls `f` with the bits of every key whose constraint on this entity holds for `uid`
    /// (their union is the policies it selects).
    fn each_match<'a>(
        &'a self,
        uid: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
        f: &mut dyn FnMut(&'a Bits),
    ) {
        f(&self.any);
        if let Some(b) = self.eq.get(uid) {
            f(b);
        }
        let ty = uid.entity_type();
        if let Some(b) = self.is.get(ty) {
            f(b);
        }
        let is_in = self.is_in.get(ty);
        if self.in_.is_empty() && is_in.is_none() {
            return;
        }
        let entity = entities.entity(uid);
        let ancestors = entity.map_or(0, Entity::ancestor_count);
        for map in std::iter::once(&self.in_).chain(is_in) {
            each_key_within(map, uid, entity, ancestors, f);
        }
    }
}

impl ActionScopeIndex {
    fn insert(&mut self, n: u32, constraint: &ActionConstraint) {
        match constraint {
            ActionConstraint::Any => {
                self.any.insert(n);
            }
            ActionConstraint::Eq(uid) => add(&mut self.eq, uid.clone(), n),
            ActionConstraint::In(groups) => {
                for g in groups {
                    add(&mut self.in_, g.clone(), n);
                }
            }
        }
    }

    /// Calls `f` with the bits of every key whose action constraint holds for `action`.
    fn each_match<'a>(
        &'a self,
        action: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
        f: &mut dyn FnMut(&'a Bits),
    ) {
        f(&self.any);
        if let Some(b) = self.eq.get(action) {
            f(b);
        }
        if !self.in_.is_empty() {
            let entity = entities.entity(action);
            let ancestors = entity.map_or(0, Entity::ancestor_count);
            each_key_within(&self.in_, action, entity, ancestors, f);
        }
    }
}

/// The candidates of a request: numbers of policies, in increasing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidates(Repr);

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// Numbers below 64, as bits.
    Small(u64),
    /// A few numbers, sorted.
    Few(SmallVec<[u32; FEW]>),
    Large(RoaringBitmap),
}

impl Candidates {
    pub fn len(&self) -> u64 {
        match &self.0 {
            Repr::Small(m) => u64::from(m.count_ones()),
            Repr::Few(v) => v.len() as u64,
            Repr::Large(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numbers in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (small, few, large) = match &self.0 {
            Repr::Small(m) => (*m, &[][..], None),
            Repr::Few(v) => (0, v.as_slice(), None),
            Repr::Large(b) => (0, &[][..], Some(b.iter())),
        };
        let bits = std::iter::successors((small != 0).then_some(small), |m| {
            let rest = m & (m - 1);
            (rest != 0).then_some(rest)
        })
        .map(u64::trailing_zeros);
        bits.chain(few.iter().copied())
            .chain(large.into_iter().flatten())
    }

    /// Adds every number of `other`.
    pub fn add_all(&mut self, other: &RoaringBitmap) {
        match &mut self.0 {
            Repr::Small(m) if other.max().is_none_or(|n| n < 64) => {
                for n in other {
                    *m |= 1 << n;
                }
            }
            Repr::Large(b) => *b |= other,
            _ => {
                let mut b = self.to_bitmap();
                b |= other;
                self.0 = Repr::Large(b);
            }
        }
    }

    pub fn to_bitmap(&self) -> RoaringBitmap {
        self.iter().collect()
    }
}

impl PartialEq<RoaringBitmap> for Candidates {
    fn eq(&self, other: &RoaringBitmap) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}

/// The intersection of three unions, starting from the most selective one, so the work is
/// bounded by its size.
fn intersect(sides: [Union<'_>; 3]) -> RoaringBitmap {
    let [first, rest @ ..] = by_size(sides);
    let mut out = first.into_bitmap();
    for side in &rest {
        if out.is_empty() {
            break;
        }
        side.restrict(&mut out);
    }
    out
}

/// The three sides, the smallest (by size bound) first.
fn by_size(mut sides: [Union<'_>; 3]) -> [Union<'_>; 3] {
    let mut bounds = sides.each_ref().map(Union::size_bound);
    for i in 1..sides.len() {
        let mut j = i;
        while j > 0 && bounds[j - 1] > bounds[j] {
            bounds.swap(j - 1, j);
            sides.swap(j - 1, j);
            j -= 1;
        }
    }
    sides
}

/// A union of the index's bitmaps, kept as the list of its (borrowed, non-empty) parts: most
/// requests match one or two bitmaps per side, some of them large (e.g. every policy that names
/// the request's action), so unions are never materialised except for the smallest side.
#[derive(Default)]
struct Union<'a> {
    parts: SmallVec<[&'a Bits; 4]>,
}

impl<'a> Union<'a> {
    fn add(&mut self, b: &'a Bits) {
        if b.len > 0 {
            self.parts.push(b);
        }
    }

    fn contains(&self, n: u32) -> bool {
        self.parts.iter().any(|b| b.contains(n))
    }

    /// An upper bound on the union's size.
    fn size_bound(&self) -> u64 {
        self.parts.iter().map(|b| b.len).sum()
    }

    /// Every number of every part (with repeats), read inline where the part keeps them so.
    fn each(&self, f: &mut impl FnMut(u32)) {
        for b in &self.parts {
            match b.inline() {
                Some(v) => v.iter().for_each(|&n| f(n)),
                None => b.all.iter().for_each(&mut *f),
            }
        }
    }

    fn into_bitmap(self) -> RoaringBitmap {
        let mut parts = self.parts.into_iter();
        let mut out = parts.next().map(|b| b.all.clone()).unwrap_or_default();
        for b in parts {
            out |= &b.all;
        }
        out
    }

    /// Keeps in `out` only what is in the union: `out ∩ (b₁ ∪ b₂ ∪ …)` computed as
    /// `(out ∩ b₁) ∪ (out ∩ b₂) ∪ …`, which costs in proportion to `out`, not to the parts.
    fn restrict(&self, out: &mut RoaringBitmap) {
        match self.parts.as_slice() {
            [] => out.clear(),
            [b] => *out &= &b.all,
            parts => {
                let mut kept = RoaringBitmap::new();
                for b in parts {
                    kept |= &*out & &b.all;
                }
                *out = kept;
            }
        }
    }
}

/// A listing of the index, one key per line in a stable order, e.g.
///
/// ```text
/// 0: policy0 (permit)
/// principal in Role::"admin": {0}
/// action any: {0}
/// resource any: {0}
/// ```
impl fmt::Display for ScopeIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, p) in self.policies.iter().enumerate() {
            let effect = match p.effect {
                Effect::Permit => "permit",
                Effect::Forbid => "forbid",
            };
            writeln!(f, "{n}: {} ({effect})", p.id)?;
        }
        self.principal.list(f, "principal")?;
        list_bitmap(f, "action any", &self.action.any.all)?;
        list_map(f, "action ==", &self.action.eq)?;
        list_map(f, "action in", &self.action.in_)?;
        self.resource.list(f, "resource")?;
        list_bitmap(f, "unresolved", &self.unresolved)
    }
}

impl EntityScopeIndex {
    fn list(&self, f: &mut fmt::Formatter<'_>, var: &str) -> fmt::Result {
        list_bitmap(f, &format!("{var} any"), &self.any.all)?;
        list_map(f, &format!("{var} =="), &self.eq)?;
        list_map(f, &format!("{var} in"), &self.in_)?;
        list_map(f, &format!("{var} is"), &self.is)?;
        let mut types: Vec<_> = self.is_in.iter().collect();
        types.sort_by(|a, b| a.0.cmp(b.0));
        for (ty, by_uid) in types {
            list_map(f, &format!("{var} is {ty} in"), by_uid)?;
        }
        Ok(())
    }
}

fn list_map<K: Ord + fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    what: &str,
    map: &HashMap<K, Bits>,
) -> fmt::Result {
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (key, bits) in keys {
        list_bitmap(f, &format!("{what} {key}"), &bits.all)?;
    }
    Ok(())
}

fn list_bitmap(f: &mut fmt::Formatter<'_>, what: &str, bitmap: &RoaringBitmap) -> fmt::Result {
    if bitmap.is_empty() {
        return Ok(());
    }
    write!(f, "{what}: {{")?;
    for (i, n) in bitmap.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{n}")?;
    }
    writeln!(f, "}}")
}

#[cfg(test)]
mod tests {
    use thuja_runtime::Entity;
    use thuja_runtime::value::Record;

    use super::*;
    use crate::ast::LinkedPolicy;
    use crate::parser::parse_policy_set;
    use crate::source::Source;
    use crate::template::link;

    fn uid(s: &str) -> EntityUid {
        let (ty, id) = s.split_once("::").unwrap();
        EntityUid::new(EntityType::parse(ty).unwrap(), id)
    }

    fn policies(text: &str) -> PolicySet {
        parse_policy_set(Source::new("test", text)).unwrap()
    }

    /// A store where each `(child, parents)` entity has those parents.
    fn store(entries: &[(&str, &[&str])]) -> Entities {
        Entities::from_entities(entries.iter().map(|(child, parents)| {
            Entity::new(
                uid(child),
                BTreeMap::new(),
                parents.iter().map(|p| uid(p)).collect(),
                BTreeMap::new(),
            )
        }))
        .unwrap()
    }

    fn request(p: &str, a: &str, r: &str) -> Request {
        Request {
            principal: uid(p),
            action: uid(a),
            resource: uid(r),
            context: Record::default(),
        }
    }

    /// The ids of the candidates.
    fn ids(index: &ScopeIndex, request: &Request, entities: &Entities) -> Vec<String> {
        index
            .candidates(request, entities)
            .iter()
            .map(|n| index.policy(n).unwrap().id.to_string())
            .collect()
    }

    /// The scope part of the interpreter's `is_satisfied`, written out again: the model the
    /// index must agree with.
    fn brute_force(set: &PolicySet, request: &Request, entities: &Entities) -> RoaringBitmap {
        let is_in = |uid: &EntityUid, ancestor: &EntityUid| {
            uid == ancestor
                || entities
                    .get(uid)
                    .is_some_and(|e| e.is_descendant_of(ancestor))
        };
        let mut out = RoaringBitmap::new();
        for (n, active) in set.active().enumerate() {
            let resolve = |r: &EntityRef| match r {
                EntityRef::Uid(u) => Some(u.clone()),
                EntityRef::Slot(s) => active.slots.and_then(|m| m.get(s)).cloned(),
            };
            let holds = |c: &ScopeConstraint, uid: &EntityUid| match c {
                ScopeConstraint::Any => Some(true),
                ScopeConstraint::Eq(r) => Some(*uid == resolve(r)?),
                ScopeConstraint::In(r) => Some(is_in(uid, &resolve(r)?)),
                ScopeConstraint::Is(ty) => Some(uid.entity_type() == ty),
                ScopeConstraint::IsIn(ty, r) => {
                    Some(uid.entity_type() == ty && is_in(uid, &resolve(r)?))
                }
            };
            let action = match &active.policy.action {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(a) => request.action == *a,
                ActionConstraint::In(gs) => gs.iter().any(|g| is_in(&request.action, g)),
            };
            if holds(&active.policy.principal, &request.principal) == Some(true)
                && action
                && holds(&active.policy.resource, &request.resource) == Some(true)
            {
                out.insert(u32::try_from(n).unwrap());
            }
        }
        out
    }

    /// Checks the index against the brute force for every combination of the given uids.
    fn check_exhaustively(set: &PolicySet, entities: &Entities, uids: &[&str], actions: &[&str]) {
        let index = ScopeIndex::build(set);
        for p in uids {
            for a in actions {
                for r in uids {
                    let req = request(p, a, r);
                    let want = brute_force(set, &req, entities);
                    assert_eq!(index.candidates(&req, entities), want, "{p} {a} {r}");
                    // Small sets take the machine-word path: the roaring one must agree too.
                    assert_eq!(
                        index.candidates_roaring(
                            &req.principal,
                            &req.action,
                            &req.resource,
                            entities
                        ),
                        want,
                        "{p} {a} {r}"
                    );
                }
            }
        }
    }

    const HIERARCHY: &[(&str, &[&str])] = &[
        ("User::alice", &["Group::admins"]),
        ("User::bob", &["Group::staff"]),
        ("Group::admins", &["Group::staff"]),
        ("Group::staff", &[]),
        ("Doc::d1", &["Folder::f1"]),
        ("Folder::f1", &["Folder::root"]),
        ("Doc::d2", &["Folder::root", "Folder::ghost"]),
        ("Action::read", &["Action::readOnly"]),
        ("Action::list", &["Action::readOnly"]),
        ("Action::readOnly", &["Action::all"]),
        ("Action::write", &["Action::all"]),
    ];

    const UIDS: &[&str] = &[
        "User::alice",
        "User::bob",
        "User::stranger",
        "Group::admins",
        "Group::staff",
        "Group::nobody",
        "Doc::d1",
        "Doc::d2",
        "Doc::d3",
        "Folder::f1",
        "Folder::root",
        "Folder::ghost",
    ];

    const ACTIONS: &[&str] = &[
        "Action::read",
        "Action::list",
        "Action::write",
        "Action::readOnly",
        "Action::all",
        "Action::unknown",
    ];

    #[test]
    fn an_empty_policy_set_has_no_candidates() {
        let index = ScopeIndex::build(&PolicySet::new());
        assert!(index.is_empty());
        assert_eq!(index.len(), 0);
        let req = request("User::alice", "Action::read", "Doc::d1");
        assert!(index.candidates(&req, &Entities::default()).is_empty());
        assert!(index.candidates(&req, &store(HIERARCHY)).is_empty());
        assert_eq!(index.to_string(), "");
    }

    #[test]
    fn principal_constraints_of_each_kind() {
        let set = policies(
            r#"permit (principal, action, resource);
permit (principal == User::"alice", action, resource);
permit (principal in Group::"staff", action, resource);
permit (principal is User, action, resource);
permit (principal is User in Group::"admins", action, resource);
permit (principal is Group in Group::"staff", action, resource);
permit (principal in User::"bob", action, resource);"#,
        );
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        assert_eq!(index.len(), 7);
        let of = |p: &str| ids(&index, &request(p, "Action::read", "Doc::d1"), &entities);
        // alice is in admins, which is in staff (transitively).
        assert_eq!(
            of("User::alice"),
            ["policy0", "policy1", "policy2", "policy3", "policy4"]
        );
        // bob is in staff directly and in himself (reflexive `in`).
        assert_eq!(
            of("User::bob"),
            ["policy0", "policy2", "policy3", "policy6"]
        );
        // staff is in staff (reflexive), and `is Group in staff` takes it.
        assert_eq!(of("Group::staff"), ["policy0", "policy2", "policy5"]);
        assert_eq!(of("Group::admins"), ["policy0", "policy2", "policy5"]);
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    #[test]
    fn resource_constraints_of_each_kind() {
        let set = policies(
            r#"permit (principal, action, resource);
permit (principal, action, resource == Doc::"d1");
permit (principal, action, resource in Folder::"root");
permit (principal, action, resource is Doc);
permit (principal, action, resource is Doc in Folder::"f1");
permit (principal, action, resource is Folder in Folder::"root");
permit (principal, action, resource in Folder::"ghost");"#,
        );
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        let of = |r: &str| {
            ids(
                &index,
                &request("User::alice", "Action::read", r),
                &entities,
            )
        };
        assert_eq!(
            of("Doc::d1"),
            ["policy0", "policy1", "policy2", "policy3", "policy4"]
        );
        // d2's parent `ghost` is not in the store, but is still its ancestor.
        assert_eq!(of("Doc::d2"), ["policy0", "policy2", "policy3", "policy6"]);
        assert_eq!(of("Folder::f1"), ["policy0", "policy2", "policy5"]);
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    #[test]
    fn an_entity_absent_from_the_store_is_only_in_itself() {
        let set = policies(
            r#"permit (principal in User::"stranger", action, resource);
permit (principal in Group::"staff", action, resource);
permit (principal is User in User::"stranger", action, resource in Doc::"d3");
permit (principal == User::"stranger", action in Action::"readOnly", resource);"#,
        );
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        let req = request("User::stranger", "Action::read", "Doc::d3");
        assert_eq!(
            ids(&index, &req, &entities),
            ["policy0", "policy2", "policy3"]
        );
        // With no store at all, nothing is in anything but itself: not even actions in groups.
        assert_eq!(
            ids(&index, &req, &Entities::default()),
            ["policy0", "policy2"]
        );
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
        check_exhaustively(&set, &Entities::default(), UIDS, ACTIONS);
    }

    #[test]
    fn action_constraints_and_action_groups() {
        let set = policies(
            r#"permit (principal, action, resource);
permit (principal, action == Action::"read", resource);
permit (principal, action == Action::"readOnly", resource);
permit (principal, action in Action::"readOnly", resource);
permit (principal, action in [Action::"write", Action::"list"], resource);
permit (principal, action in [Action::"all"], resource);
permit (principal, action in [], resource);"#,
        );
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        let of = |a: &str| ids(&index, &request("User::alice", a, "Doc::d1"), &entities);
        // `==` is exact: `read` is in `readOnly` but not equal to it.
        assert_eq!(
            of("Action::read"),
            ["policy0", "policy1", "policy3", "policy5"]
        );
        assert_eq!(
            of("Action::list"),
            ["policy0", "policy3", "policy4", "policy5"]
        );
        assert_eq!(of("Action::write"), ["policy0", "policy4", "policy5"]);
        assert_eq!(
            of("Action::readOnly"),
            ["policy0", "policy2", "policy3", "policy5"]
        );
        assert_eq!(of("Action::unknown"), ["policy0"]);
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    #[test]
    fn template_links_are_indexed_with_their_values() {
        let mut set = policies(
            r#"permit (principal == ?principal, action == Action::"read", resource in ?resource);
permit (principal is User in ?principal, action, resource == ?resource);
forbid (principal, action, resource in Folder::"root");"#,
        );
        let values = |p: &str, r: &str| {
            BTreeMap::from([(SlotId::Principal, uid(p)), (SlotId::Resource, uid(r))])
        };
        link(
            &mut set,
            "policy0",
            "alice-f1",
            values("User::alice", "Folder::f1"),
        )
        .unwrap();
        link(
            &mut set,
            "policy0",
            "bob-root",
            values("User::bob", "Folder::root"),
        )
        .unwrap();
        link(
            &mut set,
            "policy1",
            "admins-d2",
            values("Group::admins", "Doc::d2"),
        )
        .unwrap();
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        // Templates are not active: the static forbid is 0, then the links in order.
        let numbered: Vec<_> = index.policies().iter().map(|p| p.id.to_string()).collect();
        assert_eq!(numbered, ["policy2", "alice-f1", "bob-root", "admins-d2"]);
        assert_eq!(index.policy(0).unwrap().effect, Effect::Forbid);
        assert_eq!(index.policy(3).unwrap().effect, Effect::Permit);
        assert!(index.policy(4).is_none());
        let of = |p: &str, a: &str, r: &str| ids(&index, &request(p, a, r), &entities);
        assert_eq!(
            of("User::alice", "Action::read", "Doc::d1"),
            ["policy2", "alice-f1"]
        );
        assert_eq!(
            of("User::bob", "Action::read", "Doc::d1"),
            ["policy2", "bob-root"]
        );
        assert_eq!(
            of("User::alice", "Action::write", "Doc::d2"),
            ["policy2", "admins-d2"]
        );
        assert!(of("User::bob", "Action::write", "Doc::d3").is_empty());
        assert!(index.unresolved().is_empty());
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    #[test]
    fn a_link_missing_a_slot_value_is_never_a_candidate() {
        let mut set = policies(
            r#"permit (principal, action, resource in ?resource);
permit (principal == ?principal, action, resource);
permit (principal, action, resource);"#,
        );
        // Linking refuses this; build it by hand to check the index does not panic.
        set.push_link(LinkedPolicy {
            id: "broken".into(),
            template_id: "policy0".into(),
            values: BTreeMap::new(),
        });
        set.push_link(LinkedPolicy {
            id: "wrong-slot".into(),
            template_id: "policy1".into(),
            values: BTreeMap::from([(SlotId::Resource, uid("Doc::d1"))]),
        });
        // A link to a template that is gone is not active at all.
        set.push_link(LinkedPolicy {
            id: "orphan".into(),
            template_id: "nonesuch".into(),
            values: BTreeMap::new(),
        });
        let index = ScopeIndex::build(&set);
        assert_eq!(index.len(), 3);
        assert_eq!(index.unresolved().iter().collect::<Vec<_>>(), [1, 2]);
        let entities = store(HIERARCHY);
        let req = request("User::alice", "Action::read", "Doc::d1");
        assert_eq!(ids(&index, &req, &entities), ["policy2"]);
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    #[test]
    fn mixed_constraints_intersect() {
        let set = policies(
            r#"permit (principal in Group::"admins", action in Action::"readOnly", resource is Doc in Folder::"root");
permit (principal is User, action == Action::"write", resource == Doc::"d2");
forbid (principal == User::"bob", action, resource in Folder::"ghost");
permit (principal is Group, action in [Action::"all"], resource);"#,
        );
        let entities = store(HIERARCHY);
        let index = ScopeIndex::build(&set);
        let of = |p: &str, a: &str, r: &str| ids(&index, &request(p, a, r), &entities);
        assert_eq!(of("User::alice", "Action::list", "Doc::d1"), ["policy0"]);
        assert!(of("User::bob", "Action::list", "Doc::d1").is_empty());
        assert_eq!(
            of("User::bob", "Action::write", "Doc::d2"),
            ["policy1", "policy2"]
        );
        assert_eq!(of("Group::admins", "Action::write", "Doc::d2"), ["policy3"]);
        check_exhaustively(&set, &entities, UIDS, ACTIONS);
    }

    /// Larger sets (more than 64 policies) take the other paths: one side selecting few
    /// policies checked one by one, or bitmaps intersected when every side selects many.
    #[test]
    fn larger_sets_agree_with_the_brute_force() {
        let principals = [
            "principal",
            "principal == User::\"alice\"",
            "principal in Group::\"staff\"",
            "principal is User",
            "principal is User in Group::\"admins\"",
        ];
        let actions = [
            "action",
            "action == Action::\"read\"",
            "action in [Action::\"readOnly\", Action::\"write\"]",
        ];
        let resources = [
            "resource",
            "resource in Folder::\"root\"",
            "resource == Doc::\"d2\"",
            "resource is Doc",
        ];
        let mut constrained = String::new();
        for p in principals {
            for a in actions {
                for r in resources {
                    constrained.push_str(&format!("forbid ({p}, {a}, {r});\n"));
                }
            }
        }
        // Many unconstrained policies make every side select many.
        let many = "permit (principal, action, resource);\n".repeat(40) + &constrained;
        // Twice the constrained ones: more than 64, each side selecting few.
        let few = constrained.repeat(2);
        for text in [many, few] {
            let set = policies(&text);
            assert!(set.policies().len() > 64);
            check_exhaustively(&set, &store(HIERARCHY), UIDS, ACTIONS);
        }
    }

    #[test]
    fn the_listing_names_every_key() {
        let set = policies(
            r#"permit (principal in Group::"admins", action in [Action::"read", Action::"list"], resource is Doc in Folder::"root");
forbid (principal, action == Action::"write", resource is Doc);"#,
        );
        let listing = ScopeIndex::build(&set).to_string();
        assert_eq!(
            listing,
            r#"0: policy0 (permit)
1: policy1 (forbid)
principal any: {1}
principal in Group::"admins": {0}
action == Action::"write": {1}
action in Action::"list": {0}
action in Action::"read": {0}
resource is Doc: {1}
resource is Doc in Folder::"root": {0}
"#
        );
    }
}
