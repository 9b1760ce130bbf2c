//! Schema translation between the `.cedarschema` text format and Cedar's JSON schema format, on
//! every schema in the conformance data (the upstream tests, sample data, and the corpus
//! tarball):
//! - text → tree → JSON → tree resolves to the same schema as the text, and so does
//!   text → JSON → text;
//! - `cedar-policy`'s own JSON form of the text reads (with Thuja's JSON reader) to the same
//!   schema, and `cedar-policy` accepts the JSON Thuja writes.
//!
//! Skipped (with a message) when the conformance folder is absent; `THUJA_CONFORMANCE_DIR`
//! overrides its default location `../shared/cedar-conformance`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use thuja_compiler::Source;
use thuja_compiler::schema::{
    json, parse, parse_schema, parse_schema_json, print, resolve, translate_cedar_to_json,
    translate_json_to_cedar,
};
use thuja_runtime::Schema;

fn conformance_dir() -> PathBuf {
    match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cedar-conformance"),
    }
}

fn collect_dir(dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dir(&path, out);
        } else if path.extension().is_some_and(|e| e == "cedarschema")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.insert(path.display().to_string(), text);
        }
    }
}

/// Every `.cedarschema` text in the conformance data, by where it came from; `None` when absent.
fn schemas() -> Option<BTreeMap<String, String>> {
    let dir = conformance_dir();
    if !dir.is_dir() {
        eprintln!("SKIPPED: no conformance data at {}", dir.display());
        return None;
    }
    let mut out = BTreeMap::new();
    collect_dir(&dir.join("tests"), &mut out);
    collect_dir(&dir.join("sample-data"), &mut out);
    if let Ok(file) = std::fs::File::open(dir.join("corpus-dev.tar.gz")) {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in tar.entries().expect("readable archive") {
            let mut entry = entry.expect("readable entry");
            let path = entry
                .path()
                .expect("entry path")
                .to_string_lossy()
                .into_owned();
            if !path.ends_with(".cedarschema") {
                continue;
            }
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_ok() {
                out.insert(format!("corpus-dev.tar.gz:{path}"), text);
            }
        }
    } else {
        eprintln!("note: no corpus-dev.tar.gz in {}", dir.display());
    }
    Some(out)
}

fn resolve_text(text: &str) -> Result<Schema, String> {
    parse_schema(Source::new("schema", text)).map_err(|e| e.to_string())
}

/// The schema with the `appliesTo` of actions that apply to no request cleared: Cedar's text
/// format cannot write an `appliesTo` with an empty principal or resource list, so printing drops
/// it.
fn usable(mut schema: Schema) -> Schema {
    for action in schema.actions.values_mut() {
        if action.principals.is_empty() || action.resources.is_empty() {
            action.principals.clear();
            action.resources.clear();
            action.context = Default::default();
        }
    }
    schema
}

fn resolve_json(text: &str) -> Result<Schema, String> {
    parse_schema_json(Source::new("schema.json", text)).map_err(|e| e.render())
}

