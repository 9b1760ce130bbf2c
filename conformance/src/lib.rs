//! Runs Cedar integration tests: for every request of every test file, authorize it and compare
//! the decision, the set of reasons and the set of erroring policies with what Cedar gives.
//!
//! Test files follow the upstream `cedar-integration-tests` format ([`format`](mod@format)). Their policies
//! get the ids `policy0`, `policy1`, ... in file order; entities and context are parsed with the
//! schema; a request marked `validateRequest` (the default) is first validated against the schema.
//! Each file's `shouldValidate` is checked against the strict-mode validator's verdict on its
//! policies and schema (counted under `validation`, a mismatch listed as a failure).

mod files;
pub mod format;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use files::TestFiles;
use format::{ExpectedDecision, TestFile, TestRequest};
use thuja::input::{self, InputError};
use thuja::{Authorizer, Decision, Evaluator, Response};
use thuja_compiler::validator::{self, ValidationOptions, WarningKind};

/// How to run the tests.
#[derive(Clone, Debug)]
pub struct Options {
    /// Paths inside tests resolve against this directory.
    pub root: PathBuf,
    pub engine: Evaluator,
    /// Worker threads (at least 1).
    pub threads: usize,
}

/// One request whose outcome differs from the expected one (or a test that could not run).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub test: String,
    pub request: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RequestCounts {
    pub passed: usize,
    pub failed: usize,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ValidationCounts {
    pub passed: usize,
    pub failed: usize,
}

/// What a run found.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub requests: RequestCounts,
    /// The `shouldValidate` checks: the validator's verdict (strict mode) against the test's.
    pub validation: ValidationCounts,
    pub failures: Vec<Failure>,
}

/// Runs every test file found under `paths`.
pub fn run(paths: &[PathBuf], options: &Options) -> Result<Summary, InputError> {
    let files = TestFiles::collect(paths, &options.root)?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Summary)>> = Mutex::new(Vec::new());
    let threads = options.threads.max(1).min(files.tests.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, text)) = files.tests.get(i) else {
                        break;
                    };
                    let summary = run_test(name, text, &files, options.engine);
                    if let Ok(mut r) = results.lock() {
                        r.push((i, summary));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    let mut total = Summary::default();
    for (_, s) in results {
        total.requests.passed += s.requests.passed;
        total.requests.failed += s.requests.failed;
        total.validation.passed += s.validation.passed;
        total.validation.failed += s.validation.failed;
        total.failures.extend(s.failures);
    }
    Ok(total)
}

