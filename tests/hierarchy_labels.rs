//! Ancestors held as forest labels answer `in` exactly as listed ancestors do, on every entities
//! file of Cedar's conformance data (the upstream tests' files and the corpus's).
//!
//! A store lists the ancestors of entities with few and labels those of entities with many
//! (`thuja_runtime::hierarchy`). Each file is read (with its schema, when it has one that
//! reads, else without), and its entities are closed again with every entity labelled
//! (`Closing::list_at_most = 0`): for every entity and every uid the file names (entities and
//! parents), `in` must answer the same, and the ancestors listed must be the same set.
//! Skipped (with a message) when the conformance data is absent.

use std::collections::BTreeSet;

use thuja_runtime::hierarchy::Closing;
use thuja_runtime::json::entities_from_json_str;
use thuja_runtime::{Entities, EntityUid};

mod support;

/// What the files came to.
#[derive(Default)]
struct Tally {
    files: usize,
    checks: usize,
    failures: Vec<String>,
}

fn check_file(name: &str, entities: &str, schema_text: &str, tally: &mut Tally) {
    let schema = (!schema_text.is_empty())
        .then(|| thuja::input::schema_from_str("schema", schema_text).ok())
        .flatten();
    let store = match entities_from_json_str(entities, schema.as_ref()) {
        Ok(store) => store,
        Err(_) => match entities_from_json_str(entities, None) {
            Ok(store) => store,
            Err(_) => return,
        },
    };
    let labelled = Closing {
        max_links: None,
        list_at_most: Some(0),
    };
    let relabelled = match Entities::from_entities_closing(store.iter().cloned(), labelled) {
        Ok(store) => store,
        Err(e) => {
            tally.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    tally.files += 1;
    let uids: BTreeSet<&EntityUid> = store
        .iter()
        .flat_map(|e| std::iter::once(e.uid()).chain(e.parents()))
        .collect();
    for entity in store.iter() {
        let Some(other) = relabelled.get(entity.uid()) else {
            tally
                .failures
                .push(format!("{name}: {} missing", entity.uid()));
            continue;
        };
        for uid in &uids {
            tally.checks += 1;
            if entity.is_descendant_of(uid) != other.is_descendant_of(uid) {
                tally.failures.push(format!(
                    "{name}: {} in {uid}: listed {}, labelled {}",
                    entity.uid(),
                    entity.is_descendant_of(uid),
                    other.is_descendant_of(uid)
                ));
            }
        }
        let listed: BTreeSet<&EntityUid> = entity.ancestors().collect();
        let labelled: BTreeSet<&EntityUid> = other.ancestors().collect();
        if listed != labelled {
            tally.failures.push(format!(
                "{name}: ancestors of {}: listed {listed:?}, labelled {labelled:?}",
                entity.uid()
            ));
        }
    }
}

fn report(what: &str, tally: &Tally) {
    eprintln!(
        "{what}: {} files, {} `in` answers compared, {} failures",
        tally.files,
        tally.checks,
        tally.failures.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} failures; first ones:\n{}",
        tally.failures.len(),
        tally.failures[..tally.failures.len().min(5)].join("\n")
    );
}

#[test]
fn upstream_entities_files_answer_in_alike() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let mut tally = Tally::default();
    for (name, entities, schema) in support::upstream_entities_files(&dir) {
        check_file(&name, &entities, &schema, &mut tally);
    }
    report("upstream tests", &tally);
    assert!(tally.files > 0, "no entities file was read");
}

#[test]
fn corpus_entities_files_answer_in_alike() {
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
    assert!(tally.files > 1000, "too few entities files read");
}
