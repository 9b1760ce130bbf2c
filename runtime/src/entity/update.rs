//! Changing a store without rebuilding it: entities upserted and removed into a new store that
//! shares every unchanged entity with the old one.
//!
//! A store is its base — the entities as built, in one table — plus, once updated, a layer of
//! [`Changes`]: the entities added or changed since (each behind an `Arc`, in shards by uid)
//! and a bit per base entity saying it was changed or removed (in chunks). The layer is
//! persistent: an update copies the shards and chunks it writes to and shares the others with
//! the store it was made from. Looking up an entity of an unchanged store reads the base only;
//! of an updated one, the base, its hidden bit and, for uids the base does not answer, a shard.
//!
//! An update costs what it changes: the entities given, and the entities whose ancestors
//! change because of them (found through an index of who lists whom as a parent, made for the
//! base when an update first needs it), plus copying one shard per changed entity (a
//! 256th of the layer) and the table of shard and chunk pointers. When the layer holds more
//! than [`COMPACT_AT`] entities (or a quarter of the base, if more), the update instead builds
//! a new base of every entity: a cost proportional to the store, paid once per that many
//! changed entities.
//!
//! Entities with many ancestors hold them as a cover in the base's forest (see `hierarchy`).
//! An update labels an entity with many ancestors in that forest, at the cost of its cover,
//! when its parents are forest nodes whose parents, and whose ancestors' parents, are as the
//! base had them (the layer keeps the nodes whose parents changed, up to a bound), or entities
//! added since, whose uids it lists beside the cover (up to a bound). Otherwise
//! an update that gives an entity many ancestors, or changes those of an entity that has many
//! (re-parenting or removing an entity above one), closes the whole hierarchy again: a new
//! base, at a cost proportional to the store.

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::{Base, CollectTable, Entities, EntitiesError, Entity, listed_ancestors_of, new_stamp};
use crate::ancestors::{Ancestors, Labeled};
use crate::forest::{COVER_AT_MOST, Cover, Place};
use crate::uid::EntityUid;

/// The layer is merged into a new base when it would hold more than this many entities, or a
/// quarter of the base if that is more.
pub const COMPACT_AT: usize = 8192;

/// Shards of the layer's table: an update copies the one shard it writes to, not the table.
const SHARDS: usize = 256;

/// Bits of the hidden-entity set per chunk (an update copies the chunk it writes to).
const HIDDEN_CHUNK_WORDS: usize = 64;

/// What changed in a store since its base was built: a persistent structure, so that the
/// next update copies what it changes and shares the rest.
#[derive(Clone, Debug)]
pub(super) struct Changes {
    /// The entities added or changed, with their ancestors, at positions from the base's
    /// length up; in shards by their uid's hash.
    shards: Box<[Arc<HashTable<Arc<Entity>>>]>,
    /// How many entities the shards hold.
    count: usize,
    /// Who lists whom as a parent among the shards' entities: child uid hashes by parent uid
    /// hash, in shards by the parent's hash.
    children: Box<[Arc<ChildrenShard>]>,
    /// Bit `n` is set when the base's entity at position `n` was changed (its new version is
    /// in the shards) or removed; in chunks of [`HIDDEN_CHUNK_WORDS`] words.
    hidden: Box<[Arc<[u64; HIDDEN_CHUNK_WORDS]>]>,
    /// One more than the largest position given to an entity of the shards.
    pub(super) end: u32,
    /// The nodes of the base's forest whose parents changed since the base was built (base
    /// entities re-parented or removed, parents named that became entities with parents): the
    /// forest has their ancestors, and their descendants', as they were. An entity is labelled
    /// in the forest only under parents none of these is above or among.
    stale: Arc<Vec<EntityUid>>,
    /// Whether the forest may be used at all: not once more than [`STALE_AT_MOST`] nodes are
    /// stale (checking a new entity's parents against each would cost more than it saves).
    intact: bool,
}

/// The most stale forest nodes a layer keeps labelling new entities past.
const STALE_AT_MOST: usize = 1024;

/// The most ancestors added since the base (not nodes of its forest) an entity labelled in
/// the forest lists beside its cover.
const EXTRA_AT_MOST: usize = 64;

/// Child uid hashes by parent uid hash, for the parents whose hash falls in one shard.
type ChildrenShard = HashMap<u64, Vec<u64>>;

