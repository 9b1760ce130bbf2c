//! The meaning of Cedar's operators on values, shared by every evaluation tier: overflow-checked
//! arithmetic, the ordering used by `<`/`<=` (and so `>`/`>=`), the set methods, `like`, `is`,
//! `!` and `.isEmpty()`, and the typed accessors that raise Cedar's type errors.
//!
//! Each function takes the evaluated operands and returns the result or the error Cedar raises;
//! operators that read the entity store (`in`, attribute and tag access, `has`) are in
//! [`crate::access`].

use std::cmp::Ordering;

use crate::error::{EvalError, Overflow};
use crate::name::EntityType;
use crate::pattern::Pattern;
use crate::uid::EntityUid;
use crate::value::{Set, Value, ValueType};

/// The arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
}

/// `a + b`, `a - b` or `a * b` on 64-bit integers; overflow is an error.
pub fn arith(op: ArithOp, a: i64, b: i64) -> Result<i64, EvalError> {
    let result = match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
    };
    result.ok_or(EvalError::Overflow(Overflow::Binary {
        op,
        left: a,
        right: b,
    }))
}

/// Unary `-`; negating the most negative Long is an error.
pub fn neg(a: i64) -> Result<i64, EvalError> {
    a.checked_neg()
        .ok_or(EvalError::Overflow(Overflow::Negate(a)))
}

/// `a + b`, `a - b` or `a * b` on values, which must be Longs.
pub fn arith_values(op: ArithOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    Ok(Value::Long(arith(op, a.as_long()?, b.as_long()?)?))
}

/// Unary `-` on a value, which must be a Long.
pub fn negate(v: &Value) -> Result<Value, EvalError> {
    Ok(Value::Long(neg(v.as_long()?)?))
}

/// `!v`, for a boolean `v`.
pub fn not(v: &Value) -> Result<Value, EvalError> {
    Ok(Value::Bool(!v.as_bool()?))
}

/// `v.isEmpty()`, for a set `v`.
pub fn is_empty(v: &Value) -> Result<Value, EvalError> {
    Ok(Value::Bool(v.as_set()?.is_empty()))
}

/// The comparison operators. `a > b` is `!(a <= b)` and `a >= b` is `!(a < b)`, as Cedar
/// defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Less,
    LessEq,
    Greater,
    GreaterEq,
}

/// `a < b`, `a <= b`, `a > b` or `a >= b` (see [`compare`] for what can be ordered).
pub fn compare_values(op: CmpOp, a: &Value, b: &Value) -> Result<Value, EvalError> {
    let ord = compare(a, b)?;
    Ok(Value::Bool(match op {
        CmpOp::Less => ord.is_lt(),
        CmpOp::LessEq => ord.is_le(),
        CmpOp::Greater => !ord.is_le(),
        CmpOp::GreaterEq => !ord.is_lt(),
    }))
}

/// `set.contains(v)`.
pub fn contains(set: &Value, v: &Value) -> Result<Value, EvalError> {
    Ok(Value::Bool(set.as_set()?.contains(v)))
}

/// `a.containsAll(b)`: every element of `b` is in `a`.
pub fn contains_all(a: &Value, b: &Value) -> Result<Value, EvalError> {
    let (all, some) = (a.as_set()?, b.as_set()?);
    Ok(Value::Bool(some.is_subset(all)))
}

/// `a.containsAny(b)`: some element of `b` is in `a`.
pub fn contains_any(a: &Value, b: &Value) -> Result<Value, EvalError> {
    Ok(Value::Bool(!a.as_set()?.is_disjoint(b.as_set()?)))
}

/// `v like pattern`, for a string `v`.
pub fn like(v: &Value, pattern: &Pattern) -> Result<Value, EvalError> {
    Ok(Value::Bool(pattern.matches(v.as_str()?)))
}

