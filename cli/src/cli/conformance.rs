//! `thuja conformance`: run Cedar integration-test files.

use std::path::PathBuf;

use clap::Args;
use thuja_conformance::{self as conformance, Options};

use super::exit;

#[derive(Args, Debug)]
pub struct ConformanceArgs {
    /// Directory that paths inside the tests are relative to (default: the current directory)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Also write a JSON summary to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Engine that answers the requests: `interp` (the reference interpreter), `vm` (bytecode) or
    /// `jit` (native code)
    #[arg(long, value_name = "ENGINE", default_value_t = thuja::Evaluator::Interp)]
    pub engine: thuja::Evaluator,
    /// Worker threads (default: the number of CPUs)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Test files, directories of them, or .tar.gz archives of them
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: &ConformanceArgs) -> i32 {
    let options = Options {
        root: args.root.clone().unwrap_or_else(conformance::default_root),
        engine: args.engine,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let summary = match conformance::run(&args.paths, &options) {
        Ok(s) => s,
        Err(e) => {
            super::report(&e);
            return exit::FAILURE;
        }
    };
    for f in &summary.failures {
        outln!(
            "FAIL {} [{}]: expected {}; got {}",
            f.test,
            f.request,
            f.expected,
            f.actual
        );
    }
    if let Some(path) = &args.json {
        let written = serde_json::to_string_pretty(&summary)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text + "\n").map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::FAILURE;
        }
    }
    outln!(
        "shouldValidate: {} passed, {} failed",
        summary.validation.passed,
        summary.validation.failed
    );
    // The last line counts requests.
    outln!(
        "{} passed, {} failed",
        summary.requests.passed,
        summary.requests.failed
    );
    if summary.requests.failed == 0 && summary.validation.failed == 0 {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
}
