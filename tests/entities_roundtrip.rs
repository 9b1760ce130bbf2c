//! Entities JSON → store → JSON is stable (issue #5, item 4), on every entities file of Cedar's
//! conformance data: the upstream tests' files and the corpus's.
//!
//! For each file, read with its schema and without: writing the store
//! ([`entities_to_json_string`]) and reading the text back gives an equal store (with the same
//! schema, and also without one, since the written values carry their escapes), and writing
//! that store again gives the same text (the writer is a fixed point). And `cedar-policy` reads
//! the written text to the same entities (`deep_eq`) as it reads the original, with and without
//! the schema; and the other way, what `cedar-policy` writes (`Entities::to_json_value`) reads
//! with Thuja (with the same schema) to the same entities as the original (ancestors compared,
//! since it writes every ancestor as a parent). Skipped (with a message) when the conformance data is absent.

use thuja_runtime::json::{
    entities_from_json_str, entities_from_json_value, entities_to_json_string,
};
use thuja_runtime::{Entities, Schema};

mod support;

/// Every entity of `a` is in `b`, equal field by field (ancestors too), and no other.
fn same_store(a: &Entities, b: &Entities) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} entities, then {}", a.len(), b.len()));
    }
    for e in a.iter() {
        match b.get(e.uid()) {
            Some(other) if other == e => {}
            other => return Err(format!("{e:?} became {other:?}")),
        }
    }
    Ok(())
}

/// What the round trips of one file came to.
#[derive(Default, Debug)]
struct Tally {
    /// Stores round-tripped (one per file and schema setting that reads).
    stable: usize,
    /// File and schema settings our reader rejects (nothing to write).
    unread: usize,
    /// Round trips compared with `cedar-policy`.
    cedar_checked: usize,
    failures: Vec<String>,
}

/// Reads `text` (with `schema` if given), writes, reads back and writes again. Returns the
/// store and its text.
fn round_trip(
    name: &str,
    text: &str,
    schema: Option<&Schema>,
    tally: &mut Tally,
) -> Option<(Entities, String)> {
    let with = if schema.is_some() {
        "with schema"
    } else {
        "without schema"
    };
    let mut fail = |what: String| tally.failures.push(format!("{name} ({with}): {what}"));
    let Ok(store) = entities_from_json_str(text, schema) else {
        tally.unread += 1;
        return None;
    };
    let written = match entities_to_json_string(&store) {
        Ok(w) => w,
        Err(e) => {
            fail(format!("cannot write: {e}"));
            return None;
        }
    };
    // Read back the same way, and also without a schema: the escapes make it unnecessary.
    let mut settings = vec![schema];
    if schema.is_some() {
        settings.push(None);
    }
    for again_schema in settings {
        let again = match entities_from_json_str(&written, again_schema) {
            Ok(a) => a,
            Err(e) => {
                fail(format!(
                    "written text rejected ({} schema): {e}\n{written}",
                    if again_schema.is_some() {
                        "with"
                    } else {
                        "without"
                    }
                ));
                return None;
            }
        };
        if let Err(e) = same_store(&store, &again) {
            fail(format!("store changed: {e}"));
            return None;
        }
        match entities_to_json_string(&again) {
            Ok(w) if w == written => {}
            Ok(w) => {
                fail(format!("not a fixed point:\n{written}\n{w}"));
                return None;
            }
            Err(e) => {
                fail(format!("cannot write again: {e}"));
                return None;
            }
        }
    }
    tally.stable += 1;
    Some((store, written))
}

/// Same entities, as far as evaluation goes: uid, attributes, tags and ancestors (`cedar-policy`
/// writes every ancestor as a parent).
fn same_for_evaluation(a: &Entities, b: &Entities) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} entities, then {}", a.len(), b.len()));
    }
    for e in a.iter() {
        let ancestors = |e: &thuja_runtime::Entity| e.ancestors().cloned().collect::<Vec<_>>();
        let same = b.get(e.uid()).is_some_and(|o| {
            o.attrs() == e.attrs() && o.tags() == e.tags() && {
                let (mut x, mut y) = (ancestors(e), ancestors(o));
                x.sort();
                y.sort();
                x == y
            }
        });
        if !same {
            return Err(format!("{e:?} became {:?}", b.get(e.uid())));
        }
    }
    Ok(())
}

