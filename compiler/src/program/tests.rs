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
