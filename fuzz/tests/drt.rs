//! A bounded differential run (fixed seeds): Thuja's interpreter and VM agree with
//! `cedar-policy` on every generated case and every property holds, and the generators reach
//! what they promise (allow and deny, policy errors, policy sets the validator rejects, every
//! construct). Also: generated cases written as conformance tests replay with Thuja's own
//! conformance runner, and no seed makes the generator panic.

use std::path::PathBuf;

use thuja_fuzz::{Coverage, Mode, check, generate, mode_of, shrink};

const CASES: u64 = 300;
const SEED: u64 = 20_251_125;

#[test]
fn bounded_run_has_no_mismatch_and_covers_every_construct() {
    let mut coverage = Coverage::default();
    let (mut allows, mut denies, mut errors, mut invalid, mut loose) = (0, 0, 0, 0, 0);
    let mut not_loaded = 0;
    let mut mismatches = Vec::new();
    for seed in SEED..SEED + CASES {
        let case = generate(seed, mode_of(seed), &mut coverage);
        loose += usize::from(case.mode == Mode::Loose);
        let checked = check(&case);
        not_loaded += usize::from(!checked.loaded);
        allows += checked.allows;
        denies += checked.denies;
        errors += checked.with_errors;
        invalid += usize::from(checked.valid == Some(false));
        for m in checked.mismatches {
            mismatches.push(format!("seed {seed}: {}: {}", m.kind, m.detail));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    eprintln!("{allows} allow, {denies} deny, {errors} with errors, {invalid} invalid sets");
    assert!(
        allows > 0 && denies > 0,
        "both decisions: {allows} allow, {denies} deny"
    );
    assert!(errors > 0, "some requests have erroring policies");
    assert!(invalid > 0, "some policy sets fail validation");
    assert!(loose > 0, "some cases are schema-less");
    // A few cases carry entities the schema rejects, on purpose; the rest must load.
    assert!(
        not_loaded * 10 < CASES as usize,
        "{not_loaded} cases did not load"
    );
    eprintln!("{:?}", coverage.counts);
    assert_eq!(
        coverage.missing(),
        Vec::<&str>::new(),
        "constructs never generated"
    );
}

#[test]
fn written_cases_replay_with_the_conformance_runner() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("thuja-drt-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut paths = Vec::new();
    let mut coverage = Coverage::default();
    // Schema cases only: the format always has a schema, and reads the data with it.
    for seed in (0..40).filter(|&s| mode_of(s) == Mode::Schema) {
        let case = generate(seed, Mode::Schema, &mut coverage);
        if !check(&case).loaded {
            continue; // entities made invalid on purpose: the format cannot expect that
        }
        let path = shrink::write_conformance(&case, &dir, &format!("case{seed}")).expect("written");
        paths.push(path);
    }
    for engine in [thuja::Evaluator::Interp, thuja::Evaluator::Vm] {
        let options = thuja_conformance::Options {
            root: dir.clone(),
            engine,
            threads: 1,
        };
        let summary = thuja_conformance::run(&paths, &options).expect("tests run");
        assert!(summary.requests.passed > 0);
        assert!(
            summary.failures.is_empty(),
            "{engine}: {:#?}",
            summary.failures
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generation_is_deterministic_and_never_panics() {
    let mut coverage = Coverage::default();
    for seed in (0..3000).chain([u64::MAX, u64::MAX - 1, 1 << 63]) {
        for mode in [Mode::Schema, Mode::Loose] {
            let a = generate(seed, mode, &mut coverage);
            let b = generate(seed, mode, &mut coverage);
            assert_eq!(a, b, "seed {seed}");
            assert!(!a.policies.is_empty() && !a.requests.is_empty());
        }
    }
}

#[test]
fn shrinking_keeps_the_failure_and_drops_the_rest() {
    let mut coverage = Coverage::default();
    // With no failure to keep, shrinking changes nothing.
    let case = generate(7, Mode::Schema, &mut coverage);
    assert_eq!(shrink::shrink(&case, "no-such-kind"), case);
    // A stand-in failure: "some policy is a forbid".
    let case = (0..)
        .map(|seed| generate(seed, Mode::Schema, &mut coverage))
        .find(|c| c.policies.len() > 2 && c.policies.iter().any(|p| p.contains("forbid(")))
        .expect("such a case");
    let small = shrink::shrink_by(&case, |c| c.policies.iter().any(|p| p.contains("forbid(")));
    assert_eq!(small.policies.len(), 1);
    assert!(small.policies[0].contains("forbid(") && !small.policies[0].contains("when"));
    assert!(small.policies[0].ends_with(';'), "{}", small.policies[0]);
    assert_eq!(small.requests.len(), 1);
    assert!(small.entities.is_empty());
}
