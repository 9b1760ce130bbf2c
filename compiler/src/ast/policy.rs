//! Policies, templates, and policy sets.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use thuja_runtime::{EntityType, EntityUid, PolicyId};

use crate::ast::expr::{Expr, SlotId};
use crate::source::{Source, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Permit,
    Forbid,
}

/// The entity a scope constraint names: a literal uid, or a template slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityRef {
    Uid(EntityUid),
    Slot(SlotId),
}

/// A principal or resource scope constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeConstraint {
    Any,
    Eq(EntityRef),
    In(EntityRef),
    Is(EntityType),
    IsIn(EntityType, EntityRef),
}

/// The action scope constraint. `action in A` and `action in [A]` are the same constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionConstraint {
    Any,
    Eq(EntityUid),
    In(Vec<EntityUid>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionKind {
    When,
    Unless,
}

/// A `when { ... }` or `unless { ... }` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: ConditionKind,
    pub body: Expr,
    pub span: Span,
}

/// `@key("value")`; a bare `@key` has the value `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub key: Arc<str>,
    pub value: Arc<str>,
    /// Written `@key`, without a value (Cedar's JSON policy format writes its value as `null`).
    pub bare: bool,
    pub span: Span,
}

/// A policy or template as written (a template has slots in its scope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub id: PolicyId,
    pub annotations: Vec<Annotation>,
    pub effect: Effect,
    pub principal: ScopeConstraint,
    pub action: ActionConstraint,
    pub resource: ScopeConstraint,
    pub conditions: Vec<Condition>,
    pub span: Span,
    /// The text this policy was parsed from (spans point into it).
    pub source: Arc<Source>,
}

impl Policy {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|a| a.key.as_ref() == key)
            .map(|a| a.value.as_ref())
    }

    /// The slots this policy's scope uses; non-empty exactly when it is a template.
    pub fn slots(&self) -> Vec<SlotId> {
        let mut slots = Vec::new();
        for c in [&self.principal, &self.resource] {
            match c {
                ScopeConstraint::Eq(EntityRef::Slot(s))
                | ScopeConstraint::In(EntityRef::Slot(s))
                | ScopeConstraint::IsIn(_, EntityRef::Slot(s)) => slots.push(*s),
                _ => {}
            }
        }
        slots
    }

    pub fn is_template(&self) -> bool {
        [&self.principal, &self.resource].into_iter().any(|c| {
            matches!(
                c,
                ScopeConstraint::Eq(EntityRef::Slot(_))
                    | ScopeConstraint::In(EntityRef::Slot(_))
                    | ScopeConstraint::IsIn(_, EntityRef::Slot(_))
            )
        })
    }
}

/// A template linked to entities: a policy in its own right, with its own id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedPolicy {
    pub id: PolicyId,
    pub template_id: PolicyId,
    pub values: BTreeMap<SlotId, EntityUid>,
}

/// Static policies, templates and template links, each under a unique id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicySet {
    /// Static policies and templates, in the order they were added.
    policies: Vec<Policy>,
    links: Vec<LinkedPolicy>,
    /// Every id in use: a policy's or template's index in `policies`, or a link's in `links`.
    ids: HashMap<PolicyId, IdOwner>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdOwner {
    Policy(usize),
    Link(usize),
}

/// A policy as the authorizer sees it: a static policy, or a template with its slot values.
#[derive(Clone, Copy, Debug)]
pub struct ActivePolicy<'a> {
    pub id: &'a PolicyId,
    pub policy: &'a Policy,
    /// Slot values for a linked template; `None` for a static policy.
    pub slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
}

impl PolicySet {
    pub fn new() -> Self {
        PolicySet::default()
    }

    /// How many policies can apply to a request: static policies and template links.
    pub fn len(&self) -> usize {
        self.active().count()
    }

    pub fn is_empty(&self) -> bool {
        self.active().next().is_none()
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub fn links(&self) -> &[LinkedPolicy] {
        &self.links
    }

    /// The static policy or template with this id.
    pub fn get(&self, id: &str) -> Option<&Policy> {
        match self.ids.get(id) {
            Some(IdOwner::Policy(i)) => self.policies.get(*i),
            _ => None,
        }
    }

    /// Whether any policy, template or link already uses `id`.
    pub fn contains_id(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Adds a policy or template; fails if its id is taken.
    pub fn add(&mut self, policy: Policy) -> Result<(), PolicyId> {
        if self.contains_id(&policy.id) {
            return Err(policy.id);
        }
        self.ids
            .insert(policy.id.clone(), IdOwner::Policy(self.policies.len()));
        self.policies.push(policy);
        Ok(())
    }

    /// Adds a link (its id and template checked by `template::link`).
    pub(crate) fn push_link(&mut self, link: LinkedPolicy) {
        self.ids
            .insert(link.id.clone(), IdOwner::Link(self.links.len()));
        self.links.push(link);
    }

    /// The policies that take part in authorization: static policies in order, then links.
    pub fn active(&self) -> impl Iterator<Item = ActivePolicy<'_>> {
        let statics = self
            .policies
            .iter()
            .filter(|p| !p.is_template())
            .map(|p| ActivePolicy {
                id: &p.id,
                policy: p,
                slots: None,
            });
        let linked = self.links.iter().filter_map(|l| {
            self.get(&l.template_id).map(|t| ActivePolicy {
                id: &l.id,
                policy: t,
                slots: Some(&l.values),
            })
        });
        statics.chain(linked)
    }

    /// Renames policies (for `@id` annotations); `rename` returns the new id or `None` to keep.
    /// The caller ensures the new ids are unique.
    pub fn rename(&mut self, mut rename: impl FnMut(&Policy) -> Option<PolicyId>) {
        let mut renamed: HashMap<PolicyId, PolicyId> = HashMap::new();
        for p in &mut self.policies {
            if let Some(new_id) = rename(p) {
                let old = std::mem::replace(&mut p.id, new_id.clone());
                renamed.insert(old, new_id);
            }
        }
        if renamed.is_empty() {
            return;
        }
        for l in &mut self.links {
            if let Some(new_id) = renamed.get(&l.template_id) {
                l.template_id = new_id.clone();
            }
        }
        self.ids = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), IdOwner::Policy(i)))
            .chain(
                self.links
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.id.clone(), IdOwner::Link(i))),
            )
            .collect();
    }
}
