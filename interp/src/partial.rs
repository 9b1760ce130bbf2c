//! Partial evaluation: Cedar's semantics on a request of which some parts are unknown.
//!
//! A [`PartialRequest`] may leave the principal or the resource unknown (only its entity type
//! is known) and the context unknown; a set of entities may have unknown data (their
//! attributes, tags and ancestors; the entity may exist or not). Every policy then comes out as
//! one of four [`Outcome`]s: satisfied, not satisfied, an error, or a *residual*: a boolean
//! expression over the unknowns that must hold for the policy to be satisfied. From these,
//! [`PartialResponse::decision`] is Allow or Deny when the unknowns cannot change it, and
//! `None` otherwise.
//!
//! The one promise, for every way of filling in the unknowns (a *substitution*, consistent
//! with what is known): the policy's full evaluation on the substituted request and entities
//! gives the same result as its outcome does — a satisfied or not-satisfied policy is so, an
//! error is that error, and a residual evaluates to what the policy's scope and conditions
//! would (the same value, or an error where the policy errs). So the residual policies
//! ([`PolicyOutcome::residual_policy`]) decide any completed request exactly as the original
//! policies do; the DRT checks this on every case.
//!
//! It is kept by three rules:
//!
//! - a subexpression whose value does not depend on the unknowns is evaluated, as the
//!   interpreter does ([`crate::eval`]); its error is an error of the whole expression only if
//!   evaluation would certainly reach it (everything evaluated before it was known);
//! - a subexpression that depends on the unknowns is rebuilt with its known operands as
//!   literals, and one whose evaluation errs where the full evaluation might never reach it
//!   (the right side of `&&` after an unknown left side, a branch of `if`) is kept as written,
//!   to err again once substituted;
//! - an operator with an unknown operand is decided only when the unknown cannot change the
//!   answer: `principal == E` when `E` is not of the principal's type, `principal is T`,
//!   `e && false` when `e` is boolean and cannot err, and the like.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use thuja_compiler::Span;
use thuja_compiler::ast::{
    ActionConstraint, ActivePolicy, BinaryOp, Condition, ConditionKind, Effect, EntityRef, Expr,
    ExprKind, Literal, Policy, ScopeConstraint, SlotId, UnaryOp, Var,
};
use thuja_runtime::entity::{Entity, EntityLookup};
use thuja_runtime::error::MAX_EVAL_DEPTH;
use thuja_runtime::ext::{ExtFn, ExtValue};
use thuja_runtime::ops::{self, ArithOp, CmpOp};
use thuja_runtime::{
    Decision, Entities, EntityType, EntityUid, EvalError, EvalFailure, PolicyId, PolicyIds, Record,
    Value, access,
};

use crate::authorizer::action_holds;
use crate::eval::{fail, unary};

/// The principal or resource of a partial request: an entity, or only its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartialUid {
    Known(EntityUid),
    /// Some entity of this type.
    Unknown(EntityType),
}

impl PartialUid {
    /// The entity type, known either way.
    pub fn entity_type(&self) -> &EntityType {
        match self {
            PartialUid::Known(uid) => uid.entity_type(),
            PartialUid::Unknown(ty) => ty,
        }
    }

    pub fn known(&self) -> Option<&EntityUid> {
        match self {
            PartialUid::Known(uid) => Some(uid),
            PartialUid::Unknown(_) => None,
        }
    }
}

/// A request with unknowns: the principal or resource may be only a type, the context may be
/// unknown (`None`). The action is always known.
#[derive(Clone, Debug)]
pub struct PartialRequest {
    pub principal: PartialUid,
    pub action: EntityUid,
    pub resource: PartialUid,
    pub context: Option<Record>,
}

/// What is known of the entities: the store, except the entities in `unknown`, whose
/// attributes, tags and ancestors are unknown (and which may or may not exist).
#[derive(Clone, Copy)]
pub struct PartialEntities<'a> {
    pub store: &'a Entities,
    pub unknown: &'a HashSet<EntityUid>,
}

impl PartialEntities<'_> {
    fn is_unknown(&self, uid: &EntityUid) -> bool {
        self.unknown.contains(uid)
    }
}

/// The result of partially evaluating an expression: a value, or a residual expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Partial {
    Value(Value),
    Residual(Expr),
}

