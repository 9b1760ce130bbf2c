//! The schema as the validator reads it: validation types of attributes, tags and contexts, the
//! "can be a descendant of" relation between entity types, action-group membership, and the
//! request environments (one per action × principal type × resource type it applies to).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use thuja_runtime::schema::Schema;
use thuja_runtime::{Entities, EntityType, EntityUid};

use super::types::{Attrs, FromSchema, Type, permissive_attrs_lub};

/// One request environment: the types of `principal`, `action`, `resource` and `context`, and
/// the entity types template slots are linked to.
#[derive(Clone, Debug)]
pub struct RequestEnv {
    pub principal: EntityType,
    pub action: EntityUid,
    pub resource: EntityType,
    pub context: Type,
    pub principal_slot: Option<EntityType>,
    pub resource_slot: Option<EntityType>,
}

/// Facts about a schema, precomputed once for a validation run.
pub struct SchemaInfo<'s> {
    pub schema: &'s Schema,
    /// Attributes of each declared entity type.
    attrs: BTreeMap<EntityType, Attrs>,
    /// Tag type of each declared entity type that has tags.
    tags: BTreeMap<EntityType, Type>,
    /// For each declared entity type, the entity types whose entities may be its descendants.
    descendants: BTreeMap<EntityType, BTreeSet<EntityType>>,
    /// The actions, their group hierarchy closed as an entity store's (held near-linear in it
    /// however deep), for `action in group`; `None` if it did not close (a cycle, which the
    /// schema readers refuse, or a hierarchy too large for a store).
    action_store: Option<Entities>,
    /// For each action, the actions directly members of it.
    action_members: HashMap<EntityUid, Vec<EntityUid>>,
    /// The declared actions of each action entity type.
    actions_by_type: HashMap<EntityType, Vec<EntityUid>>,
    /// For action entity types asked about, the types of the actions that are (transitively)
    /// members of an action of that type; found when first asked.
    action_descendant_types: RefCell<HashMap<EntityType, Arc<BTreeSet<EntityType>>>>,
    /// The unlinked request environments.
    pub envs: Vec<RequestEnv>,
}

impl<'s> SchemaInfo<'s> {
    pub fn new(schema: &'s Schema) -> Self {
        // One converter for the whole schema: its shared types stay shared.
        let mut convert = FromSchema::default();
        let attrs = schema
            .entity_types
            .iter()
            .map(|(name, def)| {
                let ty = convert.record(&def.attrs);
                let attrs = match ty {
                    Type::Record { attrs, .. } => attrs,
                    _ => Arc::new(BTreeMap::new()),
                };
                (name.clone(), attrs)
            })
            .collect();
        let tags = schema
            .entity_types
            .iter()
            .filter_map(|(name, def)| Some((name.clone(), convert.ty(def.tags.as_ref()?))))
            .collect();
        let mut descendants: BTreeMap<EntityType, BTreeSet<EntityType>> = schema
            .entity_types
            .keys()
            .map(|k| (k.clone(), BTreeSet::new()))
            .collect();
        for name in schema.entity_types.keys() {
            // Every (transitive) ancestor type of `name` has `name` as a descendant type.
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&EntityType> = schema
                .entity_types
                .get(name)
                .map(|d| d.member_of.iter().collect())
                .unwrap_or_default();
            while let Some(parent) = stack.pop() {
                if seen.insert(parent.clone())
                    && let Some(def) = schema.entity_types.get(parent)
                {
                    stack.extend(def.member_of.iter());
                }
            }
            for ancestor in seen {
                descendants
                    .entry(ancestor)
                    .or_default()
                    .insert(name.clone());
            }
        }
        let mut action_members: HashMap<EntityUid, Vec<EntityUid>> = HashMap::new();
        let mut actions_by_type: HashMap<EntityType, Vec<EntityUid>> = HashMap::new();
        for (uid, def) in &schema.actions {
            for group in &def.member_of {
                action_members
                    .entry(group.clone())
                    .or_default()
                    .push(uid.clone());
            }
            actions_by_type
                .entry(uid.entity_type().clone())
                .or_default()
                .push(uid.clone());
        }
        let action_store = schema.action_store().ok();
        let mut envs = Vec::new();
        for action in schema.actions.values() {
            let context = convert.record(&action.context);
            for p in &action.principals {
                for r in &action.resources {
                    envs.push(RequestEnv {
                        principal: p.clone(),
                        action: action.uid.clone(),
                        resource: r.clone(),
                        context: context.clone(),
                        principal_slot: None,
                        resource_slot: None,
                    });
                }
            }
        }
        SchemaInfo {
            schema,
            attrs,
            tags,
            descendants,
            action_store,
            action_members,
            actions_by_type,
            action_descendant_types: RefCell::default(),
            envs,
        }
    }

    /// Whether a type name may appear in a policy: a declared entity type or an action type.
    pub fn is_known_entity_type(&self, ty: &EntityType) -> bool {
        ty.is_action() || self.schema.entity_types.contains_key(ty)
    }

    pub fn is_known_action(&self, uid: &EntityUid) -> bool {
        self.schema.actions.contains_key(uid)
    }

