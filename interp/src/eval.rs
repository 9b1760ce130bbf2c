//! Expression evaluation: Cedar's semantics, one AST node at a time.
//!
//! `&&`, `||` and `if` evaluate only what they need; every other operator evaluates all of its
//! operands first (left to right) and then applies the operator's meaning from
//! `thuja_runtime`. An error stops the evaluation and carries the span of the expression that
//! raised it.

use std::collections::BTreeMap;

use thuja_compiler::Span;
use thuja_compiler::ast::{BinaryOp, Expr, ExprKind, Literal, SlotId, UnaryOp, Var};
use thuja_runtime::ops::{self, ArithOp};
use thuja_runtime::value::ValueType;
use thuja_runtime::{Entities, EntityUid, EvalError, Record, Request, Set, Value};

/// How deeply expressions may nest during evaluation before it stops with an error.
pub const MAX_EVAL_DEPTH: usize = 2000;

/// An evaluation error and where it was raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFailure {
    pub error: EvalError,
    pub span: Span,
}

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
                Var::Principal => Value::Entity(self.request.principal.clone()),
                Var::Action => Value::Entity(self.request.action.clone()),
                Var::Resource => Value::Entity(self.request.resource.clone()),
                Var::Context => Value::Record(self.request.context.clone()),
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
                self.get_attr(&v, attr).map_err(at)
            }
            ExprKind::HasAttr { expr, attrs } => {
                let mut current = self.eval(expr)?;
                for (i, attr) in attrs.iter().enumerate() {
                    let next = match &current {
                        Value::Record(r) => r.get(attr).cloned(),
                        Value::Entity(uid) => self
                            .entities
                            .get(uid)
                            .and_then(|ent| ent.attr(attr))
                            .cloned(),
                        other => return Err(at(record_or_entity_expected(other))),
                    };
                    match next {
                        None => return Ok(Value::Bool(false)),
                        Some(v) if i + 1 < attrs.len() => current = v,
                        Some(_) => {}
                    }
                }
                Ok(Value::Bool(true))
            }
            ExprKind::Like { expr, pattern } => {
                let v = self.eval(expr)?;
                Ok(Value::Bool(pattern.matches(v.as_str().map_err(at)?)))
            }
            ExprKind::Is {
                expr,
                entity_type,
                in_expr,
            } => {
                let v = self.eval(expr)?;
                let Value::Entity(uid) = &v else {
                    return Err(at(EvalError::type_error(ValueType::Entity, v.value_type())));
                };
                if uid.entity_type() != entity_type {
                    return Ok(Value::Bool(false));
                }
                match in_expr {
                    None => Ok(Value::Bool(true)),
                    Some(target) => {
                        let t = self.eval(target)?;
                        self.is_in(uid, &t).map(Value::Bool).map_err(at)
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
        Ok(match op {
            BinaryOp::Eq => Value::Bool(lhs == rhs),
            BinaryOp::NotEq => Value::Bool(lhs != rhs),
            // `a > b` is `!(a <= b)` and `a >= b` is `!(a < b)`, as Cedar defines them.
            BinaryOp::Less => Value::Bool(ops::compare(lhs, rhs)?.is_lt()),
            BinaryOp::LessEq => Value::Bool(ops::compare(lhs, rhs)?.is_le()),
            BinaryOp::Greater => Value::Bool(!ops::compare(lhs, rhs)?.is_le()),
            BinaryOp::GreaterEq => Value::Bool(!ops::compare(lhs, rhs)?.is_lt()),
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                Value::Long(ops::arith(arith_op(op), lhs.as_long()?, rhs.as_long()?)?)
            }
            BinaryOp::In => {
                let Value::Entity(uid) = lhs else {
                    let advice = match rhs {
                        Value::Set(_) => Some(
                            "`in` is for checking the entity hierarchy; use `.contains()` to test set membership",
                        ),
                        Value::Record(_) => Some(
                            "`in` is for checking the entity hierarchy; use `has` to test if a record has a key",
                        ),
                        _ => None,
                    };
                    return Err(EvalError::Type {
                        expected: vec![ValueType::Entity],
                        actual: lhs.value_type(),
                        advice,
                    });
                };
                Value::Bool(self.is_in(uid, rhs)?)
            }
            BinaryOp::Contains => Value::Bool(lhs.as_set()?.contains(rhs)),
            BinaryOp::ContainsAll => {
                let (all, some) = (lhs.as_set()?, rhs.as_set()?);
                Value::Bool(some.is_subset(all))
            }
            BinaryOp::ContainsAny => Value::Bool(!lhs.as_set()?.is_disjoint(rhs.as_set()?)),
            BinaryOp::GetTag | BinaryOp::HasTag => {
                let uid = lhs.as_entity()?;
                let tag = rhs.as_str()?;
                let entity = self.entities.get(uid);
                if op == BinaryOp::HasTag {
                    return Ok(Value::Bool(entity.is_some_and(|e| e.tag(tag).is_some())));
                }
                let entity = entity.ok_or_else(|| EvalError::EntityDoesNotExist(uid.clone()))?;
                entity
                    .tag(tag)
                    .cloned()
                    .ok_or_else(|| EvalError::TagDoesNotExist {
                        entity: uid.clone(),
                        tag: tag.into(),
                    })?
            }
        })
    }

    /// `uid in target`: equal to, or a descendant of, the entity or any entity of the set.
    fn is_in(&self, uid: &EntityUid, target: &Value) -> Result<bool, EvalError> {
        let entity = self.entities.get(uid);
        let within =
            |other: &EntityUid| uid == other || entity.is_some_and(|e| e.is_descendant_of(other));
        match target {
            Value::Entity(other) => Ok(within(other)),
            Value::Set(set) => {
                let uids = set
                    .iter()
                    .map(Value::as_entity)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(uids.into_iter().any(within))
            }
            other => Err(EvalError::Type {
                expected: vec![ValueType::Set, ValueType::Entity],
                actual: other.value_type(),
                advice: None,
            }),
        }
    }

    fn get_attr(&self, v: &Value, attr: &str) -> Result<Value, EvalError> {
        match v {
            Value::Record(r) => {
                r.get(attr)
                    .cloned()
                    .ok_or_else(|| EvalError::RecordAttrDoesNotExist {
                        attr: attr.into(),
                        available: r.keys().cloned().collect(),
                    })
            }
            Value::Entity(uid) => {
                let entity = self
                    .entities
                    .get(uid)
                    .ok_or_else(|| EvalError::EntityDoesNotExist(uid.clone()))?;
                entity
                    .attr(attr)
                    .cloned()
                    .ok_or_else(|| EvalError::EntityAttrDoesNotExist {
                        entity: uid.clone(),
                        attr: attr.into(),
                    })
            }
            other => Err(record_or_entity_expected(other)),
        }
    }
}

fn fail(error: EvalError, span: Span) -> EvalFailure {
    EvalFailure { error, span }
}

fn arith_op(op: BinaryOp) -> ArithOp {
    match op {
        BinaryOp::Add => ArithOp::Add,
        BinaryOp::Sub => ArithOp::Sub,
        _ => ArithOp::Mul,
    }
}

fn unary(op: UnaryOp, v: &Value) -> Result<Value, EvalError> {
    Ok(match op {
        UnaryOp::Not => Value::Bool(!v.as_bool()?),
        UnaryOp::Neg => Value::Long(ops::neg(v.as_long()?)?),
        UnaryOp::IsEmpty => Value::Bool(v.as_set()?.is_empty()),
    })
}

fn record_or_entity_expected(v: &Value) -> EvalError {
    EvalError::Type {
        expected: vec![ValueType::Record, ValueType::Entity],
        actual: v.value_type(),
        advice: None,
    }
}