/// Compares with `cedar-policy`, both ways: it reads our `written` text to the same entities
/// (`deep_eq`) as the `original` (with the schema, if one is given), and its own writing of the
/// original reads (by us, with the same schema) to our `store`. Skipped when `cedar-policy` rejects
/// the original (the reader agreement tests cover that).
fn cedar_agrees(
    name: &str,
    original: &str,
    (store, written): &(Entities, String),
    schemas: Option<(&Schema, &cedar_policy::Schema)>,
    tally: &mut Tally,
) {
    let schema = schemas.map(|(_, s)| s);
    let Ok(expected) = cedar_policy::Entities::from_json_str(original, schema) else {
        return;
    };
    tally.cedar_checked += 1;
    let with = if schema.is_some() {
        "with schema"
    } else {
        "without schema"
    };
    match cedar_policy::Entities::from_json_str(written, schema) {
        Ok(got) if got.deep_eq(&expected) => {}
        Ok(got) => tally.failures.push(format!(
            "{name} ({with}): cedar-policy reads different entities from the written text:\n{written}\noriginal: {expected:?}\nwritten: {got:?}"
        )),
        Err(e) => tally.failures.push(format!(
            "{name} ({with}): cedar-policy rejects the written text: {e}\n{written}"
        )),
    }
    let theirs = match expected.to_json_value() {
        Ok(v) => v,
        Err(e) => {
            tally
                .failures
                .push(format!("{name} ({with}): cedar-policy cannot write: {e}"));
            return;
        }
    };
    // With the schema where there is one: every ancestor is written as a parent, so parents
    // of types allowed only transitively must be accepted.
    match entities_from_json_value(&theirs, schemas.map(|(ours, _)| ours)) {
        Ok(ours) => {
            if let Err(e) = same_for_evaluation(store, &ours) {
                tally.failures.push(format!(
                    "{name} ({with}): cedar-policy's writing reads to other entities: {e}\n{theirs}"
                ));
            }
        }
        Err(e) => tally.failures.push(format!(
            "{name} ({with}): cedar-policy's writing is rejected: {e}\n{theirs}"
        )),
    }
}

/// Both round trips of one entities file (with the schema, if it has one, and without), each
/// compared with `cedar-policy`.
fn check_file(name: &str, entities: &str, schema_text: &str, tally: &mut Tally) {
    let schema = (!schema_text.is_empty())
        .then(|| thuja::input::schema_from_str("schema", schema_text).ok())
        .flatten();
    let cedar_schema = (!schema_text.is_empty())
        .then(|| cedar_policy::Schema::from_cedarschema_str(schema_text).ok())
        .flatten()
        .map(|(s, _)| s);
    if let Some(schema) = &schema
        && let Some(done) = round_trip(name, entities, Some(schema), tally)
        && let Some(cedar_schema) = &cedar_schema
    {
        cedar_agrees(name, entities, &done, Some((schema, cedar_schema)), tally);
    }
    if let Some(done) = round_trip(name, entities, None, tally) {
        cedar_agrees(name, entities, &done, None, tally);
    }
}

fn report(what: &str, tally: &Tally) {
    eprintln!(
        "{what}: {} stable round trips, {} not read, {} compared with cedar-policy, {} failures",
        tally.stable,
        tally.unread,
        tally.cedar_checked,
        tally.failures.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} failures; first ones:\n{}",
        tally.failures.len(),
        tally
            .failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

/// The upstream tests (`tests/*/*.json`) name entities files and schemas under the data folder.
#[test]
fn upstream_entities_files_round_trip() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let mut tally = Tally::default();
    for (name, entities, schema) in support::upstream_entities_files(&dir) {
        check_file(&name, &entities, &schema, &mut tally);
    }
    report("upstream tests", &tally);
    assert!(tally.stable > 0, "no entities file was read");
}

/// Every corpus test's entities file, also compared with `cedar-policy`.
#[test]
fn corpus_entities_files_round_trip() {
    let Some(files) = support::corpus() else {
        return;
    };
    let mut tally = Tally::default();
    for (name, test) in &support::corpus_tests(&files) {
        let entities = support::named_file(&files, test, "entities");
        let schema = support::named_file(&files, test, "schema");
        check_file(name, entities, schema, &mut tally);
    }
    report("corpus", &tally);
    assert!(
        tally.stable > 1000,
        "too few entities files read: {tally:?}"
    );
}

/// Found by this file's comparison with `cedar-policy`'s writing (every ancestor written as a
/// parent), read with the schema: an entity's parent may be of any type the schema makes an
/// ancestor type of the entity's, transitively (`P in [A]`, `A in [G]`: a `P` may have a `G`
/// parent); a type that is no ancestor type is still rejected, as Cedar rejects it.
#[test]
fn a_parent_may_be_of_a_transitively_allowed_type() {
    let schema_text = "entity G; entity A in [G]; entity P in [A]; entity Q;";
    let (cedar_schema, _) =
        cedar_policy::Schema::from_cedarschema_str(schema_text).expect("cedar schema");
    let schema = thuja::input::schema_from_str("schema", schema_text).expect("schema");
    for (child, accepted) in [("P", true), ("A", true), ("Q", false), ("G", false)] {
        let data = format!(
            r#"[{{"uid": {{"type": "{child}", "id": "c"}}, "attrs": {{}}, "parents": [{{"type": "G", "id": "g"}}]}}]"#
        );
        let cedar = cedar_policy::Entities::from_json_str(&data, Some(&cedar_schema));
        let ours = entities_from_json_str(&data, Some(&schema));
        assert_eq!(cedar.is_ok(), accepted, "{child}: cedar {cedar:?}");
        assert_eq!(ours.is_ok(), accepted, "{child}: thuja {ours:?}");
    }
}
