//! The schema data model: which entity types, attributes, tags and actions exist, and their types.
//!
//! This is the resolved form the rest of Thuja reads — every type name already points at a
//! declared entity type, a primitive or an extension type, and every common type is expanded.
//! The compiler's schema readers (the `.cedarschema` text and the JSON format) produce it; the
//! JSON data readers use it to type entities and contexts; request validation checks against it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::entity::Entity;
use crate::name::EntityType;
use crate::uid::EntityUid;

/// The type of an attribute, tag, context or set element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaType {
    Bool,
    Long,
    String,
    Entity(EntityType),
    Set(Box<SchemaType>),
    Record(RecordType),
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
    pub attrs: RecordType,
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
    pub context: RecordType,
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

    /// The action entities, each with its transitive action-group ancestors, ready to be added
    /// to an entity store.
    pub fn action_entities(&self) -> Vec<Entity> {
        self.actions
            .values()
            .map(|action| {
                let mut ancestors = BTreeSet::new();
                let mut stack: Vec<&EntityUid> = action.member_of.iter().collect();
                while let Some(group) = stack.pop() {
                    if ancestors.insert(group.clone())
                        && let Some(def) = self.actions.get(group)
                    {
                        stack.extend(def.member_of.iter());
                    }
                }
                Entity::with_ancestors(action.uid.clone(), action.member_of.clone(), ancestors)
            })
            .collect()
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaType::Bool => f.write_str("Bool"),
            SchemaType::Long => f.write_str("Long"),
            SchemaType::String => f.write_str("String"),
            SchemaType::Entity(name) => write!(f, "{name}"),
            SchemaType::Set(elem) => write!(f, "Set<{elem}>"),
            SchemaType::Record(rec) => write!(f, "{rec}"),
            SchemaType::Ext(name) => f.write_str(name),
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, attr)) in self.attrs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let optional = if attr.required { "" } else { "?" };
            write!(f, "{name:?}{optional}: {}", attr.ty)?;
        }
        f.write_str("}")
    }
}
