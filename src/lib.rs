//! # Thuja
//!
//! A fast, exact engine for the [Cedar](https://www.cedarpolicy.com) authorization-policy
//! language: the same policy, entity, schema and request files as Cedar, and the same decisions.
//!
//! ```
//! use thuja::{Decision, Engine, Record, Request, Value, input, uid};
//!
//! let policies = input::policies_from_str(
//!     "policies.cedar",
//!     r#"permit(principal, action == Action::"view", resource) when { context.mfa };"#,
//! )?;
//! let engine = Engine::builder()
//!     .policies(policies)
//!     .entities_json("entities.json", r#"[{"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []}]"#)
//!     .build()?;
//! let context: Record = [("mfa", Value::from(true))].into_iter().collect();
//! let request = Request::new(uid("User", "alice")?, uid("Action", "view")?, uid("Photo", "a")?, context);
//! assert_eq!(engine.decide(&request)?.decision, Decision::Allow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The parts an application uses
//!
//! - [`Engine`], built by [`Engine::builder`]: policies compiled once for the chosen
//!   [`Evaluator`] (the bytecode VM by default; native code from Cranelift; or the reference
//!   interpreter), an optional [`Schema`], and an entity store, joined and ready. It is owned,
//!   cheap to clone, `Send + Sync + 'static`, and decides with `&self` ([`Engine::decide`])
//!   without locks. It is immutable: [`Engine::with_policies`],
//!   [`Engine::upsert_entities`], [`Engine::remove_entities`] and [`Engine::with_entities`] make
//!   new engines that share what did not change.
//! - [`LiveEngine`]: the engine serving requests, swapped atomically for a new one (requests in
//!   flight finish on the engine they started on, which is freed when the last of them ends).
//! - [`Request`] (with [`EntityUid`]s made by [`uid`], a context [`Record`] of [`Value`]s) in,
//!   [`Response`] out: the [`Decision`], the policies that determined it, and the
//!   [`PolicyError`]s of policies whose evaluation failed, each with its [`Location`].
//! - [`input`]: Cedar's file formats (policies, schemas, entities, requests) read with errors
//!   that say where the problem is; [`validate`] checks policies against a schema as Cedar's
//!   validator does.
//!
//! The lower-level [`Authorizer`] runs one evaluator over policies and a store passed on each
//! call; tools that compare evaluators use it.
//!
//! The parts live in their own crates: `thuja-runtime` (data model), `thuja-compiler` (parsing,
//! schemas, validation, lowering to bytecode), `thuja-interp` (the reference interpreter),
//! `thuja-vm` (the bytecode VM), `thuja-jit` (native code from Cranelift). The command line is
//! the `thuja-cli` crate; Cedar's integration tests run from `thuja-conformance`.

#![warn(missing_docs)]

pub mod input;
pub mod output;

mod authorizer;
mod engine;
pub mod explain;
mod live;
mod locate;
pub mod partial;
pub mod query;
pub mod validate;

pub use authorizer::{Authorizer, Bound, CompiledPolicies};
pub use engine::{BuildError, Engine, EngineBuilder};
pub use explain::Explanation;
pub use live::LiveEngine;
pub use partial::{PartialAnswer, PartialRequest, PartialUid};
pub use query::{QueryAnswer, QueryError};
pub use thuja_compiler::ReportFormat;
pub use thuja_compiler::ast::PolicySet;
/// The compiled bytecode: its layout is the compiler's and may change; print it (its `Display`
/// is the listing) rather than reading its fields.
#[doc(hidden)]
pub use thuja_compiler::program::Program;
pub use thuja_jit::{NativeCode, Tier};
pub use thuja_runtime::entity::Updated;
pub use thuja_runtime::json::RequestValidationError;
pub use thuja_runtime::{
    Decision, Entities, EntitiesError, Entity, EntityType, EntityUid, EvalError, ExtValue,
    Location, PolicyError, PolicyId, PolicyIds, Record, Request, Response, Schema, Set, Value,
};

/// An entity uid of type `ty` (a name such as `User` or `App::User`) and id `id`.
pub fn uid(ty: &str, id: &str) -> Result<EntityUid, thuja_runtime::name::NameError> {
    Ok(EntityUid::new(EntityType::parse(ty)?, id))
}

/// Which evaluator answers requests. Every evaluator gives the same responses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Evaluator {
    /// The reference interpreter, which evaluates the AST directly.
    Interp,
    /// The bytecode VM, which runs the policies compiled to a [`Program`]; the default.
    #[default]
    Vm,
    /// Native code from Cranelift for the program's policies (the VM runs any policy it does
    /// not compile; see [`Engine::native_code`]).
    Jit,
}

impl std::str::FromStr for Evaluator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interp" => Ok(Evaluator::Interp),
            "vm" => Ok(Evaluator::Vm),
            "jit" => Ok(Evaluator::Jit),
            other => Err(format!(
                "unknown engine `{other}` (expected `interp`, `vm` or `jit`)"
            )),
        }
    }
}

impl std::fmt::Display for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Evaluator::Interp => "interp",
            Evaluator::Vm => "vm",
            Evaluator::Jit => "jit",
        })
    }
}