/// One policy's outcome on a partial request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Satisfied,
    NotSatisfied,
    /// Its evaluation errs, whatever the unknowns are.
    Error(EvalFailure),
    /// It is satisfied exactly when this expression is true.
    Residual(Expr),
}

/// A policy (or template link) and its outcome.
#[derive(Clone, Debug)]
pub struct PolicyOutcome {
    pub id: PolicyId,
    pub effect: Effect,
    pub outcome: Outcome,
    /// The policy's scope and conditions as one expression (slots filled in): what an error's
    /// residual policy keeps, to err again.
    condition: Expr,
    policy: Policy,
}

impl PolicyOutcome {
    /// The policy that decides every completed request as this one does:
    /// `effect(principal, action, resource) when { residual };`, with the original's id and
    /// annotations (`true` for a satisfied policy, `false` for one not satisfied, the whole
    /// original condition for an error). Its spans point into the original's source.
    pub fn residual_policy(&self) -> Policy {
        let body = match &self.outcome {
            Outcome::Satisfied => bool_expr(true, self.policy.span),
            Outcome::NotSatisfied => bool_expr(false, self.policy.span),
            Outcome::Error(_) => self.condition.clone(),
            Outcome::Residual(e) => e.clone(),
        };
        Policy {
            id: self.id.clone(),
            annotations: self.policy.annotations.clone(),
            effect: self.effect,
            principal: ScopeConstraint::Any,
            action: ActionConstraint::Any,
            resource: ScopeConstraint::Any,
            conditions: vec![Condition {
                kind: ConditionKind::When,
                span: body.span,
                body,
            }],
            span: self.policy.span,
            source: self.policy.source.clone(),
        }
    }
}

/// Every policy's outcome on a partial request, and the decision if the unknowns cannot
/// change it.
#[derive(Clone, Debug)]
pub struct PartialResponse {
    /// Allow or Deny when every completion of the request is decided so; `None` otherwise.
    pub decision: Option<Decision>,
    /// With a decision: the policies that decide it whatever the unknowns (the satisfied
    /// permits of an Allow, the satisfied forbids of a Deny; empty for a Deny no permit can
    /// reach).
    pub reasons: PolicyIds,
    /// Every static policy and template link, in the policy set's order.
    pub policies: Vec<PolicyOutcome>,
}

impl PartialResponse {
    /// The policies whose outcome depends on the unknowns.
    pub fn residuals(&self) -> impl Iterator<Item = &PolicyOutcome> {
        self.policies
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Residual(_)))
    }
}

/// Partially evaluates every static policy and template link of `policies`.
pub fn partially_authorize<'a>(
    policies: impl IntoIterator<Item = ActivePolicy<'a>>,
    request: &PartialRequest,
    entities: PartialEntities<'_>,
) -> PartialResponse {
    let outcomes: Vec<PolicyOutcome> = policies
        .into_iter()
        .map(|active| policy_outcome(&active, request, entities))
        .collect();
    let ids = |effect: Effect, satisfied: bool| -> PolicyIds {
        let mut ids = PolicyIds::new();
        for p in outcomes.iter().filter(|p| p.effect == effect) {
            let counts = match p.outcome {
                Outcome::Satisfied => true,
                Outcome::Residual(_) => !satisfied,
                _ => false,
            };
            if counts {
                ids.insert(p.id.clone());
            }
        }
        ids
    };
    let (true_forbids, open_forbids) = (ids(Effect::Forbid, true), ids(Effect::Forbid, false));
    let (true_permits, open_permits) = (ids(Effect::Permit, true), ids(Effect::Permit, false));
    let (decision, reasons) = if !true_forbids.is_empty() {
        (Some(Decision::Deny), true_forbids)
    } else if open_permits.is_empty() {
        // No permit can be satisfied (open_permits holds the satisfied ones too).
        (Some(Decision::Deny), PolicyIds::new())
    } else if open_forbids.is_empty() && !true_permits.is_empty() {
        (Some(Decision::Allow), true_permits)
    } else {
        (None, PolicyIds::new())
    };
    PartialResponse {
        decision,
        reasons,
        policies: outcomes,
    }
}

