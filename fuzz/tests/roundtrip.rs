//! The oracle's entities round-trip properties (`property:entities-roundtrip`: Thuja's store,
//! written as JSON, reads back equal and writes the same text; `property:entities-cedar-reads`:
//! `cedar-policy` reads that text to the entities it read from the case): they hold on data with
//! every kind of value, and a store that cannot be written faithfully is reported.

use serde_json::json;
use thuja_fuzz::{Case, Mode, RequestSpec, check};

const SCHEMA: &str = r#"
entity Group;
entity User in [Group, User] {
  age: Long,
  friends: Set<User>,
  home: ipaddr,
  born: datetime,
  info: { "__entity"?: { "type": String, "id": String }, "n"?: decimal, "d"?: duration },
} tags Set<String>;
action view appliesTo { principal: User, resource: User };
"#;

fn case(mode: Mode, info: serde_json::Value) -> Case {
    let user = |id: &str, parents: serde_json::Value| {
        json!({
            "uid": {"type": "User", "id": id},
            "attrs": {
                "age": 7,
                "friends": [{"__entity": {"type": "User", "id": "b"}}, {"__entity": {"type": "User", "id": "a"}}],
                "home": {"__extn": {"fn": "ip", "arg": "::ffff:ff00:1/120"}},
                "born": {"__extn": {"fn": "offset", "args": [
                    {"__extn": {"fn": "datetime", "arg": "9999-12-31T23:00:00-0100"}},
                    {"__extn": {"fn": "duration", "arg": "1d"}}]}},
                "info": info,
            },
            "parents": parents,
            "tags": {"t": ["x", "y"]},
        })
    };
    Case {
        seed: 0,
        mode,
        schema: SCHEMA.into(),
        policies: vec!["permit(principal, action, resource) when { principal.age > 3 };".into()],
        entities: vec![
            user("a", json!([{"type": "Group", "id": "g"}])),
            user("b", json!([{"type": "User", "id": "a"}])),
            json!({"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": []}),
        ],
        requests: vec![RequestSpec {
            principal: json!({"type": "User", "id": "b"}),
            action: json!({"type": "Action", "id": "view"}),
            resource: json!({"type": "User", "id": "a"}),
            context: json!({}),
        }],
    }
}

fn kinds(case: &Case) -> Vec<String> {
    check(case).mismatches.into_iter().map(|m| m.kind).collect()
}

#[test]
fn round_trip_properties_hold_on_every_kind_of_value() {
    let info = json!({"n": {"__extn": {"fn": "decimal", "arg": "-1.5"}}, "d": {"__extn": {"fn": "duration", "arg": "-90m"}}});
    for mode in [Mode::Schema, Mode::Loose] {
        let c = case(mode, info.clone());
        let checked = check(&c);
        assert!(checked.loaded, "{mode:?}: the case should load");
        assert!(
            checked.mismatches.is_empty(),
            "{mode:?}: {:?}",
            checked.mismatches
        );
    }
}

#[test]
fn a_store_that_cannot_be_written_is_a_mismatch() {
    // Read with the schema, `info` is a record whose only key is `__entity`; written without
    // escapes it would read back as an entity reference, so the writer refuses it.
    let info = json!({"__entity": {"type": "User", "id": "a"}});
    assert_eq!(
        kinds(&case(Mode::Schema, info.clone())),
        ["property:entities-roundtrip"]
    );
    // Without a schema the same JSON is an entity reference, and round-trips.
    assert_eq!(kinds(&case(Mode::Loose, info)), Vec::<String>::new());
}
