//! Queries over the entity store: "what may alice read?", "who may read this list?", "what may
//! alice do to it?" ([`Engine::query_resources`], [`Engine::query_principals`],
//! [`Engine::query_actions`]).
//!
//! A query decides requests with [`Engine::decide`], one per candidate entity, and lists the
//! candidates allowed, sorted by uid. Its answer is therefore exactly what deciding every
//! entity of the type one by one gives; it only decides fewer of them. A request is allowed
//! only if some permit policy is satisfied, and a policy is satisfied only if its scope holds,
//! so before deciding anything the query keeps the permit policies whose scope can hold for the
//! fixed part of the query (the principal and action of a resource query, say), and:
//!
//! - if there are none, answers that nothing is allowed, deciding nothing;
//! - if each of them constrains the free side (the resource of a resource query) by `==`,
//!   `in` or `is ... in` an entity, or by `is` another type, decides only the entities those
//!   constraints reach (the entity named and its descendants in the store) of the type asked
//!   for, found by walking down from the entity through [`Entities::children`] (the other
//!   entities of the store are not read; for an action type, whose ancestors a schema gives,
//!   every action entity's ancestors are);
//! - otherwise (a permit whose free side is unconstrained, `is` the type asked for, or a
//!   template slot not linked) decides every entity of the type in the store.
//!
//! [`QueryAnswer::evaluated`] says how many requests were decided.
//!
//! With a schema that validates requests, a candidate's request that fails validation (the
//! action does not apply to the principal's or resource's type, the context does not have the
//! action's context type, an id not among an enumerated type's) is not an error: the candidate
//! is skipped, as [`decide`](Engine::decide) refuses it, and counted in
//! [`QueryAnswer::skipped`]. Only a query naming an action or an entity type the schema does not
//! declare at all is an error ([`QueryError`]).

use std::collections::{BTreeSet, HashSet};

use thuja_compiler::ast::{ActionConstraint, ActivePolicy, Effect, EntityRef, ScopeConstraint};
use thuja_runtime::json::RequestValidationError;
use thuja_runtime::{Decision, Entities, Entity, EntityType, EntityUid, Record, Request};

use crate::Engine;

/// The answer to a query: the entities allowed, and how much work it took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryAnswer {
    /// The entities (resources, principals or actions) for which the request is allowed,
    /// sorted by uid.
    pub uids: Vec<EntityUid>,
    /// How many requests were decided (one per candidate entity considered; the others were
    /// ruled out by the policies' scopes without being decided). Includes the `skipped` ones.
    pub evaluated: usize,
    /// How many of the decided requests were refused by schema validation (and so are not
    /// allowed).
    pub skipped: usize,
}

/// Why a query could not be answered: it names an action or an entity type the engine's schema
/// does not declare (only when the engine validates requests against its schema).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub RequestValidationError);

/// Which entities of the free side of a query a permit policy's scope can reach.
enum Reach {
    /// None of the type asked for.
    Nothing,
    /// `uid` itself, and its descendants when `descendants`.
    From { uid: EntityUid, descendants: bool },
    /// Any entity of the type.
    All,
}

impl Engine {
    /// Every entity of type `resource_type` in the store on which `principal` may perform
    /// `action` (with `context`), sorted by uid. See the [module documentation](crate::query)
    /// for how candidates are chosen, and for requests refused by the schema.
    pub fn query_resources(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource_type: &EntityType,
        context: Record,
    ) -> Result<QueryAnswer, QueryError> {
        self.check_declared(action, principal.entity_type(), resource_type)?;
        let entities = self.entities();
        let (fixed_principal, fixed_action) = (
            Fixed::new(principal, entities),
            Fixed::new(action, entities),
        );
        let permits: Vec<ActivePolicy<'_>> = self
            .permits()
            .filter(|p| {
                may_match(&p.policy.principal, p, &fixed_principal)
                    && action_may_match(&p.policy.action, &fixed_action)
            })
            .collect();
        let candidates = candidates(
            permits
                .iter()
                .map(|p| reach(&p.policy.resource, p, resource_type)),
            resource_type,
            entities,
        );
        Ok(self.decide_each(candidates, |resource| {
            Request::new(
                principal.clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
            )
        }))
    }

    /// Every entity of type `principal_type` in the store that may perform `action` on
    /// `resource` (with `context`), sorted by uid. See the [module
    /// documentation](crate::query).
    pub fn query_principals(
        &self,
        action: &EntityUid,
        resource: &EntityUid,
        principal_type: &EntityType,
        context: Record,
    ) -> Result<QueryAnswer, QueryError> {
        self.check_declared(action, principal_type, resource.entity_type())?;
        let entities = self.entities();
        let (fixed_resource, fixed_action) =
            (Fixed::new(resource, entities), Fixed::new(action, entities));
        let permits: Vec<ActivePolicy<'_>> = self
            .permits()
            .filter(|p| {
                may_match(&p.policy.resource, p, &fixed_resource)
                    && action_may_match(&p.policy.action, &fixed_action)
            })
            .collect();
        let candidates = candidates(
            permits
                .iter()
                .map(|p| reach(&p.policy.principal, p, principal_type)),
            principal_type,
            entities,
        );
        Ok(self.decide_each(candidates, |principal| {
            Request::new(
                principal.clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
            )
        }))
    }