/// Runs one test file; problems loading it count as failures of all its requests.
fn run_test(name: &str, text: &str, files: &TestFiles, engine: Evaluator) -> Summary {
    let mut summary = Summary::default();
    let test: TestFile = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            summary.requests.failed += 1;
            summary.failures.push(Failure {
                test: name.to_string(),
                request: "(whole file)".into(),
                expected: "a Cedar integration-test file".into(),
                actual: format!("unreadable test file: {e}"),
            });
            return summary;
        }
    };
    let loaded = load(&test, files);
    check_validation(name, &test, &loaded, &mut summary);
    let authorizer = Authorizer::with_engine(engine);
    // Code specialised on the schema's types needs every request validated against it.
    let all_validated = test.requests.iter().all(|r| r.validate_request);
    let compiled = loaded.as_ref().ok().map(|(policies, schema, _)| {
        if all_validated {
            authorizer.compile_for_schema(policies, schema)
        } else {
            authorizer.compile(policies)
        }
    });
    for request in &test.requests {
        let expected = Outcome::expected(request);
        let actual = match (&loaded, &compiled) {
            (Ok((_, schema, entities)), Some(policies)) => match request_of(request, schema) {
                Ok(req) => {
                    Outcome::of(&authorizer.is_authorized_compiled(&req, policies, entities))
                }
                Err(e) => Outcome::Invalid(format!("invalid request: {}", e.summary())),
            },
            (Err(e), _) => Outcome::Invalid(format!("test inputs failed to load: {}", e.summary())),
            (Ok(_), None) => Outcome::Invalid("the policies were not compiled".into()),
        };
        if actual == expected {
            summary.requests.passed += 1;
        } else {
            summary.requests.failed += 1;
            summary.failures.push(Failure {
                test: name.to_string(),
                request: request.description.clone(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    summary
}

type Loaded = (thuja::PolicySet, thuja::Schema, thuja::Entities);

/// Compares the validator's verdict (strict mode) with the test's `shouldValidate`.
fn check_validation(
    name: &str,
    test: &TestFile,
    loaded: &Result<Loaded, InputError>,
    summary: &mut Summary,
) {
    // `Ok(valid)`, or `Err` when the inputs did not load (a failure either way).
    let verdict: Result<(bool, String), String> = match loaded {
        Ok((policies, schema, _)) => {
            let result = validator::validate(schema, policies, ValidationOptions::default());
            // The test files' `shouldValidate` comes from a Cedar that still reported an
            // inapplicable scope as an error; since Cedar 4 it is the `invalid-action-application`
            // warning, so it counts as a failure here (and only here).
            let failing: Vec<String> = result
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.policy_id, e.kind))
                .chain(
                    result
                        .warnings
                        .iter()
                        .filter(|w| w.kind == WarningKind::InvalidActionApplication)
                        .map(|w| format!("{}: {} (warning)", w.policy_id, w.kind)),
                )
                .collect();
            Ok(if failing.is_empty() {
                (true, "valid".into())
            } else {
                (false, format!("invalid ({})", failing.join(", ")))
            })
        }
        Err(e) => Err(format!("test inputs failed to load: {}", e.summary())),
    };
    let actual = match verdict {
        Ok((valid, _)) if valid == test.should_validate => {
            summary.validation.passed += 1;
            return;
        }
        Ok((_, actual)) | Err(actual) => actual,
    };
    summary.validation.failed += 1;
    summary.failures.push(Failure {
        test: name.to_string(),
        request: "(shouldValidate)".into(),
        expected: if test.should_validate {
            "valid".into()
        } else {
            "invalid".into()
        },
        actual,
    });
}

fn load(test: &TestFile, files: &TestFiles) -> Result<Loaded, InputError> {
    let (schema_name, schema_text) = files.read(&test.schema)?;
    let schema = input::schema_from_str(&schema_name, &schema_text)?;
    let (policy_name, policy_text) = files.read(&test.policies)?;
    let policies = input::policies_from_str(&policy_name, &policy_text)?;
    let (entities_name, entities_text) = files.read(&test.entities)?;
    let entities = input::entities_from_str(&entities_name, &entities_text, Some(&schema))?;
    Ok((policies, schema, entities))
}

fn request_of(request: &TestRequest, schema: &thuja::Schema) -> Result<thuja::Request, InputError> {
    input::request_from_json_values(
        &request.principal,
        &request.action,
        &request.resource,
        &request.context,
        input::RequestSchema::of(Some(schema), request.validate_request),
    )
}

/// What a request came to, in the terms the tests compare.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Decided {
        decision: Decision,
        reasons: BTreeSet<String>,
        errors: BTreeSet<String>,
    },
    Invalid(String),
}

impl Outcome {
    fn expected(r: &TestRequest) -> Self {
        Outcome::Decided {
            decision: match r.decision {
                ExpectedDecision::Allow => Decision::Allow,
                ExpectedDecision::Deny => Decision::Deny,
            },
            reasons: r.reason.iter().cloned().collect(),
            errors: r.errors.iter().cloned().collect(),
        }
    }

    fn of(response: &Response) -> Self {
        Outcome::Decided {
            decision: response.decision,
            reasons: response.reasons.iter().map(|id| id.to_string()).collect(),
            errors: response
                .errors
                .iter()
                .map(|e| e.policy_id.to_string())
                .collect(),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Decided {
                decision,
                reasons,
                errors,
            } => {
                let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
                write!(
                    f,
                    "{decision} reasons=[{}] errors=[{}]",
                    list(reasons),
                    list(errors)
                )
            }
            Outcome::Invalid(msg) => f.write_str(msg),
        }
    }
}

/// The default root for paths inside tests: the current directory.
pub fn default_root() -> PathBuf {
    Path::new(".").to_path_buf()
}
