//! Level validation: every entity dereference (attribute access, `has`, tags, `in`) must be at
//! most `level` steps from a request variable, and no dereference may start at an entity literal
//! (other than the environment's action) or a slot.
//!
//! It walks the condition as Cedar's typed AST has it in one environment: the parts a short
//! circuit skipped (`false && _`, `true || _`, the untaken branch of an `if` whose condition is
//! known) are not there, and every other node has the type the typechecker gave it.

use thuja_runtime::EntityUid;

use super::error::{ErrorKind, ValidationError};
use super::typecheck::{Checker, TypeTable, node_key};
use super::types::{BoolType, EntityKind, Type};
use crate::ast::{BinaryOp, Expr, ExprKind, Literal};
use crate::source::Span;

struct Level<'a> {
    checker: &'a Checker<'a>,
    table: &'a TypeTable,
    max: u32,
    errors: Vec<ValidationError>,
}

/// The level errors of a condition typechecked (with its types recorded in `table`).
pub(super) fn check(
    checker: &Checker<'_>,
    table: &TypeTable,
    cond: &Expr,
    level: u32,
) -> Vec<ValidationError> {
    let mut l = Level {
        checker,
        table,
        max: level,
        errors: Vec::new(),
    };
    l.expr(cond);
    l.errors
}

