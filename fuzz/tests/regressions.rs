//! Every mismatch `drt` ever found stays here as a conformance test (`fuzz/regressions/`, the
//! expected answers are `cedar-policy`'s), replayed with Thuja's own conformance runner on the
//! interpreter and the VM.
//!
//! A test listed in [`KNOWN_OPEN`] is a bug found but not fixed yet: it must still fail (so that
//! the list is kept true — remove the entry once the fix lands), and every other test must pass.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// Regression tests that still fail, with the reason.
const KNOWN_OPEN: &[(&str, &str)] = &[];

#[test]
fn regressions_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".entities.json")
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for engine in [thuja::Evaluator::Interp, thuja::Evaluator::Vm] {
        let options = thuja_conformance::Options {
            root: dir.clone(),
            engine,
            threads: 1,
        };
        let summary = thuja_conformance::run(&paths, &options).expect("tests run");
        let failing: BTreeSet<String> = summary
            .failures
            .iter()
            .map(|f| {
                PathBuf::from(&f.test)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let known: BTreeSet<String> = KNOWN_OPEN.iter().map(|(n, _)| n.to_string()).collect();
        let unexpected: Vec<_> = summary
            .failures
            .iter()
            .filter(|f| !known.iter().any(|k| f.test.ends_with(&format!("{k}.json"))))
            .collect();
        assert!(unexpected.is_empty(), "{engine}: {unexpected:#?}");
        let fixed: Vec<_> = known.difference(&failing).collect();
        assert!(
            fixed.is_empty(),
            "{engine}: fixed now, remove from KNOWN_OPEN: {fixed:?}"
        );
    }
}
