//! # thuja-vm
//!
//! The bytecode VM: answers authorization requests by running a compiled
//! [`Program`](thuja_compiler::program::Program) — the scope index picks the candidate policies,
//! and each candidate's condition code runs on a stack machine ([`machine`]) whose operators are
//! the runtime's (`thuja_runtime::ops`, `access`, `ext`).
//!
//! ## What it promises
//!
//! [`is_authorized`] (and [`is_authorized_joined`], given the index joined with the store)
//! returns exactly the reference interpreter's response for the policy set
//! the program was lowered from: the same decision, the same reasons, and the same errors (policy
//! ids in policy-set order, error values, spans). Policies the index leaves out cannot be
//! satisfied or fail (their scope does not hold, and the interpreter checks scope first), so
//! skipping them is exact. It never panics and never recurses; a program found inconsistent (a
//! bug in lowering) denies the request and reports an [`EvalError::Internal`] error (fail closed).
//!
//! [`EvalError::Internal`]: thuja_runtime::EvalError::Internal

mod authorizer;
pub mod machine;

pub use authorizer::{decide, is_authorized, is_authorized_joined};
pub use machine::{Failure, Machine, Memo, Operand, RequestValues, Stack};

#[cfg(test)]
mod tests;
