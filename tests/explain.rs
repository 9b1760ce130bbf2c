//! `Engine::explain`: every kind of reason a policy did or did not apply, on hand-written
//! policies — applied; a principal, action or resource scope that did not hold (`==`, `in`,
//! `is`, `is ... in`, a template slot); a `when` that was false and an `unless` that was true,
//! with the subexpression that decided it found through `&&`, `||`, `!` and `if`, and its
//! operands' values; an error — and the permits that came closest to allowing a denied request.
//! Every explanation's decision, reasons and errors are the engine's response's.

use thuja::explain::{ConditionMiss, Effect, Reason, ScopeMiss, ScopePart};
use thuja::{
    Decision, Engine, Evaluator, Explanation, PolicyError, Record, Request, Value, input, uid,
};

const POLICIES: &str = r#"@id("owner")
permit(principal, action == Action::"view", resource)
when { resource.public && resource.owner == principal };

@id("admins")
permit(principal in Group::"admins", action, resource);

@id("mfa")
forbid(principal, action, resource)
unless { context.mfa };

@id("size")
permit(principal, action == Action::"view", resource is Doc)
when { resource.size > "big" };

@id("edit")
permit(principal, action == Action::"edit", resource);

@id("docs-in-folder")
permit(principal, action, resource is Doc in Folder::"f");

@id("either")
permit(principal, action in [Action::"view"], resource)
when { context.a || context.b };

@id("not")
permit(principal == User::"alice", action, resource)
when { !context.allowed };

@id("branch")
permit(principal, action == Action::"view", resource == Doc::"d")
when { if context.a then principal has age else context.level > 3 };

@id("tpl")
permit(principal == ?principal, action, resource);
"#;

const ENTITIES: &str = r#"[
 {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
 {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": []},
 {"uid": {"type": "Folder", "id": "f"}, "attrs": {}, "parents": []},
 {"uid": {"type": "Doc", "id": "d"},
  "attrs": {"public": true, "owner": {"__entity": {"type": "User", "id": "bob"}}, "size": 3},
  "parents": []}
]"#;

const LINKS: &str =
    r#"[{"template_id": "tpl", "link_id": "tpl-bob", "args": {"?principal": "User::\"bob\""}}]"#;

fn engine(evaluator: Evaluator) -> Engine {
    // Written once per process (tests run on several threads), read by every engine.
    static FILES: std::sync::OnceLock<(std::path::PathBuf, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    let (policies, links) = FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("thuja-explain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let links = dir.join("links.json");
        std::fs::write(&links, LINKS).expect("the links file");
        let policies = dir.join("policies.cedar");
        std::fs::write(&policies, POLICIES).expect("the policies file");
        (policies, links)
    });
    let set = input::policy_set_from_file(policies, input::PolicyFormat::Cedar, Some(links))
        .expect("the policies and links read");
    Engine::builder()
        .policies(set)
        .entities_json("entities.json", ENTITIES)
        .evaluator(evaluator)
        .build()
        .expect("the engine builds")
}

fn request(action: &str, context: &[(&str, Value)]) -> Request {
    let context: Record = context.iter().cloned().collect();
    Request::new(
        uid("User", "alice").expect("uid"),
        uid("Action", action).expect("uid"),
        uid("Doc", "d").expect("uid"),
        context,
    )
}

/// The explanation of `request`, checked against the engine's decision with every evaluator.
fn explain(request: &Request) -> Explanation {
    let explanation = engine(Evaluator::Vm).explain(request).expect("explained");
    for evaluator in [Evaluator::Interp, Evaluator::Vm, Evaluator::Jit] {
        let response = engine(evaluator).decide(request).expect("decided");
        assert_eq!(explanation.decision, response.decision, "{evaluator:?}");
        assert_eq!(explanation.reasons(), response.reasons, "{evaluator:?}");
        let errors: Vec<_> = explanation.errors().cloned().collect();
        assert_eq!(errors, response.errors, "{evaluator:?}");
    }
    explanation
}

fn reason<'a>(explanation: &'a Explanation, id: &str) -> &'a Reason {
    explanation
        .policies
        .iter()
        .find(|p| p.id.as_str() == id)
        .map(|p| &p.reason)
        .expect("every policy is explained")
}

/// The condition policy `id` did not apply by.
fn condition<'a>(explanation: &'a Explanation, id: &str) -> &'a ConditionMiss {
    match reason(explanation, id) {
        Reason::Condition(miss) => Some(miss),
        _ => None,
    }
    .expect("a condition did not hold")
}

/// The scope constraints policy `id` did not apply by.
fn scope<'a>(explanation: &'a Explanation, id: &str) -> &'a [ScopeMiss] {
    match reason(explanation, id) {
        Reason::Scope(misses) => Some(misses.as_slice()),
        _ => None,
    }
    .expect("a scope constraint did not hold")
}

/// The error policy `id` raised.
fn error<'a>(explanation: &'a Explanation, id: &str) -> &'a PolicyError {
    match reason(explanation, id) {
        Reason::Error(error) => Some(error),
        _ => None,
    }
    .expect("an error")
}

