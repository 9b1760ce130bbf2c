//! Partial evaluation: deciding a request of which some parts are unknown
//! ([`Engine::partially_authorize`]).
//!
//! A [`PartialRequest`] may leave the principal or the resource unknown (only its entity type
//! given), leave the context unknown, and name entities whose data (attributes, tags,
//! ancestors) is unknown. The answer, a [`PartialAnswer`], has:
//!
//! - a decision, when every completion of the request is decided the same way (an Allow needs
//!   a satisfied permit and no forbid that might apply; a Deny a satisfied forbid, or no permit
//!   that might apply), else none;
//! - for every policy its [`Outcome`]: satisfied, not satisfied, an error whatever the
//!   unknowns, or a *residual*: the condition on the unknowns under which it is satisfied;
//! - the residual policies ([`PartialAnswer::residual_policies`], as Cedar text or JSON): the
//!   policies that are not certainly unsatisfied, each reduced to
//!   `effect(principal, action, resource) when { residual };`. Deciding a completed request
//!   against them gives exactly the decision, reasons and erring policies the original policy
//!   set gives (the DRT checks this on every case).
//!
//! It is computed by the reference interpreter's partial evaluator
//! ([`thuja_interp::partial`], which documents the rules), whatever evaluator the engine
//! decides with. It does not use the schema's types to decide more: Cedar's experimental
//! type-aware partial evaluation (`tpe`) does, so it can decide, or simplify, some policies
//! that stay residual here (see the README).

use std::collections::HashSet;
use std::fmt::Write as _;

use thuja_compiler::ast::{Policy, PolicySet};
use thuja_interp::partial::{self as pe, PartialEntities};
use thuja_runtime::{
    Decision, Entities, EntityUid, EvalFailure, PolicyId, PolicyIds, Record, Request, Response,
};

use crate::Engine;
use crate::query::QueryError;

pub use thuja_interp::partial::{Outcome, PartialUid};

/// A request with unknowns. The action is always known.
#[derive(Clone, Debug)]
pub struct PartialRequest {
    /// The principal, or only its type.
    pub principal: PartialUid,
    /// The action.
    pub action: EntityUid,
    /// The resource, or only its type.
    pub resource: PartialUid,
    /// The context, or `None` when it is unknown.
    pub context: Option<Record>,
    /// Entities whose attributes, tags and ancestors are unknown (whether they exist, too).
    pub unknown_entities: HashSet<EntityUid>,
}

impl PartialRequest {
    /// A request with the given principal, action, resource and context (`None`: unknown),
    /// and no entity of unknown data.
    pub fn new(
        principal: PartialUid,
        action: EntityUid,
        resource: PartialUid,
        context: Option<Record>,
    ) -> Self {
        PartialRequest {
            principal,
            action,
            resource,
            context,
            unknown_entities: HashSet::new(),
        }
    }

    /// Marks `uid`'s data (attributes, tags, ancestors) unknown.
    pub fn with_unknown_entity(mut self, uid: EntityUid) -> Self {
        self.unknown_entities.insert(uid);
        self
    }
}

