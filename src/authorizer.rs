//! The lower-level way to decide: an [`Authorizer`] running one evaluator over policies and an
//! entity store passed on each call, compiled once with [`CompiledPolicies`] and joined with a
//! store with [`Bound`]. Tools that compare evaluators on the same inputs use it; applications
//! use the owned [`Engine`](crate::Engine).

use std::sync::{Arc, OnceLock};

use thuja_compiler::ast::PolicySet;
use thuja_compiler::index::EntityKeys;
use thuja_compiler::program::Program;
use thuja_compiler::validator::PolicySetTypes;
use thuja_jit::NativeCode;
use thuja_runtime::{Entities, Request, Response, Schema};

use crate::Evaluator;

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
    /// be validated against `schema` and entities read with it (as [`input`](crate::input) does when given
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

    /// The policies (compiled or not).
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
    /// The compiled policies it joins.
    pub fn policies(&self) -> &CompiledPolicies {
        self.policies
    }

    /// The entity store it joins.
    pub fn entities(&self) -> &Entities {
        self.entities
    }
}

/// Answers authorization requests with the chosen engine.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    engine: Evaluator,
}

impl Authorizer {
    /// An authorizer running the default evaluator (the VM).
    pub fn new() -> Self {
        Authorizer::default()
    }

    /// An authorizer running `engine`.
    pub fn with_engine(engine: Evaluator) -> Self {
        Authorizer { engine }
    }

    /// The evaluator it runs.
    pub fn engine(&self) -> Evaluator {
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
        if self.engine == Evaluator::Interp {
            return CompiledPolicies::new(policies.clone());
        }
        let compiled = CompiledPolicies::for_schema(policies.clone(), schema);
        self.prepare(&compiled);
        compiled
    }

    /// Compiles what this engine runs.
    fn prepare(&self, compiled: &CompiledPolicies) {
        match self.engine {
            Evaluator::Interp => {}
            Evaluator::Vm => {
                compiled.program();
            }
            Evaluator::Jit => {
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
            Evaluator::Interp => None,
            Evaluator::Vm | Evaluator::Jit => Some(policies.program().index.join(entities)),
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
            (Evaluator::Interp, _) => {
                thuja_interp::is_authorized(&policies.policies, request, entities)
            }
            (Evaluator::Vm, None) => thuja_vm::is_authorized(program(), request, entities),
            (Evaluator::Vm, Some(joined)) => {
                thuja_vm::is_authorized_joined(program(), request, entities, joined)
            }
            (Evaluator::Jit, _) => match policies.native() {
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
            Evaluator::Interp => thuja_interp::is_authorized(policies, request, entities),
            Evaluator::Vm => {
                let program = thuja_compiler::program::lower(policies);
                thuja_vm::is_authorized(&program, request, entities)
            }
            Evaluator::Jit => {
                let compiled = self.compile(policies);
                self.is_authorized_compiled(request, &compiled, entities)
            }
        }
    }
}
