//! Unit tests: for every error kind, a policy that triggers it and a near miss that does not;
//! the warnings; templates; links; and deep nesting.

#![allow(clippy::panic, clippy::unwrap_used, reason = "tests fail by panicking")]

use std::collections::BTreeSet;

use super::{ErrorKind, ValidationOptions, ValidationResult, WarningKind, validate};
use crate::parser::parse_policy_set;
use crate::schema::parse_schema;
use crate::source::Source;

const SCHEMA: &str = r#"
entity Group in [Group] { name: String };
entity User in [Group] {
    name: String, email?: String, manager?: User, labels: Set<String>,
    ip: ipaddr, born: datetime, profile?: { nick?: String }
} tags String;
entity Admin in [Group] { level: Long };
entity Doc { owner: User } tags Long;
entity Color enum ["red", "green"];
action read appliesTo { principal: [User], resource: [Doc], context: { mfa: Bool, opt?: Long } };
action manage appliesTo { principal: [Admin], resource: [Doc, Group], context: {} };
action all;
action view in [all] appliesTo { principal: User, resource: Doc, context: {} };
action paint appliesTo { principal: User, resource: Color, context: {} };
action noop;
"#;

fn run(policies: &str) -> ValidationResult {
    let schema = parse_schema(Source::new("s.cedarschema", SCHEMA))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let set = parse_policy_set(Source::new("p.cedar", policies))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    validate(&schema, &set, ValidationOptions::default())
}

fn kinds(policies: &str) -> BTreeSet<ErrorKind> {
    run(policies).errors.iter().map(|e| e.kind).collect()
}

fn warnings(policies: &str) -> BTreeSet<WarningKind> {
    run(policies).warnings.iter().map(|w| w.kind).collect()
}

/// `bad` has exactly the error `kind`; `good` has no errors.
fn case(kind: ErrorKind, bad: &str, good: &str) {
    assert_eq!(kinds(bad), BTreeSet::from([kind]), "{bad}");
    assert_eq!(kinds(good), BTreeSet::new(), "{good}");
}

fn when(cond: &str) -> String {
    format!("permit(principal is User, action == Action::\"read\", resource) when {{ {cond} }};")
}

#[test]
fn unrecognized_entity_type() {
    case(
        ErrorKind::UnrecognizedEntityType,
        r#"permit(principal == Usr::"a", action, resource);"#,
        r#"permit(principal == User::"a", action, resource);"#,
    );
    case(
        ErrorKind::UnrecognizedEntityType,
        &when("principal is Usr"),
        &when("principal is User"),
    );
}

#[test]
fn unrecognized_action_id() {
    case(
        ErrorKind::UnrecognizedActionId,
        r#"permit(principal, action == Action::"raed", resource);"#,
        r#"permit(principal, action == Action::"read", resource);"#,
    );
}

#[test]
fn invalid_enum_entity() {
    case(
        ErrorKind::InvalidEnumEntity,
        r#"permit(principal, action == Action::"paint", resource == Color::"blue");"#,
        r#"permit(principal, action == Action::"paint", resource == Color::"red");"#,
    );
}

#[test]
fn unexpected_type() {
    case(
        ErrorKind::UnexpectedType,
        &when("1 + \"a\" > 2"),
        &when("1 + 2 > 2"),
    );
    case(
        ErrorKind::UnexpectedType,
        &when("principal like \"a*\""),
        &when("principal.name like \"a*\""),
    );
    case(
        ErrorKind::UnexpectedType,
        &when("\"a\" < \"b\""),
        &when("1 < 2"),
    );
    case(
        ErrorKind::UnexpectedType,
        &when("1 in Group::\"g\""),
        &when("principal in Group::\"g\""),
    );
    case(ErrorKind::UnexpectedType, &when("1"), &when("true"));
}