/// A request given to [`PartialAnswer::reauthorize`] that is not a completion of the partial
/// request: it differs in the part named, which was known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the request's {0} differs from the partial request's")]
pub struct NotACompletion(pub &'static str);

/// One policy's outcome.
#[derive(Clone, Debug)]
pub struct PolicyOutcome(pe::PolicyOutcome);

impl PolicyOutcome {
    /// The policy's id (a template link's for a link).
    pub fn id(&self) -> &PolicyId {
        &self.0.id
    }

    /// Permit or forbid.
    pub fn effect(&self) -> crate::explain::Effect {
        self.0.effect
    }

    /// Satisfied, not satisfied, an error, or a residual.
    pub fn outcome(&self) -> &Outcome {
        &self.0.outcome
    }

    /// The policy deciding every completion as this one does (see the [module
    /// documentation](crate::partial)).
    pub fn residual_policy(&self) -> Policy {
        self.0.residual_policy()
    }
}

/// The answer to a partial request.
#[derive(Clone, Debug)]
pub struct PartialAnswer {
    request: PartialRequest,
    decision: Option<Decision>,
    reasons: PolicyIds,
    policies: Vec<PolicyOutcome>,
}

impl PartialAnswer {
    /// Allow or Deny when the unknowns cannot change the decision; `None` otherwise.
    pub fn decision(&self) -> Option<Decision> {
        self.decision
    }

    /// With a decision, the policies deciding it whatever the unknowns: the satisfied
    /// permits of an Allow, the satisfied forbids of a Deny (none for a Deny because no permit
    /// can apply).
    pub fn reasons(&self) -> &PolicyIds {
        &self.reasons
    }

    /// Every static policy and template link, in the policy set's order.
    pub fn policies(&self) -> &[PolicyOutcome] {
        &self.policies
    }

    /// The policies whose outcome depends on the unknowns.
    pub fn residuals(&self) -> impl Iterator<Item = &PolicyOutcome> {
        self.policies
            .iter()
            .filter(|p| matches!(p.outcome(), Outcome::Residual(_)))
    }

    /// The policies that err whatever the unknowns, with their errors.
    pub fn errors(&self) -> impl Iterator<Item = (&PolicyId, &EvalFailure)> {
        self.policies.iter().filter_map(|p| match p.outcome() {
            Outcome::Error(failure) => Some((p.id(), failure)),
            _ => None,
        })
    }

    /// The residual policy of every policy that is not certainly unsatisfied, under the
    /// original ids: deciding a completed request against them gives the original policy
    /// set's decision, reasons and erring policies.
    pub fn residual_policies(&self) -> PolicySet {
        let mut set = PolicySet::new();
        for p in &self.policies {
            if !matches!(p.outcome(), Outcome::NotSatisfied) {
                // The ids come from a policy set, so they are unique.
                let _ = set.add(p.residual_policy());
            }
        }
        set
    }

    /// Decides `request`, a completion of the partial request, against the [residual
    /// policies](Self::residual_policies) with the reference interpreter: the same decision,
    /// reasons and erring policies as deciding it against the original policies. `entities`
    /// must be the engine's store with the unknown entities' data filled in. An error when
    /// `request` differs from the partial request in a part that was known.
    pub fn reauthorize(
        &self,
        request: &Request,
        entities: &Entities,
    ) -> Result<Response, NotACompletion> {
        let known = &self.request;
        let fits = |partial: &PartialUid, uid: &EntityUid| match partial {
            PartialUid::Known(known) => known == uid,
            PartialUid::Unknown(ty) => ty == uid.entity_type(),
        };
        if !fits(&known.principal, request.principal()) {
            return Err(NotACompletion("principal"));
        }
        if known.action != *request.action() {
            return Err(NotACompletion("action"));
        }
        if !fits(&known.resource, request.resource()) {
            return Err(NotACompletion("resource"));
        }
        if known
            .context
            .as_ref()
            .is_some_and(|c| c != request.context())
        {
            return Err(NotACompletion("context"));
        }
        Ok(thuja_interp::is_authorized(
            &self.residual_policies(),
            request,
            entities,
        ))
    }

    /// [`residual_policies`](Self::residual_policies) as Cedar text, each policy after a
    /// comment with its id.
    pub fn residuals_to_cedar(&self) -> String {
        let mut out = String::new();
        for p in self.residual_policies().policies() {
            let _ = writeln!(out, "// {}\n{p}\n", p.id);
        }
        out
    }

    /// [`residual_policies`](Self::residual_policies) in Cedar's JSON policy set format
    /// (`{"staticPolicies": {id: policy}, ...}`).
    pub fn residuals_to_json(&self) -> String {
        thuja_compiler::est::policy_set_to_json_string(&self.residual_policies())
    }
}

impl Engine {
    /// Partially evaluates every policy on `request` (see the [module
    /// documentation](crate::partial)). With a schema that validates requests, the action and
    /// the principal's and resource's types must be declared.
    pub fn partially_authorize(
        &self,
        request: &PartialRequest,
    ) -> Result<PartialAnswer, QueryError> {
        self.check_declared(
            &request.action,
            request.principal.entity_type(),
            request.resource.entity_type(),
        )?;
        let known = pe::PartialRequest {
            principal: request.principal.clone(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            context: request.context.clone(),
        };
        let entities = PartialEntities {
            store: self.entities(),
            unknown: &request.unknown_entities,
        };
        let response = pe::partially_authorize(self.policies().active(), &known, entities);
        Ok(PartialAnswer {
            request: request.clone(),
            decision: response.decision,
            reasons: response.reasons,
            policies: response.policies.into_iter().map(PolicyOutcome).collect(),
        })
    }
}
