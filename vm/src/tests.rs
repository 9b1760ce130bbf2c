//! The VM against the reference interpreter on small policies: every response (decision,
//! reasons, errors with their values and spans) must be the interpreter's.

use thuja_compiler::Source;
use thuja_compiler::ast::{Expr, ExprKind, Literal, PolicySet, UnaryOp};
use thuja_compiler::parser::parse_policy_set;
use thuja_compiler::program::lower;
use thuja_runtime::json::{context_from_json_str, entities_from_json_str};
use thuja_runtime::{Decision, Entities, EntityUid, EvalError, Request, Response};

use crate::is_authorized;

include!("../../tests/data/operators/fixture.rs");

/// Both engines' responses to the standard request.
fn both(set: &PolicySet) -> (Response, Response) {
    let (request, entities) = (request(), entities());
    let vm = is_authorized(&lower(set), &request, &entities);
    let interp = thuja_interp::is_authorized(set, &request, &entities);
    (vm, interp)
}

fn parse(text: &str) -> PolicySet {
    parse_policy_set(Source::new("p.cedar", text)).unwrap()
}

/// Each condition as its own `when` policy, plus its `unless` twin: same response both ways.
fn agree_on(conditions: &[&str]) {
    for c in conditions {
        for kind in ["when", "unless"] {
            let text = format!(
                "permit(principal, action, resource) {kind} {{ {c} }};\n\
                 forbid(principal == User::\"alice\", action, resource is Photo) {kind} {{ {c} }};"
            );
            let (vm, interp) = both(&parse(&text));
            assert_eq!(vm, interp, "{kind} {{ {c} }}");
        }
    }
}

#[test]
fn operators_agree_with_the_interpreter() {
    let conditions: Vec<&str> = CONDITIONS.lines().filter(|l| !l.is_empty()).collect();
    assert!(conditions.len() > 50);
    agree_on(&conditions);
}

#[test]
fn errors_carry_the_interpreters_span() {
    let set = parse(
        "permit(principal, action, resource) when { context.n > 1 && principal.nope };\n\
         permit(principal, action, resource) when { true } unless { (1 + 2) || false };\n\
         forbid(principal, action, resource) when { [1, 2].contains(context.s.nope) };",
    );
    let (vm, interp) = both(&set);
    assert_eq!(vm, interp);
    assert_eq!(vm.errors.len(), 3);
    let text = &set.policies()[0].source.text;
    let snippets: Vec<&str> = vm
        .errors
        .iter()
        .map(|e| &text[e.span.unwrap().range()])
        .collect();
    assert_eq!(snippets, ["principal.nope", "1 + 2", "context.s.nope"]);
}

#[test]
fn templates_and_decisions_agree() {
    let mut set = parse(
        "permit(principal == ?principal, action, resource in ?resource) when { principal.age > 1 };\n\
         forbid(principal, action, resource) when { context.n == 6 };",
    );
    let link = |set: &mut PolicySet, id: &str, principal: &str| {
        let values = std::collections::BTreeMap::from([
            (thuja_compiler::ast::SlotId::Principal, uid(principal)),
            (thuja_compiler::ast::SlotId::Resource, uid(r#"Photo::"p""#)),
        ]);
        thuja_compiler::template::link(set, "policy0", id, values).unwrap();
    };
    link(&mut set, "bob", r#"User::"bob""#);
    let (vm, interp) = both(&set);
    assert_eq!(vm, interp);
    assert_eq!(vm.decision, Decision::Deny);
    link(&mut set, "alice", r#"User::"alice""#);
    let (vm, interp) = both(&set);
    assert_eq!(vm, interp);
    assert_eq!(vm.decision, Decision::Allow);
}

#[test]
fn deep_expressions_fail_as_the_interpreter_does() {
    // Built directly (the parser refuses nesting this deep): the VM must raise the
    // interpreter's recursion error at the same node, and lowering must not overflow.
    let parsed = parse("permit(principal, action, resource) when { true };");
    let mut set = PolicySet::new();
    let mut expr = Expr::new(
        ExprKind::Lit(Literal::Long(1)),
        thuja_compiler::Span::new(0, 1),
    );
    for i in 0..5_000 {
        let span = thuja_compiler::Span::new(0, 2 + i % 7);
        expr = Expr::new(ExprKind::Unary(UnaryOp::Neg, Box::new(expr)), span);
    }
    let mut policy = parsed.policies()[0].clone();
    policy.conditions[0].body = expr;
    set.add(policy).unwrap();
    let (vm, interp) = both(&set);
    assert_eq!(vm, interp);
    assert!(matches!(vm.errors[0].error, EvalError::RecursionLimit));
}

#[test]
fn an_inconsistent_program_denies_and_reports_an_internal_error() {
    use thuja_compiler::program::Op;
    let set = parse(
        "permit(principal, action, resource);\n\
         permit(principal, action, resource) when { context.n == 5 };",
    );
    let (request, entities) = (request(), entities());
    let good = lower(&set);
    assert_eq!(
        is_authorized(&good, &request, &entities).decision,
        Decision::Allow
    );
    let broken_programs = [
        Op::Push(9_999),
        Op::Jump(0),
        Op::Binary(thuja_compiler::ast::BinaryOp::Add),
    ];
    for op in broken_programs {
        let mut program = good.clone();
        let start = program.policies[1].code.start;
        program.code[start] = op;
        let r = is_authorized(&program, &request, &entities);
        assert_eq!(r.decision, Decision::Deny, "{op:?}");
        assert!(r.reasons.is_empty());
        assert!(
            matches!(r.errors[..], [ref e] if matches!(e.error, EvalError::Internal(_))),
            "{op:?}: {:?}",
            r.errors
        );
    }
    let mut program = good.clone();
    program.policies.pop();
    let r = is_authorized(&program, &request, &entities);
    assert_eq!(r.decision, Decision::Deny);
}