/// One policy's outcome on a partial request.
pub fn policy_outcome(
    active: &ActivePolicy<'_>,
    request: &PartialRequest,
    entities: PartialEntities<'_>,
) -> PolicyOutcome {
    let policy = active.policy;
    let (condition, action_holds) = policy_condition(active, request, entities);
    let outcome = if !action_holds {
        Outcome::NotSatisfied
    } else {
        let evaluator = PartialEvaluator::new(request, entities, active.slots);
        match evaluator.partial(&condition) {
            Err(failure) => Outcome::Error(failure),
            Ok(Partial::Value(Value::Bool(true))) => Outcome::Satisfied,
            Ok(Partial::Value(Value::Bool(false))) => Outcome::NotSatisfied,
            Ok(Partial::Value(other)) => Outcome::Error(EvalFailure {
                error: other.as_bool().err().unwrap_or(EvalError::RecursionLimit),
                span: Some(condition.span),
            }),
            Ok(Partial::Residual(e)) => Outcome::Residual(e),
        }
    };
    PolicyOutcome {
        id: active.id.clone(),
        effect: policy.effect,
        outcome,
        condition,
        policy: policy.clone(),
    }
}

/// The policy's principal and resource scope and its conditions as one expression, in the
/// order the authorizer evaluates them (`unless { c }` as `!c`), and whether the action scope
/// holds (the action is always known).
fn policy_condition(
    active: &ActivePolicy<'_>,
    request: &PartialRequest,
    entities: PartialEntities<'_>,
) -> (Expr, bool) {
    let policy = active.policy;
    let span = policy.span;
    let mut parts = Vec::new();
    let scope = |var: Var, c: &ScopeConstraint, parts: &mut Vec<Expr>| {
        let var_expr = Expr::new(ExprKind::Var(var), span);
        let entity = |r: &EntityRef| -> Expr {
            match r {
                EntityRef::Uid(uid) => lit(Literal::Entity(uid.clone()), span),
                EntityRef::Slot(slot) => match active.slots.and_then(|s| s.get(slot)) {
                    Some(uid) => lit(Literal::Entity(uid.clone()), span),
                    None => Expr::new(ExprKind::Slot(*slot), span),
                },
            }
        };
        let part = match c {
            ScopeConstraint::Any => return,
            ScopeConstraint::Eq(r) => binary(BinaryOp::Eq, var_expr, entity(r), span),
            ScopeConstraint::In(r) => binary(BinaryOp::In, var_expr, entity(r), span),
            ScopeConstraint::Is(ty) => Expr::new(
                ExprKind::Is {
                    expr: Box::new(var_expr),
                    entity_type: ty.clone(),
                    in_expr: None,
                },
                span,
            ),
            ScopeConstraint::IsIn(ty, r) => Expr::new(
                ExprKind::Is {
                    expr: Box::new(var_expr),
                    entity_type: ty.clone(),
                    in_expr: Some(Box::new(entity(r))),
                },
                span,
            ),
        };
        parts.push(part);
    };
    scope(Var::Principal, &policy.principal, &mut parts);
    // The action is known: its scope is checked apart (`action_holds`).
    scope(Var::Resource, &policy.resource, &mut parts);
    for c in &policy.conditions {
        parts.push(match c.kind {
            ConditionKind::When => c.body.clone(),
            // At the body's span: the error of a body that is not a boolean is located there,
            // as the authorizer locates it.
            ConditionKind::Unless => Expr::new(
                ExprKind::Unary(UnaryOp::Not, Box::new(c.body.clone())),
                c.body.span,
            ),
        });
    }
    let holds = action_holds(&policy.action, &request.action, entities.store);
    let condition = parts
        .into_iter()
        .reduce(|a, b| {
            let span = a.span;
            Expr::new(ExprKind::And(Box::new(a), Box::new(b)), span)
        })
        .unwrap_or_else(|| bool_expr(true, span));
    (condition, holds)
}

type PResult = Result<Partial, EvalFailure>;

/// Evaluates expressions on a partial request.
pub struct PartialEvaluator<'a> {
    request: &'a PartialRequest,
    entities: PartialEntities<'a>,
    slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
    depth: std::cell::Cell<usize>,
}

impl<'a> PartialEvaluator<'a> {
    pub fn new(
        request: &'a PartialRequest,
        entities: PartialEntities<'a>,
        slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
    ) -> Self {
        PartialEvaluator {
            request,
            entities,
            slots,
            depth: std::cell::Cell::new(0),
        }
    }