/// The shard of a uid's hash: bits the hash table does not use for its buckets (the low
/// bits) or its tags (the top seven).
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl Changes {
    fn new(base_len: usize) -> Self {
        let empty: Arc<HashTable<Arc<Entity>>> = Arc::default();
        let no_children: Arc<ChildrenShard> = Arc::default();
        let chunk: Arc<[u64; HIDDEN_CHUNK_WORDS]> = Arc::new([0; HIDDEN_CHUNK_WORDS]);
        Changes {
            shards: vec![empty; SHARDS].into_boxed_slice(),
            count: 0,
            children: vec![no_children; SHARDS].into_boxed_slice(),
            hidden: vec![chunk; base_len.div_ceil(64 * HIDDEN_CHUNK_WORDS)].into_boxed_slice(),
            end: u32::try_from(base_len).unwrap_or(u32::MAX),
            stale: Arc::default(),
            intact: true,
        }
    }

    /// The entity `uid` names, given what the base found for it.
    #[inline(never)]
    pub(super) fn get<'a>(
        &'a self,
        uid: &EntityUid,
        in_base: Option<&'a Entity>,
    ) -> Option<&'a Entity> {
        match in_base {
            Some(entity) if !self.hides(entity.position) => Some(entity),
            _ => self.find(uid).map(|e| &**e),
        }
    }

    fn find(&self, uid: &EntityUid) -> Option<&Arc<Entity>> {
        let hash = uid.precomputed_hash();
        self.shards
            .get(shard_of(hash))?
            .find(hash, |e| e.uid == *uid)
    }

    /// Whether the base's entity at `position` was changed or removed.
    #[inline]
    pub(super) fn hides(&self, position: u32) -> bool {
        let (word, bit) = (position as usize / 64, position % 64);
        self.hidden
            .get(word / HIDDEN_CHUNK_WORDS)
            .is_some_and(|chunk| chunk[word % HIDDEN_CHUNK_WORDS] & (1 << bit) != 0)
    }

    fn hide(&mut self, position: u32) {
        let (word, bit) = (position as usize / 64, position % 64);
        if let Some(chunk) = self.hidden.get_mut(word / HIDDEN_CHUNK_WORDS) {
            Arc::make_mut(chunk)[word % HIDDEN_CHUNK_WORDS] |= 1 << bit;
        }
    }

    /// The shard `hash` belongs to, copied if another layer shares it.
    fn shard_mut(&mut self, hash: u64) -> &mut HashTable<Arc<Entity>> {
        let shard = shard_of(hash);
        Arc::make_mut(&mut self.shards[shard])
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Entity> {
        self.shards.iter().flat_map(|s| s.iter()).map(|e| &**e)
    }

    /// The entities of the layer that list `parent` as a parent.
    fn children_of<'a>(&'a self, parent: &'a EntityUid) -> impl Iterator<Item = &'a Entity> + 'a {
        let hash = parent.precomputed_hash();
        self.children[shard_of(hash)]
            .get(&hash)
            .into_iter()
            .flatten()
            .flat_map(move |&child| {
                self.shards[shard_of(child)]
                    .iter_hash(child)
                    .map(|e| &**e)
                    .filter(move |e| e.parents.contains(parent))
            })
    }

    /// Records (`add`) or forgets that `entity` lists its parents.
    fn link(&mut self, entity: &Entity, add: bool) {
        let child = entity.uid.precomputed_hash();
        for parent in &entity.parents {
            let hash = parent.precomputed_hash();
            let shard = Arc::make_mut(&mut self.children[shard_of(hash)]);
            if add {
                shard.entry(hash).or_default().push(child);
            } else if let Some(children) = shard.get_mut(&hash) {
                if let Some(at) = children.iter().position(|&c| c == child) {
                    children.swap_remove(at);
                }
                if children.is_empty() {
                    shard.remove(&hash);
                }
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }
}

/// For each base entity, which entities list it as a parent: pairs of the parent's and the
/// child's uid hashes, sorted.
#[derive(Clone, Debug, Default)]
pub(super) struct ChildIndex(Box<[(u64, u64)]>);

impl ChildIndex {
    fn of(base: &Base) -> Self {
        let mut pairs: Vec<(u64, u64)> = base
            .table
            .iter()
            .flat_map(|child| {
                let hash = child.uid.precomputed_hash();
                child
                    .parents
                    .iter()
                    .map(move |p| (p.precomputed_hash(), hash))
            })
            .collect();
        pairs.sort_unstable();
        ChildIndex(pairs.into_boxed_slice())
    }

    /// The hashes of the uids of entities that may list a uid of hash `parent` as a parent.
    fn children(&self, parent: u64) -> impl Iterator<Item = u64> + '_ {
        let from = self.0.partition_point(|&(p, _)| p < parent);
        self.0[from..]
            .iter()
            .take_while(move |&&(p, _)| p == parent)
            .map(|&(_, child)| child)
    }
}

/// A store after an [update](Entities::update).
#[derive(Clone, Debug)]
pub struct Updated {
    /// The new store.
    pub entities: Entities,
    /// The entities that are new or whose data or ancestors changed, now at positions after the
    /// store's [built positions](Entities::built_positions); data kept per entity beside the
    /// old store holds for every other entity. `None` when the store was rebuilt (its layer of
    /// changes merged into a new base): every position changed.
    pub changed: Option<Vec<EntityUid>>,
}

impl Entities {
    /// A new store with `upserts` added (replacing entities with the same uid) and the entities
    /// named in `removals` taken out, sharing every unchanged entity with this one (which stays
    /// as it was). The ancestors of the upserted entities, and of every entity whose ancestors
    /// change because of them, are computed anew. Upserts come first: a uid both upserted and
    /// removed is removed; of two upserts of one uid, the last counts. Removing a uid not in
    /// the store does nothing. An upsert that would close a cycle in the hierarchy is an error
    /// (and nothing changes).
    pub fn update(
        &self,
        upserts: impl IntoIterator<Item = Entity>,
        removals: impl IntoIterator<Item = EntityUid>,
    ) -> Result<Updated, EntitiesError> {
        let compact_at = COMPACT_AT.max(self.base.table.len() / 4);
        self.update_compacting_at(upserts, removals, compact_at)
    }

