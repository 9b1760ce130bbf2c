//! Entities and the entity store the reference interpreter reads.
//!
//! An [`Entity`] has attributes, tags and parents. [`Entities`] owns a set of them and, when it is
//! built, closes the hierarchy (see [`hierarchy`](crate::hierarchy)) so that `in` is a lookup
//! in a short list or, for an entity with many ancestors, in a forest's labels, with memory
//! near-linear in the hierarchy. The hierarchy must be acyclic; a parent that is not itself in
//! the store is still an ancestor (it just has no ancestors of its own).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use foldhash::HashSet;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::ancestors::{Ancestors, LIST_AT_MOST};
use crate::attrs::Attrs;
use crate::forest::Forest;
use crate::hierarchy::{Closing, close};
use crate::uid::EntityUid;
use crate::value::Value;

pub mod dot;
mod parents;
mod update;

pub use parents::Parents;

pub use update::Updated;
use update::{Changes, ChildIndex};

/// One entity: its identifier, attributes, tags, direct parents and (once in a store) ancestors.
///
/// Laid out for lookups in a store: the uid and the entity's position in the store in the first
/// cache line (an entry is 64-byte aligned), what requests read next (ancestors, attributes,
/// tags) in the second, the parents (read only to write the entity out) last.
///
/// Two entities are equal when their uids, data and ancestors are; where they sit in a store
/// does not matter.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct Entity {
    uid: EntityUid,
    /// Its number in the [`Entities`] that holds it (see [`Entity::position`]); 0 outside one.
    position: u32,
    /// Transitive ancestors; equal to `parents` until the entity is placed in an [`Entities`].
    ancestors: Ancestors,
    attrs: Attrs,
    tags: Attrs,
    parents: Parents,
}

impl Entity {
    pub fn new(
        uid: EntityUid,
        attrs: BTreeMap<Arc<str>, Value>,
        parents: BTreeSet<EntityUid>,
        tags: BTreeMap<Arc<str>, Value>,
    ) -> Self {
        let ancestors = parents.iter().cloned().collect();
        let parents = Parents::from(parents);
        Entity {
            uid,
            position: 0,
            attrs: attrs.into(),
            tags: tags.into(),
            parents,
            ancestors,
        }
    }

    pub fn uid(&self) -> &EntityUid {
        &self.uid
    }

    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name)
    }

    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    pub fn tag(&self, name: &str) -> Option<&Value> {
        self.tags.get(name)
    }

    pub fn tags(&self) -> &Attrs {
        &self.tags
    }

    /// The direct parents, as written in the data.
    pub fn parents(&self) -> &Parents {
        &self.parents
    }

    /// Whether `other` is a (transitive) ancestor of this entity.
    pub fn is_descendant_of(&self, other: &EntityUid) -> bool {
        self.ancestors.contains(other)
    }

    /// All transitive ancestors, each once, in no particular order.
    pub fn ancestors(&self) -> impl Iterator<Item = &EntityUid> {
        self.ancestors.iter()
    }

    /// How many transitive ancestors it has: exact for an entity with a few (listed), and for
    /// any entity of a tree-shaped hierarchy; an upper bound for an entity with many ancestors
    /// in a hierarchy that shares them (counted once per path).
    pub fn ancestor_count(&self) -> usize {
        self.ancestors.len()
    }

    /// Its number in the store that holds it: the entities of an [`Entities`] with `n` entries
    /// are numbered `0..n`, each once, so that data kept per entity beside the store (an index
    /// joined with it) can be an array. Numbers stay as they are while the store is not changed;
    /// an entity outside a store has number 0.
    pub fn position(&self) -> usize {
        self.position as usize
    }

    /// Same identity and data, ignoring the computed ancestors.
    fn same_data(&self, other: &Entity) -> bool {
        self.uid == other.uid
            && self.attrs == other.attrs
            && self.tags == other.tags
            && self.parents == other.parents
    }
}

