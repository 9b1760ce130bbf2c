//! # Thuja
//!
//! A fast, exact engine for the [Cedar](https://www.cedarpolicy.com) authorization-policy
//! language: the same policy, entity, schema and request files as Cedar, and the same decisions.
//!
//! ```no_run
//! use thuja::{Authorizer, input};
//!
//! let policies = input::policies_from_str("policies.cedar", "permit(principal, action, resource);")?;
//! let entities = input::entities_from_str("entities.json", "[]", None)?;
//! let request = input::request_from_parts(r#"User::"alice""#, r#"Action::"view""#, r#"Photo::"a""#, None, None, None)?;
//! let response = Authorizer::new().is_authorized(&request, &policies, &entities);
//! println!("{}", response.decision);
//! # Ok::<(), thuja::input::InputError>(())
//! ```
//!
//! To answer many requests against one policy set, compile it once with
//! [`Authorizer::compile`] and pass the [`CompiledPolicies`] to
//! [`Authorizer::is_authorized_compiled`]; [`Authorizer::is_authorized`] compiles on every call
//! when the engine needs it. When the entity store stays the same too, [`Authorizer::bind`] the
//! compiled policies to it and use [`Authorizer::is_authorized_bound`]: the engines then find a
//! request's candidate policies without walking the hierarchy of its principal and resource.
//!
//! This crate is the public facade: [`input`] reads Cedar's file formats into Thuja's types with
//! located errors, and [`Authorizer`] answers requests. The command line is the `thuja-cli`
//! crate and Cedar's integration tests run from `thuja-conformance`. The parts live in their own crates: `thuja-runtime` (data model), `thuja-compiler`
//! (parsing, schemas, lowering to bytecode), `thuja-interp` (the reference interpreter),
//! `thuja-vm` (the bytecode VM), `thuja-jit` (native code from Cranelift).

pub mod input;

use std::sync::{Arc, OnceLock};

pub use thuja_compiler::ast::PolicySet;
use thuja_compiler::index::EntityKeys;
pub use thuja_compiler::program::Program;
use thuja_compiler::validator::PolicySetTypes;
pub use thuja_jit::{NativeCode, Tier};
pub use thuja_runtime::{
    Decision, Entities, EntityUid, PolicyError, Request, Response, Schema, Value,
};

/// Which evaluator answers requests. Every engine gives the same responses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter, which evaluates the AST directly.
    Interp,
    /// The bytecode VM, which runs the policies compiled to a [`Program`]; the default.
    #[default]
    Vm,
    /// Native code from Cranelift for the program's policies (the VM runs any policy it does
    /// not compile; see [`CompiledPolicies::native`]).
    Jit,
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interp" => Ok(Engine::Interp),
            "vm" => Ok(Engine::Vm),
            "jit" => Ok(Engine::Jit),
            other => Err(format!(
                "unknown engine `{other}` (expected `interp`, `vm` or `jit`)"
            )),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Interp => "interp",
            Engine::Vm => "vm",
            Engine::Jit => "jit",
        })
    }
}

/// A policy set ready to answer many requests: the policies and, compiled on first use by an
/// engine that needs it, their [`Program`].
#[derive(Clone, Debug)]
pub struct CompiledPolicies {
    policies: PolicySet,
    /// The validator's expression types, when compiled for a schema.
    types: Option<PolicySetTypes>,
    program: OnceLock<Program>,
    /// The program's native code, compiled on first use by the JIT engine; the error says why
    /// there is none (the VM then runs every policy).
    native: OnceLock<Result<Arc<NativeCode>, String>>,
}

impl CompiledPolicies {
    /// Takes the policies; nothing is compiled until an engine needs it.
    pub fn new(policies: PolicySet) -> Self {
        CompiledPolicies {
            policies,
            types: None,
            program: OnceLock::new(),
            native: OnceLock::new(),
        }
    }

    /// Takes the policies and the types the validator gives their expressions against
    /// `schema`; the program (compiled on first use) is specialised on them. Requests must then
    /// be validated against `schema` and entities read with it (as [`input`] does when given
    /// the schema and request validation): on other data the answers may differ from Cedar's.
    pub fn for_schema(policies: PolicySet, schema: &Schema) -> Self {
        let types = thuja_compiler::validator::expression_types(schema, &policies);
        CompiledPolicies {
            policies,
            types: Some(types),
            program: OnceLock::new(),
            native: OnceLock::new(),
        }
    }

    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The compiled program (compiled now if it was not yet).
    pub fn program(&self) -> &Program {
        self.program.get_or_init(|| {
            thuja_compiler::program::lower_typed(&self.policies, self.types.as_ref())
        })
    }