    /// [`update`](Self::update), rebuilding the base when the layer would hold more than
    /// `compact_at` entities.
    fn update_compacting_at(
        &self,
        upserts: impl IntoIterator<Item = Entity>,
        removals: impl IntoIterator<Item = EntityUid>,
        compact_at: usize,
    ) -> Result<Updated, EntitiesError> {
        let mut edits: HashMap<EntityUid, Option<Entity>> = HashMap::new();
        for mut entity in upserts {
            entity.position = 0;
            edits.insert(entity.uid.clone(), Some(entity));
        }
        for uid in removals {
            edits.insert(uid, None);
        }
        let structural = self.changes_hierarchy(&edits);
        let stale = self.stale_after(&edits);
        match self.recompute(&edits, structural, stale.as_deref())? {
            Some(computed) => Ok(self.apply(edits, computed, stale, compact_at)),
            None => self.rebuilt(edits),
        }
    }

    /// The stale nodes of the base's forest once `edits` are made (see [`Changes`]); `None`
    /// when the forest is not to be used (there is none, or too many nodes are stale).
    fn stale_after(&self, edits: &HashMap<EntityUid, Option<Entity>>) -> Option<Vec<EntityUid>> {
        let forest = self.base.forest.as_ref()?;
        let mut stale: Vec<EntityUid> = match &self.changes {
            Some(changes) if !changes.intact => return None,
            Some(changes) => changes.stale.to_vec(),
            None => Vec::new(),
        };
        for (uid, edit) in edits {
            if !same_parents(edit.as_ref(), self.get(uid)) && forest.node(uid).is_some() {
                stale.push(uid.clone());
            }
        }
        stale.sort_unstable();
        stale.dedup();
        (stale.len() <= STALE_AT_MOST).then_some(stale)
    }

    /// Whether `edits` change the ancestors of an entity they do not name: they change the
    /// parents of (or remove, or make an entity of) a uid that other entities list as a parent.
    fn changes_hierarchy(&self, edits: &HashMap<EntityUid, Option<Entity>>) -> bool {
        edits.iter().any(|(uid, edit)| {
            !same_parents(edit.as_ref(), self.get(uid)) && {
                let in_layer = self.changes.iter().flat_map(|c| c.children_of(uid));
                self.base_children_of(uid).chain(in_layer).next().is_some()
            }
        })
    }

    /// The store with `edits` made, built anew: every entity's ancestors closed again.
    fn rebuilt(&self, edits: HashMap<EntityUid, Option<Entity>>) -> Result<Updated, EntitiesError> {
        let mut all: Vec<Entity> = self
            .iter()
            .filter(|e| !edits.contains_key(&e.uid))
            .cloned()
            .collect();
        all.extend(edits.into_values().flatten());
        let entities = Entities::from_entities(all)?;
        Ok(Updated {
            entities,
            changed: None,
        })
    }

    /// The new ancestors of every entity an update changes, by uid: the upserted ones, and the
    /// descendants whose ancestors change. `None` when the store must be built anew: an entity
    /// whose ancestors change has many, and they cannot be labelled in the base's forest.
    fn recompute(
        &self,
        edits: &HashMap<EntityUid, Option<Entity>>,
        structural: bool,
        stale: Option<&[EntityUid]>,
    ) -> Result<Option<HashMap<EntityUid, Ancestors>>, EntitiesError> {
        let parents_of = |uid: &EntityUid| match edits.get(uid) {
            Some(edit) => edit.as_ref().map(|e| (&e.parents, &e.ancestors)),
            None => self.get(uid).map(|e| (&e.parents, &e.ancestors)),
        };
        let mut computed: HashMap<EntityUid, Ancestors> = HashMap::new();
        // Entities whose ancestors changed, so their descendants' may have too.
        let mut moved: Vec<EntityUid> = Vec::new();
        for (uid, edit) in edits {
            let current = self.get(uid);
            let Some(entity) = edit else {
                if current.is_some_and(|e| e.ancestor_count() > 0) {
                    moved.push(uid.clone());
                }
                continue;
            };
            if !structural
                && let Some(current) = current
                && current.parents == entity.parents
            {
                // Same parents, and no ancestor's changed: the same ancestors.
                computed.insert(uid.clone(), current.ancestors.clone());
                continue;
            }
            let ancestors = match listed_ancestors_of(uid, &parents_of)? {
                Some(listed) => listed,
                None => match stale.and_then(|stale| self.labeled_in_base(entity, edits, stale)) {
                    Some(labeled) => labeled,
                    None => return Ok(None),
                },
            };
            // An entity not in the store is an ancestor without ancestors of its own.
            let empty = Ancestors::default();
            if !current
                .map_or(&empty, |e| &e.ancestors)
                .surely_same(&ancestors)
            {
                moved.push(uid.clone());
            }
            computed.insert(uid.clone(), ancestors);
        }
        if !structural {
            return Ok(Some(computed));
        }
        let mut visited: HashSet<EntityUid> = HashSet::new();
        while let Some(uid) = moved.pop() {
            let in_layer = self.changes.iter().flat_map(|c| c.children_of(&uid));
            for child in self.base_children_of(&uid).chain(in_layer) {
                if edits.contains_key(child.uid()) || !visited.insert(child.uid.clone()) {
                    continue;
                }
                let Some(ancestors) = listed_ancestors_of(&child.uid, &parents_of)? else {
                    return Ok(None);
                };
                if !ancestors.surely_same(&child.ancestors) {
                    computed.insert(child.uid.clone(), ancestors);
                    moved.push(child.uid.clone());
                }
            }
        }
        Ok(Some(computed))
    }