impl PartialEq for Entity {
    fn eq(&self, other: &Self) -> bool {
        self.same_data(other) && self.ancestors == other.ancestors
    }
}

impl Eq for Entity {}

/// Where the operators that read entities (`runtime::access`) find them: an [`Entities`] store,
/// or a view of one that has some entities at hand (a request's principal, action and resource,
/// looked up once per request).
pub trait EntityLookup {
    /// The entity `uid` names, if it exists.
    fn entity(&self, uid: &EntityUid) -> Option<&Entity>;
}

impl EntityLookup for Entities {
    fn entity(&self, uid: &EntityUid) -> Option<&Entity> {
        self.get(uid)
    }
}

/// Why a set of entities cannot form a store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntitiesError {
    #[error("duplicate entity entry `{0}` with different data")]
    Duplicate(EntityUid),
    #[error("the entity hierarchy has a cycle through `{0}`")]
    Cycle(EntityUid),
    #[error(
        "the entity hierarchy is too large: with the ancestors of `{uid}` it holds more than {max_links} ancestor links (listed ancestors and forest heads: MIN_ANCESTOR_LINKS + ANCESTOR_LINKS_PER_ENTITY per entity)"
    )]
    TooLarge { uid: EntityUid, max_links: usize },
}

/// A store of entities with their transitive ancestors computed, each numbered by its
/// [`position`](Entity::position).
///
/// Cheap to clone: the entities are shared. A store can be [updated](Entities::update) with
/// entities upserted and removed into a new store that shares every unchanged entity with this
/// one (see the `update` module).
#[derive(Clone, Debug, Default)]
pub struct Entities {
    /// The entities as built.
    base: Arc<Base>,
    /// What changed since `base` was built; `None` when nothing did.
    changes: Option<Arc<Changes>>,
    /// How many entities it holds.
    len: usize,
    /// See [`Entities::stamp`].
    stamp: u64,
}

/// The entities of a store as built, by their uid's precomputed hash: an entry is the entity
/// itself, its uid the key.
#[derive(Clone, Debug, Default)]
struct Base {
    table: HashTable<Entity>,
    /// The forest the entities with many ancestors are labelled in, when the hierarchy the base
    /// was closed with still holds for every entity of the forest (see the `update` module).
    forest: Option<Arc<Forest>>,
    /// Who lists whom as a parent, made when an update first needs it.
    children: OnceLock<ChildIndex>,
}

/// The last stamp given to a store.
static STAMPS: AtomicU64 = AtomicU64::new(0);

fn new_stamp() -> u64 {
    STAMPS.fetch_add(1, Ordering::Relaxed) + 1
}

impl Entities {
    /// Builds a store, closing the hierarchy. Identical duplicates are merged; differing
    /// duplicates, cycles and a hierarchy holding more than
    /// [`max_ancestor_links`](crate::json::limits::max_ancestor_links) links are errors.
    pub fn from_entities(
        entities: impl IntoIterator<Item = Entity>,
    ) -> Result<Self, EntitiesError> {
        Self::from_entities_closing(entities, Closing::default())
    }