#[test]
fn incompatible_types() {
    case(
        ErrorKind::IncompatibleTypes,
        &when("principal.name == 1"),
        &when("principal.name == \"a\""),
    );
    // two literals are simply unequal
    assert_eq!(kinds(&when("1 == \"a\"")), BTreeSet::new());
    case(
        ErrorKind::IncompatibleTypes,
        &when("[1, \"a\"].isEmpty()"),
        &when("[1, 2].isEmpty()"),
    );
    case(
        ErrorKind::IncompatibleTypes,
        &when("[1].contains(\"a\")"),
        &when("[1].contains(2)"),
    );
    case(
        ErrorKind::IncompatibleTypes,
        &when("(if context.mfa then 1 else \"a\") == 1"),
        &when("(if context.mfa then 1 else 2) == 1"),
    );
    // strict mode: no unions of entity types
    case(
        ErrorKind::IncompatibleTypes,
        &when("principal in [Group::\"g\", User::\"u\"]"),
        &when("principal in [Group::\"g\", Group::\"h\"]"),
    );
}

#[test]
fn unsafe_attribute_access() {
    case(
        ErrorKind::UnsafeAttributeAccess,
        &when("principal.nme == \"a\""),
        &when("principal.name == \"a\""),
    );
    case(
        ErrorKind::UnsafeAttributeAccess,
        &when("action.name == \"a\""),
        &when("action == Action::\"read\""),
    );
}

#[test]
fn unsafe_optional_attribute_access() {
    case(
        ErrorKind::UnsafeOptionalAttributeAccess,
        &when("principal.email == \"a\""),
        &when("principal has email && principal.email == \"a\""),
    );
    case(
        ErrorKind::UnsafeOptionalAttributeAccess,
        &when("(principal has email || context.mfa) && principal.email == \"a\""),
        &when("(principal has email || false) && principal.email == \"a\""),
    );
    // negation carries no capabilities
    assert_eq!(
        kinds(&when("!(principal has email) || principal.email == \"a\"")),
        BTreeSet::from([ErrorKind::UnsafeOptionalAttributeAccess])
    );
    case(
        ErrorKind::UnsafeOptionalAttributeAccess,
        &when("if principal has email then true else principal.email == \"a\""),
        &when("if principal has email then principal.email == \"a\" else false"),
    );
    case(
        ErrorKind::UnsafeOptionalAttributeAccess,
        &when("principal has profile && principal.profile.nick == \"a\""),
        &when("principal has profile.nick && principal.profile.nick == \"a\""),
    );
    case(
        ErrorKind::UnsafeOptionalAttributeAccess,
        &when("context.opt > 1"),
        &when("context has opt && context.opt > 1"),
    );
}

#[test]
fn tags() {
    case(
        ErrorKind::UnsafeTagAccess,
        &when("principal.getTag(\"t\") == \"x\""),
        &when("principal.hasTag(\"t\") && principal.getTag(\"t\") == \"x\""),
    );
    case(
        ErrorKind::IncompatibleTypes,
        r#"permit(principal, action, resource is Doc) when { resource.hasTag("t") && resource.getTag("t") == "x" };"#,
        r#"permit(principal, action, resource is Doc) when { resource.hasTag("t") && resource.getTag("t") == 1 };"#,
    );
    // an entity type without tags: `hasTag` is false, so the access is never typechecked
    assert_eq!(
        kinds(
            r#"permit(principal is Admin, action, resource) when { principal.hasTag("t") && principal.getTag("t") == 1 };"#
        ),
        BTreeSet::new()
    );
    assert_eq!(
        kinds(
            r#"permit(principal is Admin, action, resource) when { if principal.hasTag("t") then principal.getTag("t") == 1 else true };"#
        ),
        BTreeSet::new()
    );
}

#[test]
fn extension_functions() {
    case(
        ErrorKind::FunctionArgumentValidation,
        &when("ip(\"1.2.3.x\").isIpv4()"),
        &when("ip(\"1.2.3.4\").isIpv4()"),
    );
    case(
        ErrorKind::FunctionArgumentValidation,
        &when("datetime(\"2024-13-01\") < principal.born"),
        &when("datetime(\"2024-12-01\") < principal.born"),
    );
    case(
        ErrorKind::NonLitExtConstructor,
        &when("ip(principal.name).isIpv4()"),
        &when("principal.ip.isIpv4()"),
    );
    case(
        ErrorKind::UnexpectedType,
        &when("principal.ip.isInRange(decimal(\"1.0\"))"),
        &when("principal.ip.isInRange(ip(\"10.0.0.0/8\"))"),
    );
}

#[test]
fn empty_set_forbidden() {
    case(
        ErrorKind::EmptySetForbidden,
        &when("[].isEmpty()"),
        &when("[1].isEmpty()"),
    );
}