    /// The ancestors of `entity` labelled in the base's forest, from its parents': a parent
    /// that is a node of the forest brings its cover there, one added since (not a node)
    /// itself and its ancestors as it holds them. `None` when a `stale` node (whose parents
    /// changed since the base) is a parent or above one — the forest no longer has those
    /// ancestors right — or a parent is changed by these `edits` too, or the cover is large.
    fn labeled_in_base(
        &self,
        entity: &Entity,
        edits: &HashMap<EntityUid, Option<Entity>>,
        stale: &[EntityUid],
    ) -> Option<Ancestors> {
        let forest = self.base.forest.as_ref()?;
        let places: Vec<Place> = stale.iter().filter_map(|s| forest.place(s)).collect();
        // Whether a stale node is among the ancestors of a cover (or is the node at `pre`).
        let stale_in = |heads: &[u32], opens: &[u32], pre: Option<u32>| {
            places.iter().any(|place| {
                pre.is_some_and(|pre| (place.from..place.to).contains(&pre))
                    || forest.covers(heads, opens, *place)
            })
        };
        let mut cover = Cover::default();
        let mut extra: Vec<EntityUid> = Vec::new();
        let mut count = 0usize;
        for parent in &entity.parents {
            let now = match edits.get(parent) {
                // Its ancestors are being computed with this entity's.
                Some(Some(_)) => return None,
                Some(None) => None,
                None => self.get(parent),
            };
            count = count.saturating_add(now.map_or(0, Entity::ancestor_count).saturating_add(1));
            if let Some(node) = forest.node(parent) {
                let (heads, opens) = forest.cover_of(node);
                if stale.binary_search(parent).is_ok()
                    || stale_in(heads, opens, Some(forest.pre(node)))
                {
                    return None;
                }
                cover.heads.push(forest.pre(node));
                cover.heads.extend_from_slice(heads);
                cover.opens.extend_from_slice(opens);
                continue;
            }
            extra.push(parent.clone());
            match now.map(|p| &p.ancestors) {
                None => {}
                Some(Ancestors::Labeled(labeled)) if Arc::ptr_eq(&labeled.forest, forest) => {
                    if stale_in(&labeled.heads, &labeled.opens, None) {
                        return None;
                    }
                    cover.heads.extend_from_slice(&labeled.heads);
                    cover.opens.extend_from_slice(&labeled.opens);
                    extra.extend(labeled.extra.iter().cloned());
                }
                Some(Ancestors::Labeled(_)) => return None,
                Some(Ancestors::Listed(list)) => {
                    for a in list.iter() {
                        let Some(node) = forest.node(a) else {
                            extra.push(a.clone());
                            continue;
                        };
                        let (heads, opens) = forest.cover_of(node);
                        if stale.binary_search(a).is_ok()
                            || stale_in(heads, opens, Some(forest.pre(node)))
                        {
                            return None;
                        }
                        cover.heads.push(forest.pre(node));
                    }
                }
            }
        }
        forest.reduce(&mut cover.heads);
        cover.opens.sort_unstable();
        cover.opens.dedup();
        extra.sort_unstable();
        extra.dedup();
        if cover.heads.len() + cover.opens.len() > 2 * COVER_AT_MOST || extra.len() > EXTRA_AT_MOST
        {
            return None;
        }
        Some(Ancestors::Labeled(Arc::new(Labeled {
            forest: Arc::clone(forest),
            heads: cover.heads.into_boxed_slice(),
            opens: cover.opens.into_boxed_slice(),
            extra: extra.into_boxed_slice(),
            count,
        })))
    }

