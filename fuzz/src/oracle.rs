//! Runs one [`Case`] through every oracle and checks the properties.
//!
//! The oracles: Thuja's reference interpreter, Thuja's bytecode VM and JIT, and `cedar-policy`. For each
//! they must agree on whether the inputs load (schema, policies, entities), on the validator's
//! strict-mode verdict and, when the verdicts agree, on its error and warning kinds per policy
//! and its verdict at an entity-dereference level of 0, 1 or 2 (schema cases), and for every
//! request on whether it is rejected as invalid
//! for the schema and otherwise on the decision, the reason set and the erroring-policy set.
//!
//! The VM's and the JIT's full responses (on code compiled with and, for schema cases, without
//! the validator's types) must equal the interpreter's, error values and spans included; so
//! must the VM's on the store closed with every entity's ancestors labelled in a forest rather
//! than listed.
//! Properties checked on the interpreter's answers: Allow implies a satisfied permit among the
//! reasons; a satisfied forbid means Deny; no satisfied policy means Deny; the same request gives
//! the same answer twice; shuffling the policies' order in the file changes nothing (ids mapped
//! back); and validator soundness: when the validator accepts the policies, the entities and
//! request conform to the schema (both were loaded and validated with it), evaluation raises
//! only the errors Cedar allows for valid policies (missing entity, overflow, extension
//! failures, depth limit); and the printing round trip: Thuja's policies printed back as text
//! parse again (by Thuja and by `cedar-policy`) to the same answers and verdict; and the
//! entities round trip: Thuja's store written back as JSON reads again (with the case's schema,
//! and without one) to an equal store whose writing is the same text, and `cedar-policy` reads
//! that text to the same entities as the case's own file.
//!
//! Each disagreement is a [`Mismatch`] whose `kind` names what differed, so that shrinking can
//! keep the same failure.

use std::collections::BTreeSet;
use std::str::FromStr;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::Value as Json;

use thuja_runtime::hierarchy::Closing;

use crate::generator::Case;

/// What one request came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Rejected before evaluation (invalid for the schema, bad context, bad uid).
    Rejected,
    Decided {
        allow: bool,
        reasons: BTreeSet<String>,
        errors: BTreeSet<String>,
    },
}

/// What one engine made of a whole case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// `Err` with the stage that failed when the inputs do not load.
    pub load: Result<(), String>,
    /// The validator's verdict (schema cases that load).
    pub valid: Option<bool>,
    /// The validator's findings in detail (schema cases that load).
    pub validation: Option<Validation>,
    pub requests: Vec<Outcome>,
}

/// A policy id and the kebab-case name of an error or warning kind (`incompatible-types`).
pub type Finding = (String, String);

/// The validator's findings: error and warning kinds per policy (strict mode), and the verdict
/// at the entity-dereference level [`level_of`] picks for the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    pub errors: BTreeSet<Finding>,
    pub warnings: BTreeSet<Finding>,
    pub level: Option<u32>,
    /// The verdict at `level` (the plain verdict without one).
    pub valid_at_level: bool,
}

/// The dereference level a case is also validated at: 0, 1 or 2; `None` for policies with many
/// `if`s, on which `cedar-policy` 4.14's level validation takes exponential time (a chain of 20
/// nested `if`s does not finish).
fn level_of(case: &Case) -> Option<u32> {
    let ifs = case
        .policies
        .iter()
        .map(|p| p.matches("if ").count())
        .sum::<usize>();
    (ifs <= 8).then_some((case.seed % 3) as u32)
}

fn thuja_validation(
    case: &Case,
    schema: &thuja::Schema,
    policies: &thuja::PolicySet,
) -> Validation {
    use thuja_compiler::validator::{ValidationOptions, validate};
    let result = validate(schema, policies, ValidationOptions::default());
    let level = level_of(case);
    let valid_at_level = match level {
        Some(level) => {
            validate(schema, policies, ValidationOptions { level: Some(level) }).is_valid()
        }
        None => result.is_valid(),
    };
    Validation {
        errors: result
            .errors
            .iter()
            .map(|e| (e.policy_id.to_string(), e.kind.name().to_string()))
            .collect(),
        warnings: result
            .warnings
            .iter()
            .map(|w| (w.policy_id.to_string(), w.kind.name().to_string()))
            .collect(),
        level,
        valid_at_level,
    }
}

