//! Native code against the reference interpreter on small policies (with Cranelift's verifier
//! on): every response must be the interpreter's, and policies must run natively unless the
//! translator says why not.

use thuja_compiler::Source;
use thuja_compiler::ast::PolicySet;
use thuja_compiler::parser::parse_policy_set;
use thuja_compiler::program::lower;
use thuja_runtime::json::{context_from_json_str, entities_from_json_str};
use thuja_runtime::{Decision, Entities, EntityUid, EvalError, Request, Response};

use crate::{NativeCode, Options, Tier, is_authorized};

include!("../../tests/data/operators/fixture.rs");

fn parse(text: &str) -> PolicySet {
    parse_policy_set(Source::new("p.cedar", text)).unwrap()
}

fn verified() -> Options {
    Options { verify: true }
}

/// The JIT's and the interpreter's responses, and the native code.
fn both(set: &PolicySet) -> (Response, Response, NativeCode) {
    let (request, entities) = (request(), entities());
    let program = lower(set);
    let code = NativeCode::compile(&program, verified()).unwrap();
    let jit = is_authorized(&program, &code, &request, &entities, None);
    let joined = program.index.join(&entities);
    let jit_joined = is_authorized(&program, &code, &request, &entities, Some(&joined));
    assert_eq!(
        jit, jit_joined,
        "the join changes only how candidates are found"
    );
    let interp = thuja_interp::is_authorized(set, &request, &entities);
    (jit, interp, code)
}

/// Each condition as a `when` and an `unless` policy: the JIT answers as the interpreter does.
/// Returns the policies that did not run natively, with the reason.
fn agree_on(conditions: &[&str]) -> Vec<(String, String)> {
    let mut declined = Vec::new();
    for c in conditions {
        for kind in ["when", "unless"] {
            let text = format!(
                "permit(principal, action, resource) {kind} {{ {c} }};\n\
                 forbid(principal == User::\"alice\", action, resource is Photo) {kind} {{ {c} }};"
            );
            let (jit, interp, code) = both(&parse(&text));
            assert_eq!(jit, interp, "{kind} {{ {c} }}");
            for n in 0..2 {
                if let Some(Tier::Vm(why)) = code.tier(n) {
                    declined.push((format!("{kind} {{ {c} }}"), why.clone()));
                }
            }
        }
    }
    declined
}

#[test]
fn operators_agree_with_the_interpreter() {
    let conditions: Vec<&str> = CONDITIONS.lines().filter(|l| !l.is_empty()).collect();
    let declined = agree_on(&conditions);
    assert!(declined.is_empty(), "{declined:?}");
}

#[test]
fn joins_of_registers_and_values_agree() {
    let declined = agree_on(&[
        "(if context.n > 3 then principal.age else 5) == 30",
        "(if context.n < 3 then principal.age else 5) == 5",
        "(if context.n > 3 then 1 else principal) == 1",
        "(if context.n > 3 then true else principal.nope) && true",
        "(if context.n > 3 then context.s else \"x\") like \"h*\"",
        "(if principal.age == 30 then context.n + 1 else context.n * 2) == 6",
        "(context.n > 3 || principal.nope) && (principal.age < 40 || 1)",
        "[if context.n > 3 then 1 else context.s, context.n, true].contains(1)",
        "{a: if context.n > 3 then principal else 2}.a == principal",
        "(principal is User in Group::\"all\") == (context.n == 5)",
        "(if context.n > 3 then principal else resource) is User in Group::\"staff\"",
        "-(if context.n > 3 then context.n else 1) == -5",
        "(if false then 1 else 2) + context.n == 7",
        "context.n * 2 - 3 > 6 && -context.n < 0",
        "9223372036854775807 * context.n > 0",
        "context.n - 9223372036854775807 - 10 < 0",
        "(if context.n > 3 then 1 else 2) < 1 || (if context.n > 3 then 2 else 1) > 2",
        "principal has age && principal.age > 1 && (principal has nope || principal.age == 30)",
        "context has n && context.n == 5 && resource has owner && resource.owner == principal",
        "resource has nope || principal.nope == (context.n > 10 && true)",
        "principal.nope == (context.n > 10 && true)",
        "(if context.n > 3 then principal.age else principal.nope) == principal.age",
        "[principal.age, context.n, resource.owner].contains(principal)",
        "principal.manager == principal.manager && principal.manager has age",
        "action has x || action.x",
        "(if context.n > 3 then 1 else 2) <= 1 && (if context.n > 3 then 2 else 1) >= 2",
    ]);
    assert!(declined.is_empty(), "{declined:?}");
}

#[test]
fn policies_say_how_they_run() {
    let long_set = vec!["context.n"; 2_500].join(", ");
    let set = parse(&format!(
        "permit(principal, action, resource);\n\
         permit(principal, action, resource) when {{ context.n == 5 }};\n\
         permit(principal, action, resource) when {{ true && 1 }};\n\
         permit(principal, action, resource) when {{ context.n == 5 }} unless {{ context has x }};\n\
         forbid(principal, action, resource) when {{ [{long_set}].contains(5) }};"
    ));
    let (jit, interp, code) = both(&set);
    assert_eq!(jit, interp);
    assert!(matches!(code.tier(0), Some(Tier::Empty)));
    assert!(matches!(code.tier(1), Some(Tier::Native(_))));
    assert!(matches!(code.tier(2), Some(Tier::Native(_))));
    assert!(matches!(code.tier(4), Some(Tier::Vm(why)) if why.contains("too many")));
    assert_eq!(code.native_count(), 4);
    assert_eq!(jit.errors.len(), 1);
    assert_eq!(jit.decision, Decision::Deny);
    assert_eq!(
        jit.reasons.len(),
        1,
        "the forbid left to the VM is satisfied"
    );
}

#[test]
fn code_for_another_program_denies_with_an_internal_error() {
    let (request, entities) = (request(), entities());
    let one = lower(&parse(
        "permit(principal, action, resource) when { context.n == 5 };",
    ));
    let two = lower(&parse(
        "permit(principal, action, resource) when { context.n == 5 };\n\
         permit(principal, action, resource) when { context.n == 6 };",
    ));
    let code = NativeCode::compile(&one, verified()).unwrap();
    assert_eq!(
        is_authorized(&one, &code, &request, &entities, None).decision,
        Decision::Allow
    );
    let r = is_authorized(&two, &code, &request, &entities, None);
    assert_eq!(r.decision, Decision::Deny);
    assert!(
        r.errors
            .iter()
            .all(|e| matches!(e.error, EvalError::Internal(_)))
    );
}

#[test]
fn an_inconsistent_program_fails_closed_in_native_code() {
    use thuja_compiler::program::Op;
    let set = parse(
        "permit(principal, action, resource);\n\
         permit(principal, action, resource) when { context.n == 5 };",
    );
    let (request, entities) = (request(), entities());
    let mut program = lower(&set);
    // Native code for a program whose attribute-name pool is then emptied: the helper finds
    // the index out of range.
    let code = NativeCode::compile(&program, verified()).unwrap();
    assert!(matches!(code.tier(1), Some(Tier::Native(_))));
    assert!(program.code.iter().any(|op| matches!(op, Op::GetAttr(_))));
    program.constants.names.clear();
    let r = is_authorized(&program, &code, &request, &entities, None);
    assert_eq!(r.decision, Decision::Deny);
    assert!(r.reasons.is_empty());
    assert!(matches!(r.errors[..], [ref e] if matches!(e.error, EvalError::Internal(_))));
}