    /// Evaluates `e` as far as the known parts allow.
    pub fn partial(&self, e: &Expr) -> PResult {
        if self.depth.get() >= MAX_EVAL_DEPTH {
            return Err(fail(EvalError::RecursionLimit, e.span));
        }
        self.depth.set(self.depth.get() + 1);
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.partial_kind(e));
        self.depth.set(self.depth.get() - 1);
        result
    }

    /// `e` as a residual expression, for a place the full evaluation may not reach: an error
    /// keeps `e` as written, to err again once substituted.
    fn deferred(&self, e: &Expr) -> Expr {
        match self.partial(e) {
            Ok(p) => into_expr(p, e.span),
            Err(_) => e.clone(),
        }
    }

    fn partial_kind(&self, e: &Expr) -> PResult {
        let span = e.span;
        let at = |err: EvalError| fail(err, span);
        let residual = |kind: ExprKind| Ok(Partial::Residual(Expr::new(kind, span)));
        match &e.kind {
            ExprKind::Lit(lit) => Ok(Partial::Value(match lit {
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Long(i) => Value::Long(*i),
                Literal::String(s) => Value::String(s.clone()),
                Literal::Entity(uid) => Value::Entity(uid.clone()),
            })),
            ExprKind::Var(var) => Ok(match var {
                Var::Principal => uid_partial(&self.request.principal, e),
                Var::Action => Partial::Value(Value::Entity(self.request.action.clone())),
                Var::Resource => uid_partial(&self.request.resource, e),
                Var::Context => match &self.request.context {
                    Some(c) => Partial::Value(Value::Record(c.clone())),
                    None => Partial::Residual(e.clone()),
                },
            }),
            ExprKind::Slot(slot) => self
                .slots
                .and_then(|s| s.get(slot))
                .map(|uid| Partial::Value(Value::Entity(uid.clone())))
                .ok_or_else(|| at(EvalError::UnlinkedSlot(slot.name()))),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => match self.partial(cond)? {
                Partial::Value(v) => {
                    let taken = v.as_bool().map_err(|err| fail(err, cond.span))?;
                    match self.partial(if taken { then } else { otherwise })? {
                        // A residual that may not be a boolean stays inside its `if`: where
                        // a boolean is expected, the error is located at the `if`.
                        Partial::Residual(r) if !is_boolean(&r) => {
                            let (then, otherwise) = if taken {
                                (r, (**otherwise).clone())
                            } else {
                                ((**then).clone(), r)
                            };
                            residual(ExprKind::If {
                                cond: Box::new(bool_expr(taken, cond.span)),
                                then: Box::new(then),
                                otherwise: Box::new(otherwise),
                            })
                        }
                        p => Ok(p),
                    }
                }
                Partial::Residual(c) => residual(ExprKind::If {
                    cond: Box::new(c),
                    then: Box::new(self.deferred(then)),
                    otherwise: Box::new(self.deferred(otherwise)),
                }),
            },
            ExprKind::And(a, b) => self.connective(true, a, b, span),
            ExprKind::Or(a, b) => self.connective(false, a, b, span),
            ExprKind::Unary(op, arg) => match self.partial(arg)? {
                Partial::Value(v) => unary(*op, &v).map(Partial::Value).map_err(at),
                Partial::Residual(r) => residual(ExprKind::Unary(*op, Box::new(r))),
            },
            ExprKind::Binary(op, a, b) => {
                let lhs = self.partial(a)?;
                let rhs = match self.partial(b) {
                    Ok(rhs) => rhs,
                    Err(failure) => match lhs {
                        Partial::Value(_) => return Err(failure),
                        Partial::Residual(l) => {
                            return residual(ExprKind::Binary(*op, Box::new(l), b.clone()));
                        }
                    },
                };
                match (lhs, rhs) {
                    (Partial::Value(l), Partial::Value(r)) => match self.binary(*op, &l, &r) {
                        Ok(Some(v)) => Ok(Partial::Value(v)),
                        Ok(None) => residual(ExprKind::Binary(
                            *op,
                            Box::new(value_expr(&l, a.span)),
                            Box::new(value_expr(&r, b.span)),
                        )),
                        Err(err) => Err(at(err)),
                    },
                    (l, r) => {
                        if let Some(v) = self.decide_binary(*op, &l, &r) {
                            return Ok(Partial::Value(v));
                        }
                        residual(ExprKind::Binary(
                            *op,
                            Box::new(into_expr(l, a.span)),
                            Box::new(into_expr(r, b.span)),
                        ))
                    }
                }
            }
            ExprKind::ExtCall { func, args } => match self.operands(args)? {
                Ok(values) => func.call(&values).map(Partial::Value).map_err(at),
                Err(args) => residual(ExprKind::ExtCall { func: *func, args }),
            },
            ExprKind::GetAttr { expr, attr } => match self.partial(expr)? {
                Partial::Value(Value::Entity(uid)) if self.entities.is_unknown(&uid) => {
                    residual(ExprKind::GetAttr {
                        expr: Box::new(value_expr(&Value::Entity(uid), expr.span)),
                        attr: attr.clone(),
                    })
                }
                Partial::Value(v) => access::get_attr(self.entities.store, &v, attr)
                    .map(Partial::Value)
                    .map_err(at),
                Partial::Residual(r) => residual(ExprKind::GetAttr {
                    expr: Box::new(r),
                    attr: attr.clone(),
                }),
            },
            ExprKind::HasAttr { expr, attrs } => match self.partial(expr)? {
                Partial::Value(v) => self.has_attrs(v, attrs, expr.span, span).map_err(at),
                Partial::Residual(r) => residual(ExprKind::HasAttr {
                    expr: Box::new(r),
                    attrs: attrs.clone(),
                }),
            },
            ExprKind::Like { expr, pattern } => match self.partial(expr)? {
                Partial::Value(v) => ops::like(&v, pattern).map(Partial::Value).map_err(at),
                Partial::Residual(r) => residual(ExprKind::Like {
                    expr: Box::new(r),
                    pattern: pattern.clone(),
                }),
            },
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                let subject = self.partial(expr)?;
                // The type test first: the `in` part is evaluated only when it passes.
                let type_matches = match &subject {
                    Partial::Value(v) => {
                        Some(v.as_entity().map_err(at)?.entity_type() == entity_type)
                    }
                    Partial::Residual(r) => self.unknown_type(r).map(|ty| ty == entity_type),
                };
                match (type_matches, in_expr) {
                    (Some(false), _) => Ok(Partial::Value(Value::Bool(false))),
                    (Some(true), None) => Ok(Partial::Value(Value::Bool(true))),
                    (Some(true), Some(target)) => {
                        // `e is T in x` is `e in x` once `e` is known to be a `T`.
                        let target_span = target.span;
                        match (subject, self.partial(target)) {
                            (Partial::Value(v), Ok(Partial::Value(t))) => {
                                match self.binary(BinaryOp::In, &v, &t) {
                                    Ok(Some(v)) => Ok(Partial::Value(v)),
                                    Ok(None) => residual(ExprKind::Binary(
                                        BinaryOp::In,
                                        Box::new(value_expr(&v, expr.span)),
                                        Box::new(value_expr(&t, target_span)),
                                    )),
                                    Err(err) => Err(at(err)),
                                }
                            }
                            (Partial::Value(_), Err(failure)) => Err(failure),
                            (s, t) => {
                                let t = match t {
                                    Ok(t) => into_expr(t, target_span),
                                    Err(_) => (**target).clone(),
                                };
                                residual(ExprKind::Binary(
                                    BinaryOp::In,
                                    Box::new(into_expr(s, expr.span)),
                                    Box::new(t),
                                ))
                            }
                        }
                    }
                    (None, _) => residual(ExprKind::Is {
                        expr: Box::new(into_expr(subject, expr.span)),
                        entity_type: entity_type.clone(),
                        in_expr: in_expr.as_ref().map(|t| Box::new(self.deferred(t))),
                    }),
                }
            }
            ExprKind::Set(items) => match self.operands(items)? {
                Ok(values) => Ok(Partial::Value(Value::set(values))),
                Err(items) => residual(ExprKind::Set(items)),
            },
            ExprKind::Record(attrs) => {
                let exprs: Vec<Expr> = attrs.iter().map(|(_, v)| v.clone()).collect();
                match self.operands(&exprs)? {
                    Ok(values) => Ok(Partial::Value(Value::Record(
                        attrs.iter().map(|(k, _)| k.clone()).zip(values).collect(),
                    ))),
                    Err(values) => residual(ExprKind::Record(
                        attrs.iter().map(|(k, _)| k.clone()).zip(values).collect(),
                    )),
                }
            }
        }
    }

    /// Evaluates operands left to right: their values if all are known, else each as a
    /// residual expression (an operand that errs after an unknown one kept as written). An
    /// error with only known operands before it is the error of the whole.
    #[allow(clippy::type_complexity)]
    fn operands(&self, items: &[Expr]) -> Result<Result<Vec<Value>, Vec<Expr>>, EvalFailure> {
        let mut partials = Vec::with_capacity(items.len());
        let mut all_known = true;
        for item in items {
            match self.partial(item) {
                Ok(p) => {
                    all_known &= matches!(p, Partial::Value(_));
                    partials.push(Ok(p));
                }
                Err(failure) if all_known => return Err(failure),
                Err(_) => partials.push(Err(item.clone())),
            }
        }
        if all_known {
            return Ok(Ok(partials
                .into_iter()
                .filter_map(|p| match p {
                    Ok(Partial::Value(v)) => Some(v),
                    _ => None,
                })
                .collect()));
        }
        Ok(Err(partials
            .into_iter()
            .zip(items)
            .map(|(p, item)| match p {
                Ok(p) => into_expr(p, item.span),
                Err(kept) => kept,
            })
            .collect()))
    }

    /// `a && b` (`is_and`) or `a || b`: the right side is evaluated only when the left does
    /// not decide, and both must be booleans.
    fn connective(&self, is_and: bool, a: &Expr, b: &Expr, span: Span) -> PResult {
        // The value of the left side that decides the whole: false for `&&`, true for `||`.
        let decisive = !is_and;
        let rebuild = |l: Expr, r: Expr| {
            let kind = if is_and {
                ExprKind::And(Box::new(l), Box::new(r))
            } else {
                ExprKind::Or(Box::new(l), Box::new(r))
            };
            Partial::Residual(Expr::new(kind, span))
        };
        match self.partial(a)? {
            Partial::Value(v) => {
                let left = v.as_bool().map_err(|err| fail(err, a.span))?;
                if left == decisive {
                    return Ok(Partial::Value(Value::Bool(decisive)));
                }
                match self.partial(b)? {
                    Partial::Value(v) => v
                        .as_bool()
                        .map(|b| Partial::Value(Value::Bool(b)))
                        .map_err(|err| fail(err, b.span)),
                    // `true && r` is `r` when `r` can only be a boolean (or err).
                    Partial::Residual(r) if is_boolean(&r) => Ok(Partial::Residual(r)),
                    Partial::Residual(r) => Ok(rebuild(bool_expr(left, a.span), r)),
                }
            }
            Partial::Residual(l) => match self.partial(b) {
                Err(_) => Ok(rebuild(l, b.clone())),
                Ok(Partial::Value(Value::Bool(right))) => {
                    if right != decisive && is_boolean(&l) {
                        // `l && true` is `l`.
                        Ok(Partial::Residual(l))
                    } else if right == decisive && is_boolean(&l) && self.never_errs(&l) {
                        // `l && false` is false when `l` is a boolean that cannot err.
                        Ok(Partial::Value(Value::Bool(decisive)))
                    } else {
                        Ok(rebuild(l, bool_expr(right, b.span)))
                    }
                }
                Ok(r) => Ok(rebuild(l, into_expr(r, b.span))),
            },
        }
    }

    /// A binary operator on known operands: `None` when the answer depends on an entity whose
    /// data is unknown.
    fn binary(&self, op: BinaryOp, lhs: &Value, rhs: &Value) -> Result<Option<Value>, EvalError> {
        let store = self.entities.store;
        let unknown_entity =
            |v: &Value| matches!(v, Value::Entity(uid) if self.entities.is_unknown(uid));
        Ok(Some(match op {
            BinaryOp::Eq => Value::Bool(lhs == rhs),
            BinaryOp::NotEq => Value::Bool(lhs != rhs),
            BinaryOp::Less => ops::compare_values(CmpOp::Less, lhs, rhs)?,
            BinaryOp::LessEq => ops::compare_values(CmpOp::LessEq, lhs, rhs)?,
            BinaryOp::Greater => ops::compare_values(CmpOp::Greater, lhs, rhs)?,
            BinaryOp::GreaterEq => ops::compare_values(CmpOp::GreaterEq, lhs, rhs)?,
            BinaryOp::Add => ops::arith_values(ArithOp::Add, lhs, rhs)?,
            BinaryOp::Sub => ops::arith_values(ArithOp::Sub, lhs, rhs)?,
            BinaryOp::Mul => ops::arith_values(ArithOp::Mul, lhs, rhs)?,
            BinaryOp::In if unknown_entity(lhs) => {
                // Its ancestors are unknown; it is in itself, if the target is well formed.
                let answer = access::in_operator(&NoEntities, lhs, rhs)?;
                if answer == Value::Bool(true) {
                    answer
                } else {
                    return Ok(None);
                }
            }
            BinaryOp::In => access::in_operator(store, lhs, rhs)?,
            BinaryOp::Contains => ops::contains(lhs, rhs)?,
            BinaryOp::ContainsAll => ops::contains_all(lhs, rhs)?,
            BinaryOp::ContainsAny => ops::contains_any(lhs, rhs)?,
            BinaryOp::GetTag | BinaryOp::HasTag if unknown_entity(lhs) => {
                // The tag must be a string whatever the entity holds.
                rhs.as_str()?;
                return Ok(None);
            }
            BinaryOp::GetTag => access::get_tag(store, lhs, rhs)?,
            BinaryOp::HasTag => access::has_tag(store, lhs, rhs)?,
        }))
    }

    /// A binary operator with an unknown operand, decided when the unknown cannot change the
    /// answer: `==` and `!=` between an unknown principal or resource and a value that is not
    /// an entity of its type.
    fn decide_binary(&self, op: BinaryOp, lhs: &Partial, rhs: &Partial) -> Option<Value> {
        if !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
            return None;
        }
        let (unknown, value) = match (lhs, rhs) {
            (Partial::Residual(r), Partial::Value(v))
            | (Partial::Value(v), Partial::Residual(r)) => (r, v),
            _ => return None,
        };
        let ty = self.unknown_type(unknown)?;
        let differ = match value {
            Value::Entity(uid) => uid.entity_type() != ty,
            _ => true,
        };
        differ.then_some(Value::Bool(op == BinaryOp::NotEq))
    }

    /// `v has a.b.c` on a known value: each step reads a record, or an entity whose data is
    /// known; at an entity whose data is unknown, the rest of the path is a residual.
    fn has_attrs(
        &self,
        v: Value,
        attrs: &[Arc<str>],
        operand_span: Span,
        span: Span,
    ) -> Result<Partial, EvalError> {
        let mut current = v;
        for (i, attr) in attrs.iter().enumerate() {
            if let Value::Entity(uid) = &current
                && self.entities.is_unknown(uid)
            {
                return Ok(Partial::Residual(Expr::new(
                    ExprKind::HasAttr {
                        expr: Box::new(value_expr(&current, operand_span)),
                        attrs: attrs[i..].to_vec(),
                    },
                    span,
                )));
            }
            match access::find_attr(self.entities.store, &current, attr)? {
                None => return Ok(Partial::Value(Value::Bool(false))),
                Some(next) => current = next.clone(),
            }
        }
        Ok(Partial::Value(Value::Bool(true)))
    }

    /// The entity type of an unknown principal or resource, when `e` is that variable.
    fn unknown_type(&self, e: &Expr) -> Option<&EntityType> {
        match &e.kind {
            ExprKind::Var(Var::Principal) => Some(self.request.principal.entity_type()),
            ExprKind::Var(Var::Resource) => Some(self.request.resource.entity_type()),
            _ => None,
        }
    }

    /// Whether evaluating the residual `e` cannot err, whatever the unknowns: a conservative
    /// check on the forms scopes and simple conditions produce.
    fn never_errs(&self, e: &Expr) -> bool {
        // A residual `&&` chain is as deep as it is long: grow the stack rather than overflow.
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.never_errs_node(e))
    }

    fn never_errs_node(&self, e: &Expr) -> bool {
        let entity_like = |e: &Expr| {
            self.unknown_type(e).is_some() || matches!(e.kind, ExprKind::Lit(Literal::Entity(_)))
        };
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Var(_) => true,
            ExprKind::Binary(BinaryOp::Eq | BinaryOp::NotEq, a, b) => {
                self.never_errs(a) && self.never_errs(b)
            }
            ExprKind::Binary(BinaryOp::In, a, b) => {
                entity_like(a)
                    && (entity_like(b)
                        || matches!(&b.kind, ExprKind::Set(items) if items.iter().all(entity_like)))
            }
            ExprKind::Binary(BinaryOp::HasTag, a, b) => {
                entity_like(a) && matches!(b.kind, ExprKind::Lit(Literal::String(_)))
            }
            ExprKind::Is { expr, in_expr, .. } => {
                entity_like(expr)
                    && in_expr
                        .as_ref()
                        .is_none_or(|t| matches!(t.kind, ExprKind::Lit(Literal::Entity(_))))
            }
            ExprKind::HasAttr { expr, attrs } => {
                attrs.len() == 1
                    && (entity_like(expr) || matches!(expr.kind, ExprKind::Var(Var::Context)))
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                is_boolean(a) && is_boolean(b) && self.never_errs(a) && self.never_errs(b)
            }
            ExprKind::Unary(UnaryOp::Not, a) => is_boolean(a) && self.never_errs(a),
            _ => false,
        }
    }
}

