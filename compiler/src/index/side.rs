//! One side of the scope index — the principal's, the action's or the resource's: its keys,
//! the policy numbers filed under each, and which keys a request's entity matches.

use std::num::NonZeroU32;

use foldhash::HashMap;
use roaring::RoaringBitmap;
use smallvec::SmallVec;
use thuja_runtime::{Entity, EntityLookup, EntityType, EntityUid};

use super::Resolved;
use super::bits::Bits;
use super::matched::Matched;
use super::uid_table::UidTable;
use crate::ast::ActionConstraint;

/// A key's number on its side: its place in the side's list of sets. Key 0 is `any`.
pub(super) type KeyId = u32;

/// The key of unconstrained policies.
pub(super) const ANY: KeyId = 0;

/// A key no request matches (that of a policy filed nowhere).
pub(super) const NO_KEY: KeyId = KeyId::MAX;

/// The keys an action constraint is filed under, in 8 bytes: `count` keys; one is `first`
/// itself, any other count (`action in [...]` with other than one group; the list may be empty)
/// is `count` keys of the index's [`ActionLists`] from `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ActionKeys {
    pub(super) first: u32,
    pub(super) count: u32,
}

impl ActionKeys {
    /// No key: no action matches.
    pub(super) const NONE: ActionKeys = ActionKeys { first: 0, count: 0 };

    fn one(key: KeyId) -> Self {
        ActionKeys {
            first: key,
            count: 1,
        }
    }
}

/// The key lists of `action in [...]` constraints, each distinct list held once: a large
/// policy set repeats a few lists many times, so reading them stays in cache.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ActionLists {
    keys: Vec<KeyId>,
    starts: HashMap<SmallVec<[KeyId; 4]>, u32>,
}

impl ActionLists {
    /// The action keys of a constraint filed under `keys` (in the constraint's order).
    fn hold(&mut self, keys: SmallVec<[KeyId; 4]>) -> ActionKeys {
        if let [key] = keys[..] {
            return ActionKeys::one(key);
        }
        let count = u32::try_from(keys.len()).unwrap_or(u32::MAX);
        let next = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let first = *self.starts.entry(keys).or_insert_with_key(|keys| {
            self.keys.extend_from_slice(keys);
            next
        });
        ActionKeys { first, count }
    }

    /// Whether `test` holds for any of the keys `action` names.
    pub(super) fn any(&self, action: ActionKeys, test: impl Fn(KeyId) -> bool) -> bool {
        if action.count == 1 {
            return test(action.first);
        }
        let (start, len) = (action.first as usize, action.count as usize);
        self.keys
            .get(start..start + len)
            .is_some_and(|keys| keys.iter().any(|&key| test(key)))
    }
}

/// The keys named by one entity uid: as `== uid` and as `in uid`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct UidKeys {
    eq: Option<NonZeroU32>,
    in_: Option<NonZeroU32>,
}

/// How a scope constraint relates a request's entity to the uid it names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Relation {
    Eq,
    In,
}

/// The principal's, the action's or the resource's half of the index (the action's has no
/// `is` keys).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Side {
    /// The policy numbers of key `k` are `bits[k]`; `bits[ANY]` the unconstrained policies.
    bits: Vec<Bits>,
    /// The keys `== uid` and `in uid`, by uid: one lookup finds both.
    by_uid: UidTable<UidKeys>,
    /// The types of `by_uid`'s keys, to skip looking up uids of other types.
    uid_types: KeyTypes,
    /// How many entries of `by_uid` have an `in` key.
    in_keys: usize,
    is: HashMap<EntityType, KeyId>,
    /// By type first: a request's entity has one type, so one lookup finds its only candidates.
    is_in: HashMap<EntityType, UidTable<KeyId>>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            bits: vec![Bits::default()],
            by_uid: UidTable::default(),
            uid_types: KeyTypes::default(),
            in_keys: 0,
            is: HashMap::default(),
            is_in: HashMap::default(),
        }
    }
}

