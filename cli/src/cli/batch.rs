//! `thuja authorize --requests FILE.jsonl`: decide many requests against one policy set and
//! entity store, loaded once.
//!
//! Every input line is a request object (`{"principal", "action", "resource", "context"}`, uids
//! as `{"type", "id"}` or `"Type::\"id\""`). Every output line, in input order, is compact JSON:
//! `{"decision":"allow","reasons":["policy3"],"errors":[]}` (ids sorted; `errors` names the
//! policies whose evaluation failed), or `{"error":"..."}` for a line that is not a valid request;
//! the batch goes on. The compiled engines decide with the policies bound to the entities
//! ([`Authorizer::bind`]). `--stats` prints one JSON line to stderr with the request count, the
//! time to load (and, for `--engine vm` and `jit`, compile) the policies and the entities, the
//! evaluation time per request (evaluation alone), for the compiled engines the time to bind and,
//! for `--engine jit`, the part of the compile time spent making native code and how many
//! policies run natively.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use thuja::input::{self, InputError};
use thuja::{Authorizer, Bound, Decision, Request, Response, Schema};

use super::authorize::AuthorizeArgs;

/// One output line for a decided request.
#[derive(Serialize)]
struct DecisionLine<'a> {
    decision: &'static str,
    reasons: Vec<&'a str>,
    errors: Vec<&'a str>,
}

#[derive(Serialize)]
struct ErrorLine {
    error: String,
}

#[derive(Serialize)]
struct Stats {
    requests: usize,
    compile_ms: f64,
    entities_ms: f64,
    eval_ns_per_request: f64,
    /// Joining the compiled policies with the entities ([`Authorizer::bind`]); not for the
    /// interpreter.
    #[serde(skip_serializing_if = "Option::is_none")]
    bind_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jit_compile_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jit_native_policies: Option<usize>,
}

/// Runs the batch; returns an input error only for what stops the whole batch.
pub fn run(args: &AuthorizeArgs, requests_path: &Path) -> Result<(), InputError> {
    let started = Instant::now();
    let authorizer = Authorizer::with_engine(args.engine);
    let policies = super::authorize::load_policies(args)?;
    let schema = super::authorize::load_schema(args)?;
    // Typed code needs requests validated against the schema.
    let policies = match schema.as_ref().filter(|_| args.request.request_validation) {
        Some(schema) => authorizer.compile_for_schema(&policies, schema),
        None => authorizer.compile(&policies),
    };
    let compile_ms = millis(started);

    let started = Instant::now();
    let entities = input::entities_from_file(&args.entities, schema.as_ref())?;
    let entities_ms = millis(started);

    let started = Instant::now();
    let bound = authorizer.bind(&policies, &entities);
    let bind_ms = millis(started);

    let text = input::read_file(requests_path)?;
    let name = requests_path.display().to_string();
    let validate_with = schema.as_ref().filter(|_| args.request.request_validation);
    let requests: Vec<Result<Request, String>> = text
        .lines()
        .enumerate()
        .map(|(i, line)| parse_line(&name, i + 1, line, schema.as_ref(), validate_with))
        .collect();

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, requests.len().max(1));
    let started = Instant::now();
    let responses = decide_all(&authorizer, &requests, &bound, threads);
    let eval_ns = started.elapsed().as_nanos() as f64;

    let lines: Vec<String> = requests
        .iter()
        .zip(&responses)
        .map(|(request, response)| match (request, response) {
            (Err(error), _) => to_json(&ErrorLine {
                error: error.clone(),
            }),
            (Ok(_), Some(response)) => decision_line(response),
            (Ok(_), None) => to_json(&ErrorLine {
                error: "internal error: the request was not decided (denied)".into(),
            }),
        })
        .collect();
    write_lines(args.output.as_deref(), &lines)?;

    if args.stats {
        let native = match args.engine {
            thuja::Evaluator::Jit => policies.native().ok(),
            _ => None,
        };
        let decided = requests.iter().filter(|r| r.is_ok()).count();
        let stats = Stats {
            requests: requests.len(),
            compile_ms,
            entities_ms,
            eval_ns_per_request: if decided == 0 {
                0.0
            } else {
                eval_ns / decided as f64
            },
            bind_ms: (args.engine != thuja::Evaluator::Interp).then_some(bind_ms),
            jit_compile_ms: native.map(|c| c.compile_time().as_secs_f64() * 1e3),
            jit_native_policies: native.map(thuja::NativeCode::native_count),
        };
        eprintln!("{}", to_json(&stats));
    }
    Ok(())
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn parse_line(
    file: &str,
    number: usize,
    line: &str,
    schema: Option<&Schema>,
    validate_with: Option<&Schema>,
) -> Result<Request, String> {
    let at = |message: String| format!("{file}:{number}: {message}");
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        principal: serde_json::Value,
        action: serde_json::Value,
        resource: serde_json::Value,
        #[serde(default)]
        context: Option<serde_json::Value>,
    }
    let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
    let context = parsed.context.unwrap_or_else(|| serde_json::json!({}));
    input::request_from_json_values(
        &parsed.principal,
        &parsed.action,
        &parsed.resource,
        &context,
        schema,
        validate_with,
    )
    .map_err(|e| at(e.summary()))
}

/// Decides every well-formed request, splitting them among `threads` workers in contiguous
/// chunks so that the output keeps the input order.
fn decide_all(
    authorizer: &Authorizer,
    requests: &[Result<Request, String>],
    bound: &Bound<'_>,
    threads: usize,
) -> Vec<Option<Response>> {
    let chunk = requests.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = requests
            .chunks(chunk)
            .map(|part| {
                scope.spawn(|| {
                    part.iter()
                        .map(|r| {
                            r.as_ref()
                                .ok()
                                .map(|req| authorizer.is_authorized_bound(req, bound))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .zip(requests.chunks(chunk))
            .flat_map(|(worker, part)| {
                // A worker that panicked decides nothing: its requests get error lines (fail closed).
                worker.join().unwrap_or_else(|_| vec![None; part.len()])
            })
            .collect()
    })
}

fn decision_line(response: &Response) -> String {
    let mut errors: Vec<&str> = response
        .errors
        .iter()
        .map(|e| e.policy_id.as_ref())
        .collect();
    errors.sort_unstable();
    errors.dedup();
    to_json(&DecisionLine {
        decision: match response.decision {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        },
        reasons: response.reasons.iter().map(AsRef::as_ref).collect(),
        errors,
    })
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn write_lines(output: Option<&Path>, lines: &[String]) -> Result<(), InputError> {
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        for line in lines {
            writeln!(out, "{line}")?;
        }
        out.flush()
    };
    match output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| InputError::io(path, e))?;
            write(&mut std::io::BufWriter::new(file)).map_err(|e| InputError::io(path, e))
        }
        None => write(&mut std::io::BufWriter::new(std::io::stdout().lock()))
            .map_err(|e| InputError::io(Path::new("<stdout>"), e)),
    }
}