/// `v is T`: whether the entity `v` has type `T` (a type error when `v` is not an entity).
pub fn is_type(v: &Value, ty: &EntityType) -> Result<bool, EvalError> {
    Ok(v.as_entity()?.entity_type() == ty)
}

/// Orders two values for the comparison operators: two Longs, two datetimes or two durations.
/// Anything else is a type error naming the operand that does not fit.
pub fn compare(lhs: &Value, rhs: &Value) -> Result<Ordering, EvalError> {
    match (lhs, rhs) {
        (Value::Long(a), Value::Long(b)) => return Ok(a.cmp(b)),
        (Value::Ext(a), Value::Ext(b)) => {
            if let Some(ord) = a.compare(b) {
                return Ok(ord);
            }
        }
        _ => {}
    }
    let orderable = |v: &Value| match v {
        Value::Long(_) => Some(ValueType::Long),
        Value::Ext(e) if e.supports_ordering() => Some(ValueType::Ext(e.type_name())),
        _ => None,
    };
    Err(match (orderable(lhs), orderable(rhs)) {
        (Some(expected), _) => EvalError::type_error(expected, rhs.value_type()),
        (None, Some(expected)) => EvalError::type_error(expected, lhs.value_type()),
        (None, None) => EvalError::Type {
            expected: vec![
                ValueType::Long,
                ValueType::Ext("datetime"),
                ValueType::Ext("duration"),
            ],
            actual: lhs.value_type(),
            advice: Some("only long, datetime and duration values can be compared"),
        },
    })
}

impl Value {
    pub fn as_bool(&self) -> Result<bool, EvalError> {
        match self {
            Value::Bool(b) => Ok(*b),
            other => Err(EvalError::type_error(ValueType::Bool, other.value_type())),
        }
    }

    pub fn as_long(&self) -> Result<i64, EvalError> {
        match self {
            Value::Long(i) => Ok(*i),
            other => Err(EvalError::type_error(ValueType::Long, other.value_type())),
        }
    }

    pub fn as_str(&self) -> Result<&str, EvalError> {
        match self {
            Value::String(s) => Ok(s),
            other => Err(EvalError::type_error(ValueType::String, other.value_type())),
        }
    }

    pub fn as_set(&self) -> Result<&Set, EvalError> {
        match self {
            Value::Set(s) => Ok(s),
            other => Err(EvalError::type_error(ValueType::Set, other.value_type())),
        }
    }

    pub fn as_entity(&self) -> Result<&EntityUid, EvalError> {
        match self {
            Value::Entity(uid) => Ok(uid),
            other => Err(EvalError::type_error(ValueType::Entity, other.value_type())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_overflow_is_an_error() {
        assert_eq!(arith(ArithOp::Add, 1, 2), Ok(3));
        assert!(arith(ArithOp::Add, i64::MAX, 1).is_err());
        assert!(arith(ArithOp::Sub, i64::MIN, 1).is_err());
        assert!(arith(ArithOp::Mul, i64::MAX / 2 + 1, 2).is_err());
        assert_eq!(arith(ArithOp::Mul, -3, 4), Ok(-12));
        assert!(neg(i64::MIN).is_err());
        assert_eq!(neg(i64::MAX), Ok(-i64::MAX));
    }

    #[test]
    fn comparison_reports_the_operand_that_does_not_fit() {
        assert_eq!(
            compare(&Value::Long(1), &Value::Long(2)),
            Ok(Ordering::Less)
        );
        let e = compare(&Value::Long(1), &Value::Bool(true)).unwrap_err();
        assert_eq!(e, EvalError::type_error(ValueType::Long, ValueType::Bool));
        let e = compare(&Value::string("a"), &Value::Long(1)).unwrap_err();
        assert_eq!(e, EvalError::type_error(ValueType::Long, ValueType::String));
        assert!(matches!(
            compare(&Value::string("a"), &Value::string("b")),
            Err(EvalError::Type {
                actual: ValueType::String,
                ..
            })
        ));
    }
}