impl Side {
    /// A new key with no policies yet.
    fn new_key(bits: &mut Vec<Bits>) -> NonZeroU32 {
        bits.push(Bits::default());
        // Every key holds at least one of at most 2³² policy numbers, each filed under a key
        // per group of its action list, so a side never has 2³² keys in memory.
        u32::try_from(bits.len() - 1)
            .ok()
            .and_then(NonZeroU32::new)
            .expect("fewer than 2³² keys")
    }

    fn file(&mut self, n: u32, key: KeyId) -> KeyId {
        if let Some(bits) = self.bits.get_mut(key as usize) {
            bits.insert(n);
        }
        key
    }

    /// The key `== uid` or `in uid`, made if new.
    fn uid_key(&mut self, uid: &EntityUid, relation: Relation) -> KeyId {
        self.uid_types.add(uid.entity_type());
        let keys = self.by_uid.get_or_insert_with(uid, UidKeys::default);
        let slot = match relation {
            Relation::Eq => &mut keys.eq,
            Relation::In => &mut keys.in_,
        };
        if let Some(key) = slot {
            return key.get();
        }
        let key = Self::new_key(&mut self.bits);
        *slot = Some(key);
        if relation == Relation::In {
            self.in_keys += 1;
        }
        key.get()
    }

    /// Files policy `n` under the key of its principal or resource constraint; returns the key.
    pub(super) fn insert(&mut self, n: u32, constraint: Resolved<'_>) -> KeyId {
        let key = match constraint {
            Resolved::Any => ANY,
            Resolved::Eq(uid) => self.uid_key(uid, Relation::Eq),
            Resolved::In(uid) => self.uid_key(uid, Relation::In),
            Resolved::Is(ty) => match self.is.get(ty) {
                Some(&key) => key,
                None => {
                    let key = Self::new_key(&mut self.bits).get();
                    self.is.insert(ty.clone(), key);
                    key
                }
            },
            Resolved::IsIn(ty, uid) => {
                let bits = &mut self.bits;
                *self
                    .is_in
                    .entry(ty.clone())
                    .or_default()
                    .get_or_insert_with(uid, || Self::new_key(bits).get())
            }
        };
        self.file(n, key)
    }

    /// Files policy `n` under the keys of its action constraint, holding in `lists` the keys
    /// of an `in [...]` list of other than one group.
    pub(super) fn insert_action(
        &mut self,
        n: u32,
        constraint: &ActionConstraint,
        lists: &mut ActionLists,
    ) -> ActionKeys {
        match constraint {
            ActionConstraint::Any => ActionKeys::one(self.file(n, ANY)),
            ActionConstraint::Eq(uid) => {
                let key = self.uid_key(uid, Relation::Eq);
                ActionKeys::one(self.file(n, key))
            }
            ActionConstraint::In(groups) => {
                let keys: SmallVec<[KeyId; 4]> = groups
                    .iter()
                    .map(|g| {
                        let key = self.uid_key(g, Relation::In);
                        self.file(n, key)
                    })
                    .collect();
                lists.hold(keys)
            }
        }
    }

