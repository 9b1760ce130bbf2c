//! The scope index joined with one entity store: for every entity of the store, the keys it
//! matches as a principal, as an action and as a resource, found once instead of on every
//! request.
//!
//! Which keys an entity matches depends only on its uid, its type and its ancestors, all fixed
//! while the store is unchanged. A request whose principal, action or resource is in the store
//! then reads its keys from one cache line, found by the entity's
//! [`position`](thuja_runtime::Entity::position), instead of walking its ancestors and looking
//! each up in the index.
//!
//! In a set too large for the machine-word path, an entity that selects few policies as a
//! principal (a user holding a role or two in a multi-tenant store) gets those policies
//! listed instead of its principal keys, each with the keys it needs the action and the
//! resource to match: a request then reads its candidates from that list, instead of reading
//! each key's policy numbers and then each policy's keys — two dependent cache misses fewer
//! per request in a large store.

use std::sync::Arc;

use thuja_runtime::entity::Updated;
use thuja_runtime::{Entities, Entity};

use super::matched::Matched;
use super::side::{ANY, ActionKeys, KeyId};
use super::{SMALL, ScopeIndex};

/// The keys each entity of one store matches on each side of the index; made by
/// [`ScopeIndex::join`](super::ScopeIndex::join), and for an [updated](Entities::update) store
/// by [`EntityKeys::update`] from the old store's, sharing its entries.
///
/// Laid out as the store is: entries for the entities the store was built with (shared by
/// every update of it), and entries for the entities changed since, at the positions after
/// those.
#[derive(Clone, Debug, Default)]
pub struct EntityKeys {
    /// Entry `n` is for the entity at position `n`, for `n` below the store's
    /// [built positions](Entities::built_positions).
    base: Arc<Entries>,
    /// Entry `n` of chunk `c` is for the entity at position `base.entries.len() + c * CHUNK +
    /// n`: in chunks, each with its own spill, so that an update copies the chunks it writes
    /// to and shares the others.
    changes: Vec<Arc<Entries>>,
    /// How many positions it has entries for.
    positions: usize,
    /// The [stamp](Entities::stamp) of the store it was made for.
    store: u64,
}

/// Entries per chunk of the entries for changed entities.
const CHUNK: usize = 64;

/// Entries, and the parts too long to be held in them.
#[derive(Clone, Debug, Default)]
struct Entries {
    entries: Vec<Entry>,
    spill: Vec<u32>,
}

/// Which side of the index a request entity is looked up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Principal = 0,
    Action = 1,
    Resource = 2,
}

/// Words an [`Entry`] holds for its three parts.
const WORDS: usize = 15;

/// An entity selecting at most this many policies as a principal gets them listed.
const LIST_AT_MOST: u64 = 8;

/// Words a listed policy takes: see [`Listed`].
const LISTED_WORDS: usize = 4;

/// `flags` bit of an entry whose principal part lists policies rather than keys.
const PRINCIPAL_LISTED: u8 = 1 << 3;

/// A policy an entity selects as a principal, with the keys it is filed under on the other
/// sides; held as the words `number, resource, action.first, action.count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Listed {
    pub(super) number: u32,
    pub(super) resource: KeyId,
    pub(super) action: ActionKeys,
}

impl Listed {
    fn words(self) -> [u32; LISTED_WORDS] {
        [
            self.number,
            self.resource,
            self.action.first,
            self.action.count,
        ]
    }
}

/// The policies an entity selects as a principal, in increasing order of number.
#[derive(Clone, Copy, Debug)]
pub(super) struct ListedPolicies<'a>(&'a [u32]);

impl<'a> ListedPolicies<'a> {
    pub(super) fn iter(self) -> impl Iterator<Item = Listed> + 'a {
        self.0.chunks_exact(LISTED_WORDS).map(|w| Listed {
            number: w[0],
            resource: w[1],
            action: ActionKeys {
                first: w[2],
                count: w[3],
            },
        })
    }
}

/// One entity's data for the three roles, in one cache line: three parts, one after the
/// other in `words`, part `r` being `lens[r]` words long. A part is the role's keys (sorted,
/// [`ANY`] first) or, for the principal when `flags` has [`PRINCIPAL_LISTED`], its
/// [`Listed`] policies; when `flags` has bit `r`, part `r` is held in the spill and its two
/// words are where it starts there and how long it is.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Entry {
    lens: [u8; 3],
    flags: u8,
    words: [u32; WORDS],
}

const _: () = assert!(size_of::<Entry>() == 64);