/// `UnexpectedType(..)` (a Debug rendering) to `unexpected-type`.
fn kebab_variant(debug: &str) -> String {
    let mut out = String::new();
    for (i, c) in debug
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .enumerate()
    {
        if c.is_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn cedar_validation(
    case: &Case,
    schema: &cedar_policy::Schema,
    policies: &cedar_policy::PolicySet,
) -> Validation {
    use cedar_policy::{ValidationMode, Validator};
    let validator = Validator::new(schema.clone());
    let result = validator.validate(policies, ValidationMode::Strict);
    let level = level_of(case);
    let valid_at_level = match level {
        Some(level) => validator
            .validate_with_level(policies, ValidationMode::Strict, level)
            .validation_passed(),
        None => result.validation_passed(),
    };
    Validation {
        errors: result
            .validation_errors()
            .map(|e| (e.policy_id().to_string(), kebab_variant(&format!("{e:?}"))))
            .collect(),
        // Thuja gives no warnings about confusable or mixed-script text.
        warnings: result
            .validation_warnings()
            .map(|w| (w.policy_id().to_string(), kebab_variant(&format!("{w:?}"))))
            .filter(|(_, k)| {
                !k.starts_with("confusable") && !k.starts_with("mixed") && !k.starts_with("bidi")
            })
            .collect(),
        level,
        valid_at_level,
    }
}

/// One disagreement or broken property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// A stable name of what differed (`load`, `validate`, `request:vm`, `property:...`).
    pub kind: String,
    pub detail: String,
}

/// The result of checking one case.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    pub mismatches: Vec<Mismatch>,
    /// `cedar-policy`'s answers, the expected values of a reproduction file.
    pub cedar: Option<Run>,
    pub allows: usize,
    pub denies: usize,
    /// Requests with at least one erroring policy.
    pub with_errors: usize,
    pub rejected: usize,
    /// Whether the inputs loaded (as `cedar-policy` says).
    pub loaded: bool,
    /// Time spent in Thuja's runs (interpreter, VM, repeats, shuffled, round trip) and in
    /// `cedar-policy`'s, in seconds.
    pub thuja_seconds: f64,
    pub cedar_seconds: f64,
    /// The validator's verdict (as `cedar-policy` gives it).
    pub valid: Option<bool>,
}

/// Whether each policy (in file order) is a permit.
fn permits(case: &Case) -> Vec<bool> {
    case.policies
        .iter()
        .map(|p| match (p.find("permit("), p.find("forbid(")) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            _ => false,
        })
        .collect()
}

/// Thuja's view of a case, parsed once for several engines.
struct ThujaInputs {
    schema: Option<thuja::Schema>,
    policies: thuja::PolicySet,
    entities: thuja::Entities,
    requests: Vec<Option<thuja::Request>>,
}

fn thuja_load(case: &Case, policy_text: &str) -> Result<ThujaInputs, String> {
    use thuja::input;
    let schema = if case.uses_schema() {
        Some(
            input::schema_from_str("schema", &case.schema)
                .map_err(|e| format!("schema: {}", e.summary()))?,
        )
    } else {
        None
    };
    let policies = input::policies_from_str("policies", policy_text)
        .map_err(|e| format!("policies: {}", e.summary()))?;
    let entities = input::entities_from_str(
        "entities",
        &case.entities_json().to_string(),
        schema.as_ref(),
    )
    .map_err(|e| format!("entities: {}", e.summary()))?;
    let requests = case
        .requests
        .iter()
        .map(|r| {
            input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                thuja::input::RequestSchema::of(schema.as_ref(), true),
            )
            .ok()
        })
        .collect();
    Ok(ThujaInputs {
        schema,
        policies,
        entities,
        requests,
    })
}

fn outcome_of(r: &thuja::Response, rename: &dyn Fn(&str) -> String) -> Outcome {
    Outcome::Decided {
        allow: r.decision == thuja::Decision::Allow,
        reasons: r.reasons.iter().map(|s| rename(s)).collect(),
        errors: r.errors.iter().map(|e| rename(&e.policy_id)).collect(),
    }
}

/// Whether a policy the validator accepts may raise this error on conforming data: Cedar's
/// validator promises that only these remain (a missing entity, overflow, extension-function
/// failures, and the evaluation depth limit).
fn allowed_for_valid_policies(e: &thuja_runtime::EvalError) -> bool {
    use thuja_runtime::EvalError as E;
    matches!(
        e,
        E::EntityDoesNotExist(_) | E::Overflow(_) | E::Extension { .. } | E::RecursionLimit
    )
}

/// What [`thuja_answers`] collects besides the outcomes.
#[derive(Default)]
struct Sink {
    /// Errors a valid policy set may not raise.
    unsound: Vec<String>,
    /// The full responses (errors with their values and spans), `None` for rejected requests.
    responses: Vec<Option<thuja::Response>>,
}

/// The engine's answers, collecting into `sink`.
fn thuja_answers(
    inputs: &ThujaInputs,
    engine: thuja::Evaluator,
    rename: &dyn Fn(&str) -> String,
    sink: &mut Sink,
) -> Vec<Outcome> {
    let authorizer = thuja::Authorizer::with_engine(engine);
    let compiled = authorizer.compile(&inputs.policies);
    answers_with(inputs, &authorizer, &compiled, rename, sink)
}

/// The engine's responses (VM or JIT), into `sink`, on code specialised on the validator's
/// types (requests are validated against the schema, which that code needs); none without a
/// schema.
fn typed_responses(inputs: &ThujaInputs, engine: thuja::Evaluator, sink: &mut Sink) {
    if let Some(schema) = inputs.schema.as_ref() {
        let authorizer = thuja::Authorizer::with_engine(engine);
        let compiled = authorizer.compile_for_schema(&inputs.policies, schema);
        answers_with(inputs, &authorizer, &compiled, &|s| s.to_string(), sink);
    }
}

