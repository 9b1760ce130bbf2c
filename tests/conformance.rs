//! Cedar's upstream integration tests, read in place from `../shared/cedar-conformance` (or the
//! directory named by `THUJA_CONFORMANCE_DIR`): the hand-written tests and the development half
//! of the fuzz-generated corpus. Every request's decision, reasons and errors must match Cedar's,
//! and the validator's verdict on every file must match its `shouldValidate`.

mod support;

use thuja::Evaluator;
use thuja_conformance::{Options, Summary, run};

fn run_tests(dir: &std::path::Path, path: &str, engine: Evaluator) -> Summary {
    let options = Options {
        root: dir.to_path_buf(),
        engine,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let summary = run(&[dir.join(path)], &options).expect("test files load");
    for f in summary.failures.iter().take(20) {
        eprintln!(
            "FAIL {} [{}]: expected {}; got {}",
            f.test, f.request, f.expected, f.actual
        );
    }
    eprintln!(
        "{path}: {} passed, {} failed; shouldValidate: {} passed, {} failed",
        summary.requests.passed,
        summary.requests.failed,
        summary.validation.passed,
        summary.validation.failed
    );
    summary
}

#[test]
fn hand_written_tests_pass_on_the_interpreter() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "tests", Evaluator::Interp);
    assert_eq!(summary.requests.failed, 0);
    assert!(
        summary.requests.passed >= 74,
        "the 22 files hold 74 requests"
    );
    assert_eq!(summary.validation.failed, 0, "shouldValidate mismatches");
    assert_eq!(summary.validation.passed, 22);
}

#[test]
fn corpus_dev_tests_pass_on_the_interpreter() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "corpus-dev.tar.gz", Evaluator::Interp);
    assert_eq!(summary.requests.failed, 0);
    assert!(
        summary.requests.passed >= 31_656,
        "the corpus half holds 31,656 requests"
    );
    assert_eq!(summary.validation.failed, 0, "shouldValidate mismatches");
    assert_eq!(summary.validation.passed, 3_957);
}

#[test]
fn hand_written_tests_pass_on_the_vm() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "tests", Evaluator::Vm);
    assert_eq!(summary.requests.failed, 0);
    assert!(summary.requests.passed >= 74);
}

#[test]
fn corpus_dev_tests_pass_on_the_vm() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "corpus-dev.tar.gz", Evaluator::Vm);
    assert_eq!(summary.requests.failed, 0);
    assert!(summary.requests.passed >= 31_656);
}

#[test]
fn hand_written_tests_pass_on_the_jit() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "tests", Evaluator::Jit);
    assert_eq!(summary.requests.failed, 0);
    assert!(summary.requests.passed >= 74);
}

#[test]
fn corpus_dev_tests_pass_on_the_jit() {
    let Some(dir) = support::conformance_dir() else {
        return;
    };
    let summary = run_tests(&dir, "corpus-dev.tar.gz", Evaluator::Jit);
    assert_eq!(summary.requests.failed, 0);
    assert!(summary.requests.passed >= 31_656);
}
