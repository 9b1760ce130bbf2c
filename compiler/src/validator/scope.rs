//! The checks on a policy's scope and literals that do not need types: unrecognized entity types
//! and actions, enumerated entities with ids their type does not allow, and whether the scope
//! names any request the schema allows (a warning). Also builds the condition Cedar typechecks:
//! the scope constraints and the `when`/`unless` clauses as one conjunction.

use std::collections::{BTreeMap, BTreeSet};

use thuja_runtime::{EntityType, EntityUid, PolicyId};

use super::env::SchemaInfo;
use super::error::{ErrorKind, ValidationError, ValidationWarning, WarningKind};
use crate::ast::{
    ActionConstraint, BinaryOp, ConditionKind, EntityRef, Expr, ExprKind, Literal, Policy,
    ScopeConstraint, SlotId, UnaryOp, Var,
};
use crate::source::Span;

/// The expression for a principal or resource scope constraint.
fn scope_expr(var: Var, c: &ScopeConstraint, span: Span) -> Expr {
    let v = || Expr::new(ExprKind::Var(var), span);
    let target = |r: &EntityRef| match r {
        EntityRef::Uid(uid) => Expr::new(ExprKind::Lit(Literal::Entity(uid.clone())), span),
        EntityRef::Slot(s) => Expr::new(ExprKind::Slot(*s), span),
    };
    let kind = match c {
        ScopeConstraint::Any => ExprKind::Lit(Literal::Bool(true)),
        ScopeConstraint::Eq(r) => {
            ExprKind::Binary(BinaryOp::Eq, Box::new(v()), Box::new(target(r)))
        }
        ScopeConstraint::In(r) => {
            ExprKind::Binary(BinaryOp::In, Box::new(v()), Box::new(target(r)))
        }
        ScopeConstraint::Is(t) => ExprKind::Is {
            expr: Box::new(v()),
            entity_type: t.clone(),
            in_expr: None,
        },
        ScopeConstraint::IsIn(t, r) => ExprKind::And(
            Box::new(Expr::new(
                ExprKind::Is {
                    expr: Box::new(v()),
                    entity_type: t.clone(),
                    in_expr: None,
                },
                span,
            )),
            Box::new(Expr::new(
                ExprKind::Binary(BinaryOp::In, Box::new(v()), Box::new(target(r))),
                span,
            )),
        ),
    };
    Expr::new(kind, span)
}

fn action_expr(c: &ActionConstraint, span: Span) -> Expr {
    let v = || Box::new(Expr::new(ExprKind::Var(Var::Action), span));
    let lit = |uid: &EntityUid| Expr::new(ExprKind::Lit(Literal::Entity(uid.clone())), span);
    let kind = match c {
        ActionConstraint::Any => ExprKind::Lit(Literal::Bool(true)),
        ActionConstraint::Eq(uid) => ExprKind::Binary(BinaryOp::Eq, v(), Box::new(lit(uid))),
        ActionConstraint::In(uids) => ExprKind::Binary(
            BinaryOp::In,
            v(),
            Box::new(Expr::new(
                ExprKind::Set(uids.iter().map(lit).collect()),
                span,
            )),
        ),
    };
    Expr::new(kind, span)
}

/// The whole condition of a policy, as Cedar builds it:
/// `principal && (action && (resource && (c1 && (c2 && ...))))`, `unless { e }` being `!e`.
pub fn condition(policy: &Policy) -> Expr {
    let span = policy.span;
    let and = |a: Expr, b: Expr| Expr::new(ExprKind::And(Box::new(a), Box::new(b)), span);
    let mut conds = policy.conditions.iter().rev().map(|c| match c.kind {
        ConditionKind::When => c.body.clone(),
        ConditionKind::Unless => Expr::new(
            ExprKind::Unary(UnaryOp::Not, Box::new(c.body.clone())),
            c.body.span,
        ),
    });
    let body = match conds.next() {
        None => Expr::new(ExprKind::Lit(Literal::Bool(true)), span),
        Some(last) => conds.fold(last, |acc, prev| and(prev, acc)),
    };
    and(
        scope_expr(Var::Principal, &policy.principal, span),
        and(
            action_expr(&policy.action, span),
            and(scope_expr(Var::Resource, &policy.resource, span), body),
        ),
    )
}

