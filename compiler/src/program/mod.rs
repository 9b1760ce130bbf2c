//! The compiled form of a policy set: a [`Program`] of bytecode that the VM runs.
//!
//! A program is plain data: the [`ScopeIndex`] of the policy set, one [`CompiledPolicy`] per
//! active policy (numbered as the index numbers them: the order of
//! [`PolicySet::active`](crate::ast::PolicySet::active)), one code vector that every policy's
//! code is a range of, a span table beside it, and the constant pools the instructions refer to
//! by number ([`Constants`]). [`lower`] builds it from a policy set; `Display` prints it as a
//! listing (the `listing` module).
//!
//! ## The machine
//!
//! Instructions ([`Op`]) work on a stack of runtime values. A policy's code checks its `when` and
//! `unless` conditions in order, each ending in [`Op::Require`]; running off the end of the range
//! means the policy is satisfied. The code of a policy whose scope the index cannot decide (a
//! link with a slot that has no value: [`ScopeIndex::unresolved`]) first checks the scope itself,
//! as the reference interpreter does; every other policy's scope is the index's business, and its
//! code assumes it holds.
//!
//! ## What it promises
//!
//! Running a policy's code on a request whose scope the policy matches gives what the reference
//! interpreter's `is_satisfied` gives: true, false, or the same error, raised with the same span
//! (`spans[pc]` of the instruction that failed is the span of the expression whose evaluation
//! failed). Operands are evaluated in the interpreter's order, `&&`, `||` and `if` evaluate only
//! what the interpreter evaluates, and an expression nested [`MAX_EVAL_DEPTH`] levels deep
//! becomes an instruction that raises the interpreter's recursion error. Jump targets lie within
//! the policy's range (or at its end); constant numbers lie within their pools.
//!
//! [`MAX_EVAL_DEPTH`]: thuja_runtime::error::MAX_EVAL_DEPTH

mod listing;
mod lower;

use std::ops::Range;
use std::sync::Arc;

use thuja_runtime::{EntityType, EvalError, ExtFn, Pattern, PolicyId, Value};

use crate::ast::{BinaryOp, Effect, UnaryOp, Var};
use crate::index::ScopeIndex;
use crate::source::{Source, Span};

pub use lower::{lower, lower_typed};

/// A policy set compiled for the VM; see the [module documentation](self).
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Which policies' scopes hold for a request.
    pub index: ScopeIndex,
    /// Entry `n` is the policy the index numbers `n`.
    pub policies: Vec<CompiledPolicy>,
    /// Every policy's instructions, one range each.
    pub code: Vec<Op>,
    /// `spans[pc]` is where the expression `code[pc]` evaluates is in its policy's source.
    pub spans: Vec<Span>,
    pub constants: Constants,
}

/// One active policy: a static policy, or a template link with its slots filled in.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    /// The policy's id, or the link's.
    pub id: PolicyId,
    pub effect: Effect,
    /// Its instructions in [`Program::code`]; jumps inside it are absolute.
    pub code: Range<usize>,
    /// Whether its code was specialised on the validator's types
    /// ([`lower_typed`]).
    pub typed: bool,
    /// The text the spans of its instructions point into.
    pub source: Arc<Source>,
}

/// The values and names instructions refer to by number.
#[derive(Clone, Debug, Default)]
pub struct Constants {
    /// Literals (and sets and records of literals, folded).
    pub values: Vec<Value>,
    /// Attribute names of `.attr` access.
    pub names: Vec<Arc<str>>,
    /// Attribute paths of `has` and the keys of record literals, in source order.
    pub name_lists: Vec<Vec<Arc<str>>>,
    pub patterns: Vec<Pattern>,
    pub types: Vec<EntityType>,
    /// Errors raised unconditionally: unlinked slots, and expressions nested too deeply.
    pub errors: Vec<EvalError>,
}

/// One instruction. Operands are numbers into [`Constants`] or absolute positions in
/// [`Program::code`]; "pop" and "push" refer to the value stack. Every instruction that can fail
/// raises its error with its entry in [`Program::spans`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push `values[i]`.
    Push(u32),
    /// Push a request variable.
    Var(Var),
    /// Raise `errors[i]`.
    Fail(u32),
    /// Go to the position.
    Jump(u32),
    /// Pop a value, which must be a boolean (type error otherwise); go to the position if it is
    /// false (`if`).
    JumpIfFalse(u32),
    /// The left operand of `&&` (`when: false`) or `||` (`when: true`): pop a value, which must
    /// be a boolean; if it equals `when`, push it back and go to `target`.
    ShortCircuit { when: bool, target: u32 },
    /// The value on top (the right operand of `&&` or `||`) must be a boolean; it stays.
    CheckBool,
    /// Pop one value, push the result.
    Unary(UnaryOp),
    /// Pop the right operand, then the left, push the result.
    Binary(BinaryOp),
    /// Pop `argc` arguments (the first pushed is the first argument), push the result.
    Call { func: ExtFn, argc: u32 },
    /// Pop a record or entity, push its attribute `names[i]`.
    GetAttr(u32),
    /// Pop a value, push whether it has the attribute path `name_lists[i]`.
    HasAttrs(u32),
    /// Pop a string, push whether it matches `patterns[i]`.
    Like(u32),
    /// Pop an entity, push whether its type is `types[i]`.
    Is(u32),
    /// The first half of `e is T in E`: pop an entity; if its type is not `types[ty]` push false
    /// and go to `target`, else push it back.
    IsOrJump { ty: u32, target: u32 },
    /// The second half of `e is T in E`: pop the target, then the entity; push `entity in target`.
    InTarget,
    /// Pop `n` values, push the set of them.
    MakeSet(u32),
    /// Pop one value per key of `name_lists[i]` (the last key's value on top), push the record.
    MakeRecord(u32),
    /// The end of a condition (or a scope check): pop a value, which must be a boolean; if it is
    /// not `want` the policy is not satisfied and its code stops.
    Require(bool),
}

impl Program {
    /// The instructions of policy `n` with their positions.
    pub fn policy_code(&self, n: usize) -> impl Iterator<Item = (usize, &Op)> {
        let range = self.policies.get(n).map_or(0..0, |p| p.code.clone());
        let start = range.start;
        self.code
            .get(range)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(i, op)| (start + i, op))
    }
}

#[cfg(test)]
mod tests;
