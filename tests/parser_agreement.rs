//! The policy parser accepts exactly what `cedar-policy` accepts, on inputs chosen to sit at the
//! edges of Cedar's grammar and of the rules it adds on top (reserved words, chained relations,
//! negative literals, method/function styles, scope forms, slots, escapes).

use thuja_compiler::Source;
use thuja_compiler::parser::{parse_expr, parse_policies};

fn cedar_accepts_policies(text: &str) -> bool {
    text.parse::<cedar_policy::PolicySet>().is_ok()
}

fn cedar_accepts_expr(text: &str) -> bool {
    text.parse::<cedar_policy::Expression>().is_ok()
}

const EXPRESSIONS: &[&str] = &[
    "1",
    "-1",
    "--1",
    "---1",
    "----1",
    "-----1",
    "!true",
    "!!!!true",
    "!!!!!true",
    "!-1",
    "-!1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "--9223372036854775808",
    "99999999999999999999999",
    "-(1)",
    "1 + 2 * 3 - -4",
    "1 < 2 < 3",
    "1 == 2 == 3",
    "1 < 2 == true",
    "(1 < 2) == true",
    "1 = 2",
    "1 / 2",
    "1 % 2",
    "a",
    "A::B",
    "principal",
    "context.x",
    "context[\"x\"]",
    "context[x]",
    "context[(\"x\")]",
    "principal.if",
    "principal.true",
    "principal.principal",
    "principal.__cedar",
    "principal.in",
    "principal has if",
    "principal has true",
    "principal has \"if\"",
    "principal has a.b.c",
    "principal has a::b",
    "principal has principal",
    "principal has a.if",
    "principal has 1",
    "principal has a.\"b\"",
    "principal has (a)",
    "principal has a + 1",
    "\"a\" like \"*\"",
    "\"a\" like \"\\*\"",
    "\"a\" like a",
    "\"a\" like \"a\" + \"b\"",
    "principal is User",
    "principal is A::B",
    "principal is principal",
    "principal is User in Group::\"g\"",
    "principal is User::\"x\"",
    "principal is (User)",
    "principal is if",
    "principal is 1",
    "if true then 1 else 2",
    "1 + if true then 1 else 2",
    "(if true then 1 else 2) + 1",
    "!if true then true else false",
    "[]",
    "[1,]",
    "[1, 2, ]",
    "[,]",
    "{}",
    "{a: 1,}",
    "{a: 1, a: 2}",
    "{\"a\": 1, a: 2}",
    "{if: 1}",
    "{true: 1}",
    "{principal: 1}",
    "{a::b: 1}",
    "{(a): 1}",
    "{\"a\" + \"b\": 1}",
    "{1: 2}",
    "ip(\"1.2.3.4\")",
    "ip(\"1.2.3.4\", \"x\")",
    "ip()",
    "decimal(1)",
    "foo(1)",
    "A::ip(\"x\")",
    "isIpv4(ip(\"1.2.3.4\"))",
    "ip(\"1.2.3.4\").isIpv4()",
    "ip(\"1.2.3.4\").isIpv4(1)",
    "principal.ip()",
    "principal.foo()",
    "contains([], 1)",
    "[].contains(1)",
    "[].contains()",
    "[].contains(1, 2)",
    "[].isEmpty()",
    "[].isEmpty(1)",
    "principal.getTag(\"a\")",
    "principal.hasTag(\"a\", 1)",
    "principal()",
    "principal.a()",
    "(1)(2)",
    "1.foo",
    "\"a\".foo",
    "true.foo",
    "A::\"b\".foo",
    "A::B.foo",
    "A::B[\"foo\"]",
    "A::B.foo()",
    "A::\"b\"",
    "if::\"b\"",
    "true::\"b\"",
    "principal::\"b\"",
    "A::{\"b\": 1}",
    "__cedar::A::\"b\"",
    "A::__cedar::\"b\"",
    "__cedarX::\"b\"",
    "\"\\q\"",
    "\"\\u{110000}\"",
    "\"\\x7F\"",
    "\"\\x80\"",
    "\"\\*\"",
    "\"a\\\nb\"",
    "\"\\u{D800}\"",
    "?principal",
    "?resource",
    "?other",
    "1 in 2 in 3",
    "principal in [A::\"b\"]",
    "a && b || c",
    "true && false || !true",
    "duration(\"1h\").toHours()",
    "datetime(\"2020-01-01\").offset(duration(\"1d\"))",
    "principal.x.y.z.contains(1)",
    "context.a[\"b\"].c",
    "1 +",
    "(",
    "[1",
    "{a}",
    "{a:}",
    "",
    "// only a comment",
];

