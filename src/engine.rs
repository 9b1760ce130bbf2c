//! The owned engine: policies compiled once, an entity store, and the two joined, held together
//! and shared.
//!
//! An [`Engine`] is built eagerly by an [`EngineBuilder`]: the policies are compiled for the
//! chosen [`Evaluator`] (bytecode, and native code for the JIT), the entities read (typed by the
//! schema when there is one) and joined with the compiled policies' scope index. Every failure
//! is reported by [`build`](EngineBuilder::build); nothing is compiled later, on a request.
//!
//! An engine is immutable. Changing it — other policies, entities upserted or removed — makes
//! a new engine that shares with the old one everything that did not change; requests in
//! flight on the old one finish there. [`LiveEngine`](crate::LiveEngine) swaps the engine
//! serving requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use thuja_compiler::ast::PolicySet;
use thuja_compiler::index::EntityKeys;
use thuja_compiler::program::Program;
use thuja_jit::NativeCode;
use thuja_runtime::json::{self as data_json, RequestValidationError};
use thuja_runtime::{Entities, EntitiesError, Entity, EntityUid, Request, Response, Schema};

use crate::Evaluator;
use crate::explain::Explanation;
use crate::input::{self, InputError};
use crate::locate::Locator;

/// Policies, schema and entities ready to decide requests (see the [crate documentation](crate)).
///
/// Built eagerly by an [`EngineBuilder`]: the policies compiled for the chosen [`Evaluator`]
/// (bytecode, and native code for the JIT), the entities read (typed by the schema when there
/// is one) and joined with the compiled policies' scope index; every failure is reported by
/// [`build`](EngineBuilder::build), and nothing is compiled later, on a request. Immutable:
/// changing policies or entities makes a new engine that shares with this one everything that
/// did not change, and requests in flight on this one finish here.
///
/// Cheap to clone (one reference count) and `Send + Sync`: share one engine between threads,
/// each deciding with [`decide`](Engine::decide), which takes no lock and writes no memory
/// another request reads.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

const _: () = {
    const fn shared<T: Send + Sync + 'static>() {}
    shared::<Engine>();
};

pub(crate) struct Inner {
    /// See [`Engine::revision`].
    revision: u64,
    evaluator: Evaluator,
    schema: Option<Arc<Schema>>,
    /// Whether requests are validated against `schema` (and the code specialised on its types).
    validates: bool,
    policies: Arc<Compiled>,
    entities: Entities,
    /// The compiled policies' scope index joined with `entities`; `None` for the interpreter.
    joined: Option<EntityKeys>,
}

/// The last revision given to an engine.
static REVISIONS: AtomicU64 = AtomicU64::new(0);

fn next_revision() -> u64 {
    REVISIONS.fetch_add(1, Ordering::Relaxed) + 1
}

/// Policies compiled once, shared by an engine and the engines its entity updates make.
struct Compiled {
    set: PolicySet,
    /// The bytecode, for the VM and the JIT.
    program: Option<Program>,
    /// Native code, for the JIT.
    native: Option<NativeCode>,
    /// Where each policy's errors are in its source text.
    locator: Locator,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Engine")
            .field("revision", &inner.revision)
            .field("evaluator", &inner.evaluator)
            .field("policies", &inner.policies.set.len())
            .field("entities", &inner.entities.len())
            .field("schema", &inner.schema.is_some())
            .field("validates_requests", &inner.validates)
            .finish_non_exhaustive()
    }
}

/// Why an engine could not be built, or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An input could not be read (entities JSON given as text).
    #[error("{0}")]
    Input(#[from] InputError),
    /// The entities do not form a store (a cycle, conflicting duplicates), or one does not
    /// conform to the schema.
    #[error("entities: {0}")]
    Entities(String),
    /// Native code was asked for and could not be made at all (a policy Cranelift cannot
    /// compile runs on the VM instead; see [`Engine::native_code`]).
    #[error("{0}")]
    Jit(#[from] thuja_jit::Unavailable),
}

impl From<EntitiesError> for BuildError {
    fn from(e: EntitiesError) -> Self {
        BuildError::Entities(e.to_string())
    }
}

/// Where the builder's entities come from.
enum EntitiesInput {
    /// None given: the schema's actions, if any.
    None,
    Store(Entities),
    /// An entities file's text, read with the schema at build.
    Json {
        name: String,
        text: String,
    },
}

/// Builds an [`Engine`]: give it policies, optionally a schema and entities, choose an
/// evaluator, and [`build`](Self::build).
///
/// ```
/// use thuja::{Engine, Evaluator, Request, input};
///
/// let policies = input::policies_from_str("p.cedar", r#"permit(principal == User::"alice", action, resource);"#)?;
/// let engine = Engine::builder()
///     .policies(policies)
///     .entities_json("entities.json", "[]")
///     .evaluator(Evaluator::Vm)
///     .build()?;
/// let request = Request::new(
///     thuja::uid("User", "alice")?,
///     thuja::uid("Action", "view")?,
///     thuja::uid("Photo", "a")?,
///     thuja::Record::default(),
/// );
/// assert_eq!(engine.decide(&request)?.decision, thuja::Decision::Allow);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EngineBuilder {
    policies: PolicySet,
    schema: Option<Schema>,
    entities: EntitiesInput,
    evaluator: Evaluator,
    request_validation: bool,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            policies: PolicySet::default(),
            schema: None,
            entities: EntitiesInput::None,
            evaluator: Evaluator::default(),
            request_validation: true,
        }
    }
}