#[test]
fn json_and_text_round_trip_on_conformance_schemas() {
    let Some(schemas) = schemas() else {
        return;
    };
    let mut checked = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for (name, text) in &schemas {
        let Ok(expected) = resolve_text(text) else {
            skipped += 1;
            continue;
        };
        let Ok(file) = parse::parse_schema_file(text) else {
            failures.push(format!("{name}: parses as a schema but not as a tree"));
            continue;
        };
        // text → tree → JSON value → tree → schema
        let value = json::to_json(&file);
        let json_text = serde_json::to_string_pretty(&value).expect("JSON prints");
        match resolve_json(&json_text) {
            Ok(s) if s == expected => {}
            Ok(_) => failures.push(format!("{name}: text → JSON resolves differently")),
            Err(e) => failures.push(format!("{name}: text → JSON is rejected: {e}")),
        }
        // text → JSON → text → schema, through the public translations
        let translated = translate_cedar_to_json(Source::new("schema", text.as_str()))
            .map_err(|e| e.render())
            .and_then(|j| {
                translate_json_to_cedar(Source::new("schema.json", j)).map_err(|e| e.render())
            });
        match translated {
            Ok(back) => match resolve_text(&back) {
                Ok(s) if usable(s.clone()) == usable(expected.clone()) => {}
                Ok(_) => failures.push(format!("{name}: text → JSON → text differs")),
                Err(e) => failures.push(format!("{name}: printed text is rejected: {e}\n{back}")),
            },
            Err(e) => failures.push(format!("{name}: translation failed: {e}")),
        }
        // text → tree → text directly
        match print::to_cedarschema(&file) {
            Ok(back) => match resolve_text(&back) {
                Ok(s) if usable(s.clone()) == usable(expected.clone()) => {}
                _ => failures.push(format!("{name}: text → text differs")),
            },
            Err(e) => failures.push(format!("{name}: printing failed: {}", e.message)),
        }
        checked += 1;
    }
    eprintln!(
        "schema round trips: {checked} schemas checked, {skipped} skipped (not valid for Thuja), {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no schema was checked");
}