/// The answers of `authorizer` with `compiled` bound to the entities (as batch mode decides),
/// collecting into `sink`.
fn answers_with(
    inputs: &ThujaInputs,
    authorizer: &thuja::Authorizer,
    compiled: &thuja::CompiledPolicies,
    rename: &dyn Fn(&str) -> String,
    sink: &mut Sink,
) -> Vec<Outcome> {
    let bound = authorizer.bind(compiled, &inputs.entities);
    inputs
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| match r {
            None => {
                sink.responses.push(None);
                Outcome::Rejected
            }
            Some(r) => {
                let response = authorizer.is_authorized_bound(r, &bound);
                for e in &response.errors {
                    if !allowed_for_valid_policies(&e.error) {
                        sink.unsound
                            .push(format!("request {i}: {}: {}", e.policy_id, e.error));
                    }
                }
                let outcome = outcome_of(&response, rename);
                sink.responses.push(Some(response));
                outcome
            }
        })
        .collect()
}

/// `Engine::explain` on every request: its decision, reasons and errors (values and spans)
/// must be the interpreter's `responses`; a difference is pushed to `out`.
fn explained_alike(
    inputs: &ThujaInputs,
    responses: &[Option<thuja::Response>],
    out: &mut Vec<String>,
) {
    let engine = match thuja::Engine::builder()
        .policies(inputs.policies.clone())
        .entities(inputs.entities.clone())
        .evaluator(thuja::Evaluator::Interp)
        .build()
    {
        Ok(engine) => engine,
        Err(e) => {
            out.push(format!("the engine to explain with does not build: {e}"));
            return;
        }
    };
    for (i, (request, response)) in inputs.requests.iter().zip(responses).enumerate() {
        let (Some(request), Some(response)) = (request, response) else {
            continue;
        };
        let explanation = match engine.explain(request) {
            Ok(explanation) => explanation,
            Err(e) => {
                out.push(format!("request {i}: explain refused it: {e}"));
                continue;
            }
        };
        let errors: Vec<_> = explanation
            .errors()
            .map(|e| (&e.policy_id, &e.error, e.span))
            .collect();
        let expected: Vec<_> = response
            .errors
            .iter()
            .map(|e| (&e.policy_id, &e.error, e.span))
            .collect();
        if explanation.decision != response.decision
            || explanation.reasons() != response.reasons
            || errors != expected
        {
            out.push(format!(
                "request {i}: interp {response:?}; explain {:?} {:?} {errors:?}",
                explanation.decision,
                explanation.reasons()
            ));
        }
    }
}

/// Partial evaluation on every request, with parts of it unknown in turn (the principal, the
/// resource, the context, the principal's and resource's data, and all of these): a decision
/// it reaches must be the interpreter's, and the residual policies must decide the full
/// request exactly as the interpreter did (decision, reasons, errors with their spans). A
/// difference is pushed to `out`.
fn partial_alike(
    inputs: &ThujaInputs,
    responses: &[Option<thuja::Response>],
    out: &mut Vec<String>,
) {
    use thuja::partial::{PartialRequest, PartialUid};
    let engine = match thuja::Engine::builder()
        .policies(inputs.policies.clone())
        .entities(inputs.entities.clone())
        .evaluator(thuja::Evaluator::Interp)
        .build()
    {
        Ok(engine) => engine,
        Err(e) => {
            out.push(format!(
                "the engine to evaluate partially does not build: {e}"
            ));
            return;
        }
    };
    for (i, (request, response)) in inputs.requests.iter().zip(responses).enumerate() {
        let (Some(request), Some(response)) = (request, response) else {
            continue;
        };
        let known = |uid: &thuja::EntityUid| PartialUid::Known(uid.clone());
        let unknown = |uid: &thuja::EntityUid| PartialUid::Unknown(uid.entity_type().clone());
        let full = PartialRequest::new(
            known(request.principal()),
            request.action().clone(),
            known(request.resource()),
            Some(request.context().clone()),
        );
        let modes = [
            (
                "principal",
                PartialRequest {
                    principal: unknown(request.principal()),
                    ..full.clone()
                },
            ),
            (
                "resource",
                PartialRequest {
                    resource: unknown(request.resource()),
                    ..full.clone()
                },
            ),
            (
                "context",
                PartialRequest {
                    context: None,
                    ..full.clone()
                },
            ),
            (
                "entity data",
                full.clone()
                    .with_unknown_entity(request.principal().clone())
                    .with_unknown_entity(request.resource().clone()),
            ),
            (
                "all",
                PartialRequest {
                    principal: unknown(request.principal()),
                    resource: unknown(request.resource()),
                    context: None,
                    ..full.clone()
                }
                .with_unknown_entity(request.principal().clone())
                .with_unknown_entity(request.resource().clone()),
            ),
        ];
        for (mode, partial) in modes {
            let answer = match engine.partially_authorize(&partial) {
                Ok(answer) => answer,
                Err(e) => {
                    out.push(format!("request {i}, {mode} unknown: refused: {e}"));
                    continue;
                }
            };
            if let Some(decision) = answer.decision() {
                let reasons_hold = answer
                    .reasons()
                    .iter()
                    .all(|r| response.reasons.contains(r));
                if decision != response.decision || !reasons_hold {
                    out.push(format!(
                        "request {i}, {mode} unknown: decided {decision:?} for {:?}; interp {response:?}",
                        answer.reasons()
                    ));
                }
            }
            match answer.reauthorize(request, &inputs.entities) {
                Ok(again) if again == *response => {}
                Ok(again) => out.push(format!(
                    "request {i}, {mode} unknown: residuals decide {again:?}; interp {response:?}; residuals:\n{}",
                    answer.residuals_to_cedar()
                )),
                Err(e) => out.push(format!("request {i}, {mode} unknown: reauthorize: {e}")),
            }
        }
    }
}