impl Entry {
    /// Part `role`'s words, read from `spill` when held there.
    #[inline]
    fn part<'a>(&'a self, role: Role, spill: &'a [u32]) -> Option<&'a [u32]> {
        let [p, a, r] = self.lens.map(usize::from);
        let (start, len) = match role {
            Role::Principal => (0, p),
            Role::Action => (p, a),
            Role::Resource => (p + a, r),
        };
        let words = self.words.get(start..start + len)?;
        if self.flags & (1 << role as u8) == 0 {
            return Some(words);
        }
        let &[from, len] = words else { return None };
        spill.get(from as usize..from as usize + len as usize)
    }
}

impl EntityKeys {
    /// Finds the keys of every entity of `entities` on each side of `index`.
    pub(super) fn build(index: &ScopeIndex, entities: &Entities) -> EntityKeys {
        let built = entities.built_positions();
        let mut joined = EntityKeys {
            base: Arc::new(Entries {
                entries: vec![Entry::default(); built],
                spill: Vec::new(),
            }),
            changes: Vec::new(),
            positions: built,
            store: entities.stamp(),
        };
        joined.cover(entities.positions());
        let mut scratch = Scratch::default();
        for entity in entities.iter() {
            joined.set(index, entity, entities, &mut scratch);
        }
        joined
    }

    /// The keys of `updated.entities`, an update of `old` (the store these keys were made
    /// for), sharing these keys' entries for every entity the update did not change; built
    /// anew when the update rebuilt the store, or these keys are not for `old`.
    pub fn update(&self, index: &ScopeIndex, old: &Entities, updated: &Updated) -> EntityKeys {
        let new = &updated.entities;
        let changed = match &updated.changed {
            Some(changed)
                if self.is_for(old)
                    && new.shares_base_with(old)
                    && self.base.entries.len() == new.built_positions() =>
            {
                changed
            }
            _ => return EntityKeys::build(index, new),
        };
        let mut joined = EntityKeys {
            base: Arc::clone(&self.base),
            changes: self.changes.clone(),
            positions: self.positions,
            store: new.stamp(),
        };
        joined.cover(new.positions());
        let mut scratch = Scratch::default();
        for uid in changed {
            match new.get(uid) {
                Some(entity) if entity.position() >= new.built_positions() => {
                    joined.set(index, entity, new, &mut scratch);
                }
                _ => return EntityKeys::build(index, new),
            }
        }
        joined
    }

    /// Adds chunks of changed entities' entries up to `positions`.
    fn cover(&mut self, positions: usize) {
        self.positions = self.positions.max(positions);
        let needed = positions
            .saturating_sub(self.base.entries.len())
            .div_ceil(CHUNK);
        while self.changes.len() < needed {
            self.changes.push(Arc::new(Entries {
                entries: vec![Entry::default(); CHUNK],
                spill: Vec::new(),
            }));
        }
    }

    /// Finds `entity`'s keys and puts them at its position, copying the chunk it is in if
    /// other keys share it.
    fn set(
        &mut self,
        index: &ScopeIndex,
        entity: &Entity,
        entities: &Entities,
        scratch: &mut Scratch,
    ) {
        let position = entity.position();
        let (part, at) = match position.checked_sub(self.base.entries.len()) {
            None => match Arc::get_mut(&mut self.base) {
                Some(base) => (base, position),
                None => return,
            },
            Some(offset) => match self.changes.get_mut(offset / CHUNK) {
                Some(chunk) => (Arc::make_mut(chunk), offset % CHUNK),
                None => return,
            },
        };
        let entry = part.entry_of(index, entity, entities, scratch);
        if let Some(slot) = part.entries.get_mut(at) {
            *slot = entry;
        }
    }

    /// The entry of the entity at `position`, and the spill its parts may be in.
    #[inline]
    fn entry(&self, position: usize) -> Option<(&Entry, &[u32])> {
        match self.base.entries.get(position) {
            Some(entry) => Some((entry, &self.base.spill)),
            None => {
                let offset = position - self.base.entries.len();
                let chunk = self.changes.get(offset / CHUNK)?;
                Some((chunk.entries.get(offset % CHUNK)?, &chunk.spill))
            }
        }
    }
}

/// Buffers reused from entity to entity while finding keys.
#[derive(Default)]
struct Scratch {
    parts: [Vec<u32>; 3],
    numbers: Vec<u32>,
}

