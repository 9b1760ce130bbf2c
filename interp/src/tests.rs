//! The interpreter's semantics on small, readable cases: short-circuiting, errors that make a
//! policy unsatisfied and reported, forbid overriding permit, scopes, templates, and hierarchy.

use std::collections::BTreeMap;

use thuja_compiler::Source;
use thuja_compiler::ast::{Expr, ExprKind, Literal, PolicySet, SlotId, UnaryOp};
use thuja_compiler::parser::{parse_expr, parse_policy_set};
use thuja_runtime::json::{context_from_json_str, entities_from_json_str};
use thuja_runtime::{Decision, Entities, EntityUid, EvalError, Request, Response, Value};

use crate::{Evaluator, is_authorized};

const ENTITIES: &str = r#"[
  {"uid": {"type": "User", "id": "alice"}, "attrs": {"age": 30, "name": "Alice",
     "manager": {"__entity": {"type": "User", "id": "bob"}}},
   "parents": [{"type": "Group", "id": "staff"}], "tags": {"level": 3}},
  {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Group", "id": "staff"}, "attrs": {}, "parents": [{"type": "Group", "id": "all"}]},
  {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Photo", "id": "p"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}}, "parents": []}
]"#;

fn uid(text: &str) -> EntityUid {
    thuja_compiler::parser::parse_entity_uid(Source::new("uid", text)).unwrap()
}

fn request(principal: &str, action: &str, resource: &str, context: &str) -> Request {
    Request::new(
        uid(principal),
        uid(action),
        uid(resource),
        context_from_json_str(context, None).unwrap(),
    )
}

fn entities() -> Entities {
    entities_from_json_str(ENTITIES, None).unwrap()
}

fn alice_views() -> Request {
    request(
        r#"User::"alice""#,
        r#"Action::"view""#,
        r#"Photo::"p""#,
        r#"{"n": 5}"#,
    )
}

fn eval(expr: &str) -> Result<Value, EvalError> {
    let expr = parse_expr(Source::new("expr", expr)).unwrap();
    let (request, entities) = (alice_views(), entities());
    Evaluator::new(&request, &entities, None)
        .eval(&expr)
        .map_err(|f| f.error)
}

fn authorize(policies: &str) -> Response {
    let set: PolicySet = parse_policy_set(Source::new("p.cedar", policies)).unwrap();
    is_authorized(&set, &alice_views(), &entities())
}

fn ids<'a>(items: impl IntoIterator<Item = &'a thuja_runtime::PolicyId>) -> Vec<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

#[test]
fn boolean_operators_short_circuit() {
    assert_eq!(eval("false && (1 + true)"), Ok(Value::Bool(false)));
    assert_eq!(eval("true || principal.nope"), Ok(Value::Bool(true)));
    assert_eq!(eval("if true then 1 else 1 + \"a\""), Ok(Value::Long(1)));
    assert!(matches!(eval("true && 1"), Err(EvalError::Type { .. })));
    assert!(matches!(eval("1 || true"), Err(EvalError::Type { .. })));
}

#[test]
fn attribute_and_entity_errors() {
    assert_eq!(eval("principal.age + context.n"), Ok(Value::Long(35)));
    assert!(matches!(
        eval("principal.nope"),
        Err(EvalError::EntityAttrDoesNotExist { .. })
    ));
    assert!(matches!(
        eval("User::\"ghost\".age"),
        Err(EvalError::EntityDoesNotExist(_))
    ));
    assert!(matches!(
        eval("context.missing"),
        Err(EvalError::RecordAttrDoesNotExist { .. })
    ));
    assert_eq!(eval("User::\"ghost\" has age"), Ok(Value::Bool(false)));
    assert_eq!(eval("principal has manager.age"), Ok(Value::Bool(false)));
    assert_eq!(
        eval("principal.manager in Group::\"all\""),
        Ok(Value::Bool(false))
    );
}

#[test]
fn arithmetic_overflows_are_errors() {
    assert!(matches!(
        eval("9223372036854775807 + 1"),
        Err(EvalError::Overflow { .. })
    ));
    assert!(matches!(
        eval("-9223372036854775808 * -1"),
        Err(EvalError::Overflow { .. })
    ));
    assert!(matches!(
        eval("-(-9223372036854775808)"),
        Err(EvalError::Overflow { .. })
    ));
    assert_eq!(eval("-9223372036854775808"), Ok(Value::Long(i64::MIN)));
}

