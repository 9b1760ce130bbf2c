//! The schema data model: which entity types, attributes, tags and actions exist, and their types.
//!
//! This is the resolved form the rest of Thuja reads — every type name already points at a
//! declared entity type, a primitive or an extension type, and every common type is resolved.
//! The compiler's schema readers (the `.cedarschema` text and the JSON format) produce it; the
//! JSON data readers use it to type entities and contexts; request validation checks against it.
//!
//! Types are shared, not copied: a set's element type and a record type are behind an [`Arc`],
//! and a common type is resolved once and referred to wherever it is named. A type is a DAG as
//! large as the schema text, even when, written out as a tree, it would be exponentially larger
//! (`type A0 = {x: A1, y: A1}; type A1 = {x: A2, y: A2}; ...`); its nesting is bounded by the
//! schema readers. Walks over a type follow a value (finite) or stop early; printing one is
//! bounded ([`MAX_SHOWN_TYPE`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::entity::{Entities, EntitiesError, Entity};
use crate::name::EntityType;
use crate::uid::EntityUid;

/// The type of an attribute, tag, context or set element.
#[derive(Clone, PartialEq, Eq)]
pub enum SchemaType {
    Bool,
    Long,
    String,
    Entity(EntityType),
    Set(Arc<SchemaType>),
    Record(Arc<RecordType>),
    /// An extension type by its Cedar name: `decimal`, `ipaddr`, `datetime` or `duration`.
    Ext(&'static str),
}

/// The extension types a schema may name.
pub const EXTENSION_TYPES: [&str; 4] = ["decimal", "ipaddr", "datetime", "duration"];

/// A record type: its attributes, each required or optional. Records are closed: no other
/// attributes are allowed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RecordType {
    pub attrs: BTreeMap<Arc<str>, AttrType>,
}

/// One attribute of a record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrType {
    pub ty: SchemaType,
    pub required: bool,
}

/// A declared entity type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityTypeDef {
    pub name: EntityType,
    /// Entity types that entities of this type may have as parents.
    pub member_of: BTreeSet<EntityType>,
    pub attrs: Arc<RecordType>,
    /// The type of every tag, if entities of this type may have tags.
    pub tags: Option<SchemaType>,
    /// For an enumerated entity type, the only ids its entities may have.
    pub enum_ids: Option<Vec<Arc<str>>>,
}

/// A declared action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDef {
    pub uid: EntityUid,
    /// The action groups this action is directly a member of.
    pub member_of: BTreeSet<EntityUid>,
    /// Principal types the action applies to (empty: it applies to no request).
    pub principals: BTreeSet<EntityType>,
    /// Resource types the action applies to (empty: it applies to no request).
    pub resources: BTreeSet<EntityType>,
    pub context: Arc<RecordType>,
}

/// A resolved schema.
///
/// Each schema carries a [stamp](Schema::stamp): a number no other schema built in this process
/// has, kept by clones. A [`Request`](crate::Request) validated against the schema records it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Schema {
    pub entity_types: BTreeMap<EntityType, EntityTypeDef>,
    pub actions: BTreeMap<EntityUid, ActionDef>,
    pub stamp: Stamp,
}

/// A schema's identity: see [`Schema::stamp`]. A new one (`default`) differs from every other
/// made before in this process; all stamps are equal as far as comparing schemas goes.
#[derive(Clone, Copy, Debug)]
pub struct Stamp(u64);

/// The last stamp given to a schema.
static STAMPS: AtomicU64 = AtomicU64::new(0);

