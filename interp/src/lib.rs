//! # thuja-interp
//!
//! The reference interpreter: Cedar's evaluation and authorization semantics, read straight off
//! the AST with no optimisation, so that it can be checked against the specification by reading
//! it. It is the model the compiled tiers are differentially tested against (and it is itself
//! tested against `cedar-policy`).
//!
//! It shares the data model (`thuja_runtime`) and operator semantics with the other tiers, but
//! none of their evaluation code.

pub mod authorizer;
pub mod eval;
pub mod explain;
pub mod partial;

pub use authorizer::{is_authorized, is_satisfied};
pub use eval::Evaluator;
pub use explain::{Deciding, Outcome, PolicyTrace, Progress, ScopePart, explain_policy};
pub use partial::{PartialRequest, PartialResponse, PartialUid, partially_authorize};
pub use thuja_runtime::EvalFailure;

#[cfg(test)]
mod tests;