impl EngineBuilder {
    /// The policies (templates and links included). None given: no policy, every request
    /// denied.
    pub fn policies(mut self, policies: PolicySet) -> Self {
        self.policies = policies;
        self
    }

    /// The schema: entities are read and checked with it, requests validated against it, and
    /// the compiled code specialised on the types it gives the policies' expressions.
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The entity store. With a schema, its entities are checked against the schema at build
    /// and the schema's action entities added.
    pub fn entities(mut self, entities: Entities) -> Self {
        self.entities = EntitiesInput::Store(entities);
        self
    }

    /// The entity store, as an entities file's text (`name` is used in error messages), read
    /// with the schema at build.
    pub fn entities_json(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.entities = EntitiesInput::Json {
            name: name.into(),
            text: text.into(),
        };
        self
    }

    /// Which evaluator decides ([`Evaluator::Vm`] by default).
    pub fn evaluator(mut self, evaluator: Evaluator) -> Self {
        self.evaluator = evaluator;
        self
    }

    /// Whether requests are validated against the schema (on by default, as with `cedar`'s
    /// `--request-validation`). Off, the compiled code is not specialised on the schema's
    /// types, so that requests the schema does not describe are still decided as Cedar does.
    pub fn request_validation(mut self, on: bool) -> Self {
        self.request_validation = on;
        self
    }

    /// Compiles the policies, reads the entities and joins the two.
    pub fn build(self) -> Result<Engine, BuildError> {
        let schema = self.schema.map(Arc::new);
        let validates = self.request_validation && schema.is_some();
        let entities = read_entities(self.entities, schema.as_deref())?;
        let policies = Arc::new(Compiled::new(
            self.policies,
            self.evaluator,
            schema.as_deref().filter(|_| validates),
        )?);
        Ok(Engine::assemble(
            self.evaluator,
            schema,
            validates,
            policies,
            entities,
        ))
    }
}

fn read_entities(input: EntitiesInput, schema: Option<&Schema>) -> Result<Entities, BuildError> {
    match (input, schema) {
        (EntitiesInput::None, None) => Ok(Entities::default()),
        (EntitiesInput::None, Some(schema)) => Ok(schema.action_store()?),
        (EntitiesInput::Json { name, text }, schema) => {
            Ok(input::entities_from_str(&name, &text, schema)?)
        }
        (EntitiesInput::Store(entities), None) => Ok(entities),
        (EntitiesInput::Store(mut entities), Some(schema)) => {
            for entity in entities.iter().filter(|e| !e.uid().is_action()) {
                data_json::check_entity(schema, entity)
                    .map_err(|e| BuildError::Entities(e.message))?;
            }
            entities.extend_closed(schema.action_entities()?);
            Ok(entities)
        }
    }
}

impl Compiled {
    fn new(
        set: PolicySet,
        evaluator: Evaluator,
        typed_for: Option<&Schema>,
    ) -> Result<Self, BuildError> {
        let program = match evaluator {
            Evaluator::Interp => None,
            Evaluator::Vm | Evaluator::Jit => {
                let types = typed_for
                    .map(|schema| thuja_compiler::validator::expression_types(schema, &set));
                Some(thuja_compiler::program::lower_typed(&set, types.as_ref()))
            }
        };
        let native = match (evaluator, &program) {
            (Evaluator::Jit, Some(program)) => {
                Some(NativeCode::compile(program, thuja_jit::Options::default())?)
            }
            _ => None,
        };
        let locator = Locator::new(&set);
        Ok(Compiled {
            set,
            program,
            native,
            locator,
        })
    }
}