impl Default for Stamp {
    fn default() -> Self {
        Stamp(STAMPS.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// Schemas are compared by what they declare, not by where they were made.
impl PartialEq for Stamp {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Stamp {}

impl Schema {
    /// A schema of these declarations, with a new [stamp](Self::stamp).
    pub fn new(
        entity_types: BTreeMap<EntityType, EntityTypeDef>,
        actions: BTreeMap<EntityUid, ActionDef>,
    ) -> Self {
        Schema {
            entity_types,
            actions,
            stamp: Stamp::default(),
        }
    }

    /// The number telling this schema (and its clones) apart from every other schema made in
    /// this process; never 0. Changing a schema's declarations after validating requests
    /// against it is not tracked: give the changed schema a new stamp (`Stamp::default()`).
    pub fn stamp(&self) -> u64 {
        self.stamp.0
    }

    pub fn entity_type(&self, name: &EntityType) -> Option<&EntityTypeDef> {
        self.entity_types.get(name)
    }

    pub fn action(&self, uid: &EntityUid) -> Option<&ActionDef> {
        self.actions.get(uid)
    }

    /// Whether an entity of type `ty` may have an ancestor of type `ancestor`: `ancestor` is
    /// reached from `ty` through `in` declarations (one or more steps).
    pub fn may_have_ancestor_type(&self, ty: &EntityType, ancestor: &EntityType) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![ty];
        while let Some(t) = stack.pop() {
            for parent in self
                .entity_types
                .get(t)
                .into_iter()
                .flat_map(|d| &d.member_of)
            {
                if parent == ancestor {
                    return true;
                }
                if seen.insert(parent) {
                    stack.push(parent);
                }
            }
        }
        false
    }

    /// Whether `uid` names an entity that may exist under this schema: a declared action, or an
    /// entity of a declared type (and, for an enumerated type, one of its ids).
    pub fn is_known_entity(&self, uid: &EntityUid) -> bool {
        if uid.is_action() && self.actions.contains_key(uid) {
            return true;
        }
        match self.entity_types.get(uid.entity_type()) {
            Some(def) => def
                .enum_ids
                .as_ref()
                .is_none_or(|ids| ids.iter().any(|id| id.as_ref() == uid.id())),
            None => false,
        }
    }

    /// The action entities, each with its transitive action-group ancestors, in a store: the
    /// group hierarchy closed as any entity store's is (see [`hierarchy`](crate::hierarchy)),
    /// so a long chain or a wide DAG of groups is held in memory near-linear in it (an action
    /// with more than a few ancestors holds labels in a forest, not a list). An error only for
    /// a cycle (which the schema readers refuse) or a hierarchy holding more links than an
    /// entity store may.
    pub fn action_store(&self) -> Result<Entities, EntitiesError> {
        Entities::from_entities(self.actions.values().map(|action| {
            Entity::new(
                action.uid.clone(),
                BTreeMap::new(),
                action.member_of.clone(),
                BTreeMap::new(),
            )
        }))
    }

    /// The entities of [`action_store`](Self::action_store), ready to be added to an entity
    /// store ([`Entities::extend_closed`]).
    pub fn action_entities(&self) -> Result<Vec<Entity>, EntitiesError> {
        Ok(self.action_store()?.iter().cloned().collect())
    }
}

/// How many characters of a type are printed at most (in error messages, say); a longer type
/// prints its beginning and `…`.
pub const MAX_SHOWN_TYPE: usize = 2000;

impl SchemaType {
    /// The set type of `elem`.
    pub fn set_of(elem: SchemaType) -> SchemaType {
        SchemaType::Set(Arc::new(elem))
    }

    /// The record type of `rec`.
    pub fn record(rec: RecordType) -> SchemaType {
        SchemaType::Record(Arc::new(rec))
    }
}

/// Writes types, stopping after [`MAX_SHOWN_TYPE`] characters: a shared type can be far larger
/// written out than it is in memory.
struct Bounded<'f, 'a> {
    f: &'f mut fmt::Formatter<'a>,
    left: usize,
}

impl Bounded<'_, '_> {
    /// Writes `s`, or what fits of it and `…`; false once the budget is spent.
    fn put(&mut self, s: &str) -> Result<bool, fmt::Error> {
        if self.left == 0 {
            return Ok(false);
        }
        if s.len() <= self.left {
            self.left -= s.len();
            self.f.write_str(s)?;
            return Ok(true);
        }
        let mut cut = self.left;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.f.write_str(&s[..cut])?;
        self.f.write_str("…")?;
        self.left = 0;
        Ok(false)
    }

    fn ty(&mut self, ty: &SchemaType) -> Result<bool, fmt::Error> {
        match ty {
            SchemaType::Bool => self.put("Bool"),
            SchemaType::Long => self.put("Long"),
            SchemaType::String => self.put("String"),
            SchemaType::Entity(name) => self.put(&name.to_string()),
            SchemaType::Set(elem) => Ok(self.put("Set<")? && self.ty(elem)? && self.put(">")?),
            SchemaType::Record(rec) => self.record(rec),
            SchemaType::Ext(name) => self.put(name),
        }
    }

    fn record(&mut self, rec: &RecordType) -> Result<bool, fmt::Error> {
        if !self.put("{")? {
            return Ok(false);
        }
        for (i, (name, attr)) in rec.attrs.iter().enumerate() {
            let optional = if attr.required { "" } else { "?" };
            let sep = if i > 0 { ", " } else { "" };
            if !(self.put(&format!("{sep}{name:?}{optional}: "))? && self.ty(&attr.ty)?) {
                return Ok(false);
            }
        }
        self.put("}")
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Bounded {
            f,
            left: MAX_SHOWN_TYPE,
        }
        .ty(self)
        .map(|_| ())
    }
}

/// As [`Display`](fmt::Display): a derived `Debug` would write a shared type out in full.
impl fmt::Debug for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Bounded {
            f,
            left: MAX_SHOWN_TYPE,
        }
        .record(self)
        .map(|_| ())
    }
}