#[test]
fn agrees_with_cedar_policy_on_the_json_form() {
    let Some(schemas) = schemas() else {
        return;
    };
    let mut checked = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for (name, text) in &schemas {
        let Ok(expected) = resolve_text(text) else {
            skipped += 1;
            continue;
        };
        let Ok((fragment, _)) = cedar_policy::SchemaFragment::from_cedarschema_str(text) else {
            skipped += 1;
            continue;
        };
        // Cedar's JSON, read by Thuja.
        match fragment.to_json_value() {
            Ok(cedar_json) => match resolve_json(&cedar_json.to_string()) {
                Ok(s) if s == expected => {}
                Ok(_) => failures.push(format!("{name}: Cedar's JSON resolves differently")),
                Err(e) => failures.push(format!("{name}: Cedar's JSON is rejected: {e}")),
            },
            Err(e) => failures.push(format!("{name}: Cedar cannot write JSON: {e}")),
        }
        // Thuja's JSON, read by Cedar.
        let file = parse::parse_schema_file(text).expect("parsed above");
        let value = json::to_json(&file);
        if let Err(e) = cedar_policy::Schema::from_json_value(value.clone()) {
            failures.push(format!(
                "{name}: Cedar rejects Thuja's JSON: {e}\n{value:#}"
            ));
        }
        // Thuja's text, printed from its JSON, read by Cedar.
        let printed = translate_cedar_to_json(Source::new("schema", text.as_str()))
            .and_then(|j| translate_json_to_cedar(Source::new("schema.json", j)));
        match printed {
            Ok(printed) => {
                if let Err(e) = cedar_policy::Schema::from_cedarschema_str(&printed) {
                    failures.push(format!(
                        "{name}: Cedar rejects Thuja's text: {e}\n{printed}"
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: translation failed: {e}")),
        }
        checked += 1;
    }
    eprintln!(
        "cedar-policy agreement: {checked} schemas checked, {skipped} skipped, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no schema was checked");
}

/// Schemas written to exercise what the conformance data may not: annotations everywhere,
/// JSON-only forms, quoted names, enums, tags, and nested records.
#[test]
fn hand_written_schemas_round_trip() {
    let texts = [
        r#"@doc("top") namespace App {
             @a type Ctx = { "ip addr"?: ipaddr, @x("y") n: Long };
             @b entity User in [Group] = { name: String, tags: Set<String>, nested: { deep?: Bool } } tags Long;
             entity Group, Team;
             entity Color enum ["red", "bl\"ue"];
             action "read", "write \u{e9}" appliesTo { principal: [User], resource: Group, context: Ctx };
             action "all";
             action "edit" in ["all", App::Action::"read"] appliesTo { principal: User, resource: [Group, Team] };
           }
           entity Top { x: App::User };
           action "top" appliesTo { principal: Top, resource: Top, context: {} };"#,
        "type Long2 = __cedar::Long; entity Long; entity X { a: Long, b: __cedar::Long, c: Long2 };",
        "@if(\"x\") @bare entity A; namespace Empty {}",
    ];
    for text in texts {
        let expected = resolve_text(text).expect("valid");
        let json_text = translate_cedar_to_json(Source::new("s", text)).expect("to JSON");
        assert_eq!(
            resolve_json(&json_text).expect("JSON"),
            expected,
            "{json_text}"
        );
        let back =
            translate_json_to_cedar(Source::new("s.json", json_text.as_str())).expect("back");
        assert_eq!(resolve_text(&back).expect("reparse"), expected, "{back}");
        cedar_policy::Schema::from_json_str(&json_text).expect("Cedar accepts");
        let _ = cedar_policy::Schema::from_cedarschema_str(&back).expect("Cedar accepts the text");
    }
}

#[test]
fn json_only_forms_translate_to_text() {
    // A shape given as a common type, builtins written as JSON types, Entity/common references.
    let json_text = r#"{
      "N": {
        "commonTypes": {
          "Shape": {"type": "Record", "attributes": {"a": {"type": "Boolean"}, "b": {"type": "Entity", "name": "E"}}},
          "Alias": {"type": "Shape"}
        },
        "entityTypes": {
          "E": {"shape": {"type": "Alias"}},
          "F": {"shape": {"type": "Record", "attributes": {"s": {"type": "Set", "element": {"type": "Extension", "name": "decimal"}}}}}
        },
        "actions": {
          "act": {"appliesTo": {"principalTypes": [], "resourceTypes": ["E"], "context": {"type": "Shape"}}},
          "none": {}
        }
      }
    }"#;
    let expected = resolve_json(json_text).expect("valid JSON schema");
    let text = translate_json_to_cedar(Source::new("s.json", json_text)).expect("to text");
    assert_eq!(
        usable(resolve_text(&text).expect("reparse")),
        usable(expected),
        "{text}"
    );
    assert!(text.contains("a: Bool"), "{text}");
    assert!(text.contains("entity E = {"), "{text}");
    assert!(!text.contains("appliesTo"), "{text}");
    let _ = cedar_policy::Schema::from_cedarschema_str(&text).expect("Cedar accepts the text");
    let cedar = cedar_policy::Schema::from_json_str(json_text).expect("Cedar accepts the JSON");
    drop(cedar);
    // Shapes that cannot be written as text are errors, not wrong text.
    let bad = r#"{"": {"commonTypes": {"S": {"type": "Set", "element": {"type": "Long"}}},
                  "entityTypes": {"E": {"shape": {"type": "S"}}}, "actions": {}}}"#;
    assert!(resolve_json(bad).is_err());
    assert!(translate_json_to_cedar(Source::new("s.json", bad)).is_err());
}

#[test]
fn json_reference_kinds_are_respected() {
    // `Entity` must name an entity type, a bare type a common type.
    let entity_is_common = r#"{"": {"commonTypes": {"T": {"type": "Long"}},
        "entityTypes": {"E": {"shape": {"type": "Record", "attributes": {"a": {"type": "Entity", "name": "T"}}}}},
        "actions": {}}}"#;
    assert!(resolve_json(entity_is_common).is_err());
    assert!(cedar_policy::Schema::from_json_str(entity_is_common).is_err());
    let common_is_entity = r#"{"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {"a": {"type": "E"}}}}},
        "actions": {}}}"#;
    assert!(resolve_json(common_is_entity).is_err());
    assert!(cedar_policy::Schema::from_json_str(common_is_entity).is_err());
    let either = r#"{"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {"a": {"type": "EntityOrCommon", "name": "E"}}}}},
        "actions": {}}}"#;
    assert!(resolve_json(either).is_ok());
    assert!(cedar_policy::Schema::from_json_str(either).is_ok());
}

