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