    /// The program's native code (compiled now if it was not yet), or why there is none.
    pub fn native(&self) -> Result<&NativeCode, &str> {
        let program = self.program();
        self.native
            .get_or_init(|| {
                NativeCode::compile(program, thuja_jit::Options::default())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map(|code| &**code)
            .map_err(String::as_str)
    }
}

/// Compiled policies joined with one entity store: made by [`Authorizer::bind`], used by
/// [`Authorizer::is_authorized_bound`].
#[derive(Clone, Debug)]
pub struct Bound<'a> {
    policies: &'a CompiledPolicies,
    entities: &'a Entities,
    /// The program's scope index joined with `entities`; none for the interpreter.
    joined: Option<EntityKeys>,
}

impl Bound<'_> {
    pub fn policies(&self) -> &CompiledPolicies {
        self.policies
    }

    pub fn entities(&self) -> &Entities {
        self.entities
    }
}

/// Answers authorization requests with the chosen engine.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    engine: Engine,
}

impl Authorizer {
    pub fn new() -> Self {
        Authorizer::default()
    }

    pub fn with_engine(engine: Engine) -> Self {
        Authorizer { engine }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Prepares `policies` for many requests, compiling them now if this engine runs compiled
    /// code.
    pub fn compile(&self, policies: &PolicySet) -> CompiledPolicies {
        let compiled = CompiledPolicies::new(policies.clone());
        self.prepare(&compiled);
        compiled
    }

    /// Like [`compile`](Self::compile), specialising the compiled code on the policies' types
    /// against `schema` ([`CompiledPolicies::for_schema`]): requests must be validated against
    /// `schema` and entities read with it.
    pub fn compile_for_schema(&self, policies: &PolicySet, schema: &Schema) -> CompiledPolicies {
        if self.engine == Engine::Interp {
            return CompiledPolicies::new(policies.clone());
        }
        let compiled = CompiledPolicies::for_schema(policies.clone(), schema);
        self.prepare(&compiled);
        compiled
    }

    /// Compiles what this engine runs.
    fn prepare(&self, compiled: &CompiledPolicies) {
        match self.engine {
            Engine::Interp => {}
            Engine::Vm => {
                compiled.program();
            }
            Engine::Jit => {
                let _ = compiled.native();
            }
        }
    }

    /// Decides `request` against compiled policies over `entities`.
    pub fn is_authorized_compiled(
        &self,
        request: &Request,
        policies: &CompiledPolicies,
        entities: &Entities,
    ) -> Response {
        self.answer(request, policies, entities, None)
    }

    /// Joins compiled policies with the entity store many requests will be decided over. The
    /// compiled engines then read the scope-index keys of a request's principal and resource,
    /// found here for every entity of the store, instead of walking their ancestors on each
    /// request: the responses are the same, found faster. The join costs about as much as
    /// finding the candidates of one request per entity (and one cache line of memory per
    /// entity); the store cannot change while it is bound. The interpreter has nothing to join.
    pub fn bind<'a>(&self, policies: &'a CompiledPolicies, entities: &'a Entities) -> Bound<'a> {
        let joined = match self.engine {
            Engine::Interp => None,
            Engine::Vm | Engine::Jit => Some(policies.program().index.join(entities)),
        };
        Bound {
            policies,
            entities,
            joined,
        }
    }

    /// Decides `request` against the policies over the store `bound` joins them with, as
    /// [`is_authorized_compiled`](Self::is_authorized_compiled) decides it.
    pub fn is_authorized_bound(&self, request: &Request, bound: &Bound<'_>) -> Response {
        self.answer(
            request,
            bound.policies,
            bound.entities,
            bound.joined.as_ref(),
        )
    }

    fn answer(
        &self,
        request: &Request,
        policies: &CompiledPolicies,
        entities: &Entities,
        joined: Option<&EntityKeys>,
    ) -> Response {
        let program = || policies.program();
        match (self.engine, joined) {
            (Engine::Interp, _) => {
                thuja_interp::is_authorized(&policies.policies, request, entities)
            }
            (Engine::Vm, None) => thuja_vm::is_authorized(program(), request, entities),
            (Engine::Vm, Some(joined)) => {
                thuja_vm::is_authorized_joined(program(), request, entities, joined)
            }
            (Engine::Jit, _) => match policies.native() {
                Ok(code) => thuja_jit::is_authorized(program(), code, request, entities, joined),
                Err(_) => {
                    thuja_vm::decide(program(), request, entities, joined, |m, _, p| m.run(p))
                }
            },
        }
    }

    /// Decides `request` against `policies` over `entities`. The VM and the JIT compile the
    /// policies on every call: for many requests, [`compile`](Self::compile) them once instead.
    pub fn is_authorized(
        &self,
        request: &Request,
        policies: &PolicySet,
        entities: &Entities,
    ) -> Response {
        match self.engine {
            Engine::Interp => thuja_interp::is_authorized(policies, request, entities),
            Engine::Vm => {
                let program = thuja_compiler::program::lower(policies);
                thuja_vm::is_authorized(&program, request, entities)
            }
            Engine::Jit => {
                let compiled = self.compile(policies);
                self.is_authorized_compiled(request, &compiled, entities)
            }
        }
    }
}