    /// The keys whose constraint holds for `uid` (their policies are the ones this side
    /// selects), with `entities` giving its ancestors.
    pub(super) fn matches(
        &self,
        uid: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
    ) -> Matched<'static> {
        let mut keys = SmallVec::from_slice(&[ANY]);
        self.each_match(uid, entities, &mut |key| keys.push(key));
        Matched::found(keys)
    }

    /// The numbers below 64 of the policies the matched keys select.
    pub(super) fn low_bits_of(&self, matched: &Matched<'_>) -> u64 {
        matched
            .keys()
            .iter()
            .filter_map(|&k| self.bits(k))
            .fold(0, |mask, bits| mask | bits.low())
    }

    /// The numbers below 64 of the policies this side selects for `uid`.
    pub(super) fn low_bits(&self, uid: &EntityUid, entities: &(impl EntityLookup + ?Sized)) -> u64 {
        let mut mask = self.bits(ANY).map_or(0, Bits::low);
        self.each_match(uid, entities, &mut |key| {
            mask |= self.bits(key).map_or(0, Bits::low);
        });
        mask
    }

    /// Calls `f` with every key other than [`ANY`] whose constraint holds for `uid`, each once.
    pub(super) fn each_match(
        &self,
        uid: &EntityUid,
        entities: &(impl EntityLookup + ?Sized),
        f: &mut impl FnMut(KeyId),
    ) {
        let ty = uid.entity_type();
        let own = match self.may_be_key(ty) {
            true => self.by_uid.get(uid).copied().unwrap_or_default(),
            false => UidKeys::default(),
        };
        if let Some(key) = own.eq {
            f(key.get());
        }
        if !self.is.is_empty()
            && let Some(&key) = self.is.get(ty)
        {
            f(key);
        }
        let is_in = match self.is_in.is_empty() {
            true => None,
            false => self.is_in.get(ty),
        };
        if self.in_keys == 0 && is_in.is_none() {
            return;
        }
        if let Some(key) = own.in_ {
            f(key.get());
        }
        let entity = entities.entity(uid);
        let ancestors = entity.map_or(0, Entity::ancestor_count);
        if self.in_keys > 0 {
            let may_be_key = |ty: &EntityType| self.may_be_key(ty);
            each_key_within(&self.by_uid, may_be_key, entity, ancestors, &mut |keys| {
                if let Some(key) = keys.in_ {
                    f(key.get());
                }
            });
        }
        if let Some(by_uid) = is_in {
            if let Some(&key) = by_uid.get(uid) {
                f(key);
            }
            each_key_within(by_uid, |_| true, entity, ancestors, &mut |&key| f(key));
        }
    }

    /// Whether a uid of type `ty` may be a key of `by_uid`. Only a large map tells types
    /// apart: a small one's lookups hit the cache and cost less than comparing type names.
    fn may_be_key(&self, ty: &EntityType) -> bool {
        self.by_uid.len() <= FILTER_FROM || self.uid_types.may_hold(ty)
    }

    fn bits(&self, key: KeyId) -> Option<&Bits> {
        self.bits.get(key as usize)
    }

    /// How many policies the matched keys select (each policy is filed under one principal or
    /// resource key, but may be under several action keys: then this is an upper bound).
    pub(super) fn size(&self, matched: &Matched<'_>) -> u64 {
        matched
            .keys()
            .iter()
            .filter_map(|&k| self.bits(k))
            .map(Bits::len)
            .sum()
    }

    /// Calls `f` with the number of every policy the matched keys select, in no particular
    /// order and possibly more than once.
    pub(super) fn each_number(&self, matched: &Matched<'_>, f: &mut impl FnMut(u32)) {
        for bits in matched.keys().iter().filter_map(|&k| self.bits(k)) {
            bits.each(f);
        }
    }

    /// The policies the matched keys select.
    pub(super) fn union(&self, matched: &Matched<'_>) -> RoaringBitmap {
        let mut out = RoaringBitmap::new();
        for bits in matched.keys().iter().filter_map(|&k| self.bits(k)) {
            if !bits.is_empty() {
                out |= bits.to_bitmap();
            }
        }
        out
    }

    /// Keeps in `out` only the policies the matched keys select: `out ∩ (b₁ ∪ b₂ ∪ …)`
    /// computed as `(out ∩ b₁) ∪ (out ∩ b₂) ∪ …`, which costs in proportion to `out`.
    pub(super) fn restrict(&self, matched: &Matched<'_>, out: &mut RoaringBitmap) {
        let mut kept = RoaringBitmap::new();
        for bits in matched.keys().iter().filter_map(|&k| self.bits(k)) {
            bits.add_common(out, &mut kept);
        }
        *out = kept;
    }

    /// Every key with its policies, for the listing: the kind of key (`any`, `==`, `in`, `is`,
    /// `is T in`), what it names, and its set.
    pub(super) fn each_key(&self, f: &mut dyn FnMut(KeyName<'_>, &Bits)) {
        let mut by_uid: Vec<_> = self.by_uid.iter().collect();
        by_uid.sort_by(|a, b| a.0.cmp(b.0));
        let mut is: Vec<_> = self.is.iter().collect();
        is.sort_by(|a, b| a.0.cmp(b.0));
        let mut is_in: Vec<_> = self.is_in.iter().collect();
        is_in.sort_by(|a, b| a.0.cmp(b.0));
        let mut emit = |name: KeyName<'_>, key: KeyId| {
            if let Some(bits) = self.bits(key) {
                f(name, bits);
            }
        };
        emit(KeyName::Any, ANY);
        for (uid, keys) in &by_uid {
            if let Some(key) = keys.eq {
                emit(KeyName::Eq(uid), key.get());
            }
        }
        for (uid, keys) in &by_uid {
            if let Some(key) = keys.in_ {
                emit(KeyName::In(uid), key.get());
            }
        }
        for (ty, &key) in is {
            emit(KeyName::Is(ty), key);
        }
        for (ty, by_uid) in is_in {
            let mut uids: Vec<_> = by_uid.iter().collect();
            uids.sort_by(|a, b| a.0.cmp(b.0));
            for (uid, &key) in uids {
                emit(KeyName::IsIn(ty, uid), key);
            }
        }
    }
}