    /// Every action `principal` may perform on `resource` (with `context`), sorted by uid. The
    /// actions considered are, with a schema, those it declares for the principal's and the
    /// resource's types; without one, the action entities in the store. An action no permit
    /// policy's scope can apply to is not decided. See the [module
    /// documentation](crate::query).
    pub fn query_actions(
        &self,
        principal: &EntityUid,
        resource: &EntityUid,
        context: Record,
    ) -> Result<QueryAnswer, QueryError> {
        let entities = self.entities();
        let actions: BTreeSet<EntityUid> = match self.schema() {
            Some(schema) => {
                if self.validates_requests() {
                    check_type(
                        schema,
                        principal.entity_type(),
                        RequestValidationError::UndeclaredPrincipalType,
                    )?;
                    check_type(
                        schema,
                        resource.entity_type(),
                        RequestValidationError::UndeclaredResourceType,
                    )?;
                }
                schema
                    .actions
                    .values()
                    .filter(|a| {
                        a.principals.contains(principal.entity_type())
                            && a.resources.contains(resource.entity_type())
                    })
                    .map(|a| a.uid.clone())
                    .collect()
            }
            None => entities
                .iter()
                .map(|e| e.uid())
                .filter(|uid| uid.is_action())
                .cloned()
                .collect(),
        };
        let (fixed_principal, fixed_resource) = (
            Fixed::new(principal, entities),
            Fixed::new(resource, entities),
        );
        let permits: Vec<ActivePolicy<'_>> = self
            .permits()
            .filter(|p| {
                may_match(&p.policy.principal, p, &fixed_principal)
                    && may_match(&p.policy.resource, p, &fixed_resource)
            })
            .collect();
        let candidates = actions.into_iter().filter(|action| {
            let action = Fixed::new(action, entities);
            permits
                .iter()
                .any(|p| action_may_match(&p.policy.action, &action))
        });
        Ok(self.decide_each(candidates, |action| {
            Request::new(
                principal.clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
            )
        }))
    }

    /// The permit policies (static ones and template links).
    fn permits(&self) -> impl Iterator<Item = ActivePolicy<'_>> {
        self.policies()
            .active()
            .filter(|p| p.policy.effect == Effect::Permit)
    }

    /// With a schema validating requests: `action` and the principal and resource types are
    /// declared.
    pub(crate) fn check_declared(
        &self,
        action: &EntityUid,
        principal_type: &EntityType,
        resource_type: &EntityType,
    ) -> Result<(), QueryError> {
        let Some(schema) = self.schema().filter(|_| self.validates_requests()) else {
            return Ok(());
        };
        if schema.action(action).is_none() {
            return Err(QueryError(RequestValidationError::UndeclaredAction(
                action.clone(),
            )));
        }
        check_type(
            schema,
            principal_type,
            RequestValidationError::UndeclaredPrincipalType,
        )?;
        check_type(
            schema,
            resource_type,
            RequestValidationError::UndeclaredResourceType,
        )
    }

    /// Decides the request `request` makes of each candidate (taken in sorted order).
    fn decide_each(
        &self,
        candidates: impl IntoIterator<Item = EntityUid>,
        request: impl Fn(&EntityUid) -> Request,
    ) -> QueryAnswer {
        let mut candidates: Vec<EntityUid> = candidates.into_iter().collect();
        candidates.sort();
        candidates.dedup();
        let mut answer = QueryAnswer::default();
        for uid in candidates {
            answer.evaluated += 1;
            match self.decide(&request(&uid)) {
                Ok(response) if response.decision == Decision::Allow => answer.uids.push(uid),
                Ok(_) => {}
                Err(_) => answer.skipped += 1,
            }
        }
        answer
    }
}

fn check_type(
    schema: &thuja_runtime::Schema,
    ty: &EntityType,
    undeclared: fn(EntityType) -> RequestValidationError,
) -> Result<(), QueryError> {
    match schema.entity_type(ty) {
        Some(_) => Ok(()),
        None => Err(QueryError(undeclared(ty.clone()))),
    }
}

/// The uid a scope constraint names: `None` for a template slot left unlinked (which the
/// caller treats as "anything").
fn resolve<'a>(r: &'a EntityRef, policy: &'a ActivePolicy<'_>) -> Option<&'a EntityUid> {
    match r {
        EntityRef::Uid(uid) => Some(uid),
        EntityRef::Slot(slot) => policy.slots.and_then(|values| values.get(slot)),
    }
}