    /// The entities of this store's base, not changed since, that list `parent` as a parent.
    fn base_children_of<'a>(
        &'a self,
        parent: &'a EntityUid,
    ) -> impl Iterator<Item = &'a Entity> + 'a {
        let base = &self.base;
        let changes = self.changes.as_deref();
        let index = base.children.get_or_init(|| ChildIndex::of(base));
        index
            .children(parent.precomputed_hash())
            .flat_map(move |hash| {
                base.table
                    .iter_hash(hash)
                    .filter(move |e| e.parents.contains(parent))
                    .filter(move |e| changes.is_none_or(|c| !c.hides(e.position)))
            })
    }

    /// The store with the edits made and the recomputed ancestors set.
    fn apply(
        &self,
        edits: HashMap<EntityUid, Option<Entity>>,
        mut computed: HashMap<EntityUid, Ancestors>,
        stale: Option<Vec<EntityUid>>,
        compact_at: usize,
    ) -> Updated {
        let base_len = self.base.table.len();
        let mut changes = match &self.changes {
            Some(changes) => (**changes).clone(),
            None => Changes::new(base_len),
        };
        changes.intact = stale.is_some();
        changes.stale = Arc::new(stale.unwrap_or_default());
        let mut len = self.len;
        let mut changed = Vec::with_capacity(computed.len());
        // The descendants whose ancestors changed, with their data as it is.
        let descendants: Vec<(EntityUid, Option<Entity>)> = computed
            .keys()
            .filter(|uid| !edits.contains_key(*uid))
            .filter_map(|uid| self.get(uid).map(|e| (uid.clone(), Some(e.clone()))))
            .collect();
        for (uid, edit) in edits.into_iter().chain(descendants) {
            let hash = uid.precomputed_hash();
            let in_base = self.base.table.find(hash, |e| e.uid == uid);
            let was_present = self.get(&uid).is_some();
            if let Some(entity) = in_base {
                changes.hide(entity.position);
            }
            let mut end = changes.end;
            let shard = changes.shard_mut(hash);
            let slot = shard.entry(hash, |e| e.uid == uid, |e| e.uid.precomputed_hash());
            let mut added = 0;
            // The layer's old and new version of the entity, whose parent links change.
            let (mut old, mut new) = (None, None);
            match edit {
                None => {
                    if let Entry::Occupied(slot) = slot {
                        old = Some(slot.remove().0);
                        added = -1;
                    }
                    len -= usize::from(was_present);
                }
                Some(mut entity) => {
                    if let Some(ancestors) = computed.remove(&uid) {
                        entity.ancestors = ancestors;
                    }
                    match slot {
                        Entry::Occupied(mut slot) => {
                            entity.position = slot.get().position;
                            let entity = Arc::new(entity);
                            new = Some(Arc::clone(&entity));
                            old = Some(std::mem::replace(slot.get_mut(), entity));
                        }
                        Entry::Vacant(slot) => {
                            entity.position = end;
                            end = end.saturating_add(1);
                            let entity = Arc::new(entity);
                            new = Some(Arc::clone(&entity));
                            slot.insert(entity);
                            added = 1;
                        }
                    }
                    len += usize::from(!was_present);
                    changed.push(uid);
                }
            }
            changes.end = end;
            changes.count = changes.count.saturating_add_signed(added);
            if let Some(old) = old {
                changes.link(&old, false);
            }
            if let Some(new) = new {
                changes.link(&new, true);
            }
        }
        if changes.len() > compact_at {
            // Every entity keeps its ancestors; only the positions change.
            let entities = self.iter_with(&changes).cloned().collect_table();
            let forest = self
                .base
                .forest
                .clone()
                .filter(|_| changes.intact && changes.stale.is_empty());
            return Updated {
                entities: Entities::with_base(entities, forest),
                changed: None,
            };
        }
        Updated {
            entities: Entities {
                base: Arc::clone(&self.base),
                changes: Some(Arc::new(changes)),
                len,
                stamp: new_stamp(),
            },
            changed: Some(changed),
        }
    }

    /// This store's base seen through `changes` instead of its own.
    fn iter_with<'a>(&'a self, changes: &'a Changes) -> impl Iterator<Item = &'a Entity> {
        self.base
            .table
            .iter()
            .filter(move |e| !changes.hides(e.position))
            .chain(changes.iter())
    }
}

impl Entities {
    /// How many entities were added or changed since the store's base was built (0 for a store
    /// as built); the next [update](Self::update) past `COMPACT_AT` (8,192; or a quarter of the
    /// base) rebuilds the base.
    pub fn changed_count(&self) -> usize {
        self.changes.as_ref().map_or(0, |c| c.len())
    }

    /// Whether the two stores share their base: the entities `other` was built with, less those
    /// either store changed, are the same memory in both. For tests and reports of what an
    /// update copied.
    pub fn shares_base_with(&self, other: &Entities) -> bool {
        Arc::ptr_eq(&self.base, &other.base)
    }

    /// The entities in the store that list `parent` among their parents, in no particular order
    /// (an entity may come more than once). Walking them from an entity down reaches exactly its
    /// descendants, since ancestors are closed from parents (action entities added by
    /// [`extend_closed`](Self::extend_closed) aside). The first call on a store builds an index
    /// of who lists whom, once, and its updates share it while they share its base.
    pub fn children<'a>(&'a self, parent: &'a EntityUid) -> impl Iterator<Item = &'a Entity> + 'a {
        let in_layer = self.changes.iter().flat_map(move |c| c.children_of(parent));
        self.base_children_of(parent).chain(in_layer)
    }
}

