//! The abstract syntax of Cedar policies: what the parser produces, the interpreter evaluates and
//! the compiler lowers. Every node keeps its source span for diagnostics.

pub mod display;
pub mod expr;
pub mod policy;

pub use expr::{BinaryOp, Expr, ExprKind, Literal, MAX_EXPR_DEPTH, SlotId, UnaryOp, Var};
pub use policy::{
    ActionConstraint, ActivePolicy, Annotation, Condition, ConditionKind, Effect, EntityRef,
    LinkedPolicy, Policy, PolicySet, ScopeConstraint,
};