/// Queries on every request: the resources of its resource's type its principal may reach, and
/// the principals of its principal's type that may reach its resource, must be what deciding
/// every entity of the type one by one with the VM allows. A difference is pushed to `out`.
fn queries_alike(inputs: &ThujaInputs, out: &mut Vec<String>) {
    use thuja::{Decision, EntityType, EntityUid, Request};
    let mut builder = thuja::Engine::builder()
        .policies(inputs.policies.clone())
        .entities(inputs.entities.clone())
        .evaluator(thuja::Evaluator::Vm);
    if let Some(schema) = &inputs.schema {
        builder = builder.schema(schema.clone());
    }
    let engine = match builder.build() {
        Ok(engine) => engine,
        Err(e) => {
            out.push(format!("the engine to query does not build: {e}"));
            return;
        }
    };
    let of_type = |ty: &EntityType| -> Vec<EntityUid> {
        let mut uids: Vec<EntityUid> = inputs
            .entities
            .iter()
            .map(|e| e.uid().clone())
            .filter(|u| u.entity_type() == ty)
            .collect();
        uids.sort();
        uids
    };
    let allowed = |request: Request| {
        engine
            .decide(&request)
            .is_ok_and(|r| r.decision == Decision::Allow)
    };
    for (i, request) in inputs.requests.iter().enumerate() {
        let Some(request) = request else {
            continue;
        };
        let (principal, action, resource) =
            (request.principal(), request.action(), request.resource());
        let context = request.context();
        if let Ok(answer) =
            engine.query_resources(principal, action, resource.entity_type(), context.clone())
        {
            let brute: Vec<EntityUid> = of_type(resource.entity_type())
                .into_iter()
                .filter(|r| {
                    allowed(Request::new(
                        principal.clone(),
                        action.clone(),
                        r.clone(),
                        context.clone(),
                    ))
                })
                .collect();
            if answer.uids != brute {
                out.push(format!(
                    "request {i}: resources {:?}; one by one {brute:?}",
                    answer.uids
                ));
            }
        }
        if let Ok(answer) =
            engine.query_principals(action, resource, principal.entity_type(), context.clone())
        {
            let brute: Vec<EntityUid> = of_type(principal.entity_type())
                .into_iter()
                .filter(|p| {
                    allowed(Request::new(
                        p.clone(),
                        action.clone(),
                        resource.clone(),
                        context.clone(),
                    ))
                })
                .collect();
            if answer.uids != brute {
                out.push(format!(
                    "request {i}: principals {:?}; one by one {brute:?}",
                    answer.uids
                ));
            }
        }
    }
}

/// The three runs of Thuja's engines the case is compared on: interpreter, VM, and the
/// interpreter again on the shuffled policy file.
struct ThujaRuns {
    interp: Run,
    interp_again: Vec<Outcome>,
    vm: Run,
    shuffled: Run,
    /// Errors outside what a validated policy set may raise, when Thuja's validator accepts
    /// the policies (schema cases only).
    unsound: Vec<String>,
    /// Requests whose full responses (error values and spans included) differ between the
    /// interpreter and the VM or the JIT, on code compiled without types or (schema cases)
    /// with them.
    vm_full: Vec<String>,
    /// Requests whose explanation (`Engine::explain`) differs from the interpreter's response
    /// in decision, reasons or errors.
    unexplained: Vec<String>,
    /// Requests whose partial evaluation, with parts unknown, disagrees with the interpreter.
    partial: Vec<String>,
    /// Requests whose queries differ from deciding every candidate one by one.
    queries: Vec<String>,
    /// Partial evaluation and queries on each request, for the comparison with Cedar's `tpe`
    /// (schema cases only).
    tpe: Vec<Option<crate::tpe::View>>,
    /// The interpreter on the policies printed back as text by Thuja and parsed again, and
    /// that text if `cedar-policy` cannot parse it.
    printed: Option<(Run, String)>,
    /// The entities store written as JSON (when the inputs load and it can be written), and
    /// what went wrong in its round trip, if anything.
    entities_written: Option<String>,
    entities_roundtrip: Option<String>,
}

