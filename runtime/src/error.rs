//! Errors raised while evaluating an expression.
//!
//! An evaluation error makes the policy being evaluated unsatisfied and is reported in the
//! authorization response; it never decides a request by itself. Every tier raises these same
//! errors so that their responses can be compared.

use std::fmt;
use std::sync::Arc;

use crate::ops::ArithOp;
use crate::span::Span;
use crate::uid::EntityUid;
use crate::value::ValueType;

/// How deeply expressions may nest during evaluation: evaluating a subexpression this many
/// levels below a condition's root (the root being level 0) raises [`EvalError::RecursionLimit`]
/// instead. Every tier applies the same limit so that their responses agree.
pub const MAX_EVAL_DEPTH: usize = 2000;

/// An error raised by evaluating an expression against a request and entities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("entity `{0}` does not exist")]
    EntityDoesNotExist(EntityUid),
    #[error("`{entity}` does not have the attribute `{attr}`")]
    EntityAttrDoesNotExist { entity: EntityUid, attr: Arc<str> },
    #[error("record does not have the attribute `{attr}`{}", available_hint(.available))]
    RecordAttrDoesNotExist {
        attr: Arc<str>,
        available: Vec<Arc<str>>,
    },
    #[error("`{entity}` does not have the tag `{tag}`")]
    TagDoesNotExist { entity: EntityUid, tag: Arc<str> },
    #[error("type error: expected {}, got {actual}{}", ExpectedTypes(.expected), advice_suffix(.advice))]
    Type {
        expected: Vec<ValueType>,
        actual: ValueType,
        advice: Option<&'static str>,
    },
    #[error("integer overflow: {0}")]
    Overflow(Overflow),
    #[error("error while evaluating `{function}` extension function: {message}")]
    Extension {
        function: &'static str,
        message: String,
    },
    #[error(
        "wrong number of arguments provided to extension function `{function}`: expected {expected}, got {actual}"
    )]
    WrongArity {
        function: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("template slot `{0}` is not linked")]
    UnlinkedSlot(&'static str),
    #[error("expression is nested too deeply to evaluate")]
    RecursionLimit,
    /// A compiled tier found its program inconsistent (a bug, never Cedar semantics); the
    /// request is denied (fail closed).
    #[error("internal error in the compiled program: {0}")]
    Internal(&'static str),
}

/// An arithmetic operation whose result does not fit in a Long, with its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// `left op right`.
    Binary { op: ArithOp, left: i64, right: i64 },
    /// `-operand`.
    Negate(i64),
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Overflow::Binary { op, left, right } => {
                let verb = match op {
                    ArithOp::Add => "add",
                    ArithOp::Sub => "subtract",
                    ArithOp::Mul => "multiply",
                };
                write!(
                    f,
                    "integer overflow while attempting to {verb} the values `{left}` and `{right}`"
                )
            }
            Overflow::Negate(operand) => write!(
                f,
                "integer overflow while attempting to negate the value `{operand}`"
            ),
        }
    }
}

/// An evaluation error and where it was raised: the span, in the policy's source, of the
/// expression that raised it. Every tier (interpreter, VM, native code) reports its errors in
/// this shape. The span is `None` only for an internal error raised outside any expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalFailure {
    pub error: EvalError,
    pub span: Option<Span>,
}

impl EvalError {
    /// A type error for a value of type `actual` where `expected` was required.
    pub fn type_error(expected: ValueType, actual: ValueType) -> Self {
        EvalError::Type {
            expected: vec![expected],
            actual,
            advice: None,
        }
    }
}

struct ExpectedTypes<'a>(&'a [ValueType]);

impl fmt::Display for ExpectedTypes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("one of [")?;
                for (i, t) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("]")
            }
        }
    }
}

fn advice_suffix(advice: &Option<&'static str>) -> String {
    advice.map(|a| format!(". {a}")).unwrap_or_default()
}

fn available_hint(available: &[Arc<str>]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = available.iter().map(|a| a.as_ref()).collect();
        format!("; available attributes: [{}]", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_types_involved() {
        let e = EvalError::type_error(ValueType::Long, ValueType::String);
        assert_eq!(e.to_string(), "type error: expected long, got string");
        let e = EvalError::Type {
            expected: vec![ValueType::Set, ValueType::Entity],
            actual: ValueType::Bool,
            advice: None,
        };
        assert_eq!(
            e.to_string(),
            "type error: expected one of [set, (entity of any type)], got bool"
        );
    }
}