impl Engine {
    /// A builder: see [`EngineBuilder`].
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    fn assemble(
        evaluator: Evaluator,
        schema: Option<Arc<Schema>>,
        validates: bool,
        policies: Arc<Compiled>,
        entities: Entities,
    ) -> Engine {
        let joined = policies
            .program
            .as_ref()
            .map(|program| program.index.join(&entities));
        Engine {
            inner: Arc::new(Inner {
                revision: next_revision(),
                evaluator,
                schema,
                validates,
                policies,
                entities,
                joined,
            }),
        }
    }

    /// Decides `request`. With a schema (and request validation on), a request not yet
    /// [validated](Request::validate) against it is validated first, and an invalid one is
    /// refused with the error Cedar gives, as Cedar refuses to build it.
    pub fn decide(&self, request: &Request) -> Result<Response, RequestValidationError> {
        self.inner.decide(request)
    }

    /// Explains the decision on `request`: for every policy, why it did or did not apply (see
    /// [`Explanation`]). Found by the reference interpreter whatever the engine's evaluator, and
    /// validated as [`decide`](Self::decide) validates; its decision is `decide`'s. Costs a
    /// few evaluations of every policy: meant for people asking why, not for every request.
    pub fn explain(&self, request: &Request) -> Result<Explanation, RequestValidationError> {
        let inner = &*self.inner;
        if let Some(schema) = inner.schema.as_deref().filter(|_| inner.validates)
            && !request.is_valid_for(schema)
        {
            data_json::validate_request(schema, request)?;
        }
        let compiled = &*inner.policies;
        Ok(Explanation::new(
            &compiled.set,
            request,
            &inner.entities,
            &compiled.locator,
        ))
    }

    /// Validates `request` against the engine's schema (when it has one and validates
    /// requests), so that [`decide`](Self::decide) need not: worth doing once for a request
    /// decided more than once.
    pub fn validate(&self, request: &mut Request) -> Result<(), RequestValidationError> {
        match self
            .inner
            .schema
            .as_deref()
            .filter(|_| self.inner.validates)
        {
            Some(schema) => request.validate(schema),
            None => Ok(()),
        }
    }

    /// A new engine deciding with `policies` (compiled anew) over this engine's entities and
    /// schema.
    pub fn with_policies(&self, policies: PolicySet) -> Result<Engine, BuildError> {
        let inner = &*self.inner;
        let typed_for = inner.schema.as_deref().filter(|_| inner.validates);
        let compiled = Arc::new(Compiled::new(policies, inner.evaluator, typed_for)?);
        Ok(Engine::assemble(
            inner.evaluator,
            inner.schema.clone(),
            inner.validates,
            compiled,
            inner.entities.clone(),
        ))
    }

    /// A new engine over `entities` (a whole new store, joined anew; checked against the
    /// schema as [`EngineBuilder::entities`] does), with this engine's policies.
    pub fn with_entities(&self, entities: Entities) -> Result<Engine, BuildError> {
        let inner = &*self.inner;
        let entities = read_entities(EntitiesInput::Store(entities), inner.schema.as_deref())?;
        Ok(Engine::assemble(
            inner.evaluator,
            inner.schema.clone(),
            inner.validates,
            Arc::clone(&inner.policies),
            entities,
        ))
    }

