//! Stream mode: every request decided once, as a gateway sees traffic, beside cedar-policy in
//! the same run. `cargo run --release -p thuja-benches --example stream -- [OPTIONS] WORKLOAD...`
//! with workloads named as [`thuja_benches::by_name`] takes them (`saas-1000`, `sharing-10000`,
//! `tinytodo`, `rbac-100000`, ...).
//!
//! For each workload it generates `2 × ROUNDS × N` distinct requests (the generators spread
//! them uniformly over tenants, principals and resources), reads them with both engines before
//! timing, and then, round after round, lets each engine decide two fresh slices of N requests
//! each: the first in a plain loop, timed in chunks of 64 requests, whose mean time per request
//! is the mean (over the chunks during which Linux's `/proc/thread-self/schedstat` says the
//! thread was not descheduled, so that time spent preempted by others on a shared machine does
//! not count, when those are at least half of them); the second reading the clock before and after every
//! decision, which gives the median, 99th percentile and largest time per request
//! (each including one clock read, printed as `clock`). A response is
//! dropped inside the timed loop. Figures are medians over the rounds. Thuja's engines run the
//! policies compiled for the schema and bound to the entities, as batch mode does with `-s`.
//! Every engine's decisions are checked against cedar-policy's on the requests both decided.
//!
//! Options: `--requests N` (default 10,000), `--rounds R` (default 3), `--engines LIST`
//! (comma-separated of `cedar`, `vm`, `jit`, `interp`; default `cedar,vm,jit`),
//! `--cedar-seconds S` (cedar-policy decides at most as many requests of a slice as fit in
//! about S seconds, measured on its first requests; default 5), `--seed N` (default 11),
//! `--hot-requests` (each engine copies the requests of a chunk, and in the clocked pass the
//! next request, just before deciding them, outside the timed window: the requests' own memory
//! is then in cache, as for a gateway that decides a request it has just read; without it the
//! prepared requests, tens of MB, are read cold from memory inside the timed window).

use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

use thuja_benches::{RequestJson, Workload};

struct Options {
    requests: usize,
    rounds: usize,
    engines: Vec<String>,
    cedar_seconds: f64,
    seed: u64,
    hot_requests: bool,
    workloads: Vec<String>,
}

fn options() -> Options {
    let mut o = Options {
        requests: 10_000,
        rounds: 3,
        engines: vec!["cedar".into(), "vm".into(), "jit".into()],
        cedar_seconds: 5.0,
        seed: 11,
        hot_requests: false,
        workloads: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--requests" => o.requests = value().parse().expect("--requests N"),
            "--rounds" => o.rounds = value().parse().expect("--rounds R"),
            "--engines" => o.engines = value().split(',').map(String::from).collect(),
            "--cedar-seconds" => o.cedar_seconds = value().parse().expect("--cedar-seconds S"),
            "--seed" => o.seed = value().parse().expect("--seed N"),
            "--hot-requests" => o.hot_requests = true,
            _ => o.workloads.push(arg),
        }
    }
    if o.workloads.is_empty() {
        o.workloads = vec!["saas-1000".into()];
    }
    o
}

/// Decides one request and says whether it was allowed; the response is dropped inside.
type Decide<'a> = Box<dyn Fn(usize) -> bool + 'a>;

/// Reads one request's memory (by copying it), outside the timed window, or does nothing.
type Touch<'a> = Box<dyn Fn(usize) + 'a>;

/// Per-request figures of one pass, in ns.
#[derive(Clone, Copy, Default)]
struct Figures {
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

/// Runs `decide` over `plain` (mean) and `clocked` (percentiles), which are indices of
/// requests; returns the figures and the decisions of the clocked pass.
fn pass(
    decide: &Decide<'_>,
    touch: &Touch<'_>,
    plain: &[usize],
    clocked: &[usize],
) -> (Figures, Vec<bool>) {
    // The mean over chunks the scheduler did not interrupt (see `schedule`), or over all.
    let (mut kept_ns, mut kept, mut all_ns) = (0u128, 0usize, 0u128);
    for chunk in plain.chunks(CHUNK) {
        for &i in chunk {
            touch(i);
        }
        let before = schedule();
        let started = Instant::now();
        for &i in chunk {
            black_box(decide(i));
        }
        let ns = started.elapsed().as_nanos();
        all_ns += ns;
        if before.is_some() && before == schedule() {
            kept_ns += ns;
            kept += chunk.len();
        }
    }
    let mean = match kept * 2 >= plain.len() {
        true => kept_ns as f64 / kept as f64,
        false => all_ns as f64 / plain.len().max(1) as f64,
    };
    let mut times = Vec::with_capacity(clocked.len());
    let mut decisions = Vec::with_capacity(clocked.len());
    for &i in clocked {
        touch(i);
        let started = Instant::now();
        decisions.push(decide(i));
        times.push(started.elapsed().as_nanos() as u64);
    }
    times.sort_unstable();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q) as usize)
            .copied()
    };
    let figures = Figures {
        mean,
        p50: at(0.5).unwrap_or(0) as f64,
        p99: at(0.99).unwrap_or(0) as f64,
        max: times.last().copied().unwrap_or(0) as f64,
    };
    (figures, decisions)
}