    /// The attributes of a declared entity type.
    pub fn entity_attrs(&self, ty: &EntityType) -> Option<&Attrs> {
        self.attrs.get(ty)
    }

    /// The attributes all of the given entity types have (with permissive least upper bounds).
    pub fn lub_attrs(&self, lub: &BTreeSet<EntityType>) -> Attrs {
        let empty: Attrs = Arc::new(BTreeMap::new());
        let mut iter = lub.iter();
        let first = match iter.next() {
            Some(t) => self.attrs.get(t).cloned().unwrap_or_else(|| empty.clone()),
            None => return empty,
        };
        iter.fold(first, |acc, t| {
            let next = self.attrs.get(t).cloned().unwrap_or_else(|| empty.clone());
            permissive_attrs_lub(&acc, &next)
        })
    }

    pub fn tag_type(&self, ty: &EntityType) -> Option<&Type> {
        self.tags.get(ty)
    }

    /// All tag types of declared entity types.
    pub fn all_tag_types(&self) -> impl Iterator<Item = &Type> {
        self.tags.values()
    }

    /// The entity types whose entities may be descendants of an entity of type `ty`.
    pub fn descendant_types(&self, ty: &EntityType) -> Option<&BTreeSet<EntityType>> {
        self.descendants.get(ty)
    }

    /// `ty` and every entity type whose entities may be descendants of a `ty` entity.
    pub fn entity_types_in<'a>(&'a self, ty: &'a EntityType) -> Vec<&'a EntityType> {
        let mut v: Vec<&EntityType> = self
            .descendants
            .get(ty)
            .map(|d| d.iter().collect())
            .unwrap_or_default();
        v.push(ty);
        v
    }

    /// Whether an entity of type `lhs` may be a descendant of (or equal to) one of type `rhs`.
    fn descendant_of(&self, lhs: &EntityType, rhs: &EntityType) -> bool {
        lhs == rhs
            || self.descendants.get(rhs).is_some_and(|d| d.contains(lhs))
            || (self.actions_by_type.contains_key(rhs)
                && self.action_descendant_types(rhs).contains(lhs))
    }

    /// The types of the actions that are (transitively) members of an action of type `ty`:
    /// one walk down the group hierarchy from the actions of that type, remembered.
    fn action_descendant_types(&self, ty: &EntityType) -> Arc<BTreeSet<EntityType>> {
        if let Some(known) = self.action_descendant_types.borrow().get(ty) {
            return Arc::clone(known);
        }
        let mut types = BTreeSet::new();
        let mut seen: HashSet<&EntityUid> = HashSet::new();
        let mut stack: Vec<&EntityUid> = self
            .actions_by_type
            .get(ty)
            .into_iter()
            .flatten()
            .flat_map(|uid| self.members(uid))
            .collect();
        while let Some(uid) = stack.pop() {
            if seen.insert(uid) {
                types.insert(uid.entity_type().clone());
                stack.extend(self.members(uid));
            }
        }
        let types = Arc::new(types);
        self.action_descendant_types
            .borrow_mut()
            .insert(ty.clone(), Arc::clone(&types));
        types
    }

    /// The actions directly members of `uid`.
    fn members(&self, uid: &EntityUid) -> impl Iterator<Item = &EntityUid> {
        self.action_members.get(uid).into_iter().flatten()
    }

    pub fn any_descendant_of(
        &self,
        lhs: &BTreeSet<EntityType>,
        rhs: &BTreeSet<EntityType>,
    ) -> bool {
        lhs.iter()
            .any(|l| rhs.iter().any(|r| self.descendant_of(l, r)))
    }

    /// The given actions and all their (transitive) members, each once; `None` if one is not
    /// declared. Time linear in the answer and the group links within it.
    pub fn actions_in_set<'a>(
        &'a self,
        uids: impl IntoIterator<Item = &'a EntityUid>,
    ) -> Option<Vec<&'a EntityUid>> {
        let mut out = Vec::new();
        let mut seen: HashSet<&EntityUid> = HashSet::new();
        let mut stack = Vec::new();
        for uid in uids {
            let (key, _) = self.schema.actions.get_key_value(uid)?;
            stack.push(key);
        }
        while let Some(uid) = stack.pop() {
            if seen.insert(uid) {
                out.push(uid);
                stack.extend(self.members(uid));
            }
        }
        Some(out)
    }

    /// Whether action `uid` is one of `groups` or (transitively) a member of one: a lookup in
    /// the closed hierarchy. `None` if one of `groups` is not declared.
    pub fn action_in_any(&self, uid: &EntityUid, groups: &[&EntityUid]) -> Option<bool> {
        if !groups.iter().all(|g| self.is_known_action(g)) {
            return None;
        }
        if groups.contains(&uid) {
            return Some(true);
        }
        if !self.is_known_action(uid) {
            return Some(false);
        }
        Some(match &self.action_store {
            Some(store) => store
                .get(uid)
                .is_some_and(|action| groups.iter().any(|g| action.is_descendant_of(g))),
            // Not closed: walk down from the groups.
            None => self
                .actions_in_set(groups.iter().copied())
                .is_some_and(|members| members.contains(&uid)),
        })
    }
}
