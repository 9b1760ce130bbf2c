//! The scope index joined with one entity store: for every entity of the store, the keys it
//! matches as a principal, as an action and as a resource, found once instead of on every
//! request.
//!
//! Which keys an entity matches depends only on its uid, its type and its ancestors, all fixed
//! while the store is unchanged. A request whose principal, action or resource is in the store
//! then reads its keys from one cache line, found by the entity's
//! [`position`](thuja_runtime::Entity::position), instead of walking its ancestors and looking
//! each up in the index.

use thuja_runtime::{Entities, Entity};

use super::matched::Matched;
use super::side::{ANY, KeyId, Side};

/// The keys each entity of one store matches on each side of the index; made by
/// [`ScopeIndex::join`](super::ScopeIndex::join).
#[derive(Clone, Debug, Default)]
pub struct EntityKeys {
    /// Entry `n` is for the entity at position `n`.
    entries: Vec<Entry>,
    /// The lists too long to be held in an entry.
    spill: Vec<KeyId>,
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

/// One entity's keys for the three roles, in one cache line: each list sorted, [`ANY`] first.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Entry {
    lens: [u8; 3],
    keys: [[KeyId; INLINE]; 3],
}

const _: () = assert!(size_of::<Entry>() == 64);

impl EntityKeys {
    /// Finds the keys of every entity of `entities` on each side.
    pub(super) fn build(sides: [&Side; 3], entities: &Entities) -> EntityKeys {
        let mut joined = EntityKeys {
            entries: vec![Entry::default(); entities.len()],
            spill: Vec::new(),
            store: entities.stamp(),
        };
        let mut found = Vec::new();
        for entity in entities.iter() {
            let mut entry = Entry::default();
            for (role, side) in sides.iter().enumerate() {
                found.clear();
                found.push(ANY);
                side.each_match(entity.uid(), entities, &mut |key| found.push(key));
                found.sort_unstable();
                joined.hold(&mut entry, role, &found);
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

    /// The keys `entity` (of the store it was made from) matches as `role`; `None` for an
    /// entity beyond that store.
    pub(super) fn matched(&self, entity: &Entity, role: Role) -> Option<Matched<'_>> {
        let entry = self.entries.get(entity.position())?;
        let role = role as usize;
        let (inline, len) = (&entry.keys[role], entry.lens[role]);
        let keys = match len {
            SPILLED => {
                let (start, len) = (inline[0] as usize, inline[1] as usize);
                self.spill.get(start..start + len)?
            }
            len => inline.get(..len as usize)?,
        };
        Some(Matched::joined(keys))
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