#[test]
fn short_circuits_skip_the_right_operand() {
    // Cedar does not typecheck the right of `false && _` or `true || _`
    assert_eq!(kinds(&when("false && principal.nope")), BTreeSet::new());
    assert_eq!(kinds(&when("true || principal.nope")), BTreeSet::new());
    assert_eq!(kinds(&when("1 != 1 && principal.nope")), BTreeSet::new());
    assert_eq!(
        kinds(&when("principal is Admin && principal.nope")),
        BTreeSet::new()
    );
    assert_eq!(
        kinds(&when("if false then principal.nope else true")),
        BTreeSet::new()
    );
    // but it does when the left is only known to be boolean
    assert_eq!(
        kinds(&when("context.mfa && principal.nope")),
        BTreeSet::from([ErrorKind::UnsafeAttributeAccess])
    );
}

#[test]
fn action_scope_limits_the_environments() {
    // `level` exists only on `Admin`, the only principal of `manage`
    assert_eq!(
        kinds(
            r#"permit(principal, action == Action::"manage", resource) when { principal.level > 1 };"#
        ),
        BTreeSet::new()
    );
    assert_eq!(
        kinds(r#"permit(principal, action, resource) when { principal.level > 1 };"#),
        BTreeSet::from([ErrorKind::UnsafeAttributeAccess])
    );
    assert_eq!(
        kinds(
            r#"permit(principal, action in Action::"all", resource) when { resource.owner.name == "a" };"#
        ),
        BTreeSet::new()
    );
}

#[test]
fn warnings_do_not_invalidate() {
    let r = run(r#"permit(principal, action == Action::"noop", resource);"#);
    assert!(r.is_valid());
    assert_eq!(
        r.warnings.iter().map(|w| w.kind).collect::<BTreeSet<_>>(),
        BTreeSet::from([
            WarningKind::InvalidActionApplication,
            WarningKind::ImpossiblePolicy
        ])
    );
    assert_eq!(
        warnings(
            r#"permit(principal, action, resource) when { principal is User && principal is Admin };"#
        ),
        BTreeSet::from([WarningKind::ImpossiblePolicy])
    );
    assert_eq!(
        warnings(r#"permit(principal, action, resource);"#),
        BTreeSet::new()
    );
}

#[test]
fn templates() {
    assert_eq!(
        kinds(
            r#"permit(principal == ?principal, action == Action::"read", resource) when { principal.name == "a" };"#
        ),
        BTreeSet::new()
    );
    assert_eq!(
        kinds(
            r#"permit(principal in ?principal, action == Action::"read", resource == ?resource) when { resource.owner == principal };"#
        ),
        BTreeSet::new()
    );
    assert_eq!(
        kinds(r#"permit(principal in ?principal, action, resource) when { principal.nope };"#),
        BTreeSet::from([ErrorKind::UnsafeAttributeAccess])
    );
}

#[test]
fn every_error_has_a_name_and_its_policy_source() {
    let r = run(&when("principal.nme == \"a\""));
    let e = &r.errors[0];
    assert_eq!(e.kind.name(), "unsafe-attribute-access");
    assert_eq!(e.policy_id.as_str(), "policy0");
    let text = when("principal.nme == \"a\"");
    assert_eq!(&text[e.span.range()], "principal.nme");
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 900;
    let cond = format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(kinds(&when(&cond)), BTreeSet::new());
    let cond = format!("{}1{}", "-(".repeat(depth), ")".repeat(depth));
    assert_eq!(kinds(&when(&format!("{cond} == 1"))), BTreeSet::new());
    let mut cond = "principal".to_string();
    for _ in 0..200 {
        cond = format!("(if context.mfa then {cond} else principal)");
    }
    let _ = kinds(&when(&format!("{cond} == principal")));
}

/// Expressions as tall as the parser allows, of every shape a chain can take, validate, get
/// their expression types, lower and print without overflowing a small stack: every walk over
/// them grows its stack on demand.
#[test]
fn the_tallest_expressions_validate_lower_and_print_in_a_small_stack() {
    use crate::ast::MAX_EXPR_DEPTH;
    use crate::program::lower_typed;
    use crate::validator::expression_types;

    let n = MAX_EXPR_DEPTH - 10;
    let chain = |term: &str, op: &str| vec![term; n].join(op);
    let conditions = [
        chain("context.mfa", " && "),
        chain("context.mfa", " || "),
        chain("1 == 1", " && "),
        format!("{} == 1", chain("1", " + ")),
        format!("{} == 1", chain("context.opt", " * ")),
        format!("[1]{}", ".contains(1)".repeat(n)),
        format!("principal{} == principal", ".manager".repeat(n)),
        format!("principal.labels{}", ".containsAll([\"a\"])".repeat(n)),
        format!(
            "{}context.mfa{}",
            "(if context.mfa then ".repeat(300),
            " else false)".repeat(300)
        ),
        // capabilities gathered along the chain
        vec!["principal has email && principal.email == \"a\""; n / 2 - 2].join(" && "),
        format!(
            "context has opt && {}",
            vec!["context.opt == 1"; n - 10].join(" && ")
        ),
    ];
    let small_stack = std::thread::Builder::new().stack_size(256 * 1024);
    small_stack
        .spawn(move || {
            let schema = parse_schema(Source::new("s.cedarschema", SCHEMA)).unwrap();
            for cond in &conditions {
                let text = when(cond);
                let set = parse_policy_set(Source::new("p.cedar", text.as_str()))
                    .unwrap_or_else(|e| panic!("{}", e.render()));
                let _ = validate(&schema, &set, ValidationOptions::default());
                let _ = validate(&schema, &set, ValidationOptions { level: Some(1) });
                let types = expression_types(&schema, &set);
                let program = lower_typed(&set, Some(&types));
                assert_eq!(program.policies.len(), 1);
                let printed = set
                    .policies()
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<String>();
                parse_policy_set(Source::new("printed.cedar", printed.as_str()))
                    .unwrap_or_else(|e| panic!("{}", e.render()));
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Types that share their parts (common types naming the next twice, written out 2^300
/// leaves) validate in time linear in the schema: converting, comparing, joining and printing
/// them all follow the sharing.
#[test]
fn exponentially_large_shared_types_validate_quickly() {
    use crate::program::lower_typed;
    use crate::validator::expression_types;

    let levels = 300;
    let mut text = String::from(
        "entity User; action a appliesTo { principal: User, resource: User, context: {a: A0, b: B0, c: A0} };\n",
    );
    for chain in ["A", "B"] {
        for i in 0..levels {
            text.push_str(&format!(
                "type {chain}{i} = {{x: {chain}{n}, y: {chain}{n}}};\n",
                n = i + 1
            ));
        }
        text.push_str(&format!("type {chain}{levels} = {{z: Long}};\n"));
    }
    let schema = parse_schema(Source::new("s.cedarschema", text.as_str()))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let path = ".x.y".repeat(levels / 2);
    let policies = format!(
        r#"permit(principal, action, resource) when {{ context.a{path}.z == 1 }};
        permit(principal, action, resource) when {{ context.a == context.b && context.a == context.c }};
        permit(principal, action, resource) when {{ (if context.a.x == context.b.y then context.a else context.b).x == context.c.y }};
        permit(principal, action, resource) when {{ [context.a, context.b, context.c].contains(context.a) }};
        permit(principal, action, resource) when {{ context.a == 1 }};"#
    );
    let set = parse_policy_set(Source::new("p.cedar", policies.as_str()))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let result = validate(&schema, &set, ValidationOptions::default());
    let messages: Vec<&str> = result.errors.iter().map(|e| e.message.as_str()).collect();
    // Only the last policy is wrong; its message shows the type cut short.
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].len() < 3 * super::types::MAX_SHOWN_TYPE,
        "{}",
        messages[0].len()
    );
    assert!(messages[0].contains('…'), "{}", messages[0]);
    let types = expression_types(&schema, &set);
    assert_eq!(lower_typed(&set, Some(&types)).policies.len(), 5);
}

#[test]
fn template_links() {
    use std::collections::BTreeMap;

    use thuja_runtime::{EntityType, EntityUid};

    use crate::ast::SlotId;
    use crate::template::link;

    let schema = parse_schema(Source::new("s.cedarschema", SCHEMA)).unwrap();
    let mut set = parse_policy_set(Source::new(
        "p.cedar",
        r#"permit(principal == ?principal, action == Action::"read", resource);"#,
    ))
    .unwrap();
    let uid = |t: &str, id: &str| EntityUid::new(EntityType::new_unchecked(t), id);
    link(
        &mut set,
        "policy0",
        "good",
        BTreeMap::from([(SlotId::Principal, uid("User", "a"))]),
    )
    .unwrap();
    link(
        &mut set,
        "policy0",
        "unknown",
        BTreeMap::from([(SlotId::Principal, uid("Usr", "a"))]),
    )
    .unwrap();
    link(
        &mut set,
        "policy0",
        "inapplicable",
        BTreeMap::from([(SlotId::Principal, uid("Admin", "a"))]),
    )
    .unwrap();
    let r = validate(&schema, &set, ValidationOptions::default());
    let errors: BTreeSet<_> = r
        .errors
        .iter()
        .map(|e| (e.policy_id.as_ref(), e.kind))
        .collect();
    assert_eq!(
        errors,
        BTreeSet::from([("unknown", ErrorKind::UnrecognizedEntityType)])
    );
    let warnings: BTreeSet<_> = r
        .warnings
        .iter()
        .map(|w| (w.policy_id.as_ref(), w.kind))
        .collect();
    assert_eq!(
        warnings,
        BTreeSet::from([
            ("unknown", WarningKind::InvalidActionApplication),
            ("inapplicable", WarningKind::InvalidActionApplication)
        ])
    );
}

#[test]
fn wrong_number_arguments() {
    case(
        ErrorKind::WrongNumberArguments,
        &when("ip(\"1.2.3.4\", \"5\").isIpv4()"),
        &when("ip(\"1.2.3.4\").isIpv4()"),
    );
    case(
        ErrorKind::WrongNumberArguments,
        &when("principal.ip.isInRange()"),
        &when("principal.ip.isInRange(principal.ip)"),
    );
}

fn kinds_at(policies: &str, level: u32) -> BTreeSet<ErrorKind> {
    let schema = parse_schema(Source::new("s.cedarschema", SCHEMA)).unwrap();
    let set = parse_policy_set(Source::new("p.cedar", policies)).unwrap();
    validate(&schema, &set, ValidationOptions { level: Some(level) })
        .errors
        .iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn entity_deref_levels() {
    let two = when("principal has manager && principal.manager.name == \"a\"");
    assert_eq!(kinds_at(&two, 2), BTreeSet::new());
    assert_eq!(
        kinds_at(&two, 1),
        BTreeSet::from([ErrorKind::EntityDerefLevelViolation])
    );
    // records are not entities: no level spent on them
    assert_eq!(kinds_at(&when("context.mfa"), 0), BTreeSet::new());
    assert_eq!(
        kinds_at(&when("principal.name == \"a\""), 0),
        BTreeSet::from([ErrorKind::EntityDerefLevelViolation])
    );
    // dereferencing a literal is never allowed
    assert_eq!(
        kinds_at(&when("User::\"a\".name == \"a\""), 5),
        BTreeSet::from([ErrorKind::EntityDerefLevelViolation])
    );
    // the part a short circuit skips is not checked
    assert_eq!(
        kinds_at(&when("false && User::\"a\".name == \"a\""), 5),
        BTreeSet::new()
    );
}

/// Cedar's parser folds `&&`/`||` of boolean literals into a literal, so such an operand counts
/// as a literal for `==` (found by drt: `fuzz/regressions/bool-literal-folding`).
#[test]
fn folded_boolean_literals_compare_as_literals() {
    assert!(kinds(&when(r#"(true && false) == "abc""#)).is_empty());
    assert!(kinds(&when("(false || true) != 1")).is_empty());
    assert!(kinds(&when("((true || false) && true) == 1")).is_empty());
    // Not a literal when an operand is not one: strict equality applies.
    assert_eq!(
        kinds(&when(r#"(context.mfa && false) == "abc""#)),
        BTreeSet::from([ErrorKind::IncompatibleTypes])
    );
    assert!(
        warnings(&when("(false || false) == (true || false)"))
            .contains(&WarningKind::ImpossiblePolicy)
    );
}

/// The expression types of `policies`' first policy, by the source text of each node.
fn types_by_text(policies: &str) -> Option<Vec<(String, Option<String>)>> {
    let schema = parse_schema(Source::new("s.cedarschema", SCHEMA))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let set = parse_policy_set(Source::new("p.cedar", policies))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let types = super::expression_types(&schema, &set);
    let policy = set.policies().first()?;
    let nodes = types.of(&policy.id)?.nodes(policy);
    let mut out = Vec::new();
    for c in &policy.conditions {
        for node in super::expr_types::preorder(&c.body) {
            let text = policies[node.span.start..node.span.end].to_string();
            out.push((text, nodes.type_of(node).map(|t| t.to_string())));
        }
    }
    Some(out)
}

#[test]
fn every_node_of_a_valid_policy_has_its_type_in_all_environments() {
    let types = types_by_text(
        r#"permit(principal, action == Action::"read", resource)
           when { resource.owner.name like "a*" && context.mfa }
           unless { principal is Admin };"#,
    )
    .expect("a valid policy has types");
    let expected = [
        ("resource.owner.name like \"a*\" && context.mfa", "Bool"),
        ("resource.owner.name like \"a*\"", "Bool"),
        ("resource.owner.name", "String"),
        ("resource.owner", "User"),
        ("resource", "Doc"),
        ("context.mfa", "Bool"),
        ("context", "{mfa: Bool,opt?: Long,}"),
        ("principal is Admin", "__cedar::internal::False"),
        ("principal", "User"),
    ];
    let actual: Vec<(&str, Option<&str>)> = types
        .iter()
        .map(|(text, ty)| (text.as_str(), ty.as_deref()))
        .collect();
    let expected: Vec<(&str, Option<&str>)> = expected
        .iter()
        .map(|(text, ty)| (*text, Some(*ty)))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn types_join_over_environments_and_invalid_policies_have_none() {
    // `principal` is a User for `read` and an Admin for `manage`: entities of either type.
    let types = types_by_text(
        "permit(principal, action, resource) when { principal.name == \"x\" || principal is Admin };",
    );
    assert_eq!(types, None, "`name` is not an attribute of Admin: invalid");
    let types = types_by_text(
        r#"permit(principal, action in [Action::"read", Action::"manage"], resource)
           when { principal is Admin };"#,
    )
    .expect("valid");
    assert_eq!(
        types[0].1.as_deref(),
        Some("Bool"),
        "True for manage, False for read"
    );
    assert_eq!(
        types[1].1.as_deref(),
        Some("__cedar::internal::Union<Admin, User>")
    );
}

#[test]
fn policies_of_one_shape_share_types_each_as_if_alone() {
    // Pairs of one shape (up to the ids of non-action entities), near misses of another shape,
    // and a policy whose shape is valid but whose names are not.
    let policies = [
        r#"permit(principal in Group::"a", action == Action::"read", resource) when { resource.owner == User::"u" };"#,
        r#"permit(principal in Group::"b", action == Action::"read", resource) when { resource.owner == User::"v" };"#,
        r#"permit(principal, action == Action::"read", resource) when { Group::"a" == Group::"a" };"#,
        r#"permit(principal, action == Action::"read", resource) when { Group::"a" == Group::"b" };"#,
        r#"permit(principal, action == Action::"paint", resource == Color::"red");"#,
        r#"permit(principal, action == Action::"paint", resource == Color::"blue");"#,
        r#"permit(principal in Group::"a", action, resource) when { principal.name == "x" };"#,
        r#"permit(principal in Group::"b", action, resource) when { principal.name == "x" };"#,
    ];
    let schema = parse_schema(Source::new("s.cedarschema", SCHEMA)).unwrap();
    let together = parse_policy_set(Source::new("p.cedar", policies.concat())).unwrap();
    let shared = super::expression_types(&schema, &together);
    for (i, text) in policies.iter().enumerate() {
        let alone = parse_policy_set(Source::new("p.cedar", *text)).unwrap();
        let expected = super::expression_types(&schema, &alone);
        let id = format!("policy{i}");
        assert_eq!(shared.of(&id), expected.of("policy0"), "policy {i}: {text}");
    }
    // The literal comparisons differ: one is always true, the other impossible.
    assert_ne!(shared.of("policy2"), shared.of("policy3"));
    assert!(shared.of("policy5").is_none(), "blue is not a Color");
    assert!(shared.of("policy6").is_none(), "Admin has no name");
}