impl Entries {
    /// The entry of `entity` (of `entities`), its long parts added to this spill.
    fn entry_of(
        &mut self,
        index: &ScopeIndex,
        entity: &Entity,
        entities: &Entities,
        scratch: &mut Scratch,
    ) -> Entry {
        let sides = [&index.principal, &index.action, &index.resource];
        let list = index.len() > SMALL;
        let Scratch { parts, numbers } = scratch;
        let mut listed = false;
        for (role, side) in sides.iter().enumerate() {
            let keys = &mut parts[role];
            keys.clear();
            keys.push(ANY);
            side.each_match(entity.uid(), entities, &mut |key| keys.push(key));
            keys.sort_unstable();
            let selected = Matched::joined(keys);
            if role == Role::Principal as usize && list && side.size(&selected) <= LIST_AT_MOST {
                numbers.clear();
                side.each_number(&selected, &mut |n| numbers.push(n));
                numbers.sort_unstable();
                keys.clear();
                for &number in numbers.iter() {
                    if let Some(policy) = index.keys.get(number as usize) {
                        let listed = Listed {
                            number,
                            resource: policy.resource,
                            action: policy.action,
                        };
                        keys.extend_from_slice(&listed.words());
                    }
                }
                listed = true;
            }
        }
        let mut entry = self.pack(parts);
        if listed {
            entry.flags |= PRINCIPAL_LISTED;
        }
        entry
    }

    /// An entry holding `parts`: inline while they fit, the longest moved to the spill
    /// until they do.
    fn pack(&mut self, parts: &[Vec<u32>; 3]) -> Entry {
        let mut spilled = [false; 3];
        let inline_len = |spilled: &[bool; 3], r: usize| match spilled[r] {
            true => 2,
            false => parts[r].len(),
        };
        while (0..3).map(|r| inline_len(&spilled, r)).sum::<usize>() > WORDS {
            let Some(longest) = (0..3)
                .filter(|&r| !spilled[r])
                .max_by_key(|&r| parts[r].len())
            else {
                break;
            };
            spilled[longest] = true;
        }
        let mut entry = Entry::default();
        let mut at = 0;
        for (r, part) in parts.iter().enumerate() {
            let where_spilled;
            let held: &[u32] = if spilled[r] {
                let from = u32::try_from(self.spill.len()).unwrap_or(u32::MAX);
                let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
                self.spill.extend_from_slice(part);
                entry.flags |= 1 << r;
                where_spilled = [from, len];
                &where_spilled
            } else {
                part
            };
            if let Some(words) = entry.words.get_mut(at..at + held.len()) {
                words.copy_from_slice(held);
            }
            entry.lens[r] = held.len() as u8;
            at += held.len();
        }
        entry
    }
}

impl EntityKeys {
    /// The keys `entity` (of the store it was made from) matches as `role`; `None` for an
    /// entity beyond that store, or one whose principal policies are [listed](Self::listed).
    #[inline]
    pub(super) fn matched(&self, entity: &Entity, role: Role) -> Option<Matched<'_>> {
        let (entry, spill) = self.entry(entity.position())?;
        if role == Role::Principal && entry.flags & PRINCIPAL_LISTED != 0 {
            return None;
        }
        Some(Matched::joined(entry.part(role, spill)?))
    }

    /// The policies `entity` (of the store it was made from) selects as a principal, when
    /// they are few enough to be listed.
    pub(super) fn listed(&self, entity: &Entity) -> Option<ListedPolicies<'_>> {
        let (entry, spill) = self.entry(entity.position())?;
        if entry.flags & PRINCIPAL_LISTED == 0 {
            return None;
        }
        let words = entry.part(Role::Principal, spill)?;
        Some(ListedPolicies(words))
    }

    /// How many entities have their principal policies listed in their entry, and how many
    /// in the spill.
    #[cfg(test)]
    pub(super) fn listed_entities(&self) -> (usize, usize) {
        let listed = self
            .base
            .entries
            .iter()
            .chain(self.changes.iter().flat_map(|c| &c.entries))
            .filter(|e| e.flags & PRINCIPAL_LISTED != 0);
        let spilled = listed.clone().filter(|e| e.flags & 1 != 0).count();
        (listed.count() - spilled, spilled)
    }

    /// Whether it was made from `entities` as it is now (or from a clone of it).
    pub fn is_for(&self, entities: &Entities) -> bool {
        self.store == entities.stamp()
    }

    /// How many entries it has: the [positions](Entities::positions) of the store it was made
    /// for.
    pub fn len(&self) -> usize {
        self.positions
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