/// Writes `store` as JSON and reads it back (with `schema` if given, and without one): the
/// store must come back equal and write as the same text. Returns the text, and the problem.
fn entities_round_trip(
    store: &thuja::Entities,
    schema: Option<&thuja::Schema>,
) -> (Option<String>, Option<String>) {
    use thuja_runtime::json::{entities_from_json_str, entities_to_json_string};
    let written = match entities_to_json_string(store) {
        Ok(w) => w,
        Err(e) => return (None, Some(format!("cannot write the store: {e}"))),
    };
    let mut settings = vec![schema];
    if schema.is_some() {
        settings.push(None);
    }
    for schema in settings {
        let with = if schema.is_some() { "with" } else { "without" };
        let problem = match entities_from_json_str(&written, schema) {
            Err(e) => Some(format!("written store rejected ({with} schema): {e}")),
            Ok(again) => {
                let changed = store.iter().find(|e| again.get(e.uid()) != Some(*e));
                match (changed, entities_to_json_string(&again)) {
                    (Some(e), _) => Some(format!(
                        "store changed ({with} schema): {e:?} became {:?}",
                        again.get(e.uid())
                    )),
                    (None, _) if again.len() != store.len() => Some(format!(
                        "store changed ({with} schema): {} entities, then {}",
                        store.len(),
                        again.len()
                    )),
                    (None, Ok(w)) if w == written => None,
                    (None, Ok(w)) => Some(format!("not a fixed point ({with} schema): then {w}")),
                    (None, Err(e)) => Some(format!("cannot write again ({with} schema): {e}")),
                }
            }
        };
        if let Some(problem) = problem {
            return (
                Some(written.clone()),
                Some(format!("{problem}\nwritten: {written}")),
            );
        }
    }
    (Some(written), None)
}

