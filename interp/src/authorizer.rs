//! The authorizer: evaluates every active policy and combines the results as Cedar does.
//!
//! A policy is satisfied when its scope matches the request and every `when` condition is true
//! and every `unless` condition is false. A policy whose evaluation errors is not satisfied and
//! is reported. The decision is Allow exactly when some permit is satisfied and no forbid is.

use std::collections::BTreeMap;

use thuja_compiler::ast::{
    ActionConstraint, ActivePolicy, ConditionKind, Effect, EntityRef, PolicySet, ScopeConstraint,
    SlotId,
};
use thuja_runtime::access::entity_in;
use thuja_runtime::{
    Decision, Entities, EntityUid, EvalError, PolicyError, PolicyIds, Request, Response,
};

use crate::eval::Evaluator;
use thuja_runtime::EvalFailure;

/// Authorizes `request` against every static policy and template link in `policies`.
pub fn is_authorized(policies: &PolicySet, request: &Request, entities: &Entities) -> Response {
    let mut satisfied_permits = PolicyIds::new();
    let mut satisfied_forbids = PolicyIds::new();
    let mut errors = Vec::new();
    for active in policies.active() {
        match is_satisfied(&active, request, entities) {
            Ok(false) => {}
            Ok(true) => {
                let id = active.id.clone();
                match active.policy.effect {
                    Effect::Permit => satisfied_permits.insert(id),
                    Effect::Forbid => satisfied_forbids.insert(id),
                };
            }
            Err(failure) => errors.push(PolicyError::new(active.id.clone(), failure)),
        }
    }
    let (decision, reasons) = if !satisfied_permits.is_empty() && satisfied_forbids.is_empty() {
        (Decision::Allow, satisfied_permits)
    } else {
        (Decision::Deny, satisfied_forbids)
    };
    Response {
        decision,
        reasons,
        errors,
    }
}

/// Whether one policy is satisfied by the request.
pub fn is_satisfied(
    active: &ActivePolicy<'_>,
    request: &Request,
    entities: &Entities,
) -> Result<bool, EvalFailure> {
    let policy = active.policy;
    if !scope_holds(active, &policy.principal, request.principal(), entities)?
        || !action_holds(&policy.action, request.action(), entities)
        || !scope_holds(active, &policy.resource, request.resource(), entities)?
    {
        return Ok(false);
    }
    let evaluator = Evaluator::new(request, entities, active.slots);
    for condition in &policy.conditions {
        let holds = evaluator.eval_bool(&condition.body)?;
        let wanted = condition.kind == ConditionKind::When;
        if holds != wanted {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the principal or resource scope constraint of `active` holds for `uid`; an error
/// for a template slot the policy was not linked with.
pub(crate) fn scope_holds(
    active: &ActivePolicy<'_>,
    constraint: &ScopeConstraint,
    uid: &EntityUid,
    entities: &Entities,
) -> Result<bool, EvalFailure> {
    let resolve = |r: &EntityRef| -> Result<EntityUid, EvalFailure> {
        match r {
            EntityRef::Uid(uid) => Ok(uid.clone()),
            EntityRef::Slot(slot) => slot_value(active.slots, *slot).ok_or(EvalFailure {
                error: EvalError::UnlinkedSlot(slot.name()),
                span: Some(active.policy.span),
            }),
        }
    };
    Ok(match constraint {
        ScopeConstraint::Any => true,
        ScopeConstraint::Eq(r) => *uid == resolve(r)?,
        ScopeConstraint::In(r) => entity_in(entities, uid, &resolve(r)?),
        ScopeConstraint::Is(ty) => uid.entity_type() == ty,
        ScopeConstraint::IsIn(ty, r) => {
            uid.entity_type() == ty && entity_in(entities, uid, &resolve(r)?)
        }
    })
}

/// Whether the action scope constraint holds for `action`.
pub(crate) fn action_holds(
    constraint: &ActionConstraint,
    action: &EntityUid,
    entities: &Entities,
) -> bool {
    match constraint {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => action == a,
        ActionConstraint::In(groups) => groups.iter().any(|g| entity_in(entities, action, g)),
    }
}

fn slot_value(slots: Option<&BTreeMap<SlotId, EntityUid>>, slot: SlotId) -> Option<EntityUid> {
    slots.and_then(|s| s.get(&slot)).cloned()
}