/// Whether `e`, if it evaluates without error, is a boolean.
fn is_boolean(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Lit(Literal::Bool(_)) => true,
        ExprKind::And(..)
        | ExprKind::Or(..)
        | ExprKind::Is { .. }
        | ExprKind::HasAttr { .. }
        | ExprKind::Like { .. }
        | ExprKind::Unary(UnaryOp::Not, _) => true,
        ExprKind::Binary(op, ..) => !matches!(
            op,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::GetTag
        ),
        _ => false,
    }
}

fn uid_partial(uid: &PartialUid, var: &Expr) -> Partial {
    match uid {
        PartialUid::Known(uid) => Partial::Value(Value::Entity(uid.clone())),
        PartialUid::Unknown(_) => Partial::Residual(var.clone()),
    }
}

/// The expression for a partial result: a value as the literal or constructor that makes it.
pub fn into_expr(p: Partial, span: Span) -> Expr {
    match p {
        Partial::Value(v) => value_expr(&v, span),
        Partial::Residual(e) => e,
    }
}

/// An expression evaluating to `v` (sets, records and extension values built as Cedar writes
/// them), every node at `span`.
pub fn value_expr(v: &Value, span: Span) -> Expr {
    let kind = match v {
        Value::Bool(b) => ExprKind::Lit(Literal::Bool(*b)),
        Value::Long(i) => ExprKind::Lit(Literal::Long(*i)),
        Value::String(s) => ExprKind::Lit(Literal::String(s.clone())),
        Value::Entity(uid) => ExprKind::Lit(Literal::Entity(uid.clone())),
        Value::Set(items) => ExprKind::Set(items.iter().map(|i| value_expr(i, span)).collect()),
        Value::Record(attrs) => ExprKind::Record(
            attrs
                .iter()
                .map(|(k, v)| (k.clone(), value_expr(v, span)))
                .collect(),
        ),
        Value::Ext(ext) => return ext_expr(ext, span),
    };
    Expr::new(kind, span)
}