/// The copies of `policy`'s condition bodies inside its [`condition`] `cond`, in source order
/// (an `unless` body without the `!` put around it), so that what was learnt about the copies
/// can be told about the originals.
pub fn condition_bodies<'c>(cond: &'c Expr, policy: &Policy) -> Vec<&'c Expr> {
    let right = |e: &'c Expr| match &e.kind {
        ExprKind::And(_, r) => Some(r.as_ref()),
        _ => None,
    };
    let n = policy.conditions.len();
    let mut out = Vec::with_capacity(n);
    let mut rest = right(cond).and_then(right).and_then(right);
    for (i, c) in policy.conditions.iter().enumerate() {
        let Some(e) = rest else { break };
        let (copy, next) = match &e.kind {
            ExprKind::And(l, r) if i + 1 < n => (l.as_ref(), Some(r.as_ref())),
            _ => (e, None),
        };
        let body = match (&c.kind, &copy.kind) {
            (ConditionKind::Unless, ExprKind::Unary(UnaryOp::Not, inner)) => inner.as_ref(),
            _ => copy,
        };
        out.push(body);
        rest = next;
    }
    out
}

/// Entity type names and entity literals in a policy, with where they appear.
struct Mentions<'p> {
    types: Vec<(&'p EntityType, Span)>,
    uids: Vec<(&'p EntityUid, Span)>,
}

fn mentions(policy: &Policy) -> Mentions<'_> {
    let mut m = Mentions {
        types: Vec::new(),
        uids: Vec::new(),
    };
    let span = policy.span;
    for c in [&policy.principal, &policy.resource] {
        match c {
            ScopeConstraint::Any => {}
            ScopeConstraint::Eq(r) | ScopeConstraint::In(r) => {
                if let EntityRef::Uid(uid) = r {
                    m.types.push((uid.entity_type(), span));
                    m.uids.push((uid, span));
                }
            }
            ScopeConstraint::Is(t) => m.types.push((t, span)),
            ScopeConstraint::IsIn(t, r) => {
                m.types.push((t, span));
                if let EntityRef::Uid(uid) = r {
                    m.types.push((uid.entity_type(), span));
                    m.uids.push((uid, span));
                }
            }
        }
    }
    match &policy.action {
        ActionConstraint::Any => {}
        ActionConstraint::Eq(uid) => {
            m.types.push((uid.entity_type(), span));
            m.uids.push((uid, span));
        }
        ActionConstraint::In(uids) => {
            for uid in uids {
                m.types.push((uid.entity_type(), span));
                m.uids.push((uid, span));
            }
        }
    }
    for c in &policy.conditions {
        let mut stack = vec![&c.body];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Lit(Literal::Entity(uid)) => {
                    m.types.push((uid.entity_type(), e.span));
                    m.uids.push((uid, e.span));
                }
                ExprKind::Is { entity_type, .. } => m.types.push((entity_type, e.span)),
                _ => {}
            }
            stack.extend(e.children());
        }
    }
    m
}

/// Unrecognized entity types, invalid enumerated entities and unrecognized actions.
pub fn check_names(info: &SchemaInfo<'_>, policy: &Policy, id: &PolicyId) -> Vec<ValidationError> {
    let m = mentions(policy);
    let mut errors = Vec::new();
    for (ty, span) in &m.types {
        if !info.is_known_entity_type(ty) {
            errors.push(ValidationError {
                policy_id: id.clone(),
                kind: ErrorKind::UnrecognizedEntityType,
                span: *span,
                message: format!("unrecognized entity type `{ty}`"),
            });
        }
    }
    for (uid, span) in &m.uids {
        if uid.is_action() {
            continue;
        }
        if let Some(ids) = info
            .schema
            .entity_type(uid.entity_type())
            .and_then(|d| d.enum_ids.as_ref())
            && !ids.iter().any(|i| i.as_ref() == uid.id())
        {
            errors.push(ValidationError {
                policy_id: id.clone(),
                kind: ErrorKind::InvalidEnumEntity,
                span: *span,
                message: format!("entity `{uid}` is of an enumerated entity type, but `{}` is not declared as a valid eid", uid.id()),
            });
        }
    }
    for (uid, span) in &m.uids {
        if uid.is_action() && !info.is_known_action(uid) {
            errors.push(ValidationError {
                policy_id: id.clone(),
                kind: ErrorKind::UnrecognizedActionId,
                span: *span,
                message: format!("unrecognized action `{uid}`"),
            });
        }
    }
    errors
}