#[test]
fn every_reason_kind() {
    let e = explain(&request(
        "view",
        &[
            ("mfa", Value::from(true)),
            ("a", Value::from(false)),
            ("b", Value::from(false)),
            ("allowed", Value::from(true)),
            ("level", Value::from(2)),
        ],
    ));
    assert_eq!(e.decision, Decision::Deny);
    assert_eq!(e.policies.len(), 10, "every policy and link");

    // `&&`: its false term, `resource.owner == principal`, with both operands.
    let owner = condition(&e, "owner");
    assert_eq!(owner.index, 0);
    assert_eq!(owner.deciding.text, "resource.owner == principal");
    assert!(!owner.value);
    let operands: Vec<(String, String)> = owner
        .operands
        .iter()
        .map(|(shown, value)| (shown.text.clone(), value.to_string()))
        .collect();
    assert_eq!(
        operands,
        [
            ("resource.owner".to_string(), r#"User::"bob""#.to_string()),
            ("principal".to_string(), r#"User::"alice""#.to_string())
        ]
    );
    let location = owner.deciding.location.as_ref().expect("located");
    assert_eq!((location.line, location.column), (3, 27));

    // Scopes: `in` a group, `is T in` (its folder), each naming the constraint and the entity.
    let admins = scope(&e, "admins");
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0].part, ScopePart::Principal);
    assert_eq!(admins[0].constraint, r#"principal in Group::"admins""#);
    assert_eq!(admins[0].entity.to_string(), r#"User::"alice""#);
    let folder = scope(&e, "docs-in-folder");
    assert_eq!(folder[0].part, ScopePart::Resource);
    assert_eq!(folder[0].constraint, r#"resource is Doc in Folder::"f""#);

    // The action scope, and a template link's slot shown with its entity.
    let edit = scope(&e, "edit");
    assert_eq!(edit[0].part, ScopePart::Action);
    assert_eq!(edit[0].constraint, r#"action == Action::"edit""#);
    let link = scope(&e, "tpl-bob");
    assert_eq!(link[0].constraint, r#"principal == User::"bob""#);

    // An `unless` that was true: the forbid did not apply.
    let mfa = condition(&e, "mfa");
    assert_eq!(mfa.deciding.text, "context.mfa");
    assert!(mfa.value);

    // A false `||` needed both operands: it is where the search stops.
    let either = condition(&e, "either");
    assert_eq!(either.deciding.text, "context.a || context.b");
    let values: Vec<String> = either.operands.iter().map(|(_, v)| v.to_string()).collect();
    assert_eq!(values, ["false", "false"]);

    // Through `!`: the operand that was true.
    let not = condition(&e, "not");
    assert_eq!(not.deciding.text, "context.allowed");
    assert!(not.value);

    // Through `if`: the branch taken (`context.a` is false), with its operands.
    let branch = condition(&e, "branch");
    assert_eq!(branch.deciding.text, "context.level > 3");
    let values: Vec<String> = branch.operands.iter().map(|(_, v)| v.to_string()).collect();
    assert_eq!(values, ["2", "3"]);

    // An error, located.
    let error = error(&e, "size");
    let location = error.location.as_ref().expect("located");
    assert_eq!((location.line, location.column), (14, 8));

    // No permit applied: the closest are those whose whole scope held, then the rest; `owner`
    // had one of its two terms true, `size` none.
    let closest: Vec<&str> = e
        .closest
        .iter()
        .map(|&i| e.policies[i].id.as_str())
        .collect();
    assert_eq!(closest[0], "owner", "{e}");
    assert!(
        e.closest
            .iter()
            .all(|&i| e.policies[i].effect == Effect::Permit)
    );
    assert_eq!(closest.len(), thuja::explain::CLOSEST);
}

#[test]
fn applied_policies_and_the_text() {
    // `not` applies (alice, not `allowed`); `mfa` (a forbid) applies without `mfa`.
    let allowed = explain(&request(
        "view",
        &[
            ("mfa", Value::from(true)),
            ("a", Value::from(true)),
            ("b", Value::from(false)),
            ("allowed", Value::from(false)),
            ("level", Value::from(2)),
        ],
    ));
    assert_eq!(allowed.decision, Decision::Allow);
    assert!(matches!(reason(&allowed, "not"), Reason::Applied));
    assert!(matches!(reason(&allowed, "either"), Reason::Applied));
    assert!(allowed.closest.is_empty(), "a permit applied");
    let text = allowed.to_string();
    assert!(
        text.contains("permit not (") && text.contains("policies.cedar:26:1)"),
        "{text}"
    );
    assert!(text.contains(": applied\n"), "{text}");
    assert!(text.contains("not for this action (1): edit"), "{text}");
    assert!(
        text.contains("`resource.owner == principal` (")
            && text.contains("policies.cedar:3:27) is false"),
        "{text}"
    );
    assert!(
        text.contains("\n      `resource.owner` = User::\"bob\""),
        "{text}"
    );

    let forbidden = explain(&request(
        "view",
        &[
            ("mfa", Value::from(false)),
            ("a", Value::from(true)),
            ("b", Value::from(false)),
            ("allowed", Value::from(false)),
            ("level", Value::from(2)),
        ],
    ));
    assert_eq!(forbidden.decision, Decision::Deny);
    assert!(matches!(reason(&forbidden, "mfa"), Reason::Applied));
    assert!(
        forbidden.closest.is_empty(),
        "permits applied; a forbid won"
    );
    assert_eq!(
        forbidden
            .reasons()
            .iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>(),
        ["mfa"]
    );
}

#[test]
fn an_error_in_a_condition_before_the_deciding_one_is_the_reason() {
    // `context.a` is missing: the `either` permit errs, and that is its reason.
    let e = explain(&request("view", &[("mfa", Value::from(true))]));
    let error = error(&e, "either");
    assert_eq!(error.policy_id.as_str(), "either");
    assert!(e.to_string().contains("permit either ("), "{e}");
}