fn ext_expr(ext: &ExtValue, span: Span) -> Expr {
    let call = |func: ExtFn, text: String| {
        Expr::new(
            ExprKind::ExtCall {
                func,
                args: vec![lit(Literal::String(text.into()), span)],
            },
            span,
        )
    };
    match ext {
        ExtValue::Decimal(d) => call(ExtFn::Decimal, d.to_string()),
        ExtValue::Ip(ip) => call(ExtFn::Ip, ip.to_string()),
        ExtValue::Duration(d) => call(ExtFn::Duration, d.to_string()),
        ExtValue::Datetime(d) => match d.to_iso() {
            Some(iso) => call(ExtFn::Datetime, iso),
            // Outside the years ISO 8601 writes: the epoch offset by a duration.
            None => Expr::new(
                ExprKind::ExtCall {
                    func: ExtFn::Offset,
                    args: vec![
                        call(ExtFn::Datetime, "1970-01-01".to_string()),
                        call(ExtFn::Duration, format!("{}ms", d.epoch_millis())),
                    ],
                },
                span,
            ),
        },
    }
}

/// A store with no entities: `in` on an entity whose ancestors are unknown, which is still in
/// itself.
struct NoEntities;

impl EntityLookup for NoEntities {
    fn entity(&self, _: &EntityUid) -> Option<&Entity> {
        None
    }
}

fn lit(l: Literal, span: Span) -> Expr {
    Expr::new(ExprKind::Lit(l), span)
}

fn bool_expr(b: bool, span: Span) -> Expr {
    lit(Literal::Bool(b), span)
}

fn binary(op: BinaryOp, a: Expr, b: Expr, span: Span) -> Expr {
    Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b)), span)
}