/// Requests timed together in the plain pass.
const CHUNK: usize = 64;

/// How long this thread has waited to run and how many times it was put on a CPU (Linux's
/// `/proc/thread-self/schedstat`): when either changed over a chunk of requests, the machine
/// (shared, and busy) ran something else in between.
fn schedule() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().skip(1).map(str::parse);
    Some((fields.next()?.ok()?, fields.next()?.ok()?))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The time of one clock read, in ns (the floor of the clocked pass's figures).
fn clock_cost() -> f64 {
    let n = 1_000_000;
    let started = Instant::now();
    for _ in 0..n {
        black_box(Instant::now());
    }
    started.elapsed().as_nanos() as f64 / f64::from(n)
}

fn thuja_request(schema: &thuja::Schema, r: &RequestJson) -> thuja::Request {
    thuja::input::request_from_json_values(
        &r.principal,
        &r.action,
        &r.resource,
        &r.context,
        thuja::input::RequestSchema::Validated(schema),
    )
    .expect("request")
}

fn cedar_request(schema: &cedar_policy::Schema, r: &RequestJson) -> cedar_policy::Request {
    use cedar_policy::{Context, EntityUid, Request};
    let uid = |j: &serde_json::Value| EntityUid::from_json(j.clone()).expect("uid");
    let action = uid(&r.action);
    let context =
        Context::from_json_value(r.context.clone(), Some((schema, &action))).expect("context");
    Request::new(
        uid(&r.principal),
        action,
        uid(&r.resource),
        context,
        Some(schema),
    )
    .expect("request")
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

fn run(o: &Options, name: &str) {
    let slices = 2 * o.rounds;
    let started = Instant::now();
    let Some(w): Option<Workload> = thuja_benches::by_name(name, slices * o.requests, o.seed)
    else {
        eprintln!("unknown workload {name}");
        return;
    };
    let policies = w.policies.matches(";\n").count();
    let entities = w.entities.matches("\"uid\"").count();
    eprintln!(
        "{}: {policies} policies, {entities} entities, {} requests generated in {:.1} s",
        w.name,
        w.requests.len(),
        seconds(started)
    );
    let schema = thuja::input::schema_from_str("schema", &w.schema).expect("schema");
    let set = thuja::input::policies_from_str("policies", &w.policies).expect("policies");
    let store =
        thuja::input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    let ours: Vec<thuja::Request> = w
        .requests
        .iter()
        .map(|r| thuja_request(&schema, r))
        .collect();
    let cedar_schema = cedar_policy::Schema::from_cedarschema_str(&w.schema)
        .expect("cedar schema")
        .0;
    let cedar_policies = cedar_policy::PolicySet::from_str(&w.policies).expect("cedar policies");
    let cedar_entities =
        cedar_policy::Entities::from_json_str(&w.entities, Some(&cedar_schema)).expect("entities");
    let theirs: Vec<cedar_policy::Request> = w
        .requests
        .iter()
        .map(|r| cedar_request(&cedar_schema, r))
        .collect();
    drop(w);

    let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
    let jit = thuja::Authorizer::with_engine(thuja::Evaluator::Jit);
    let interp = thuja::Authorizer::with_engine(thuja::Evaluator::Interp);
    let vm_compiled = vm.compile_for_schema(&set, &schema);
    let vm_bound = vm.bind(&vm_compiled, &store);
    let wants = |e: &str| o.engines.iter().any(|x| x == e);
    let jit_compiled = wants("jit").then(|| jit.compile_for_schema(&set, &schema));
    let jit_bound = jit_compiled.as_ref().map(|c| jit.bind(c, &store));
    let cedar = cedar_policy::Authorizer::new();

    // cedar-policy decides the first `cedar_n` requests of every slice.
    let cedar_n = if wants("cedar") {
        let probe = 20.min(o.requests);
        let t = Instant::now();
        for r in &theirs[..probe] {
            black_box(cedar.is_authorized(r, &cedar_policies, &cedar_entities));
        }
        let each = seconds(t) / probe.max(1) as f64;
        ((o.cedar_seconds / 2.0 / o.rounds as f64 / each) as usize).clamp(probe, o.requests)
    } else {
        0
    };
    let allowed = |d: thuja::Decision| d == thuja::Decision::Allow;
    let mut engines: Vec<(&str, usize, Decide<'_>, Touch<'_>)> = Vec::new();
    for e in &o.engines {
        let decide: Decide<'_> = match e.as_str() {
            "cedar" => Box::new(|i| {
                cedar
                    .is_authorized(&theirs[i], &cedar_policies, &cedar_entities)
                    .decision()
                    == cedar_policy::Decision::Allow
            }),
            "vm" => Box::new(|i| allowed(vm.is_authorized_bound(&ours[i], &vm_bound).decision)),
            "jit" => {
                let Some(bound) = jit_bound.as_ref() else {
                    continue;
                };
                let (jit, ours) = (&jit, &ours);
                Box::new(move |i| allowed(jit.is_authorized_bound(&ours[i], bound).decision))
            }
            "interp" => {
                Box::new(|i| allowed(interp.is_authorized(&ours[i], &set, &store).decision))
            }
            other => {
                eprintln!("unknown engine {other}");
                continue;
            }
        };
        let n = if e == "cedar" { cedar_n } else { o.requests };
        let touch: Touch<'_> = match (o.hot_requests, e == "cedar") {
            (false, _) => Box::new(|_| {}),
            (true, true) => Box::new(|i| drop(black_box(theirs[i].clone()))),
            (true, false) => Box::new(|i| drop(black_box(ours[i].clone()))),
        };
        engines.push((e.as_str(), n, decide, touch));
    }

    let clock = clock_cost();
    let mut figures: Vec<Vec<Figures>> = vec![Vec::new(); engines.len()];
    let mut mismatches = 0usize;
    let mut allows = 0usize;
    let mut compared = 0usize;
    for round in 0..o.rounds {
        let slice = |k: usize| (k * o.requests..(k + 1) * o.requests).collect::<Vec<usize>>();
        let (plain, clocked) = (slice(2 * round), slice(2 * round + 1));
        // Each engine's decisions, compared with cedar-policy's once all have run (whatever
        // the order of `--engines`).
        let mut decided: Vec<(&str, Vec<bool>)> = Vec::new();
        for (k, (engine, n, decide, touch)) in engines.iter().enumerate() {
            let (f, decisions) = pass(decide, touch, &plain[..*n], &clocked[..*n]);
            figures[k].push(f);
            decided.push((engine, decisions));
        }
        if let Some((_, theirs)) = decided.iter().find(|(e, _)| *e == "cedar") {
            for (_, ours) in decided.iter().filter(|(e, _)| *e != "cedar") {
                for (a, b) in theirs.iter().zip(ours) {
                    compared += 1;
                    allows += usize::from(*a);
                    mismatches += usize::from(a != b);
                }
            }
        }
    }
    let cedar_mean = engines
        .iter()
        .position(|(e, _, _, _)| *e == "cedar")
        .map(|k| median(figures[k].iter().map(|f| f.mean).collect()));
    for (k, (engine, n, _, _)) in engines.iter().enumerate() {
        let m = |get: fn(&Figures) -> f64| median(figures[k].iter().map(get).collect());
        let mean = m(|f| f.mean);
        let versus = match cedar_mean {
            Some(c) if *engine != "cedar" => format!("{:.1}x", c / mean),
            _ => "-".into(),
        };
        println!(
            "| {name} | {policies} | {entities} | {engine} | {n} | {} | {} | {} | {} | {versus} | {:.1} |",
            show(mean),
            show(m(|f| f.p50)),
            show(m(|f| f.p99)),
            show(m(|f| f.max)),
            m(|f| f.p99) / m(|f| f.p50),
        );
    }
    eprintln!(
        "{name}: clock read {clock:.0} ns; {compared} decisions compared with cedar-policy's, {allows} allowed, {mismatches} differ"
    );
    if mismatches > 0 {
        eprintln!("MISMATCH on {name}");
    }
}

/// A time in ns as `123 ns`, `4.56 µs` or `7.89 ms`.
fn show(ns: f64) -> String {
    let d = Duration::from_nanos(ns as u64);
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

fn main() {
    let o = options();
    println!(
        "| workload | policies | entities | engine | requests per slice | mean | p50 | p99 | max | vs cedar | p99/p50 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for name in &o.workloads {
        run(&o, name);
    }
}