/// The entity types a principal or resource scope constraint allows.
fn types_satisfying<'a>(
    info: &'a SchemaInfo<'a>,
    c: &'a ScopeConstraint,
) -> BTreeSet<&'a EntityType> {
    match c {
        ScopeConstraint::Any
        | ScopeConstraint::Eq(EntityRef::Slot(_))
        | ScopeConstraint::In(EntityRef::Slot(_)) => info.schema.entity_types.keys().collect(),
        ScopeConstraint::Eq(EntityRef::Uid(uid)) => BTreeSet::from([uid.entity_type()]),
        ScopeConstraint::In(EntityRef::Uid(uid)) => info
            .entity_types_in(uid.entity_type())
            .into_iter()
            .collect(),
        ScopeConstraint::Is(t) | ScopeConstraint::IsIn(t, EntityRef::Slot(_)) => {
            if info.is_known_entity_type(t) {
                BTreeSet::from([t])
            } else {
                BTreeSet::new()
            }
        }
        ScopeConstraint::IsIn(t, EntityRef::Uid(uid)) => info
            .entity_types_in(uid.entity_type())
            .into_iter()
            .filter(|k| *k == t)
            .collect(),
    }
}

/// The actions an action scope constraint allows.
fn actions_satisfying<'a>(info: &'a SchemaInfo<'a>, c: &'a ActionConstraint) -> Vec<&'a EntityUid> {
    match c {
        ActionConstraint::Any => info.schema.actions.keys().collect(),
        ActionConstraint::Eq(uid) => vec![uid],
        ActionConstraint::In(uids) => info.actions_in_set(uids.iter()).unwrap_or_default(),
    }
}

/// The warning for a scope that no request the schema allows satisfies.
pub fn check_action_application(
    info: &SchemaInfo<'_>,
    policy: &Policy,
    id: &PolicyId,
) -> Option<ValidationWarning> {
    check_scope_application(
        info,
        &policy.principal,
        &policy.action,
        &policy.resource,
        policy.span,
        id,
    )
}

/// The same for a template link: its scope with the slots filled in.
pub fn check_link_application(
    info: &SchemaInfo<'_>,
    template: &Policy,
    values: &BTreeMap<SlotId, EntityUid>,
    id: &PolicyId,
) -> Option<ValidationWarning> {
    let fill = |c: &ScopeConstraint| {
        let fill_ref = |r: &EntityRef| match r {
            EntityRef::Slot(s) => values
                .get(s)
                .map_or_else(|| r.clone(), |uid| EntityRef::Uid(uid.clone())),
            EntityRef::Uid(_) => r.clone(),
        };
        match c {
            ScopeConstraint::Eq(r) => ScopeConstraint::Eq(fill_ref(r)),
            ScopeConstraint::In(r) => ScopeConstraint::In(fill_ref(r)),
            ScopeConstraint::IsIn(t, r) => ScopeConstraint::IsIn(t.clone(), fill_ref(r)),
            other => other.clone(),
        }
    };
    check_scope_application(
        info,
        &fill(&template.principal),
        &template.action,
        &fill(&template.resource),
        template.span,
        id,
    )
}

fn check_scope_application(
    info: &SchemaInfo<'_>,
    principal: &ScopeConstraint,
    action: &ActionConstraint,
    resource: &ScopeConstraint,
    span: Span,
    id: &PolicyId,
) -> Option<ValidationWarning> {
    let principals = types_satisfying(info, principal);
    let resources = types_satisfying(info, resource);
    let applies = actions_satisfying(info, action)
        .into_iter()
        .filter_map(|a| info.schema.action(a))
        .any(|a| {
            a.principals.iter().any(|p| principals.contains(p))
                && a.resources.iter().any(|r| resources.contains(r))
        });
    if applies {
        None
    } else {
        Some(ValidationWarning {
            policy_id: id.clone(),
            kind: WarningKind::InvalidActionApplication,
            span,
            message: "unable to find an applicable action given the policy scope constraints"
                .into(),
        })
    }
}
