//! Expression evaluation: Cedar's semantics, one AST node at a time.
//!
//! `&&`, `||` and `if` evaluate only what they need; every other operator evaluates all of its
//! operands first (left to right) and then applies the operator's meaning from
//! `thuja_runtime`. An error stops the evaluation and carries the span of the expression that
//! raised it.

use std::collections::BTreeMap;

use thuja_compiler::Span;
use thuja_compiler::ast::{BinaryOp, Expr, ExprKind, Literal, SlotId, UnaryOp, Var};
pub use thuja_runtime::error::MAX_EVAL_DEPTH;
use thuja_runtime::ops::{self, ArithOp, CmpOp};
use thuja_runtime::{
    Entities, EntityUid, EvalError, EvalFailure, Record, Request, Set, Value, access,
};

type EResult<T> = Result<T, EvalFailure>;

/// Evaluates expressions for one request against one entity store.
pub struct Evaluator<'a> {
    request: &'a Request,
    entities: &'a Entities,
    /// Slot values when evaluating a linked template.
    slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
    depth: std::cell::Cell<usize>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        request: &'a Request,
        entities: &'a Entities,
        slots: Option<&'a BTreeMap<SlotId, EntityUid>>,
    ) -> Self {
        Evaluator {
            request,
            entities,
            slots,
            depth: std::cell::Cell::new(0),
        }
    }

    /// Evaluates `e` to a value.
    pub fn eval(&self, e: &Expr) -> EResult<Value> {
        if self.depth.get() >= MAX_EVAL_DEPTH {
            return Err(fail(EvalError::RecursionLimit, e.span));
        }
        self.depth.set(self.depth.get() + 1);
        let result = stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.eval_kind(e));
        self.depth.set(self.depth.get() - 1);
        result
    }

    /// Evaluates `e`, which must produce a boolean.
    pub fn eval_bool(&self, e: &Expr) -> EResult<bool> {
        let v = self.eval(e)?;
        v.as_bool().map_err(|err| fail(err, e.span))
    }

    fn eval_kind(&self, e: &Expr) -> EResult<Value> {
        let at = |err: EvalError| fail(err, e.span);
        match &e.kind {
            ExprKind::Lit(lit) => Ok(match lit {
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Long(i) => Value::Long(*i),
                Literal::String(s) => Value::String(s.clone()),
                Literal::Entity(uid) => Value::Entity(uid.clone()),
            }),
            ExprKind::Var(var) => Ok(match var {
                Var::Principal => Value::Entity(self.request.principal().clone()),
                Var::Action => Value::Entity(self.request.action().clone()),
                Var::Resource => Value::Entity(self.request.resource().clone()),
                Var::Context => Value::Record(self.request.context().clone()),
            }),
            ExprKind::Slot(slot) => self
                .slots
                .and_then(|s| s.get(slot))
                .map(|uid| Value::Entity(uid.clone()))
                .ok_or_else(|| at(EvalError::UnlinkedSlot(slot.name()))),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                if self.eval_bool(cond)? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ExprKind::And(a, b) => Ok(Value::Bool(self.eval_bool(a)? && self.eval_bool(b)?)),
            ExprKind::Or(a, b) => Ok(Value::Bool(self.eval_bool(a)? || self.eval_bool(b)?)),
            ExprKind::Unary(op, arg) => {
                let v = self.eval(arg)?;
                unary(*op, &v).map_err(at)
            }
            ExprKind::Binary(op, a, b) => {
                let lhs = self.eval(a)?;
                let rhs = self.eval(b)?;
                self.binary(*op, &lhs, &rhs).map_err(at)
            }
            ExprKind::ExtCall { func, args } => {
                let values = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<EResult<Vec<_>>>()?;
                func.call(&values).map_err(at)
            }
            ExprKind::GetAttr { expr, attr } => {
                let v = self.eval(expr)?;
                access::get_attr(self.entities, &v, attr).map_err(at)
            }
            ExprKind::HasAttr { expr, attrs } => {
                let v = self.eval(expr)?;
                access::has_attrs(self.entities, &v, attrs)
                    .map(Value::Bool)
                    .map_err(at)
            }
            ExprKind::Like { expr, pattern } => {
                let v = self.eval(expr)?;
                ops::like(&v, pattern).map_err(at)
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                let v = self.eval(expr)?;
                let uid = v.as_entity().map_err(at)?;
                if uid.entity_type() != entity_type {
                    return Ok(Value::Bool(false));
                }
                match in_expr {
                    None => Ok(Value::Bool(true)),
                    Some(target) => {
                        let t = self.eval(target)?;
                        access::is_in(self.entities, uid, &t)
                            .map(Value::Bool)
                            .map_err(at)
                    }
                }
            }
            ExprKind::Set(items) => {
                let values = items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<EResult<Set>>()?;
                Ok(Value::Set(values))
            }
            ExprKind::Record(attrs) => {
                let rec = attrs
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.eval(v)?)))
                    .collect::<EResult<Record>>()?;
                Ok(Value::Record(rec))
            }
        }
    }

    fn binary(&self, op: BinaryOp, lhs: &Value, rhs: &Value) -> Result<Value, EvalError> {
        let entities = self.entities;
        match op {
            BinaryOp::Eq => Ok(Value::Bool(lhs == rhs)),
            BinaryOp::NotEq => Ok(Value::Bool(lhs != rhs)),
            BinaryOp::Less => ops::compare_values(CmpOp::Less, lhs, rhs),
            BinaryOp::LessEq => ops::compare_values(CmpOp::LessEq, lhs, rhs),
            BinaryOp::Greater => ops::compare_values(CmpOp::Greater, lhs, rhs),
            BinaryOp::GreaterEq => ops::compare_values(CmpOp::GreaterEq, lhs, rhs),
            BinaryOp::Add => ops::arith_values(ArithOp::Add, lhs, rhs),
            BinaryOp::Sub => ops::arith_values(ArithOp::Sub, lhs, rhs),
            BinaryOp::Mul => ops::arith_values(ArithOp::Mul, lhs, rhs),
            BinaryOp::In => access::in_operator(entities, lhs, rhs),
            BinaryOp::Contains => ops::contains(lhs, rhs),
            BinaryOp::ContainsAll => ops::contains_all(lhs, rhs),
            BinaryOp::ContainsAny => ops::contains_any(lhs, rhs),
            BinaryOp::GetTag => access::get_tag(entities, lhs, rhs),
            BinaryOp::HasTag => access::has_tag(entities, lhs, rhs),
        }
    }
}

/// `error` raised at `span`.
pub(crate) fn fail(error: EvalError, span: Span) -> EvalFailure {
    EvalFailure {
        error,
        span: Some(span),
    }
}

/// The meaning of a one-operand operator.
pub(crate) fn unary(op: UnaryOp, v: &Value) -> Result<Value, EvalError> {
    match op {
        UnaryOp::Not => ops::not(v),
        UnaryOp::Neg => ops::negate(v),
        UnaryOp::IsEmpty => ops::is_empty(v),
    }
}
