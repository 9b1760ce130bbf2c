//! Candidates to a response: the index's candidates (and the policies whose scope only their own
//! code can check) run in policy-set order, and their outcomes combine as Cedar combines them.

use thuja_compiler::ast::Effect;
use thuja_compiler::index::EntityKeys;
use thuja_compiler::program::{CompiledPolicy, Program};
use thuja_runtime::{Decision, Entities, EvalError, PolicyError, PolicyIds, Request, Response};

use crate::machine::{Failure, Machine, RequestValues};

/// Decides `request` with `program` over `entities`; see the [crate documentation](crate).
pub fn is_authorized(program: &Program, request: &Request, entities: &Entities) -> Response {
    decide(program, request, entities, None, |machine, _, policy| {
        machine.run(policy)
    })
}

/// [`is_authorized`], with `joined` — the program's index
/// [joined](thuja_compiler::index::ScopeIndex::join) with `entities` — giving the index keys of
/// the request's principal and resource. The response is the same; only finding the candidate
/// policies is faster. A `joined` made from another store (or from `entities` before it
/// changed) is not used.
pub fn is_authorized_joined(
    program: &Program,
    request: &Request,
    entities: &Entities,
    joined: &EntityKeys,
) -> Response {
    decide(
        program,
        request,
        entities,
        Some(joined),
        |machine, _, policy| machine.run(policy),
    )
}

/// Decides `request` as [`is_authorized`] does (as [`is_authorized_joined`] with `joined`),
/// with `run(machine, n, policy)` telling whether candidate policy number `n` is satisfied (as
/// [`Machine::run`] does). Compiled code (the JIT) plugs in here and shares the index, the
/// machine and the combination of outcomes.
pub fn decide(
    program: &Program,
    request: &Request,
    entities: &Entities,
    joined: Option<&EntityKeys>,
    mut run: impl FnMut(&mut Machine<'_>, usize, &CompiledPolicy) -> Result<bool, Failure>,
) -> Response {
    let index = &program.index;
    let vars = RequestValues::new(request, entities);
    let joined = joined.filter(|j| j.is_for(entities));
    let [p, a, r] = vars.scope_uids();
    let mut candidates = match joined {
        Some(joined) => index.candidates_joined(joined, p, a, r, &vars),
        None => index.candidates_of(p, a, r, &vars),
    };
    if !index.unresolved().is_empty() {
        candidates.add_all(index.unresolved());
    }
    let mut machine = Machine::new(program, &vars);
    let mut permits = PolicyIds::new();
    let mut forbids = PolicyIds::new();
    let mut errors = Vec::new();
    let mut internal = false;
    for n in candidates.iter() {
        let Some(policy) = program.policies.get(n as usize) else {
            internal = true;
            errors.push(PolicyError::new(
                index
                    .policy(n)
                    .map_or_else(|| "<unknown>".into(), |p| p.id.clone()),
                Failure {
                    error: EvalError::Internal("an indexed policy has no code"),
                    span: None,
                },
            ));
            continue;
        };
        match run(&mut machine, n as usize, policy) {
            Ok(false) => {}
            Ok(true) => {
                let id = policy.id.clone();
                match policy.effect {
                    Effect::Permit => permits.insert(id),
                    Effect::Forbid => forbids.insert(id),
                };
            }
            Err(failure) => {
                internal |= matches!(failure.error, EvalError::Internal(_));
                errors.push(PolicyError::new(policy.id.clone(), failure));
            }
        }
    }
    let (decision, reasons) = if internal {
        (Decision::Deny, PolicyIds::new())
    } else if !permits.is_empty() && forbids.is_empty() {
        (Decision::Allow, permits)
    } else {
        (Decision::Deny, forbids)
    };
    Response {
        decision,
        reasons,
        errors,
    }
}