/// A uid a query fixes (its principal, action or resource), with its entity looked up once
/// for all the policies checked against it.
struct Fixed<'a> {
    uid: &'a EntityUid,
    entity: Option<&'a Entity>,
}

impl<'a> Fixed<'a> {
    fn new(uid: &'a EntityUid, entities: &'a Entities) -> Self {
        Fixed {
            uid,
            entity: entities.get(uid),
        }
    }

    /// Whether the uid is `ancestor` or one of its descendants in the store (Cedar's `in` on
    /// entities).
    fn is_in(&self, ancestor: &EntityUid) -> bool {
        self.uid == ancestor || self.entity.is_some_and(|e| e.is_descendant_of(ancestor))
    }
}

/// Whether the principal or resource scope constraint `c` may hold for `fixed`: `false` only
/// when it certainly does not.
fn may_match(c: &ScopeConstraint, policy: &ActivePolicy<'_>, fixed: &Fixed<'_>) -> bool {
    match c {
        ScopeConstraint::Any => true,
        ScopeConstraint::Eq(r) => resolve(r, policy).is_none_or(|u| u == fixed.uid),
        ScopeConstraint::In(r) => resolve(r, policy).is_none_or(|u| fixed.is_in(u)),
        ScopeConstraint::Is(ty) => fixed.uid.entity_type() == ty,
        ScopeConstraint::IsIn(ty, r) => {
            fixed.uid.entity_type() == ty && resolve(r, policy).is_none_or(|u| fixed.is_in(u))
        }
    }
}

/// Whether the action scope constraint `c` may hold for `action`.
fn action_may_match(c: &ActionConstraint, action: &Fixed<'_>) -> bool {
    match c {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => a == action.uid,
        ActionConstraint::In(list) => list.iter().any(|a| action.is_in(a)),
    }
}

/// Which entities of type `ty` the scope constraint `c` can hold for.
fn reach(c: &ScopeConstraint, policy: &ActivePolicy<'_>, ty: &EntityType) -> Reach {
    let from = |r: &EntityRef, descendants: bool| match resolve(r, policy) {
        Some(uid) => Reach::From {
            uid: uid.clone(),
            descendants,
        },
        None => Reach::All,
    };
    match c {
        ScopeConstraint::Any => Reach::All,
        ScopeConstraint::Is(t) if t == ty => Reach::All,
        ScopeConstraint::Is(_) => Reach::Nothing,
        ScopeConstraint::Eq(r) => from(r, false),
        ScopeConstraint::In(r) => from(r, true),
        ScopeConstraint::IsIn(t, r) if t == ty => from(r, true),
        ScopeConstraint::IsIn(..) => Reach::Nothing,
    }
}

/// The entities of type `ty` in the store that some reach holds for.
fn candidates(
    reaches: impl IntoIterator<Item = Reach>,
    ty: &EntityType,
    entities: &Entities,
) -> Vec<EntityUid> {
    let mut exact: BTreeSet<EntityUid> = BTreeSet::new();
    let mut roots: Vec<EntityUid> = Vec::new();
    for reach in reaches {
        match reach {
            Reach::Nothing => {}
            Reach::All => {
                return entities
                    .iter()
                    .map(|e| e.uid())
                    .filter(|uid| uid.entity_type() == ty)
                    .cloned()
                    .collect();
            }
            Reach::From { uid, descendants } => {
                if uid.entity_type() == ty && entities.get(&uid).is_some() {
                    exact.insert(uid.clone());
                }
                if descendants {
                    roots.push(uid);
                }
            }
        }
    }
    roots.sort();
    roots.dedup();
    if ty.is_action() {
        // Action entities may have ancestors not closed from their parents (a schema's action
        // groups): read each one's ancestors.
        exact.extend(
            entities
                .iter()
                .filter(|e| {
                    e.uid().entity_type() == ty && roots.iter().any(|r| e.is_descendant_of(r))
                })
                .map(|e| e.uid().clone()),
        );
    } else {
        exact.extend(descendants(&roots, ty, entities));
    }
    exact.into_iter().collect()
}

/// The descendants of type `ty` of `roots` in the store: walked down from the roots through
/// the entities that list each one as a parent, visiting each descendant once, whatever its
/// type, and no other entity.
fn descendants(roots: &[EntityUid], ty: &EntityType, entities: &Entities) -> Vec<EntityUid> {
    let mut seen: HashSet<&EntityUid> = roots.iter().collect();
    let mut stack: Vec<&EntityUid> = roots.iter().collect();
    let mut found = Vec::new();
    while let Some(uid) = stack.pop() {
        for child in entities.children(uid) {
            if seen.insert(child.uid()) {
                if child.uid().entity_type() == ty {
                    found.push(child.uid().clone());
                }
                stack.push(child.uid());
            }
        }
    }
    found
}