    /// [`from_entities`](Self::from_entities), closing the hierarchy as `closing` says.
    pub fn from_entities_closing(
        entities: impl IntoIterator<Item = Entity>,
        closing: Closing,
    ) -> Result<Self, EntitiesError> {
        let mut table: HashTable<Entity> = HashTable::new();
        for entity in entities {
            match entry(&mut table, &entity.uid) {
                Entry::Occupied(existing) => {
                    if !existing.get().same_data(&entity) {
                        return Err(EntitiesError::Duplicate(entity.uid));
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(entity);
                }
            }
        }
        let closed = close(table.iter().map(|e| (&e.uid, &e.parents)), closing)?;
        for (entity, ancestors) in table.iter_mut().zip(closed.ancestors) {
            entity.ancestors = ancestors;
        }
        Ok(Entities::with_base(table, closed.forest))
    }

    /// A store of `table`'s entities, numbered in the table's order, with a new stamp;
    /// `forest` is the one its entities with many ancestors are labelled in.
    fn with_base(mut table: HashTable<Entity>, forest: Option<Arc<Forest>>) -> Self {
        for (n, entity) in table.iter_mut().enumerate() {
            // A store never holds 2³² entities (each takes more than a cache line).
            entity.position = u32::try_from(n).unwrap_or(u32::MAX);
        }
        Entities {
            len: table.len(),
            base: Arc::new(Base {
                table,
                forest,
                children: OnceLock::new(),
            }),
            changes: None,
            stamp: new_stamp(),
        }
    }

    /// Adds entities whose ancestors are already complete (e.g. a schema's action hierarchy),
    /// replacing any entity with the same uid. The store is renumbered: use
    /// [`update`](Self::update) to change a store others share.
    pub fn extend_closed(&mut self, entities: impl IntoIterator<Item = Entity>) {
        let mut table = match (self.changes.is_some(), Arc::get_mut(&mut self.base)) {
            (false, Some(base)) => std::mem::take(&mut base.table),
            _ => self.iter().cloned().collect_table(),
        };
        for entity in entities {
            match entry(&mut table, &entity.uid) {
                Entry::Occupied(mut existing) => *existing.get_mut() = entity,
                Entry::Vacant(slot) => {
                    slot.insert(entity);
                }
            }
        }
        let forest = self.base.forest.clone();
        *self = Entities::with_base(table, forest);
    }

    /// Tells this store's entities and their positions apart from other stores': a store gets
    /// a new stamp, never given before in this process, when it is built and whenever it
    /// changes; a clone keeps it (it holds the same entities at the same positions). Data kept
    /// per entity beside a store can record the stamp to check it is used with that store.
    /// The empty store made by `default` has stamp 0.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The entity `uid` names, if it is in the store.
    #[inline]
    pub fn get(&self, uid: &EntityUid) -> Option<&Entity> {
        let found = self
            .base
            .table
            .find(uid.precomputed_hash(), |e| e.uid == *uid);
        match &self.changes {
            None => found,
            Some(changes) => changes.get(uid, found),
        }
    }

    /// Every entity, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entity> {
        let changes = self.changes.as_deref();
        self.base
            .table
            .iter()
            .filter(move |e| changes.is_none_or(|c| !c.hides(e.position)))
            .chain(changes.into_iter().flat_map(Changes::iter))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One more than the largest [position](Entity::position) of an entity in the store: data
    /// kept per entity beside the store fits in an array this long. Equal to
    /// [`len`](Self::len) for a store as built; an [updated](Self::update) one numbers changed
    /// entities after the others, leaving gaps where entities were changed or removed.
    pub fn positions(&self) -> usize {
        self.changes
            .as_ref()
            .map_or(self.base.table.len(), |c| c.end as usize)
    }

    /// How many entities the store was built with: they are at positions `0..` this (less
    /// those changed or removed since); an [update](Self::update) places every entity it adds
    /// or changes after them, so data kept per entity beside a store can share the part for
    /// these between the store and its updates.
    pub fn built_positions(&self) -> usize {
        self.base.table.len()
    }
}

fn entry<'t>(table: &'t mut HashTable<Entity>, uid: &EntityUid) -> Entry<'t, Entity> {
    table.entry(
        uid.precomputed_hash(),
        |e| e.uid == *uid,
        |e| e.uid.precomputed_hash(),
    )
}

/// Collecting entities into a table keyed by uid (the last of equal uids kept).
trait CollectTable {
    fn collect_table(self) -> HashTable<Entity>;
}

impl<I: Iterator<Item = Entity>> CollectTable for I {
    fn collect_table(self) -> HashTable<Entity> {
        let mut table = HashTable::with_capacity(self.size_hint().0);
        for entity in self {
            match entry(&mut table, &entity.uid) {
                Entry::Occupied(mut existing) => *existing.get_mut() = entity,
                Entry::Vacant(slot) => {
                    slot.insert(entity);
                }
            }
        }
        table
    }
}

