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
//! evaluation time per request (the workers' evaluation window over the requests decided:
//! worker threads are started, and wait for each other, before it opens), the median, 99th
//! percentile and largest time of one decision (each worker reads the clock after every
//! decision), for the compiled engines the time to bind and, for `--engine jit`, the part of the
//! compile time spent making native code and how many policies run natively.

use std::io::Write;
use std::path::Path;
use std::sync::Barrier;
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
    threads: usize,
    compile_ms: f64,
    entities_ms: f64,
    eval_ns_per_request: f64,
    /// The median, 99th percentile and largest time of one decision (with its clock read).
    p50_ns: u64,
    p99_ns: u64,
    max_ns: u64,
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
    let Decided {
        responses,
        mut times,
        window_ns,
    } = decide_all(&authorizer, &requests, &bound, threads);
    times.sort_unstable();
    let quantile = |q: f64| {
        let at = ((times.len().saturating_sub(1)) as f64 * q) as usize;
        times.get(at).copied().unwrap_or(0)
    };

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
            threads,
            compile_ms,
            entities_ms,
            eval_ns_per_request: if decided == 0 {
                0.0
            } else {
                window_ns as f64 / decided as f64
            },
            p50_ns: quantile(0.5),
            p99_ns: quantile(0.99),
            max_ns: times.last().copied().unwrap_or(0),
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
        input::RequestSchema::of(schema, validate_with.is_some()),
    )
    .map_err(|e| at(e.summary()))
}

/// The responses of a batch, in request order (`None` for a line that was not a request, or
/// that a failed worker did not decide), with the time of each decision and of the whole.
struct Decided {
    responses: Vec<Option<Response>>,
    /// Nanoseconds per decision, in no particular order.
    times: Vec<u64>,
    /// From the first worker starting on its requests to the last one finishing.
    window_ns: u128,
}

/// What one worker did: its responses, the time of each decision, and when it started and
/// finished deciding.
type WorkerResult = (Vec<Option<Response>>, Vec<u64>, Instant, Instant);

/// Decides every well-formed request, splitting them among `threads` workers in contiguous
/// chunks so that the output keeps the input order. The workers share nothing they write:
/// each collects its own responses and times, and starts the clock only once every worker is
/// running (a barrier), so thread start-up is outside the window.
fn decide_all(
    authorizer: &Authorizer,
    requests: &[Result<Request, String>],
    bound: &Bound<'_>,
    threads: usize,
) -> Decided {
    let chunk = requests.len().div_ceil(threads).max(1);
    let parts: Vec<&[Result<Request, String>]> = requests.chunks(chunk).collect();
    let ready = Barrier::new(parts.len());
    let results: Vec<Option<WorkerResult>> = std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .iter()
            .map(|part| {
                let ready = &ready;
                scope.spawn(move || {
                    let mut responses = Vec::with_capacity(part.len());
                    let mut times = Vec::with_capacity(part.len());
                    ready.wait();
                    let started = Instant::now();
                    let mut last = started;
                    for request in part.iter() {
                        let Ok(request) = request else {
                            responses.push(None);
                            continue;
                        };
                        responses.push(Some(authorizer.is_authorized_bound(request, bound)));
                        let now = Instant::now();
                        times.push(
                            u64::try_from(now.duration_since(last).as_nanos()).unwrap_or(u64::MAX),
                        );
                        last = now;
                    }
                    (responses, times, started, last)
                })
            })
            .collect();
        // A worker that panicked decides nothing: its requests get error lines (fail closed).
        workers.into_iter().map(|w| w.join().ok()).collect()
    });
    let mut decided = Decided {
        responses: Vec::with_capacity(requests.len()),
        times: Vec::with_capacity(requests.len()),
        window_ns: 0,
    };
    let (mut first, mut last): (Option<Instant>, Option<Instant>) = (None, None);
    for (result, part) in results.into_iter().zip(&parts) {
        match result {
            Some((responses, times, started, finished)) => {
                decided.responses.extend(responses);
                decided.times.extend(times);
                first = Some(first.map_or(started, |f| f.min(started)));
                last = Some(last.map_or(finished, |l| l.max(finished)));
            }
            None => decided
                .responses
                .extend(std::iter::repeat_n(None, part.len())),
        }
    }
    if let (Some(first), Some(last)) = (first, last) {
        decided.window_ns = last.duration_since(first).as_nanos();
    }
    decided
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
