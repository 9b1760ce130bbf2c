//! Shared by the integration tests: where Cedar's conformance data is, and the corpus read into
//! memory. Tests that need the data skip (with a message) when it is absent.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

/// `../shared/cedar-conformance` next to the checkout, or `$THUJA_CONFORMANCE_DIR`; `None` (and
/// a message saying the tests are skipped) when it does not exist.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("THUJA_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cedar-conformance"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: Cedar conformance data not found at {} (set THUJA_CONFORMANCE_DIR to run these tests)",
            dir.display()
        );
        None
    }
}

/// Every file of `corpus-dev.tar.gz`, by its path inside the archive (`corpus-tests/<sha>.cedar`,
/// ...), or `None` when the data is absent.
pub fn corpus() -> Option<BTreeMap<String, String>> {
    let archive = conformance_dir()?.join("corpus-dev.tar.gz");
    let Ok(file) = std::fs::File::open(&archive) else {
        eprintln!("SKIPPED: no corpus at {}", archive.display());
        return None;
    };
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in tar.entries().expect("readable archive") {
        let mut entry = entry.expect("readable entry");
        let Ok(path) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
            continue;
        };
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_ok() {
            files.insert(path.trim_start_matches("./").to_string(), text);
        }
    }
    Some(files)
}

/// The corpus's test files (not its entities files), parsed.
pub fn corpus_tests(files: &BTreeMap<String, String>) -> Vec<(String, serde_json::Value)> {
    files
        .iter()
        .filter(|(name, _)| name.ends_with(".json") && !name.ends_with(".entities.json"))
        .filter_map(|(name, text)| Some((name.clone(), serde_json::from_str(text).ok()?)))
        .collect()
}

/// The text of the file a corpus test names under `key` (`"policies"`, `"schema"`, `"entities"`).
pub fn named_file<'a>(
    files: &'a BTreeMap<String, String>,
    test: &serde_json::Value,
    key: &str,
) -> &'a str {
    test[key]
        .as_str()
        .and_then(|path| files.get(path))
        .map_or("", String::as_str)
}

/// The entities file and schema text (empty when it names none) of every upstream test
/// (`tests/*/*.json` under the conformance data), by the test's path, in path order.
pub fn upstream_entities_files(dir: &std::path::Path) -> Vec<(String, String, String)> {
    let mut tests = Vec::new();
    let mut stack = vec![dir.join("tests")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                tests.push(path);
            }
        }
    }
    tests.sort();
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).unwrap_or_default();
    tests
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let test: serde_json::Value = serde_json::from_str(&text).ok()?;
            let entities = read(test["entities"].as_str()?);
            let schema = test["schema"].as_str().map(read).unwrap_or_default();
            Some((path.display().to_string(), entities, schema))
        })
        .collect()
}

/// One request of a test, as JSON.
pub struct Case {
    pub principal: serde_json::Value,
    pub action: serde_json::Value,
    pub resource: serde_json::Value,
    pub context: serde_json::Value,
}

/// The requests of a corpus test as written.
pub fn own_cases(test: &serde_json::Value) -> Vec<Case> {
    let requests = test["requests"].as_array().cloned().unwrap_or_default();
    requests
        .iter()
        .map(|r| Case {
            principal: r["principal"].clone(),
            action: r["action"].clone(),
            resource: r["resource"].clone(),
            context: r["context"].clone(),
        })
        .collect()
}

/// The recombined requests of one test (each request with every other request's principal,
/// and with every other's resource) and its entity-sourced ones (each entity as principal and
/// as resource).
pub fn cases_of(test: &serde_json::Value, entities_text: &str) -> Vec<Case> {
    let requests = test["requests"].as_array().cloned().unwrap_or_default();
    let n = requests.len();
    let mut cases = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        for other in requests.iter().skip(i + 1).chain(requests.iter().take(i)) {
            cases.push(Case {
                principal: other["principal"].clone(),
                action: r["action"].clone(),
                resource: r["resource"].clone(),
                context: r["context"].clone(),
            });
            cases.push(Case {
                principal: r["principal"].clone(),
                action: r["action"].clone(),
                resource: other["resource"].clone(),
                context: r["context"].clone(),
            });
        }
    }
    if n == 0 {
        return cases;
    }
    let entities: serde_json::Value =
        serde_json::from_str(entities_text).unwrap_or(serde_json::json!([]));
    for (k, e) in entities.as_array().into_iter().flatten().enumerate() {
        let r = &requests[k % n];
        let uid = e["uid"].clone();
        cases.push(Case {
            principal: uid.clone(),
            action: r["action"].clone(),
            resource: r["resource"].clone(),
            context: r["context"].clone(),
        });
        cases.push(Case {
            principal: r["principal"].clone(),
            action: r["action"].clone(),
            resource: uid,
            context: r["context"].clone(),
        });
    }
    cases
}

/// A corpus test as an engine (its schema, which validates requests, policies and entities),
/// deciding with `evaluator`, and the test's own requests the schema accepts, each beside the
/// JSON it was read from.
pub fn corpus_engine(
    files: &BTreeMap<String, String>,
    test: &serde_json::Value,
    evaluator: thuja::Evaluator,
) -> (thuja::Engine, Vec<(Case, thuja::Request)>) {
    use thuja::input;
    let file = |key: &str| named_file(files, test, key);
    let schema = input::schema_from_str("schema", file("schema")).expect("schema");
    let policies = input::policies_from_str("policies", file("policies")).expect("policies");
    let engine = thuja::Engine::builder()
        .policies(policies)
        .schema(schema.clone())
        .entities_json("entities", file("entities"))
        .evaluator(evaluator)
        .build()
        .expect("the test builds");
    let requests = own_cases(test)
        .into_iter()
        .filter_map(|case| {
            let request = input::request_from_json_values(
                &case.principal,
                &case.action,
                &case.resource,
                &case.context,
                input::RequestSchema::Validated(&schema),
            )
            .ok()?;
            Some((case, request))
        })
        .collect();
    (engine, requests)
}
