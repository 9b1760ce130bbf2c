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

use thuja_runtime::{Entities, Entity};

use super::matched::Matched;
use super::side::{ANY, ActionKeys, KeyId};
use super::{SMALL, ScopeIndex};

/// The keys each entity of one store matches on each side of the index; made by
/// [`ScopeIndex::join`](super::ScopeIndex::join).
#[derive(Clone, Debug, Default)]
pub struct EntityKeys {
    /// Entry `n` is for the entity at position `n`.
    entries: Vec<Entry>,
    /// The lists too long to be held in an entry.
    spill: Vec<KeyId>,
    /// The policies listed for entities that select few as a principal.
    listed: Vec<Listed>,
    /// The [stamp](Entities::stamp) of the store it was made from.
    store: u64,
}

/// Which side of the index a request entity is looked up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Principal = 0,
    Action = 1,
    Resource = 2,
}

/// Keys held inline per role in an [`Entry`].
const INLINE: usize = 5;

/// `lens[role]` of a list held in `spill`, from `keys[role][0]`, `keys[role][1]` long.
const SPILLED: u8 = u8::MAX;

/// `lens[Principal]` of an entity whose principal policies are in `listed` (from
/// `keys[0][0]`, `keys[0][1]` long) instead of its principal keys.
const LISTED: u8 = u8::MAX - 1;

/// An entity selecting at most this many policies as a principal gets them listed.
const LIST_AT_MOST: u64 = 8;

/// A policy an entity selects as a principal, with the keys it is filed under on the other
/// sides: 16 bytes, four to a cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Listed {
    pub(super) number: u32,
    pub(super) resource: KeyId,
    pub(super) action: ActionKeys,
}

const _: () = assert!(size_of::<Listed>() == 16);

/// One entity's keys for the three roles, in one cache line: each list sorted, [`ANY`] first.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Entry {
    lens: [u8; 3],
    keys: [[KeyId; INLINE]; 3],
}

const _: () = assert!(size_of::<Entry>() == 64);

impl EntityKeys {
    /// Finds the keys of every entity of `entities` on each side of `index`.
    pub(super) fn build(index: &ScopeIndex, entities: &Entities) -> EntityKeys {
        let mut joined = EntityKeys {
            entries: vec![Entry::default(); entities.len()],
            spill: Vec::new(),
            listed: Vec::new(),
            store: entities.stamp(),
        };
        let sides = [&index.principal, &index.action, &index.resource];
        let list = index.len() > SMALL;
        let mut found = Vec::new();
        let mut numbers = Vec::new();
        for entity in entities.iter() {
            let mut entry = Entry::default();
            for (role, side) in sides.iter().enumerate() {
                found.clear();
                found.push(ANY);
                side.each_match(entity.uid(), entities, &mut |key| found.push(key));
                found.sort_unstable();
                let selected = Matched::joined(&found);
                if role == Role::Principal as usize && list && side.size(&selected) <= LIST_AT_MOST
                {
                    numbers.clear();
                    side.each_number(&selected, &mut |n| numbers.push(n));
                    joined.list(&mut entry, index, &mut numbers);
                } else {
                    joined.hold(&mut entry, role, &found);
                }
            }
            if let Some(slot) = joined.entries.get_mut(entity.position()) {
                *slot = entry;
            }
        }
        joined
    }

    /// Puts `keys` in `entry` as `role`'s list, or in the spill if they do not fit.
    fn hold(&mut self, entry: &mut Entry, role: usize, keys: &[KeyId]) {
        let inline = &mut entry.keys[role];
        match inline.get_mut(..keys.len()) {
            Some(head) => {
                head.copy_from_slice(keys);
                entry.lens[role] = keys.len() as u8;
            }
            None => {
                inline[0] = u32::try_from(self.spill.len()).unwrap_or(u32::MAX);
                inline[1] = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                entry.lens[role] = SPILLED;
                self.spill.extend_from_slice(keys);
            }
        }
    }

    /// Lists the policies `numbers` (those an entity selects as a principal) as its
    /// principal entry.
    fn list(&mut self, entry: &mut Entry, index: &ScopeIndex, numbers: &mut [u32]) {
        numbers.sort_unstable();
        let start = u32::try_from(self.listed.len()).unwrap_or(u32::MAX);
        for &number in numbers.iter() {
            if let Some(keys) = index.keys.get(number as usize) {
                self.listed.push(Listed {
                    number,
                    resource: keys.resource,
                    action: keys.action,
                });
            }
        }
        let end = u32::try_from(self.listed.len()).unwrap_or(u32::MAX);
        let principal = &mut entry.keys[Role::Principal as usize];
        principal[0] = start;
        principal[1] = end - start;
        entry.lens[Role::Principal as usize] = LISTED;
    }

    /// The keys `entity` (of the store it was made from) matches as `role`; `None` for an
    /// entity beyond that store, or one whose principal policies are [listed](Self::listed).
    pub(super) fn matched(&self, entity: &Entity, role: Role) -> Option<Matched<'_>> {
        let entry = self.entries.get(entity.position())?;
        let role = role as usize;
        let (inline, len) = (&entry.keys[role], entry.lens[role]);
        let keys = match len {
            SPILLED => {
                let (start, len) = (inline[0] as usize, inline[1] as usize);
                self.spill.get(start..start + len)?
            }
            LISTED => return None,
            len => inline.get(..len as usize)?,
        };
        Some(Matched::joined(keys))
    }

    /// The policies `entity` (of the store it was made from) selects as a principal, in
    /// increasing order, when they are few enough to be listed.
    pub(super) fn listed(&self, entity: &Entity) -> Option<&[Listed]> {
        let entry = self.entries.get(entity.position())?;
        if entry.lens[Role::Principal as usize] != LISTED {
            return None;
        }
        let [start, len, ..] = entry.keys[Role::Principal as usize];
        self.listed
            .get(start as usize..start as usize + len as usize)
    }

    /// How many entities have their principal policies listed.
    #[cfg(test)]
    pub(super) fn listed_entities(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.lens[Role::Principal as usize] == LISTED)
            .count()
    }

    /// Whether it was made from `entities` as it is now (or from a clone of it).
    pub fn is_for(&self, entities: &Entities) -> bool {
        self.store == entities.stamp()
    }

    /// How many entities it has keys for (the size of the store it was made from).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