fn thuja_runs(case: &Case) -> ThujaRuns {
    let same = |s: &str| s.to_string();
    let failed = |e: String| Run {
        load: Err(e),
        valid: None,
        validation: None,
        requests: Vec::new(),
    };
    let mut unsound = Vec::new();
    let mut vm_full = Vec::new();
    let mut unexplained = Vec::new();
    let mut partial = Vec::new();
    let mut queries = Vec::new();
    let mut tpe = Vec::new();
    let mut ignored = Sink::default();
    let mut printed = None;
    let mut entities_written = None;
    let mut entities_roundtrip = None;
    let (interp, interp_again, vm) = match thuja_load(case, &case.policy_text()) {
        Err(e) => (failed(e.clone()), Vec::new(), failed(e)),
        Ok(mut inputs) => {
            (entities_written, entities_roundtrip) =
                entities_round_trip(&inputs.entities, inputs.schema.as_ref());
            let validation = inputs
                .schema
                .as_ref()
                .map(|s| thuja_validation(case, s, &inputs.policies));
            let valid = validation.as_ref().map(|v| v.errors.is_empty());
            let mut interp_sink = Sink::default();
            let mut vm_sink = Sink::default();
            let interp = thuja_answers(&inputs, thuja::Evaluator::Interp, &same, &mut interp_sink);
            let again = thuja_answers(&inputs, thuja::Evaluator::Interp, &same, &mut ignored);
            let vm = thuja_answers(&inputs, thuja::Evaluator::Vm, &same, &mut vm_sink);
            let mut typed_sink = Sink::default();
            typed_responses(&inputs, thuja::Evaluator::Vm, &mut typed_sink);
            let mut jit_sink = Sink::default();
            thuja_answers(&inputs, thuja::Evaluator::Jit, &same, &mut jit_sink);
            let mut typed_jit_sink = Sink::default();
            typed_responses(&inputs, thuja::Evaluator::Jit, &mut typed_jit_sink);
            // The VM again, on the store closed with every entity's ancestors labelled in a
            // forest rather than listed (as entities with many ancestors are held).
            let labelled = Closing {
                max_links: None,
                list_at_most: Some(0),
            };
            let mut labelled_sink = Sink::default();
            match thuja::Entities::from_entities_closing(inputs.entities.iter().cloned(), labelled)
            {
                Ok(store) => {
                    let listed = std::mem::replace(&mut inputs.entities, store);
                    thuja_answers(&inputs, thuja::Evaluator::Vm, &same, &mut labelled_sink);
                    inputs.entities = listed;
                }
                Err(e) => vm_full.push(format!("the store with labels does not build: {e}")),
            }
            explained_alike(&inputs, &interp_sink.responses, &mut unexplained);
            partial_alike(&inputs, &interp_sink.responses, &mut partial);
            queries_alike(&inputs, &mut queries);
            if let Some(schema) = &inputs.schema
                && crate::tpe::shallow(&inputs.policies)
            {
                tpe = crate::tpe::thuja_views(
                    schema,
                    &inputs.policies,
                    &inputs.entities,
                    &inputs.requests,
                );
            }
            if valid == Some(true) {
                unsound = interp_sink.unsound;
            }
            let tiers = [
                ("vm", &vm_sink),
                ("typed vm", &typed_sink),
                ("jit", &jit_sink),
                ("typed jit", &typed_jit_sink),
                ("labelled vm", &labelled_sink),
            ];
            for (tier, sink) in tiers.into_iter().filter(|(_, s)| !s.responses.is_empty()) {
                for (i, (a, b)) in interp_sink
                    .responses
                    .iter()
                    .zip(&sink.responses)
                    .enumerate()
                {
                    if a != b {
                        vm_full.push(format!("request {i}: interp {a:?}; {tier} {b:?}"));
                    }
                }
            }
            // Round trip: print the AST, parse it again, same answers and verdict.
            let text: Vec<String> = inputs
                .policies
                .policies()
                .iter()
                .map(|p| p.to_string())
                .collect();
            let text = text.join("\n");
            let run = match thuja_load(case, &text) {
                Err(e) => failed(e),
                Ok(again) => Run {
                    load: Ok(()),
                    valid: again.schema.as_ref().map(|s| {
                        thuja_compiler::validator::validate(s, &again.policies, Default::default())
                            .is_valid()
                    }),
                    validation: None,
                    requests: thuja_answers(&again, thuja::Evaluator::Interp, &same, &mut ignored),
                },
            };
            let cedar_reads = cedar_policy::PolicySet::from_str(&text).is_ok();
            printed = Some((run, if cedar_reads { String::new() } else { text }));
            (
                Run {
                    load: Ok(()),
                    valid,
                    validation: validation.clone(),
                    requests: interp,
                },
                again,
                Run {
                    load: Ok(()),
                    valid,
                    validation,
                    requests: vm,
                },
            )
        }
    };
    // The shuffled file: position k holds the original policy order[k].
    let mut order: Vec<usize> = (0..case.policies.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(case.seed ^ 0x5eed));
    let text: Vec<&str> = order.iter().map(|&i| case.policies[i].as_str()).collect();
    let rename = |id: &str| {
        id.strip_prefix("policy")
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| order.get(k))
            .map_or_else(|| id.to_string(), |i| format!("policy{i}"))
    };
    let shuffled = match thuja_load(case, &text.join("\n")) {
        Err(e) => failed(e),
        Ok(inputs) => Run {
            load: Ok(()),
            valid: interp.valid,
            validation: interp.validation.clone(),
            requests: thuja_answers(&inputs, thuja::Evaluator::Interp, &rename, &mut ignored),
        },
    };
    ThujaRuns {
        interp,
        interp_again,
        vm,
        shuffled,
        unsound,
        vm_full,
        unexplained,
        partial,
        queries,
        tpe,
        printed,
        entities_written,
        entities_roundtrip,
    }
}

/// An error with its sources.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out += &format!(": {s}");
        source = s.source();
    }
    out
}

/// `cedar-policy`'s run of the case.
pub fn cedar_run(case: &Case) -> Run {
    cedar_run_keeping_entities(case, false).0.0
}

/// `cedar-policy`'s reading of a case's data: the schema (schema cases) and the entities.
type CedarData = (Option<cedar_policy::Schema>, cedar_policy::Entities);