impl Level<'_> {
    fn ty(&self, e: &Expr) -> Option<Type> {
        self.table
            .borrow()
            .get(&(node_key(e), false))
            .cloned()
            .flatten()
    }

    fn is_bool(&self, e: &Expr, b: BoolType) -> bool {
        self.ty(e) == Some(Type::Bool(b))
    }

    fn error(&mut self, span: Span, message: String) {
        self.errors.push(ValidationError {
            policy_id: self.checker.policy_id.clone(),
            kind: ErrorKind::EntityDerefLevelViolation,
            span,
            message,
        });
    }

    fn invariant(&mut self, span: Span) {
        self.errors.push(ValidationError {
            policy_id: self.checker.policy_id.clone(),
            kind: ErrorKind::InternalInvariantViolation,
            span,
            message: "internal invariant violated".into(),
        });
    }

    fn exceeded(&mut self, span: Span, actual: u32) {
        let max = self.max;
        self.error(
            span,
            format!("the maximum allowed level {max} is violated: actual level is {actual}"),
        );
    }

    /// A dereference of `target` (at `span`): too deep if it starts `max` or more levels down.
    fn deref(&mut self, span: Span, target: &Expr) {
        let lvl = self.target_level(target, Vec::new());
        if lvl >= self.max {
            self.exceeded(span, lvl.saturating_add(1));
        }
    }

    fn expr(&mut self, e: &Expr) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Lit(_) | ExprKind::Var(_) | ExprKind::Slot(_) => {}
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                if self.is_bool(cond, BoolType::True) {
                    self.expr(then);
                } else if self.is_bool(cond, BoolType::False) {
                    self.expr(otherwise);
                } else {
                    self.expr(then);
                    self.expr(otherwise);
                }
            }
            ExprKind::And(l, r) => {
                self.expr(l);
                if !self.is_bool(l, BoolType::False) {
                    self.expr(r);
                }
            }
            ExprKind::Or(l, r) => {
                self.expr(l);
                if !self.is_bool(l, BoolType::True) {
                    self.expr(r);
                }
            }
            ExprKind::Unary(_, a) => self.expr(a),
            ExprKind::Binary(BinaryOp::HasTag | BinaryOp::GetTag | BinaryOp::In, a, b) => {
                self.deref(e.span, a);
                self.expr(b);
            }
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::ExtCall { args, .. } | ExprKind::Set(args) => {
                for a in args {
                    self.expr(a);
                }
            }
            ExprKind::Record(fields) => {
                for (_, v) in fields {
                    self.expr(v);
                }
            }
            ExprKind::GetAttr { expr, .. } => self.attr_access(e.span, expr),
            ExprKind::HasAttr { expr, attrs } => match attrs.as_slice() {
                [_] => self.attr_access(e.span, expr),
                _ => self.ext_has_attr(e.span, expr, attrs),
            },
            ExprKind::Like { expr, .. } => self.expr(expr),
            ExprKind::Is { expr, in_expr, .. } => {
                // `e is T in E` is `e is T && e in E`
                self.expr(expr);
                let is_false = self.table.borrow().get(&(node_key(e), true))
                    == Some(&Some(Type::Bool(BoolType::False)));
                if let Some(target) = in_expr
                    && !is_false
                {
                    self.deref(e.span, expr);
                    self.expr(target);
                }
            }
        }
    }

    fn attr_access(&mut self, span: Span, expr: &Expr) {
        match self.ty(expr) {
            Some(Type::Entity(EntityKind::Lub(_))) => self.deref(span, expr),
            Some(Type::Record { .. }) => self.expr(expr),
            _ => self.invariant(span),
        }
    }

    fn ext_has_attr(&mut self, span: Span, expr: &Expr, attrs: &[std::sync::Arc<str>]) {
        let ty = self.ty(expr);
        let root = match &ty {
            Some(t @ (Type::Entity(EntityKind::Lub(_)) | Type::Record { .. })) => t.clone(),
            _ => {
                self.expr(expr);
                return;
            }
        };
        let is_record_root = matches!(root, Type::Record { .. });
        let cost = self.chain_cost(&root, attrs);
        if cost > self.max {
            self.exceeded(span, cost);
            return;
        }
        if is_record_root {
            self.expr(expr);
        }
        let path = if is_record_root {
            self.first_entity_path_rev(&root, attrs)
        } else {
            Some(Vec::new())
        };
        if let Some(path) = path {
            let budget = self.max - cost;
            let lvl = self.target_level(expr, path);
            if lvl > budget {
                self.exceeded(span, lvl.saturating_add(cost));
            }
        }
    }

    fn lookup(&self, ty: &Type, attr: &str) -> Option<Type> {
        match ty {
            Type::Record { attrs, .. } => attrs.get(attr).map(|a| a.ty.clone()),
            Type::Entity(EntityKind::Lub(lub)) => self
                .checker
                .info
                .lub_attrs(lub)
                .get(attr)
                .map(|a| a.ty.clone()),
            _ => None,
        }
    }

    fn chain_cost(&self, root: &Type, attrs: &[std::sync::Arc<str>]) -> u32 {
        if attrs.is_empty() {
            return 0;
        }
        let mut cost = u32::from(matches!(root, Type::Entity(_)));
        if attrs.len() == 1 {
            return cost;
        }
        let mut current = root.clone();
        for attr in &attrs[..attrs.len() - 1] {
            match self.lookup(&current, attr) {
                Some(t) => {
                    if matches!(t, Type::Entity(EntityKind::Lub(_))) {
                        cost += 1;
                    }
                    current = t;
                }
                None => break,
            }
        }
        cost
    }

    fn first_entity_path_rev(
        &self,
        ty: &Type,
        attrs: &[std::sync::Arc<str>],
    ) -> Option<Vec<std::sync::Arc<str>>> {
        match attrs {
            [] | [_] => None,
            [a, rest @ ..] => match self.lookup(ty, a) {
                Some(Type::Entity(EntityKind::Lub(_))) => Some(vec![a.clone()]),
                Some(next) => self.first_entity_path_rev(&next, rest).map(|mut p| {
                    p.push(a.clone());
                    p
                }),
                None => None,
            },
        }
    }

    /// How many dereferences down the entity `e` evaluates to is; `path` is the (reversed)
    /// attribute path still to take through record literals.
    fn target_level(&mut self, e: &Expr, mut path: Vec<std::sync::Arc<str>>) -> u32 {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || match &e.kind {
            ExprKind::Var(_) => 0,
            ExprKind::Slot(_) => {
                self.error(e.span, "entity dereference on a slot".into());
                0
            }
            ExprKind::Lit(Literal::Entity(uid)) => {
                let action: &EntityUid = &self.checker.env.action;
                if uid != action {
                    self.error(e.span, "entity dereference on a literal".into());
                }
                0
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                let (a, b) = if self.is_bool(cond, BoolType::True) {
                    (then, then)
                } else if self.is_bool(cond, BoolType::False) {
                    (otherwise, otherwise)
                } else {
                    (then, otherwise)
                };
                let x = self.target_level(a, path.clone());
                let y = self.target_level(b, path);
                x.max(y)
            }
            ExprKind::GetAttr { expr, attr } => match self.ty(expr) {
                Some(Type::Entity(EntityKind::Lub(_))) => {
                    self.target_level(expr, path).saturating_add(1)
                }
                Some(Type::Record { .. }) => {
                    path.push(attr.clone());
                    self.target_level(expr, path)
                }
                _ => {
                    self.invariant(e.span);
                    0
                }
            },
            ExprKind::Binary(BinaryOp::GetTag, a, b) => {
                let lvl = self.target_level(a, path);
                self.expr(b);
                lvl.saturating_add(1)
            }
            ExprKind::Record(fields) => {
                let wanted = path.pop();
                match wanted.and_then(|w| fields.iter().find(|(k, _)| *k == w)) {
                    Some((name, accessed)) => {
                        for (k, v) in fields {
                            if k != name {
                                self.expr(v);
                            }
                        }
                        self.target_level(accessed, path)
                    }
                    None => {
                        self.invariant(e.span);
                        0
                    }
                }
            }
            _ => {
                self.invariant(e.span);
                0
            }
        })
    }
}
