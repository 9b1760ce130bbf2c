//! Lowering on small policies, read through the listing.

use std::collections::BTreeMap;

use super::{Op, lower};
use crate::Source;
use crate::ast::{LinkedPolicy, PolicySet, SlotId};
use crate::parser::{parse_entity_uid, parse_policy_set};

fn parse(text: &str) -> PolicySet {
    parse_policy_set(Source::new("p.cedar", text)).unwrap()
}

/// The listing without the index part.
fn code_listing(set: &PolicySet) -> String {
    let listing = lower(set).to_string();
    let start = listing.find("\npolicy ").map_or(0, |i| i + 1);
    listing[start..].to_string()
}

#[test]
fn conditions_compile_to_jumps_and_requires() {
    let set = parse(
        "permit(principal, action, resource)\n\
         when { context.n >= 3 && principal in [Group::\"a\", Group::\"b\"] }\n\
         unless { if context.f then {a: 1} has a else principal is User in resource };",
    );
    let expected = "\
policy 0: policy0 (permit), code 0..21
     0  var context                              2:8
     1  get_attr \"n\"                             2:8
     2  push 3                                   2:21
     3  binary >=                                2:8
     4  short_circuit false -> 9                 2:8
     5  var principal                            2:26
     6  push [Group::\"a\", Group::\"b\"]            2:39
     7  binary in                                2:26
     8  check_bool                               2:26
     9  require true                             2:8
    10  var context                              3:13
    11  get_attr \"f\"                             3:13
    12  jump_if_false 16                         3:13
    13  push {\"a\": 1}                            3:28
    14  has \"a\"                                  3:28
    15  jump 20                                  3:10
    16  var principal                            3:46
    17  is_or_jump User -> 20                    3:46
    18  var resource                             3:67
    19  in_target                                3:46
    20  require false                            3:10
";
    assert_eq!(code_listing(&set), expected);
}

#[test]
fn sets_and_records_of_non_literals_are_built_at_run_time() {
    let program = lower(&parse(
        "permit(principal, action, resource) when { [principal, 1] == [] && {a: context} == {} };",
    ));
    assert!(program.code.contains(&Op::MakeSet(2)));
    assert!(
        program
            .code
            .iter()
            .any(|op| matches!(op, Op::MakeRecord(_)))
    );
    assert_eq!(program.code.len(), program.spans.len());
}

#[test]
fn links_get_their_own_code_and_unresolved_links_check_their_scope() {
    let mut set = parse(
        "permit(principal == ?principal, action in [Action::\"a\"], resource is Doc in ?resource)\n\
         when { principal == resource };",
    );
    let uid = |s: &str| parse_entity_uid(Source::new("uid", s)).unwrap();
    crate::template::link(
        &mut set,
        "policy0",
        "linked",
        BTreeMap::from([
            (SlotId::Principal, uid("User::\"u\"")),
            (SlotId::Resource, uid("Folder::\"f\"")),
        ]),
    )
    .unwrap();
    // Linking refuses a missing slot value; build one by hand.
    set.push_link(LinkedPolicy {
        id: "broken".into(),
        template_id: "policy0".into(),
        values: BTreeMap::from([(SlotId::Principal, uid("User::\"u\""))]),
    });
    let listing = code_listing(&set);
    let expected = "\
policy 0: linked (permit), code 0..4
     0  var principal                            2:8
     1  var resource                             2:21
     2  binary ==                                2:8
     3  require true                             2:8

policy 1: broken (permit), code 4..23
     4  var principal                            1:1
     5  push User::\"u\"                           1:1
     6  binary ==                                1:1
     7  require true                             1:1
     8  var action                               1:1
     9  push [Action::\"a\"]                       1:1
    10  binary in                                1:1
    11  require true                             1:1
    12  var resource                             1:1
    13  is Doc                                   1:1
    14  require true                             1:1
    15  var resource                             1:1
    16  fail template slot `?resource` is not linked 1:1
    17  binary in                                1:1
    18  require true                             1:1
    19  var principal                            2:8
    20  var resource                             2:21
    21  binary ==                                2:8
    22  require true                             2:8
";
    assert_eq!(listing, expected);
}

/// The code listing of `text` compiled against a small schema, specialised on its types.
fn typed_code_listing(text: &str) -> String {
    let schema = crate::schema::parse_schema(Source::new(
        "s.cedarschema",
        "entity User { name: String, age?: Long }; entity Admin; entity Doc;\n\
         action read appliesTo { principal: [User], resource: [Doc], context: { n: Long } };",
    ))
    .unwrap();
    let set = parse(text);
    let types = crate::validator::expression_types(&schema, &set);
    let listing = super::lower_typed(&set, Some(&types)).to_string();
    let start = listing.find("\npolicy ").map_or(0, |i| i + 1);
    listing[start..].to_string()
}

#[test]
fn typed_lowering_folds_conditions_the_types_decide() {
    // `principal` is always a User: the `unless` is always met, so it disappears; `context.n`
    // is a Long, so `&&` does not check the right operand again.
    let listing = typed_code_listing(
        "permit(principal, action, resource)\n\
         when { principal is User && context.n > 1 }\n\
         unless { principal is Admin };",
    );
    let expected = "\
policy 0: policy0 (permit), code 0..7, typed
     0  push true                                2:8
     1  short_circuit false -> 6                 2:8
     2  var context                              2:29
     3  get_attr \"n\"                             2:29
     4  push 1                                   2:41
     5  binary >                                 2:29
     6  require true                             2:8
";
    assert_eq!(listing, expected);
}

#[test]
fn typed_lowering_keeps_what_depends_on_the_store_or_can_fail() {
    // `has` of a missing entity is false whatever its type says; attribute access can fail.
    let listing = typed_code_listing(
        "permit(principal, action, resource) when { principal has name };\n\
         permit(principal, action, resource) when { principal.name == principal.name };",
    );
    assert!(listing.contains("has \"name\""), "{listing}");
    assert!(listing.contains("get_attr \"name\""), "{listing}");
    // A policy that does not validate is compiled as it is, without types.
    let listing = typed_code_listing(
        "permit(principal, action, resource) when { principal is Admin || principal.nope };",
    );
    assert!(!listing.contains("typed"), "{listing}");
    assert!(listing.contains("is Admin"), "{listing}");
}