/// What a key names, for the listing.
pub(super) enum KeyName<'a> {
    Any,
    Eq(&'a EntityUid),
    In(&'a EntityUid),
    Is(&'a EntityType),
    IsIn(&'a EntityType, &'a EntityUid),
}

/// Calls `f` with the value of every key of `map` that is one of the `ancestor_count`
/// ancestors of `entity`, if it exists (the entity's own uid is the caller's to look up);
/// `may_be_key` is false only for types no key of `map` has. Walks whichever is shorter, the
/// ancestors (looking each up in the map) or the keys (looking each up among the ancestors),
/// and calls `f` in the same way either way.
fn each_key_within<'a, V>(
    map: &'a UidTable<V>,
    may_be_key: impl Fn(&EntityType) -> bool,
    entity: Option<&Entity>,
    ancestor_count: usize,
    f: &mut impl FnMut(&'a V),
) {
    let Some(entity) = entity else {
        return;
    };
    if map.len() <= ancestor_count {
        for (key, value) in map.iter() {
            if entity.is_descendant_of(key) {
                f(value);
            }
        }
    } else {
        for a in entity.ancestors() {
            if may_be_key(a.entity_type())
                && let Some(value) = map.get(a)
            {
                f(value);
            }
        }
    }
}

/// The entity types of a map's keys, while there are few of them: a uid of any other type is
/// not a key, and looking it up (a likely cache miss in a large index) can be skipped.
#[derive(Clone, Debug, Default, PartialEq)]
struct KeyTypes {
    types: SmallVec<[EntityType; KEY_TYPES]>,
    /// More than [`KEY_TYPES`] types: any uid may be a key.
    many: bool,
}

/// Maps of uids larger than this skip looking up uids of types none of their keys has.
const FILTER_FROM: usize = 64;

/// How many key types a side tells apart.
const KEY_TYPES: usize = 4;

impl KeyTypes {
    fn add(&mut self, ty: &EntityType) {
        if self.many || self.types.contains(ty) {
            return;
        }
        if self.types.len() == KEY_TYPES {
            self.many = true;
            self.types = SmallVec::new();
        } else {
            self.types.push(ty.clone());
        }
    }

    fn may_hold(&self, ty: &EntityType) -> bool {
        self.many || self.types.contains(ty)
    }
}
