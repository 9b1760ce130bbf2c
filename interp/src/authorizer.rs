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
    let scope_holds =
        |constraint: &ScopeConstraint, uid: &EntityUid| -> Result<bool, EvalFailure> {
            let resolve = |r: &EntityRef| -> Result<EntityUid, EvalFailure> {
                match r {
                    EntityRef::Uid(uid) => Ok(uid.clone()),
                    EntityRef::Slot(slot) => slot_value(active.slots, *slot).ok_or(EvalFailure {
                        error: EvalError::UnlinkedSlot(slot.name()),
                        span: Some(policy.span),
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
        };
    let action_holds = match &policy.action {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => request.action() == a,
        ActionConstraint::In(groups) => groups
            .iter()
            .any(|g| entity_in(entities, request.action(), g)),
    };
    if !scope_holds(&policy.principal, request.principal())?
        || !action_holds
        || !scope_holds(&policy.resource, request.resource())?
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

fn slot_value(slots: Option<&BTreeMap<SlotId, EntityUid>>, slot: SlotId) -> Option<EntityUid> {
    slots.and_then(|s| s.get(&slot)).cloned()
}