    /// A new engine with `upserts` added to the store (replacing entities of the same uid)
    /// and the entities `removals` names taken out, sharing with this engine its compiled
    /// policies and every entity (and index entry) the change does not touch: the cost is
    /// that of the entities changed, and of those whose ancestors change with them (see
    /// [`Entities::update`]). With a schema, upserted entities must conform to it; actions
    /// come from the schema and cannot be changed. Nothing changes on an error.
    pub fn update_entities(
        &self,
        upserts: impl IntoIterator<Item = Entity>,
        removals: impl IntoIterator<Item = EntityUid>,
    ) -> Result<Engine, BuildError> {
        let inner = &*self.inner;
        let upserts: Vec<Entity> = upserts.into_iter().collect();
        let removals: Vec<EntityUid> = removals.into_iter().collect();
        if let Some(schema) = inner.schema.as_deref() {
            if let Some(action) = upserts
                .iter()
                .map(Entity::uid)
                .chain(&removals)
                .find(|uid| uid.is_action())
            {
                return Err(BuildError::Entities(format!(
                    "action `{action}` is declared by the schema and cannot be upserted or removed"
                )));
            }
            for entity in &upserts {
                data_json::check_entity(schema, entity)
                    .map_err(|e| BuildError::Entities(e.message))?;
            }
        }
        let updated = inner.entities.update(upserts, removals)?;
        let joined = match (&inner.joined, &inner.policies.program) {
            (Some(joined), Some(program)) => {
                Some(joined.update(&program.index, &inner.entities, &updated))
            }
            _ => None,
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                revision: next_revision(),
                evaluator: inner.evaluator,
                schema: inner.schema.clone(),
                validates: inner.validates,
                policies: Arc::clone(&inner.policies),
                entities: updated.entities,
                joined,
            }),
        })
    }

    /// [`update_entities`](Self::update_entities) with upserts only.
    pub fn upsert_entities(
        &self,
        entities: impl IntoIterator<Item = Entity>,
    ) -> Result<Engine, BuildError> {
        self.update_entities(entities, [])
    }

    /// [`update_entities`](Self::update_entities) with removals only.
    pub fn remove_entities(
        &self,
        uids: impl IntoIterator<Item = EntityUid>,
    ) -> Result<Engine, BuildError> {
        self.update_entities([], uids)
    }

    /// Reads an entities file's text with the engine's schema (for
    /// [`upsert_entities`](Self::upsert_entities)): the entities it lists, not a store (their
    /// ancestors are computed when they are upserted).
    pub fn entities_from_json(&self, name: &str, text: &str) -> Result<Vec<Entity>, BuildError> {
        let schema = self.inner.schema.as_deref();
        Ok(input::entity_list_from_str(name, text, schema)?)
    }

    /// A number no other engine made in this process has: tells which engine decided what
    /// (e.g. which one a [`LiveEngine`](crate::LiveEngine) held).
    pub fn revision(&self) -> u64 {
        self.inner.revision
    }

    /// The evaluator deciding requests.
    pub fn evaluator(&self) -> Evaluator {
        self.inner.evaluator
    }

    /// The policies (as parsed; see [`program`](Self::program) for the compiled form).
    pub fn policies(&self) -> &PolicySet {
        &self.inner.policies.set
    }

    /// The schema, if the engine has one.
    pub fn schema(&self) -> Option<&Schema> {
        self.inner.schema.as_deref()
    }

    /// The entity store requests are decided over.
    pub fn entities(&self) -> &Entities {
        &self.inner.entities
    }

    /// Whether requests are validated against the schema before they are decided.
    pub fn validates_requests(&self) -> bool {
        self.inner.validates
    }

    /// The listing of the compiled program (for the VM and the JIT): the scope index, then
    /// each policy's instructions with their constants and source positions.
    pub fn listing(&self) -> Option<String> {
        self.program().map(ToString::to_string)
    }

    /// The compiled bytecode (for the VM and the JIT): the compiler's layout.
    #[doc(hidden)]
    pub fn program(&self) -> Option<&Program> {
        self.inner.policies.program.as_ref()
    }

    /// The native code (for the JIT): which policies run natively and which on the VM, and why.
    pub fn native_code(&self) -> Option<&NativeCode> {
        self.inner.policies.native.as_ref()
    }

    /// Whether the two engines share their compiled policies (one was made from the other by
    /// entity changes).
    pub fn shares_policies_with(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner.policies, &other.inner.policies)
    }
}

impl Inner {
    /// [`Engine::decide`].
    pub(crate) fn decide(&self, request: &Request) -> Result<Response, RequestValidationError> {
        if let Some(schema) = self.schema.as_deref().filter(|_| self.validates)
            && !request.is_valid_for(schema)
        {
            data_json::validate_request(schema, request)?;
        }
        Ok(self.decide_valid(request))
    }

    /// Decides a request that needs no validation.
    fn decide_valid(&self, request: &Request) -> Response {
        let compiled = &*self.policies;
        let mut response = match (self.evaluator, &compiled.program, &self.joined) {
            (Evaluator::Vm, Some(program), Some(joined)) => {
                thuja_vm::is_authorized_joined(program, request, &self.entities, joined)
            }
            (Evaluator::Jit, Some(program), joined) => match &compiled.native {
                Some(code) => thuja_jit::is_authorized(
                    program,
                    code,
                    request,
                    &self.entities,
                    joined.as_ref(),
                ),
                None => thuja_vm::decide(
                    program,
                    request,
                    &self.entities,
                    joined.as_ref(),
                    |m, _, p| m.run(p),
                ),
            },
            _ => thuja_interp::is_authorized(&compiled.set, request, &self.entities),
        };
        if !response.errors.is_empty() {
            compiled.locator.locate(&mut response.errors);
        }
        response
    }
}
