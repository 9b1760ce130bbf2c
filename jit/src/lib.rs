//! # thuja-jit
//!
//! Native code for compiled policies. [`NativeCode::compile`] translates each policy's bytecode
//! in a [`Program`](thuja_compiler::program::Program) to Cranelift IR and then
//! to machine code; [`is_authorized`] answers requests with it, sharing the VM's scope index,
//! value stack, operators and combination of outcomes.
//!
//! ## What it promises
//!
//! - The same responses as the VM (and so the interpreter): decisions, reasons, errors and
//!   their spans. Native code keeps booleans and longs in registers and calls the runtime's
//!   operators through runtime helpers for everything else; when an operation raises an evaluation
//!   error, native code stops and the VM runs that policy, so errors are the VM's by
//!   construction.
//! - Per-policy fallback: a policy the translator declines (or Cranelift refuses) runs on the
//!   VM; [`NativeCode::tier`] says which tier runs each policy and why.
//! - Memory safety: native code touches no memory itself; it passes the machine pointer it was
//!   called with to helpers, which check every index they are given. A helper that panics or
//!   finds the program inconsistent makes the request a Deny with an internal error (fail
//!   closed). The code's memory is freed when the [`NativeCode`] is dropped.
//! - `unsafe` lives only in `helpers` (dereferencing the machine pointer) and `native`
//!   (building, calling and freeing the code). Both are private to this crate: the helpers
//!   are `unsafe extern "C" fn`s that only native code made here calls, and operand
//!   references (`helpers::OperandRef`) are encoded and decoded in one place.

mod authorizer;
mod helpers;
mod native;
mod translate;

pub use authorizer::is_authorized;
pub use native::{Function, NativeCode, Options, Tier, Unavailable};

#[cfg(test)]
mod tests;
