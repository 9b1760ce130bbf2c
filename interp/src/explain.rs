//! Why a policy did or did not apply to a request, found by the reference semantics.
//!
//! [`explain_policy`] evaluates one policy as [`is_satisfied`](crate::is_satisfied) does and
//! says what decided it: it was satisfied; a scope constraint did not hold (each one that did
//! not, with the request's entity); a condition came out the wrong way (which one, and inside
//! it the subexpression that decided it, with the values of its operands); or it raised an
//! error. It also measures how far a policy got ([`Progress`]), so that a caller can name the
//! permits that came closest to allowing a denied request.
//!
//! The deciding subexpression is found by walking down from the condition, one step at a time
//! and without recursion, into the operand that fixed each node's value: the false operand of
//! a false `&&`, the true operand of a true `||`, the operand of `!`, the branch an `if` took.
//! A node whose value needed all of its operands (a true `&&`, a false `||`) or that is not a
//! boolean connective (`==`, `in`, `has`, a call, ...) is where the walk stops. Evaluation is
//! pure, so evaluating an operand again gives the value it had in the condition.

use thuja_compiler::Span;
use thuja_compiler::ast::{ActivePolicy, ConditionKind, Expr, ExprKind, UnaryOp};
use thuja_runtime::{Entities, EntityUid, EvalFailure, Request, Value};

use crate::authorizer::{action_holds, scope_holds};
use crate::eval::Evaluator;

/// What decided one policy for one request.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyTrace {
    pub outcome: Outcome,
    pub progress: Progress,
}

/// The three parts of a policy's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopePart {
    Principal,
    Action,
    Resource,
}

impl ScopePart {
    pub fn name(self) -> &'static str {
        match self {
            ScopePart::Principal => "principal",
            ScopePart::Action => "action",
            ScopePart::Resource => "resource",
        }
    }
}

/// How a policy came out.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Its scope held and every condition came out as it must: the policy applies.
    Satisfied,
    /// These parts of its scope did not hold for the request's entity (each part that did not,
    /// in scope order; its conditions were not evaluated).
    Scope(Vec<(ScopePart, EntityUid)>),
    /// Its scope held, and condition number `index` (0-based, in the order written) did not
    /// come out as it must: a `when` was false or an `unless` true. The conditions before it
    /// held; those after it were not evaluated.
    Condition {
        index: usize,
        kind: ConditionKind,
        deciding: Deciding,
    },
    /// Its evaluation raised this error (the policy does not apply, and the error is reported).
    Error(EvalFailure),
}

/// The subexpression of a condition that decided its value, and the values of its operands.
#[derive(Clone, Debug, PartialEq)]
pub struct Deciding {
    pub span: Span,
    /// What it evaluated to (a boolean).
    pub value: bool,
    /// Its operands (receiver first for a method), each with its span and value. Empty for a
    /// literal or a variable.
    pub operands: Vec<(Span, Value)>,
}

/// How far a policy got: the more, the closer it came to applying. Ordered: first by scope
/// parts that held, then by conditions that held, then by the share of the failing condition's
/// top-level `&&` terms that were true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Progress {
    /// Scope parts that held (0 to 3).
    pub scope: u8,
    /// Conditions that came out as they must.
    pub conditions: usize,
    /// Of the first condition that did not: its top-level `&&` terms (1 when it is not a
    /// conjunction), and how many of them were true; both 0 when every condition held or none
    /// was evaluated.
    pub terms_true: usize,
    pub terms: usize,
}

impl Progress {
    /// Compares how far two policies got (see the type's documentation).
    pub fn closeness_cmp(&self, other: &Progress) -> std::cmp::Ordering {
        self.scope
            .cmp(&other.scope)
            .then(self.conditions.cmp(&other.conditions))
            // terms_true / terms against the other's, without dividing; no terms counts as 0.
            .then_with(|| {
                let share = |p: &Progress| (p.terms_true as u128, p.terms.max(1) as u128);
                let ((a, b), (c, d)) = (share(self), share(other));
                (a * d).cmp(&(c * b))
            })
    }
}