/// Whether a uid has the same parents in two versions of it (`None`: not an entity, which has
/// none), and so the same ancestors if its ancestors' did not change.
fn same_parents(a: Option<&Entity>, b: Option<&Entity>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.parents == b.parents,
        (Some(e), None) | (None, Some(e)) => e.parents.is_empty(),
        (None, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::name::EntityType;
    use crate::value::Value;

    fn uid(s: &str) -> EntityUid {
        EntityUid::new(EntityType::parse("T").unwrap(), s)
    }

    fn entity(id: &str, parents: &[&str], tag: i64) -> Entity {
        Entity::new(
            uid(id),
            [(Arc::from("n"), Value::Long(tag))].into_iter().collect(),
            parents.iter().map(|p| uid(p)).collect(),
            BTreeMap::new(),
        )
    }

    /// The store as a map from uid to (attribute `n`, parents, ancestors), to compare stores
    /// regardless of positions.
    fn contents(store: &Entities) -> BTreeMap<String, (Value, Vec<String>, BTreeSet<String>)> {
        let mut seen = BTreeSet::new();
        let mut out = BTreeMap::new();
        for e in store.iter() {
            assert!(seen.insert(e.position()), "two entities at one position");
            assert!(e.position() < store.positions());
            assert_eq!(store.get(e.uid()).map(Entity::position), Some(e.position()));
            out.insert(
                e.uid().id().to_string(),
                (
                    e.attr("n").cloned().unwrap_or(Value::Bool(false)),
                    e.parents().iter().map(|p| p.id().to_string()).collect(),
                    e.ancestors().map(|a| a.id().to_string()).collect(),
                ),
            );
        }
        assert_eq!(out.len(), store.len());
        out
    }

    #[test]
    fn upserts_recompute_the_ancestors_of_descendants() {
        // a -> b -> c, d -> ghost (a parent not in the store).
        let store = Entities::from_entities([
            entity("a", &["b"], 0),
            entity("b", &["c"], 0),
            entity("c", &[], 0),
            entity("d", &["ghost"], 0),
        ])
        .unwrap();
        // b moves under x; ghost appears, under c.
        let updated = store
            .update(
                [
                    entity("b", &["x"], 1),
                    entity("x", &[], 0),
                    entity("ghost", &["c"], 0),
                ],
                [],
            )
            .unwrap();
        let new = &updated.entities;
        let a = new.get(&uid("a")).unwrap();
        assert!(a.is_descendant_of(&uid("x")) && !a.is_descendant_of(&uid("c")));
        assert!(new.get(&uid("d")).unwrap().is_descendant_of(&uid("c")));
        assert_eq!(new.get(&uid("b")).unwrap().attr("n"), Some(&Value::Long(1)));
        assert_eq!(new.len(), 6);
        // a, b, d, ghost and x changed; c did not.
        assert_eq!(updated.changed.as_ref().map(Vec::len), Some(5));
        assert!(new.shares_base_with(&store));
        assert_ne!(new.stamp(), store.stamp());
        // The old store is as it was.
        assert!(store.get(&uid("a")).unwrap().is_descendant_of(&uid("c")));
        assert!(store.get(&uid("x")).is_none());
        // Removing ghost takes c out of d's ancestors (ghost itself stays one).
        let removed = new
            .update([], [uid("ghost"), uid("nobody")])
            .unwrap()
            .entities;
        let d = removed.get(&uid("d")).unwrap();
        assert!(d.is_descendant_of(&uid("ghost")) && !d.is_descendant_of(&uid("c")));
        assert!(removed.get(&uid("ghost")).is_none());
        assert_eq!(removed.len(), 5);
    }

    #[test]
    fn an_upsert_closing_a_cycle_is_refused() {
        let store = Entities::from_entities([entity("a", &["b"], 0), entity("b", &[], 0)]).unwrap();
        let err = store.update([entity("b", &["a"], 0)], []).unwrap_err();
        assert!(matches!(err, EntitiesError::Cycle(_)));
        assert!(store.get(&uid("b")).unwrap().parents().is_empty());
    }

    /// A small deterministic generator (no dependency needed for a test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn updates_agree_with_building_the_store_anew() {
        let mut rng = Lcg(7);
        // Parents always have a larger number than their child: no cycles.
        let random_entity = |rng: &mut Lcg, n: u64, tag: i64| {
            let parents: Vec<String> = (0..rng.below(3))
                .map(|_| format!("e{}", n + 1 + rng.below(12)))
                .collect();
            let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
            entity(&format!("e{n}"), &parents, tag)
        };
        let initial: Vec<Entity> = (0..60).map(|n| random_entity(&mut rng, n, 0)).collect();
        let mut model: BTreeMap<String, Entity> = initial
            .iter()
            .map(|e| (e.uid().id().to_string(), e.clone()))
            .collect();
        let mut store = Entities::from_entities(initial).unwrap();
        let mut compactions = 0;
        for round in 0..400 {
            let mut upserts = Vec::new();
            let mut removals = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let n = rng.below(80);
                if rng.below(4) == 0 {
                    removals.push(uid(&format!("e{n}")));
                } else {
                    upserts.push(random_entity(&mut rng, n, round));
                }
            }
            for e in &upserts {
                model.insert(e.uid().id().to_string(), e.clone());
            }
            for r in &removals {
                model.remove(r.id());
            }
            let updated = store.update_compacting_at(upserts, removals, 40).unwrap();
            compactions += usize::from(updated.changed.is_none());
            let rebuilt = Entities::from_entities(model.values().cloned()).unwrap();
            assert_eq!(
                contents(&updated.entities),
                contents(&rebuilt),
                "round {round}"
            );
            store = updated.entities;
        }
        // The layer was merged into a new base now and then, and grew again after.
        assert!(compactions > 3, "{compactions} compactions");
        assert!(store.changed_count() > 0);
        assert!(
            store
                .update([], [])
                .unwrap()
                .entities
                .shares_base_with(&store)
        );
    }

    #[test]
    fn the_forest_is_not_used_once_an_entity_in_it_changes_parents() {
        // A chain e0 <- ... <- e99 (labelled), b under e99, a under b, c under e0.
        let mut initial: Vec<Entity> = (0..100)
            .map(|i| match i {
                0 => entity("e0", &[], 0),
                _ => entity(&format!("e{i}"), &[&format!("e{}", i - 1)], 0),
            })
            .collect();
        initial.extend([
            entity("b", &["e99"], 0),
            entity("a", &["b"], 0),
            entity("c", &["e0"], 0),
        ]);
        let mut store = Entities::from_entities(initial).unwrap();
        // a moves to c, then b (childless now) to e60, then a back under b: each update names
        // only an entity without children.
        for (id, parent) in [("a", "c"), ("b", "e60"), ("a", "b")] {
            store = store
                .update([entity(id, &[parent], 0)], [])
                .unwrap()
                .entities;
        }
        // A new entity under a has a, b and e0..=e60 above it (too many to list), not the
        // part of the chain b was under before.
        let updated = store.update([entity("y", &["a"], 0)], []).unwrap();
        let y = updated.entities.get(&uid("y")).unwrap();
        let expect = [("a", true), ("b", true), ("e0", true), ("e60", true)];
        for (above, want) in expect.into_iter().chain([("e61", false), ("e99", false)]) {
            assert_eq!(y.is_descendant_of(&uid(above)), want, "y in {above}");
        }
        assert_eq!(y.ancestors().count(), 63);
    }

    #[test]
    fn removing_or_moving_a_leaf_keeps_labelling_elsewhere_in_the_forest() {
        // A chain e0 <- ... <- e99 (labelled), leaves d under e99 and f under e50.
        let mut initial: Vec<Entity> = (0..100)
            .map(|i| match i {
                0 => entity("e0", &[], 0),
                _ => entity(&format!("e{i}"), &[&format!("e{}", i - 1)], 0),
            })
            .collect();
        initial.extend([entity("d", &["e99"], 0), entity("f", &["e50"], 0)]);
        let built = Entities::from_entities(initial).unwrap();
        // d goes: the forest is stale at d only.
        let store = built.update([], [uid("d")]).unwrap().entities;
        assert!(store.shares_base_with(&built));
        // New entities under e90 and under f are labelled in the forest, layered on the base.
        let mut layered = store;
        for (id, parent, above) in [("z", "e90", 91), ("w", "f", 52)] {
            let updated = layered.update([entity(id, &[parent], 0)], []).unwrap();
            assert!(updated.changed.is_some() && updated.entities.shares_base_with(&built));
            let e = updated.entities.get(&uid(id)).unwrap();
            assert!(matches!(e.ancestors, Ancestors::Labeled(_)), "{id}");
            assert_eq!(e.ancestors().count(), above, "{id}");
            assert!(e.is_descendant_of(&uid("e0")) && !e.is_descendant_of(&uid("d")));
            layered = updated.entities;
        }
        // f moves under e10 (w, its child, with it): both listed again, still layered.
        let moved = layered.update([entity("f", &["e10"], 0)], []).unwrap();
        assert!(moved.changed.is_some());
        let w = moved.entities.get(&uid("w")).unwrap();
        assert!(w.is_descendant_of(&uid("e10")) && !w.is_descendant_of(&uid("e11")));
        assert_eq!(w.ancestors().count(), 12);
        // A new entity under w has the ancestors w has now, not those f had in the forest.
        let under = moved.entities.update([entity("v", &["w"], 0)], []).unwrap();
        let v = under.entities.get(&uid("v")).unwrap();
        assert_eq!(v.ancestors().count(), 13);
        assert!(!v.is_descendant_of(&uid("e50")));
    }

    #[test]
    fn entities_under_new_entities_are_labelled_too() {
        // A chain e0 <- ... <- e99 (labelled); then a folder under e90, a file in it, a
        // version under the file, each new: labelled in the forest, the store layered.
        let built = Entities::from_entities((0..100).map(|i| match i {
            0 => entity("e0", &[], 0),
            _ => entity(&format!("e{i}"), &[&format!("e{}", i - 1)], 0),
        }))
        .unwrap();
        let mut store = built.clone();
        for (id, parent, above) in [
            ("folder", "e90", 91),
            ("file", "folder", 92),
            ("v1", "file", 93),
        ] {
            let updated = store.update([entity(id, &[parent], 0)], []).unwrap();
            assert!(updated.changed.is_some() && updated.entities.shares_base_with(&built));
            store = updated.entities;
            let e = store.get(&uid(id)).unwrap();
            assert!(matches!(e.ancestors, Ancestors::Labeled(_)), "{id}");
            assert_eq!(e.ancestors().count(), above, "{id}");
            assert!(e.is_descendant_of(&uid(parent)) && e.is_descendant_of(&uid("e0")));
            assert!(!e.is_descendant_of(&uid("e91")) && !e.is_descendant_of(&uid(id)));
        }
        let v1 = store.get(&uid("v1")).unwrap();
        assert!(v1.is_descendant_of(&uid("folder")) && v1.is_descendant_of(&uid("file")));
        // The folder moves under e5: the file and its version follow, with a few ancestors.
        let moved = store.update([entity("folder", &["e5"], 0)], []).unwrap();
        let v1 = moved.entities.get(&uid("v1")).unwrap();
        assert!(v1.is_descendant_of(&uid("e5")) && !v1.is_descendant_of(&uid("e6")));
        assert_eq!(v1.ancestors().count(), 8);
    }

    /// Every `in` answer of `store` against the model's: each entity against every uid.
    fn assert_in_answers(store: &Entities, model: &BTreeMap<String, Entity>, names: u64) {
        let walked = |start: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![start.to_string()];
            while let Some(v) = stack.pop() {
                for p in model.get(&v).into_iter().flat_map(|e| e.parents()) {
                    if seen.insert(p.id().to_string()) {
                        stack.push(p.id().to_string());
                    }
                }
            }
            seen
        };
        for (id, _) in model.iter() {
            let want = walked(id);
            let Some(entity) = store.get(&uid(id)) else {
                panic!("{id} missing");
            };
            for n in 0..names {
                let other = format!("e{n}");
                assert_eq!(
                    entity.is_descendant_of(&uid(&other)),
                    want.contains(&other),
                    "{id} in {other}"
                );
            }
            assert!(entity.ancestor_count() >= want.len());
        }
    }

    #[test]
    fn deep_hierarchies_update_and_agree_with_building_anew() {
        let mut rng = Lcg(11);
        // A chain e0 <- e1 <- ... <- e199 (parents have smaller numbers), a few extra parents.
        let chain = |n: u64, rng: &mut Lcg| {
            let mut parents = Vec::new();
            if n > 0 {
                parents.push(format!("e{}", n - 1));
            }
            if n > 2 && rng.below(5) == 0 {
                parents.push(format!("e{}", rng.below(n - 1)));
            }
            parents
        };
        let initial: Vec<Entity> = (0..200)
            .map(|n| {
                let parents = chain(n, &mut rng);
                let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                entity(&format!("e{n}"), &parents, 0)
            })
            .collect();
        let mut model: BTreeMap<String, Entity> = initial
            .iter()
            .map(|e| (e.uid().id().to_string(), e.clone()))
            .collect();
        let mut store = Entities::from_entities(initial).unwrap();
        assert!(store.base.forest.is_some(), "a chain of 200 is labelled");
        assert_in_answers(&store, &model, 260);
        let (mut layered, mut rebuilt, mut labelled_leaves) = (0, 0, 0);
        for round in 0..120 {
            let mut leaf = None;
            let mut upserts = Vec::new();
            let mut removals = Vec::new();
            let n = rng.below(250);
            match rng.below(10) {
                // A new leaf under one or two existing entities: labelled in the base's forest.
                0..=5 => {
                    // Under an entity or a leaf made before it (a smaller number: no cycle).
                    let id = format!("e{}", 200 + round);
                    let under = rng.below(200 + round);
                    let parents = [format!("e{under}"), format!("e{}", rng.below(200))];
                    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                    upserts.push(entity(&id, &parents[..1 + n as usize % 2], 0));
                    leaf = Some(uid(&id));
                }
                // New data, same parents.
                6 | 7 => {
                    if let Some(e) = model.get(&format!("e{n}")) {
                        let parents: Vec<String> =
                            e.parents().iter().map(|p| p.id().to_string()).collect();
                        let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                        upserts.push(entity(&format!("e{n}"), &parents, round as i64));
                    }
                }
                // Re-parenting (under a smaller number: no cycle) or removing.
                8 if n > 0 => {
                    let parent = format!("e{}", rng.below(n));
                    upserts.push(entity(&format!("e{n}"), &[&parent], 0));
                }
                _ => removals.push(uid(&format!("e{n}"))),
            }
            for e in &upserts {
                model.insert(e.uid().id().to_string(), e.clone());
            }
            for r in &removals {
                model.remove(r.id());
            }
            let updated = store.update(upserts, removals).unwrap();
            match updated.changed.is_some() {
                true => layered += 1,
                false => rebuilt += 1,
            }
            let anew = Entities::from_entities(model.values().cloned()).unwrap();
            assert_eq!(
                contents(&updated.entities),
                contents(&anew),
                "round {round}"
            );
            store = updated.entities;
            if let Some(leaf) = leaf.filter(|_| updated.changed.is_some())
                && let Some(Ancestors::Labeled(_)) = store.get(&leaf).map(|e| &e.ancestors)
            {
                labelled_leaves += 1;
            }
            if round % 4 == 0 {
                assert_in_answers(&store, &model, 330);
            }
        }
        assert_in_answers(&store, &model, 330);
        // Most updates changed no one's ancestors and were layered on the base, new leaves
        // with many ancestors labelled in its forest.
        assert!(
            layered > 60 && rebuilt > 5,
            "{layered} layered, {rebuilt} rebuilt"
        );
        assert!(labelled_leaves > 10, "{labelled_leaves} leaves labelled");
    }
}
