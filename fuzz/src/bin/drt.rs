//! `drt`: differential random testing of Thuja against `cedar-policy`.
//!
//! ```text
//! cargo run --release -p thuja-fuzz --bin drt -- [--seconds T | --cases N] [--seed S] [--out DIR]
//!     [--jobs J] [--shrink-per-kind K]
//! ```
//!
//! Case `i` of a run is drawn from seed `S + i` (schema-less for one seed in five), checked by
//! [`thuja_fuzz::check`] (interpreter, VM and `cedar-policy`; properties), and on a mismatch
//! shrunk and, with `--out`, written to DIR as a conformance test (`drt-SEED-KIND.json` and its
//! files) that `thuja conformance --root DIR DIR` replays. Without `--seconds` or `--cases` it
//! runs 1000 cases; `--jobs` defaults to the number of cores, and at most `--shrink-per-kind`
//! (default 5) mismatching cases of one kind are shrunk and written. The last line printed is
//! exactly `drt: N cases, M mismatches, R cases/s` (M counts cases with at least one mismatch);
//! the exit status is 0 only without mismatches.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thuja_fuzz::{Coverage, check, generate, mode_of, shrink};

struct Options {
    seconds: Option<f64>,
    cases: Option<u64>,
    seed: u64,
    out: Option<PathBuf>,
    jobs: usize,
    /// At most this many mismatching cases of one kind are shrunk and written.
    shrink_per_kind: u64,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        seconds: None,
        cases: None,
        seed: 0,
        out: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        shrink_per_kind: 5,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                o.seconds = Some(
                    value("--seconds")?
                        .parse()
                        .map_err(|e| format!("--seconds: {e}"))?,
                )
            }
            "--cases" => {
                o.cases = Some(
                    value("--cases")?
                        .parse()
                        .map_err(|e| format!("--cases: {e}"))?,
                )
            }
            "--seed" => {
                o.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--out" => o.out = Some(PathBuf::from(value("--out")?)),
            "--jobs" => {
                o.jobs = value("--jobs")?
                    .parse()
                    .map_err(|e| format!("--jobs: {e}"))?
            }
            "--shrink-per-kind" => {
                o.shrink_per_kind = value("--shrink-per-kind")?
                    .parse()
                    .map_err(|e| format!("--shrink-per-kind: {e}"))?
            }
            "-h" | "--help" => {
                return Err(
                    "usage: drt [--seconds T | --cases N] [--seed S] [--out DIR] [--jobs J] [--shrink-per-kind K]".into(),
                );
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if o.seconds.is_some() && o.cases.is_some() {
        return Err("give --seconds or --cases, not both".into());
    }
    if o.seconds.is_none() && o.cases.is_none() {
        o.cases = Some(1000);
    }
    o.jobs = o.jobs.max(1);
    Ok(o)
}

#[derive(Default)]
struct Totals {
    cases: u64,
    mismatching_cases: u64,
    allows: u64,
    denies: u64,
    with_errors: u64,
    invalid_sets: u64,
    not_loaded: u64,
    generate_seconds: f64,
    thuja_seconds: f64,
    cedar_seconds: f64,
    coverage: Coverage,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("drt: {e}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let deadline = options.seconds.map(|s| start + Duration::from_secs_f64(s));
    let next = Arc::new(AtomicU64::new(0));
    let totals = Arc::new(Mutex::new(Totals::default()));
    let out = options.out.clone();
    // Mismatching cases by kind; only the first few of a kind are shrunk and written.
    let kinds = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let workers: Vec<_> = (0..options.jobs)
        .map(|_| {
            let next = Arc::clone(&next);
            let totals = Arc::clone(&totals);
            let out = out.clone();
            let kinds = Arc::clone(&kinds);
            let (cases, seed, per_kind) = (options.cases, options.seed, options.shrink_per_kind);
            // `check` runs on a stack of its own: the default thread stack is enough.
            std::thread::Builder::new().spawn(move || {
                let mut local = Totals::default();
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if cases.is_some_and(|n| i >= n) {
                        break;
                    }
                    let case_seed = seed.wrapping_add(i);
                    let started = Instant::now();
                    let case = generate(case_seed, mode_of(case_seed), &mut local.coverage);
                    local.generate_seconds += started.elapsed().as_secs_f64();
                    let checked = check(&case);
                    local.thuja_seconds += checked.thuja_seconds;
                    local.cedar_seconds += checked.cedar_seconds;
                    local.cases += 1;
                    local.allows += checked.allows as u64;
                    local.denies += checked.denies as u64;
                    local.with_errors += checked.with_errors as u64;
                    local.invalid_sets += u64::from(checked.valid == Some(false));
                    local.not_loaded += u64::from(!checked.loaded);
                    if let Some(first) = checked.mismatches.first() {
                        local.mismatching_cases += 1;
                        let seen = {
                            let mut k = kinds.lock().unwrap_or_else(|e| e.into_inner());
                            let n = k.entry(first.kind.clone()).or_default();
                            *n += 1;
                            *n
                        };
                        let out = out.as_deref().filter(|_| seen <= per_kind);
                        report(&case, first, out);
                    }
                }
                let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                t.cases += local.cases;
                t.mismatching_cases += local.mismatching_cases;
                t.allows += local.allows;
                t.denies += local.denies;
                t.with_errors += local.with_errors;
                t.invalid_sets += local.invalid_sets;
                t.not_loaded += local.not_loaded;
                t.generate_seconds += local.generate_seconds;
                t.thuja_seconds += local.thuja_seconds;
                t.cedar_seconds += local.cedar_seconds;
                t.coverage.merge(&local.coverage);
            })
        })
        .collect();
    for w in workers {
        match w {
            Ok(w) => {
                if w.join().is_err() {
                    eprintln!("drt: a worker panicked");
                }
            }
            Err(e) => eprintln!("drt: could not start a worker: {e}"),
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let t = totals.lock().unwrap_or_else(|e| e.into_inner());
    let missing = t.coverage.missing();
    println!(
        "requests: {} allow, {} deny, {} with policy errors; {} invalid policy sets; {} cases not loaded",
        t.allows, t.denies, t.with_errors, t.invalid_sets, t.not_loaded
    );
    println!(
        "time (summed over workers): generating {:.1} s, thuja {:.1} s, cedar-policy {:.1} s",
        t.generate_seconds, t.thuja_seconds, t.cedar_seconds
    );
    let kinds = kinds.lock().unwrap_or_else(|e| e.into_inner());
    if !kinds.is_empty() {
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!("mismatch kinds: {}", list.join(", "));
    }
    if !missing.is_empty() {
        println!("constructs never generated: {}", missing.join(", "));
    }
    println!(
        "drt: {} cases, {} mismatches, {:.1} cases/s",
        t.cases,
        t.mismatching_cases,
        t.cases as f64 / elapsed
    );
    if t.mismatching_cases == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints a mismatch; shrinks the case and writes it as a conformance test under `out`.
fn report(case: &thuja_fuzz::Case, mismatch: &thuja_fuzz::Mismatch, out: Option<&std::path::Path>) {
    println!(
        "mismatch: seed {} ({:?}) {}: {}",
        case.seed, case.mode, mismatch.kind, mismatch.detail
    );
    let Some(dir) = out else {
        return;
    };
    let small = shrink::shrink(case, &mismatch.kind);
    let kind: String = mismatch
        .kind
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("drt-{}-{kind}", case.seed);
    match shrink::write_conformance(&small, dir, &name) {
        Ok(path) => println!(
            "  shrunk to {} policies, {} entities, {} requests: {}",
            small.policies.len(),
            small.entities.len(),
            small.requests.len(),
            path.display()
        ),
        Err(e) => println!("  could not write {name}: {e}"),
    }
}