/// Evaluates `active` for `request` and says what decided it. The outcome is satisfied
/// exactly when [`is_satisfied`](crate::is_satisfied) is true, and an error exactly when it
/// errs, with the same error.
pub fn explain_policy(
    active: &ActivePolicy<'_>,
    request: &Request,
    entities: &Entities,
) -> PolicyTrace {
    let policy = active.policy;
    let mut progress = Progress::default();
    // The scope parts in order; an error in one (an unlinked slot) stops there, as the
    // authorizer's evaluation does. Every part is checked, to count how many held.
    let mut failed = Vec::new();
    let parts = [
        (ScopePart::Principal, request.principal()),
        (ScopePart::Action, request.action()),
        (ScopePart::Resource, request.resource()),
    ];
    for (part, uid) in parts {
        let holds = match part {
            ScopePart::Principal => scope_holds(active, &policy.principal, uid, entities),
            ScopePart::Action => Ok(action_holds(&policy.action, uid, entities)),
            ScopePart::Resource => scope_holds(active, &policy.resource, uid, entities),
        };
        match holds {
            Ok(true) => progress.scope += 1,
            Ok(false) => failed.push((part, uid.clone())),
            // The authorizer stops at the first part that does not hold: an error after one
            // that did not is never raised.
            Err(failure) if failed.is_empty() => {
                return PolicyTrace {
                    outcome: Outcome::Error(failure),
                    progress,
                };
            }
            Err(_) => {}
        }
    }
    if !failed.is_empty() {
        return PolicyTrace {
            outcome: Outcome::Scope(failed),
            progress,
        };
    }
    let evaluator = Evaluator::new(request, entities, active.slots);
    for (index, condition) in policy.conditions.iter().enumerate() {
        let holds = match evaluator.eval_bool(&condition.body) {
            Ok(holds) => holds,
            Err(failure) => {
                return PolicyTrace {
                    outcome: Outcome::Error(failure),
                    progress,
                };
            }
        };
        let wanted = condition.kind == ConditionKind::When;
        if holds != wanted {
            let (terms_true, terms) = count_terms(&evaluator, &condition.body);
            progress.terms_true = terms_true;
            progress.terms = terms;
            return PolicyTrace {
                outcome: Outcome::Condition {
                    index,
                    kind: condition.kind,
                    deciding: deciding(&evaluator, &condition.body, holds),
                },
                progress,
            };
        }
        progress.conditions += 1;
    }
    PolicyTrace {
        outcome: Outcome::Satisfied,
        progress,
    }
}

/// The subexpression of `condition` (which evaluated to `value`) that decided its value.
fn deciding(evaluator: &Evaluator<'_>, condition: &Expr, value: bool) -> Deciding {
    let mut node = condition;
    let mut value = value;
    loop {
        let next = match &node.kind {
            ExprKind::And(a, b) if !value => match evaluator.eval_bool(a) {
                Ok(false) => Some(a),
                Ok(true) => Some(b),
                Err(_) => None,
            },
            ExprKind::Or(a, b) if value => match evaluator.eval_bool(a) {
                Ok(true) => Some(a),
                Ok(false) => Some(b),
                Err(_) => None,
            },
            ExprKind::Unary(UnaryOp::Not, a) => {
                value = !value;
                Some(a)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => match evaluator.eval_bool(cond) {
                Ok(true) => Some(then),
                Ok(false) => Some(otherwise),
                Err(_) => None,
            },
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    let operands = node
        .children()
        .into_iter()
        .filter_map(|child| Some((child.span, evaluator.eval(child).ok()?)))
        .collect();
    Deciding {
        span: node.span,
        value,
        operands,
    }
}

/// The top-level `&&` terms of `condition` (walked without recursion) and how many of them
/// are true; a term that errs or is not reached counts as not true.
fn count_terms(evaluator: &Evaluator<'_>, condition: &Expr) -> (usize, usize) {
    let mut terms = Vec::new();
    let mut pending = vec![condition];
    while let Some(e) = pending.pop() {
        match &e.kind {
            ExprKind::And(a, b) => {
                pending.push(b);
                pending.push(a);
            }
            _ => terms.push(e),
        }
    }
    let mut true_terms = 0;
    for term in &terms {
        match evaluator.eval_bool(term) {
            Ok(true) => true_terms += 1,
            // `&&` stops at the first term that is not true: those after it are not evaluated.
            _ => break,
        }
    }
    (true_terms, terms.len())
}