const POLICIES: &[&str] = &[
    "permit(principal, action, resource);",
    "permit(principal, action, resource)",
    "permit(principal, action);",
    "permit(principal, action, resource, context);",
    "permit(action, principal, resource);",
    "permit(principal,action,resource,);",
    "permit(principal, action, resource) when { true };",
    "permit(principal, action, resource) when { };",
    "permit(principal, action, resource) when { true } unless { false } when { 1 };",
    "permit(principal, action, resource) if { true };",
    "allow(principal, action, resource);",
    "forbid(principal == User::\"a\", action == Action::\"b\", resource == Photo::\"c\");",
    "permit(principal in Group::\"a\", action in [Action::\"a\", Action::\"b\"], resource in Folder::\"f\");",
    "permit(principal, action in Action::\"a\", resource);",
    "permit(principal, action in [], resource);",
    "permit(principal, action == [Action::\"a\"], resource);",
    "permit(principal, action == User::\"a\", resource);",
    "permit(principal, action in [User::\"a\"], resource);",
    "permit(principal, action == NS::Action::\"a\", resource);",
    "permit(principal, action is Action, resource);",
    "permit(principal is User, action, resource is Photo);",
    "permit(principal is User in Group::\"g\", action, resource);",
    "permit(principal in Group::\"g\" is User, action, resource);",
    "permit(principal is User == User::\"a\", action, resource);",
    "permit(principal != User::\"a\", action, resource);",
    "permit(principal = User::\"a\", action, resource);",
    "permit(principal == ?principal, action, resource in ?resource);",
    "permit(principal == ?resource, action, resource);",
    "permit(principal, action == ?principal, resource);",
    "permit(principal, action, resource) when { principal == ?principal };",
    "permit(principal == ?principal, action, resource) when { resource == ?resource };",
    "permit(principal is User in ?principal, action, resource is Doc in ?resource);",
    "permit(principal == ?foo, action, resource);",
    "permit(principal: User, action, resource);",
    "permit(principal == User::\"a\" && true, action, resource);",
    "permit(principal == (User::\"a\"), action, resource);",
    "permit(principal == principal, action, resource);",
    "@id(\"x\") permit(principal, action, resource);",
    "@id(\"x\") @id(\"y\") permit(principal, action, resource);",
    "@if(\"x\") @true @in(\"z\") permit(principal, action, resource);",
    "@a permit(principal, action, resource);",
    "@a() permit(principal, action, resource);",
    "@a(\"\\q\") permit(principal, action, resource);",
    "@a::b(\"x\") permit(principal, action, resource);",
    "permit(principal, action, resource); forbid(principal, action, resource);",
    "permit(principal, action, resource);;",
    "permit(principal, action, resource) when { context.a.contains(1) } unless { resource has owner && resource.owner == principal };",
    "permit(principal, action, resource) when { principal == User::\"\\u{1F600}\" };",
    "permit(principal == User::\"a\\q\", action, resource);",
    "permit(principal, action, resource) when { \"unterminated };",
    "permit(principal, action, resource) when { 1 + 2 * 3 < 4 && 5 >= 6 || !(7 != 8) };",
    "permit(principal, action, resource) when { principal in resource.readers };",
    "permit ( principal , action , resource ) // comment\n when { true } ;",
    "PERMIT(principal, action, resource);",
    "permit(principal, action, resource) when { principal.name like \"a*b\\*c\" };",
    "permit(principal, action, resource) when { ?principal in principal };",
];

#[test]
fn expressions_are_accepted_exactly_when_cedar_accepts_them() {
    let mut disagreements = Vec::new();
    for text in EXPRESSIONS {
        let ours = parse_expr(Source::new("<expr>", *text)).is_ok();
        let cedar = cedar_accepts_expr(text);
        if ours != cedar {
            disagreements.push(format!(
                "{text:?}: cedar accepts = {cedar}, thuja accepts = {ours}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "disagreements:\n{}",
        disagreements.join("\n")
    );
}

#[test]
fn policies_are_accepted_exactly_when_cedar_accepts_them() {
    let mut disagreements = Vec::new();
    for text in POLICIES {
        let ours = parse_policies(Source::new("<policy>", *text)).is_ok();
        let cedar = cedar_accepts_policies(text);
        if ours != cedar {
            disagreements.push(format!(
                "{text:?}: cedar accepts = {cedar}, thuja accepts = {ours}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "disagreements:\n{}",
        disagreements.join("\n")
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = parse_expr(Source::new("deep", deep)).unwrap_err();
    assert!(err.to_string().contains("nested too deeply"), "{err}");
    let ok = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert!(parse_expr(Source::new("ok", ok)).is_ok());
}