/// [`cedar_run`], also returning the schema and entities it read (when they load).
/// (With `with_tpe`, the views of partial evaluation and queries on the requests come along
/// too, for schema cases whose policies validate.)
fn cedar_run_keeping_entities(
    case: &Case,
    with_tpe: bool,
) -> ((Run, Option<CedarData>), Vec<Option<crate::tpe::View>>) {
    use cedar_policy::{
        Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema,
    };
    let failed = |e: String| {
        let run = Run {
            load: Err(e),
            valid: None,
            validation: None,
            requests: Vec::new(),
        };
        ((run, None), Vec::new())
    };
    let schema = if case.uses_schema() {
        match Schema::from_cedarschema_str(&case.schema) {
            Ok((s, _)) => Some(s),
            Err(e) => return failed(format!("schema: {}", chain(&e))),
        }
    } else {
        None
    };
    let policies = match PolicySet::from_str(&case.policy_text()) {
        Ok(p) => p,
        Err(e) => return failed(format!("policies: {}", chain(&e))),
    };
    let entities = match Entities::from_json_value(case.entities_json(), schema.as_ref()) {
        Ok(e) => e,
        Err(e) => return failed(format!("entities: {}", chain(&e))),
    };
    let validation = schema
        .as_ref()
        .map(|s| cedar_validation(case, s, &policies));
    let valid = validation.as_ref().map(|v| v.errors.is_empty());
    let authorizer = Authorizer::new();
    let cedar_requests: Vec<Option<Request>> = case
        .requests
        .iter()
        .map(|r| {
            (|| {
                let uid = |j: &Json| EntityUid::from_json(j.clone()).ok();
                let action = uid(&r.action)?;
                let context = Context::from_json_value(
                    r.context.clone(),
                    schema.as_ref().map(|s| (s, &action)),
                )
                .ok()?;
                Request::new(
                    uid(&r.principal)?,
                    action,
                    uid(&r.resource)?,
                    context,
                    schema.as_ref(),
                )
                .ok()
            })()
        })
        .collect();
    let requests = cedar_requests
        .iter()
        .map(|request| {
            let Some(request) = request else {
                return Outcome::Rejected;
            };
            let response = authorizer.is_authorized(request, &policies, &entities);
            Outcome::Decided {
                allow: response.decision() == Decision::Allow,
                reasons: response
                    .diagnostics()
                    .reason()
                    .map(|p| p.to_string())
                    .collect(),
                errors: response
                    .diagnostics()
                    .errors()
                    .map(|e| match e {
                        cedar_policy::AuthorizationError::PolicyEvaluationError(e) => {
                            e.policy_id().to_string()
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let tpe = match (&schema, valid) {
        (Some(schema), Some(true)) if with_tpe => {
            crate::tpe::cedar_views(schema, &policies, &entities, &cedar_requests)
        }
        _ => Vec::new(),
    };
    let run = Run {
        load: Ok(()),
        valid,
        validation,
        requests,
    };
    ((run, Some((schema, entities))), tpe)
}

/// Whether `cedar-policy` reads Thuja's written store to the entities it read from the case's
/// file (with the case's schema, if any); the problem if not.
fn cedar_reads_written(written: &str, (schema, entities): &CedarData) -> Option<String> {
    match cedar_policy::Entities::from_json_str(written, schema.as_ref()) {
        Ok(got) if got.deep_eq(entities) => None,
        Ok(got) => Some(format!(
            "cedar-policy reads other entities from Thuja's written store:\n{written}\nfrom the case {entities:?}\nfrom the written store {got:?}"
        )),
        Err(e) => Some(format!(
            "cedar-policy rejects Thuja's written store: {}\n{written}",
            chain(&e)
        )),
    }
}

fn compare(name: &str, ours: &Run, cedar: &Run, case: &Case, out: &mut Vec<Mismatch>) {
    if ours.load.is_ok() != cedar.load.is_ok() {
        out.push(Mismatch {
            kind: "load".into(),
            detail: format!("{name}: {:?}; cedar-policy: {:?}", ours.load, cedar.load),
        });
        return;
    }
    if name == "interp" && ours.valid != cedar.valid {
        out.push(Mismatch {
            kind: "validate".into(),
            detail: format!(
                "thuja valid={:?}; cedar-policy valid={:?}",
                ours.valid, cedar.valid
            ),
        });
    } else if name == "interp"
        && let (Some(a), Some(b)) = (&ours.validation, &cedar.validation)
    {
        let mut differ = |kind: &str, what: String| {
            out.push(Mismatch {
                kind: kind.into(),
                detail: what,
            })
        };
        if a.errors != b.errors {
            differ(
                "validate-errors",
                format!("thuja {:?}; cedar-policy {:?}", a.errors, b.errors),
            );
        }
        if a.warnings != b.warnings {
            differ(
                "validate-warnings",
                format!("thuja {:?}; cedar-policy {:?}", a.warnings, b.warnings),
            );
        }
        if a.valid_at_level != b.valid_at_level {
            differ(
                "validate-level",
                format!(
                    "at level {:?}: thuja valid={}; cedar-policy valid={}",
                    a.level, a.valid_at_level, b.valid_at_level
                ),
            );
        }
    }
    for (i, (a, b)) in ours.requests.iter().zip(&cedar.requests).enumerate() {
        if a != b {
            let r = &case.requests[i];
            out.push(Mismatch {
                kind: format!("request:{name}"),
                detail: format!(
                    "request {i} ({} {} {} {}): {name} {a:?}; cedar-policy {b:?}",
                    r.principal, r.action, r.resource, r.context
                ),
            });
        }
    }
}

fn properties(case: &Case, runs: &ThujaRuns, out: &mut Vec<Mismatch>) {
    let permits = permits(case);
    let is_permit = |id: &String| {
        id.strip_prefix("policy")
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|k| permits.get(k).copied())
    };
    let mut broken = |what: &str, detail: String| {
        out.push(Mismatch {
            kind: format!("property:{what}"),
            detail,
        })
    };
    for (i, o) in runs.interp.requests.iter().enumerate() {
        let Outcome::Decided { allow, reasons, .. } = o else {
            continue;
        };
        let any_permit = reasons.iter().any(|r| is_permit(r) == Some(true));
        let any_forbid = reasons.iter().any(|r| is_permit(r) == Some(false));
        if *allow && !any_permit {
            broken(
                "explicit-permit",
                format!("request {i}: Allow without a permit in {reasons:?}"),
            );
        }
        if any_forbid && *allow {
            broken(
                "forbid-overrides",
                format!("request {i}: a satisfied forbid and Allow"),
            );
        }
        if reasons.is_empty() && *allow {
            broken(
                "deny-by-default",
                format!("request {i}: Allow with no reasons"),
            );
        }
        if !*allow && any_permit && !any_forbid {
            broken(
                "deny-reasons",
                format!("request {i}: Deny citing permits only: {reasons:?}"),
            );
        }
    }
    if let Some((run, unreadable)) = &runs.printed {
        let same = run.load.is_ok() == runs.interp.load.is_ok()
            && run.valid == runs.interp.valid
            && run.requests == runs.interp.requests;
        if !same {
            broken(
                "print-roundtrip",
                format!(
                    "as parsed {:?}; printed and parsed again {run:?}",
                    runs.interp
                ),
            );
        }
        if !unreadable.is_empty() {
            broken(
                "print-is-cedar",
                format!("cedar-policy cannot parse Thuja's printed policies:\n{unreadable}"),
            );
        }
    }
    if let Some(problem) = &runs.entities_roundtrip {
        broken("entities-roundtrip", problem.clone());
    }
    if !runs.vm_full.is_empty() {
        broken("vm-full-response", runs.vm_full.join("; "));
    }
    if !runs.unexplained.is_empty() {
        broken("explain-decision", runs.unexplained.join("; "));
    }
    if !runs.queries.is_empty() {
        broken("query-brute-force", runs.queries.join("; "));
    }
    if !runs.partial.is_empty() {
        broken("partial-evaluation", runs.partial.join("; "));
    }
    if !runs.unsound.is_empty() {
        broken("validator-soundness", runs.unsound.join("; "));
    }
    if runs.interp.load.is_ok() && runs.interp_again != runs.interp.requests {
        broken(
            "determinism",
            format!("{:?} then {:?}", runs.interp.requests, runs.interp_again),
        );
    }
    let order_matters = runs.shuffled.load.is_ok() != runs.interp.load.is_ok()
        || runs.shuffled.requests != runs.interp.requests;
    if order_matters {
        broken(
            "policy-order",
            format!("in order {:?}; shuffled {:?}", runs.interp, runs.shuffled),
        );
    }
}

/// The stack [`check`] runs on: `cedar-policy` parses and evaluates recursively, and deep
/// generated expressions need more than a thread's default 2 MiB.
const CHECK_STACK: usize = 256 << 20;

/// Runs `case` through every oracle and property (on a stack of its own, so that any thread
/// may call it).
pub fn check(case: &Case) -> Checked {
    check_observed(case, &|_| {})
}

/// [`check`], telling `stage` which oracle runs: `"thuja"` (Thuja's engines and properties),
/// then `"cedar"` (`cedar-policy`), so that a watchdog can say where a case hangs.
pub fn check_observed(case: &Case, stage: &dyn Fn(&'static str)) -> Checked {
    stacker::grow(CHECK_STACK, || check_on_this_stack(case, stage))
}

fn check_on_this_stack(case: &Case, stage: &dyn Fn(&'static str)) -> Checked {
    stage("thuja");
    let start = std::time::Instant::now();
    let runs = thuja_runs(case);
    let thuja_seconds = start.elapsed().as_secs_f64();
    stage("cedar");
    let start = std::time::Instant::now();
    let ((cedar, cedar_data), cedar_tpe) = cedar_run_keeping_entities(case, !runs.tpe.is_empty());
    let cedar_reads = match (&runs.entities_written, &cedar_data) {
        (Some(written), Some(data)) => cedar_reads_written(written, data),
        _ => None,
    };
    let cedar_seconds = start.elapsed().as_secs_f64();
    let mut mismatches = Vec::new();
    compare("interp", &runs.interp, &cedar, case, &mut mismatches);
    compare("vm", &runs.vm, &cedar, case, &mut mismatches);
    properties(case, &runs, &mut mismatches);
    let tpe_disagreements = crate::tpe::disagreements(&runs.tpe, &cedar_tpe);
    if !tpe_disagreements.is_empty() {
        mismatches.push(Mismatch {
            kind: "property:tpe-agreement".into(),
            detail: tpe_disagreements.join("; "),
        });
    }
    if let Some(problem) = cedar_reads {
        mismatches.push(Mismatch {
            kind: "property:entities-cedar-reads".into(),
            detail: problem,
        });
    }
    let mut checked = Checked {
        mismatches,
        valid: cedar.valid,
        loaded: cedar.load.is_ok(),
        thuja_seconds,
        cedar_seconds,
        ..Checked::default()
    };
    for o in &cedar.requests {
        match o {
            Outcome::Rejected => checked.rejected += 1,
            Outcome::Decided { allow, errors, .. } => {
                if *allow {
                    checked.allows += 1;
                } else {
                    checked.denies += 1;
                }
                if !errors.is_empty() {
                    checked.with_errors += 1;
                }
            }
        }
    }
    checked.cedar = Some(cedar);
    checked
}