#[test]
fn errors_are_located() {
    let err = parse_schema_json(Source::new(
        "s.json",
        "{\n  \"\": {\n    \"entityTypes\": {},\n    \"bogus\": 1,\n    \"actions\": {}\n  }\n}",
    ))
    .expect_err("unknown key");
    assert!(err.location().contains("s.json:4:5"), "{}", err.location());
    let err = parse_schema_json(Source::new(
        "s.json",
        "{\"\": {\"entityTypes\": {\"A\": {\"memberOfTypes\": [\"B\"]}}, \"actions\": {}}}",
    ))
    .expect_err("undeclared parent");
    assert!(err.to_string().contains("B"), "{err}");
    // The resolver reports the text the JSON string came from.
    let _ =
        resolve::resolve(&thuja_compiler::schema::syntax::SchemaFile::default()).expect("empty");
}

/// Thuja accepts exactly the JSON schemas `cedar-policy` accepts, on forms at the edge of the
/// format (nulls, empty and unknown fields, restricted references, unsupported features).
/// (The naming rules the two formats share — `Boolean`, `Action`, shadowing — are unit-tested
/// with the resolver.)
#[test]
fn accepts_and_rejects_json_like_cedar() {
    let ns = |body: &str| format!(r#"{{"N": {{{body}}}}}"#);
    let attr = |ty: &str| {
        ns(&format!(
            r#""entityTypes": {{"E": {{"shape": {{"type": "Record", "attributes": {{"a": {ty}}}}}}}}}, "actions": {{}}"#
        ))
    };
    let action = |def: &str| {
        ns(&format!(
            r#""entityTypes": {{"E": {{}}}}, "actions": {{"g": {{}}, "a": {def}}}"#
        ))
    };
    let cases: Vec<String> = vec![
        "{}".into(),
        r#"{"": {"entityTypes": {}, "actions": {}}}"#.into(),
        r#"{"": {"entityTypes": {}, "actions": {}, "annotations": {}}}"#.into(),
        r#"{"": {"entityTypes": {}, "actions": {}, "annotations": {"a": "b"}}}"#.into(),
        r#"{"N": {"entityTypes": {}}}"#.into(),
        r#"{"N": {"actions": {}}}"#.into(),
        r#"{"N": {"entityTypes": {}, "actions": {}, "commonTypes": null}}"#.into(),
        r#"{"N": {"entityTypes": {}, "actions": {}, "annotations": {"doc": "x", "if": ""}}}"#.into(),
        r#"{"N": {"entityTypes": {}, "actions": {}, "annotations": {"a b": "x"}}}"#.into(),
        r#"{"N": {"entityTypes": {}, "actions": {}, "annotations": {"a": 1}}}"#.into(),
        r#"{"N::M": {"entityTypes": {}, "actions": {}}}"#.into(),
        r#"{"N:: M": {"entityTypes": {}, "actions": {}}}"#.into(),
        r#"{"if": {"entityTypes": {}, "actions": {}}}"#.into(),
        r#"{"__cedar": {"entityTypes": {}, "actions": {}}}"#.into(),
        r#"[]"#.into(),
        ns(r#""entityTypes": {"E": {"memberOfTypes": []}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"memberOfTypes": null}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"memberOfTypes": ["F"]}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"memberOfTypes": ["E"]}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"memberOfTypes": ["N::E"]}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"shape": null}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"tags": {"type": "Set", "element": {"type": "String"}}}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"enum": ["a", "b"]}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"enum": []}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"enum": [1]}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"enum": ["a"], "tags": {"type": "Long"}}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"external": false}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"annotations": {"x": "y"}}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"bogus": 1}}, "actions": {}"#),
        ns(r#""entityTypes": {"E F": {}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"shape": {"type": "Record", "attributes": {}, "additionalAttributes": false}}}, "actions": {}"#),
        ns(r#""entityTypes": {"E": {"shape": {"type": "Record", "attributes": {}, "additionalAttributes": true}}}, "actions": {}"#),
        ns(r#""commonTypes": {"S": {"type": "Record", "attributes": {"x": {"type": "Long"}}}}, "entityTypes": {"E": {"shape": {"type": "S"}}}, "actions": {}"#),
        ns(r#""commonTypes": {"S": {"type": "Long"}}, "entityTypes": {"E": {"shape": {"type": "S"}}}, "actions": {}"#),
        ns(r#""commonTypes": {"S": {"type": "Long", "annotations": {"a": "b"}}}, "entityTypes": {}, "actions": {}"#),
        ns(r#""commonTypes": {"S": {"type": "Long", "required": false}}, "entityTypes": {}, "actions": {}"#),
        ns(r#""commonTypes": {"Set": {"type": "Long"}}, "entityTypes": {}, "actions": {}"#),
        ns(r#""commonTypes": {"S": {"type": "S"}}, "entityTypes": {}, "actions": {}"#),
        attr(r#"{"type": "Long"}"#),
        attr(r#"{"type": "Long", "required": false}"#),
        attr(r#"{"type": "Long", "required": null}"#),
        attr(r#"{"type": "Long", "annotations": {"a": "b"}}"#),
        attr(r#"{"type": "Long", "name": "x"}"#),
        attr(r#"{"type": "Boolean"}"#),
        attr(r#"{"type": "Bool"}"#),
        attr(r#"{"type": "ipaddr"}"#),
        attr(r#"{"type": "__cedar::Long"}"#),
        attr(r#"{"type": "E"}"#),
        attr(r#"{"type": "Unknown"}"#),
        attr(r#"{"type": "Set"}"#),
        attr(r#"{"type": "Set", "element": {"type": "Long"}}"#),
        attr(r#"{"type": "Record"}"#),
        attr(r#"{"type": "Record", "attributes": {"b": {"type": "String"}}}"#),
        attr(r#"{"type": "Entity", "name": "E"}"#),
        attr(r#"{"type": "Entity", "name": "N::E"}"#),
        attr(r#"{"type": "Entity", "name": "Long"}"#),
        attr(r#"{"type": "Entity"}"#),
        attr(r#"{"type": "Entity", "name": "E", "element": {"type": "Long"}}"#),
        attr(r#"{"type": "EntityOrCommon", "name": "E"}"#),
        attr(r#"{"type": "EntityOrCommon", "name": "Long"}"#),
        attr(r#"{"type": "EntityOrCommon", "name": "__cedar::ipaddr"}"#),
        attr(r#"{"type": "EntityOrCommon", "name": "Nope"}"#),
        attr(r#"{"type": "EntityOrCommon", "name": "Bool"}"#),
        attr(r#"{"type": "Set", "element": {"type": "Set", "element": {"type": "E"}}}"#),
        ns(r#""entityTypes": {"Long": {"shape": {"type": "Record", "attributes": {"a": {"type": "EntityOrCommon", "name": "Long"}}}}}, "actions": {}"#),
        r#"{"": {"entityTypes": {"Long": {}}, "actions": {}}, "N": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {"a": {"type": "EntityOrCommon", "name": "Long"}}}}}, "actions": {}}}"#.into(),
        attr(r#"{"type": "Extension", "name": "decimal"}"#),
        attr(r#"{"type": "Extension", "name": "datetime"}"#),
        attr(r#"{"type": "Extension", "name": "Long"}"#),
        attr(r#"{"type": "Extension", "name": "float"}"#),
        attr(r#"{"name": "E"}"#),
        attr(r#"{"type": 1}"#),
        attr(r#""Long""#),
        action("{}"),
        action("null"),
        action(r#"{"appliesTo": null, "memberOf": null}"#),
        action(r#"{"memberOf": [{"id": "g"}]}"#),
        action(r#"{"memberOf": [{"id": "g", "type": "N::Action"}]}"#),
        action(r#"{"memberOf": [{"id": "g", "type": "Action"}]}"#),
        action(r#"{"memberOf": [{"id": "g", "type": null}]}"#),
        action(r#"{"memberOf": [{"id": "h"}]}"#),
        action(r#"{"memberOf": [{"id": "a"}]}"#),
        action(r#"{"memberOf": [{"id": "g", "extra": 1}]}"#),
        action(r#"{"memberOf": ["g"]}"#),
        action(r#"{"attributes": null}"#),
        action(r#"{"attributes": {}}"#),
        action(r#"{"external": false}"#),
        action(r#"{"appliesTo": {}}"#),
        action(r#"{"appliesTo": {"principalTypes": [], "resourceTypes": []}}"#),
        action(r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["E"]}}"#),
        action(r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["F"]}}"#),
        action(
            r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["E"], "context": {"type": "Record", "attributes": {}}}}"#,
        ),
        action(r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["E"], "context": null}}"#),
        action(r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["E"], "context": {"type": "Long"}}}"#),
        action(r#"{"appliesTo": {"principalTypes": ["E"], "resourceTypes": ["E"], "extra": []}}"#),
        action(r#"{"annotations": {"doc": "x"}}"#),
    ];
    let mut disagreements = Vec::new();
    for case in &cases {
        let thuja = resolve_json(case);
        let cedar = cedar_policy::Schema::from_json_str(case);
        if thuja.is_ok() != cedar.is_ok() {
            disagreements.push(format!(
                "{case}\n  thuja: {:?}\n  cedar: {:?}",
                thuja.err(),
                cedar.err().map(|e| e.to_string())
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

#[test]
fn references_text_cannot_express_are_errors() {
    // `T` is both a common type and an entity type: JSON can say which, text cannot.
    let json_text = r#"{"N": {"commonTypes": {"T": {"type": "String"}},
        "entityTypes": {"T": {}, "E": {"shape": {"type": "Record", "attributes": {"a": {"type": "Entity", "name": "T"}}}}},
        "actions": {}}}"#;
    resolve_json(json_text).expect("valid");
    cedar_policy::Schema::from_json_str(json_text).expect("valid for Cedar too");
    let err =
        translate_json_to_cedar(Source::new("s.json", json_text)).expect_err("not expressible");
    assert!(
        err.to_string()
            .contains("cannot be written in the text format"),
        "{err}"
    );
    assert!(
        err.location().starts_with("s.json:2:"),
        "{}",
        err.location()
    );
}

#[test]
fn truncated_and_mutated_json_never_panics() {
    let text = translate_cedar_to_json(Source::new(
        "s",
        r#"namespace A { type T = {a: Set<Long>, "b c"?: ipaddr}; entity E in [F] = {t: T} tags String;
           entity F enum ["x"]; action "r" in ["g"] appliesTo {principal: E, resource: [E, F], context: T}; action "g"; }"#,
    ))
    .expect("valid");
    let mut cuts: Vec<usize> = (0..=text.len())
        .filter(|i| text.is_char_boundary(*i))
        .collect();
    cuts.dedup();
    for i in cuts {
        let prefix = &text[..i];
        let _ = parse_schema_json(Source::new("p.json", prefix));
        let _ = translate_json_to_cedar(Source::new("p.json", prefix));
        // Drop one character instead.
        if let Some(c) = text[i..].chars().next() {
            let mutated = format!("{}{}", prefix, &text[i + c.len_utf8()..]);
            let _ = parse_schema_json(Source::new("m.json", mutated.as_str()));
            let _ = translate_json_to_cedar(Source::new("m.json", mutated));
        }
    }
}