#[test]
fn hierarchy_is_transitive_and_reflexive() {
    assert_eq!(eval("principal in Group::\"all\""), Ok(Value::Bool(true)));
    assert_eq!(eval("principal in principal"), Ok(Value::Bool(true)));
    assert_eq!(
        eval("principal in [Group::\"x\", Group::\"staff\"]"),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval("principal is User in Group::\"all\""),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        eval("User::\"ghost\" in Group::\"all\""),
        Ok(Value::Bool(false))
    );
    assert!(matches!(
        eval("principal in 1"),
        Err(EvalError::Type { .. })
    ));
}

#[test]
fn tags_sets_and_patterns() {
    assert_eq!(eval("principal.getTag(\"level\")"), Ok(Value::Long(3)));
    assert_eq!(eval("principal.hasTag(\"nope\")"), Ok(Value::Bool(false)));
    assert!(matches!(
        eval("principal.getTag(\"nope\")"),
        Err(EvalError::TagDoesNotExist { .. })
    ));
    assert_eq!(eval("[1, 2, 2] == [2, 1]"), Ok(Value::Bool(true)));
    assert_eq!(eval("[1, [2]].containsAll([[2]])"), Ok(Value::Bool(true)));
    assert_eq!(eval("\"a*b\" like \"a\\*b\""), Ok(Value::Bool(true)));
    assert_eq!(eval("\"axxb\" like \"a*b\""), Ok(Value::Bool(true)));
    assert_eq!(eval("1 == \"1\""), Ok(Value::Bool(false)));
}

#[test]
fn forbid_overrides_permit_and_reasons_name_the_deciders() {
    let r = authorize(
        "permit(principal, action, resource);\n\
         permit(principal == User::\"alice\", action, resource is Photo);\n\
         forbid(principal in Group::\"staff\", action, resource) when { context.n > 3 };",
    );
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(ids(&r.reasons), ["policy2"]);
    let r = authorize("permit(principal, action, resource) when { resource.owner == principal };");
    assert_eq!(r.decision, Decision::Allow);
    assert_eq!(ids(&r.reasons), ["policy0"]);
}

#[test]
fn erroring_policies_are_skipped_and_reported() {
    let r = authorize(
        "permit(principal, action, resource) when { principal.nope };\n\
         forbid(principal, action, resource) when { 1 + \"a\" == 2 };\n\
         permit(principal, action, resource) unless { false };",
    );
    assert_eq!(r.decision, Decision::Allow);
    assert_eq!(ids(&r.reasons), ["policy2"]);
    let errs: Vec<String> = r.errors.iter().map(|e| e.policy_id.to_string()).collect();
    assert_eq!(errs, ["policy0", "policy1"]);
}

#[test]
fn no_applicable_policy_denies() {
    let r = authorize("permit(principal, action == Action::\"edit\", resource);");
    assert_eq!(r.decision, Decision::Deny);
    assert!(r.reasons.is_empty() && r.errors.is_empty());
}

#[test]
fn templates_apply_only_through_links() {
    let mut set = parse_policy_set(Source::new(
        "t.cedar",
        "permit(principal == ?principal, action, resource in ?resource);",
    ))
    .unwrap();
    let (request, entities) = (alice_views(), entities());
    assert_eq!(
        is_authorized(&set, &request, &entities).decision,
        Decision::Deny
    );
    let link = |principal: &str| {
        BTreeMap::from([
            (SlotId::Principal, uid(principal)),
            (SlotId::Resource, uid(r#"Photo::"p""#)),
        ])
    };
    thuja_compiler::template::link(&mut set, "policy0", "bob-link", link(r#"User::"bob""#))
        .unwrap();
    assert_eq!(
        is_authorized(&set, &request, &entities).decision,
        Decision::Deny
    );
    thuja_compiler::template::link(&mut set, "policy0", "alice-link", link(r#"User::"alice""#))
        .unwrap();
    let r = is_authorized(&set, &request, &entities);
    assert_eq!(r.decision, Decision::Allow);
    assert_eq!(ids(&r.reasons), ["alice-link"]);
}

#[test]
fn deep_evaluation_is_an_error_not_a_crash() {
    // Built directly (the parser refuses nesting this deep), so only the evaluator's limit
    // stands between it and the stack.
    let span = thuja_compiler::Span::new(0, 1);
    let mut expr = Expr::new(ExprKind::Lit(Literal::Long(1)), span);
    for _ in 0..50_000 {
        expr = Expr::new(ExprKind::Unary(UnaryOp::Neg, Box::new(expr)), span);
    }
    let (request, entities) = (alice_views(), entities());
    let result = Evaluator::new(&request, &entities, None).eval(&expr);
    assert!(matches!(result, Err(f) if f.error == EvalError::RecursionLimit));
    // Dropping the chain must not overflow the stack either.
    let mut rest = Some(expr);
    while let Some(Expr {
        kind: ExprKind::Unary(_, inner),
        ..
    }) = rest.take()
    {
        rest = Some(*inner);
    }
}