/// Walks the parent relation (`parents_of`) from `start`, listing every ancestor; reaching
/// `start` again is a cycle. `None` when there are more than [`LIST_AT_MOST`] of them, or an
/// entity on the way holds its ancestors as labels (not listed).
fn listed_ancestors_of<'a>(
    start: &EntityUid,
    parents_of: &impl Fn(&EntityUid) -> Option<(&'a Parents, &'a Ancestors)>,
) -> Result<Option<Ancestors>, EntitiesError> {
    let mut seen: HashSet<EntityUid> = HashSet::default();
    let mut stack: Vec<&EntityUid> = parents_of(start)
        .map(|(p, _)| p.iter().collect())
        .unwrap_or_default();
    while let Some(uid) = stack.pop() {
        if uid == start {
            return Err(EntitiesError::Cycle(start.clone()));
        }
        if seen.insert(uid.clone())
            && let Some((parents, ancestors)) = parents_of(uid)
        {
            if ancestors.listed().is_none() {
                return Ok(None);
            }
            stack.extend(parents.iter());
        }
        if seen.len() > LIST_AT_MOST {
            return Ok(None);
        }
    }
    Ok(Some(seen.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::EntityType;

    fn uid(s: &str) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), s)
    }

    fn entity(id: &str, parents: &[&str]) -> Entity {
        Entity::new(
            uid(id),
            BTreeMap::new(),
            parents.iter().map(|p| uid(p)).collect(),
            BTreeMap::new(),
        )
    }

    #[test]
    fn computes_transitive_ancestors_through_missing_parents() {
        let store = Entities::from_entities([
            entity("a", &["b"]),
            entity("b", &["c", "ghost"]),
            entity("c", &[]),
        ])
        .unwrap();
        let a = store.get(&uid("a")).unwrap();
        assert!(a.is_descendant_of(&uid("b")));
        assert!(a.is_descendant_of(&uid("c")));
        assert!(a.is_descendant_of(&uid("ghost")));
        assert!(!a.is_descendant_of(&uid("a")));
        assert!(!store.get(&uid("c")).unwrap().is_descendant_of(&uid("a")));
    }

    #[test]
    fn rejects_cycles_and_conflicting_duplicates() {
        let cycle = Entities::from_entities([entity("a", &["b"]), entity("b", &["a"])]);
        assert!(matches!(cycle, Err(EntitiesError::Cycle(_))));
        let dup = Entities::from_entities([entity("a", &["b"]), entity("a", &[])]);
        assert_eq!(dup.unwrap_err(), EntitiesError::Duplicate(uid("a")));
        let same = Entities::from_entities([entity("a", &["b"]), entity("a", &["b"])]).unwrap();
        assert_eq!(same.len(), 1);
    }

    #[test]
    fn numbers_each_entity_once_and_renumbers_when_extended() {
        let mut store =
            Entities::from_entities((0..50).map(|i| entity(&format!("e{i}"), &[]))).unwrap();
        let positions = |store: &Entities| {
            let mut p: Vec<usize> = store.iter().map(Entity::position).collect();
            p.sort_unstable();
            p
        };
        assert_eq!(positions(&store), (0..50).collect::<Vec<_>>());
        let built = store.stamp();
        assert_ne!(built, 0);
        assert_eq!(store.clone().stamp(), built);
        store.extend_closed((50..120).map(|i| entity(&format!("e{i}"), &[])));
        assert_eq!(positions(&store), (0..120).collect::<Vec<_>>());
        assert_ne!(store.stamp(), built);
        // Where an entity sits is not part of what it is.
        let placed = store.iter().find(|e| e.position() != 0).unwrap();
        let fresh = entity(placed.uid().id(), &[]);
        assert_eq!(fresh.position(), 0);
        assert_eq!(*placed, fresh);
    }
}
