//! `drt`: differential random testing of Thuja against `cedar-policy`.
//!
//! ```text
//! cargo run --release -p thuja-fuzz --bin drt -- [--seconds T | --cases N] [--seed S] [--out DIR]
//!     [--jobs J] [--shrink-per-kind K] [--case-timeout SECONDS]
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
//!
//! A watchdog thread follows each worker's current case (its seed, when it started, and the
//! stage: `generate`, `thuja`, `cedar`, or the same while shrinking, or `write`). A case still
//! running after `--case-timeout` seconds (default 60; each shrinking candidate gets as long) is
//! a hang: its seed and stage go to stderr, with `--out` the case is written as a conformance
//! test (`drt-SEED-hang.json`, unshrunk; if writing it runs into the hang too, the raw case as
//! `drt-SEED-hang.case.json`), and the run ends at once with the final line, counting the hung
//! case as a case and a mismatch, and exit status 1.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thuja_fuzz::oracle::check_observed;
use thuja_fuzz::{Case, Coverage, generate, mode_of, shrink};

struct Options {
    seconds: Option<f64>,
    cases: Option<u64>,
    seed: u64,
    out: Option<PathBuf>,
    jobs: usize,
    /// At most this many mismatching cases of one kind are shrunk and written.
    shrink_per_kind: u64,
    /// A case running longer than this is a hang.
    case_timeout: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        seconds: None,
        cases: None,
        seed: 0,
        out: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        shrink_per_kind: 5,
        case_timeout: Duration::from_secs(60),
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
            "--case-timeout" => {
                let seconds: f64 = value("--case-timeout")?
                    .parse()
                    .map_err(|e| format!("--case-timeout: {e}"))?;
                o.case_timeout = Duration::try_from_secs_f64(seconds)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or(format!(
                        "--case-timeout: {seconds} is not a positive number of seconds"
                    ))?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: drt [--seconds T | --cases N] [--seed S] [--out DIR] [--jobs J] [--shrink-per-kind K] [--case-timeout SECONDS]".into(),
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

/// What a worker is doing, for the watchdog.
struct Current {
    seed: u64,
    started: Instant,
    /// `generate`, `thuja`, `cedar`, `write`, or `shrinking: thuja` / `shrinking: cedar`.
    stage: &'static str,
    /// The case (or shrinking candidate) being checked, once generated.
    case: Option<Arc<Case>>,
}

/// One worker's current case; `None` between cases.
type Slot = Mutex<Option<Current>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the start of a (timed) step of `seed`'s case.
fn start(slot: &Slot, seed: u64, stage: &'static str, case: Option<Arc<Case>>) {
    *lock(slot) = Some(Current {
        seed,
        started: Instant::now(),
        stage,
        case,
    });
}

/// Moves the current step to another stage, keeping its clock.
fn enter(slot: &Slot, stage: &'static str) {
    if let Some(c) = lock(slot).as_mut() {
        c.stage = stage;
    }
}

/// Counts kept as the run goes, for the final line of a run the watchdog ends.
#[derive(Default)]
struct Progress {
    cases: AtomicU64,
    mismatching_cases: AtomicU64,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("drt: {e}");
            return ExitCode::from(2);
        }
    };
    let start_time = Instant::now();
    let deadline = options
        .seconds
        .map(|s| start_time + Duration::from_secs_f64(s));
    let next = Arc::new(AtomicU64::new(0));
    let totals = Arc::new(Mutex::new(Totals::default()));
    let out = options.out.clone();
    // Mismatching cases by kind; only the first few of a kind are shrunk and written.
    let kinds = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let slots: Arc<Vec<Slot>> = Arc::new((0..options.jobs).map(|_| Mutex::new(None)).collect());
    let progress = Arc::new(Progress::default());
    // Taken by whoever ends the run: the watchdog on a hang (holding it until it exits), or
    // `main` once the workers are done.
    let ending = Arc::new(Mutex::new(()));
    {
        let (slots, progress, ending, out) = (
            Arc::clone(&slots),
            Arc::clone(&progress),
            Arc::clone(&ending),
            out.clone(),
        );
        let limit = options.case_timeout;
        let spawned = std::thread::Builder::new()
            .name("drt-watchdog".into())
            .spawn(move || {
                watchdog(
                    &slots,
                    limit,
                    &progress,
                    &ending,
                    out.as_deref(),
                    start_time,
                )
            });
        if let Err(e) = spawned {
            eprintln!("drt: could not start the watchdog: {e}");
            return ExitCode::from(2);
        }
    }
    let workers: Vec<_> = (0..options.jobs)
        .map(|w| {
            let next = Arc::clone(&next);
            let totals = Arc::clone(&totals);
            let out = out.clone();
            let kinds = Arc::clone(&kinds);
            let slots = Arc::clone(&slots);
            let progress = Arc::clone(&progress);
            let (cases, seed, per_kind) = (options.cases, options.seed, options.shrink_per_kind);
            // `check` runs on a stack of its own: the default thread stack is enough.
            std::thread::Builder::new().spawn(move || {
                let slot = &slots[w];
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
                    start(slot, case_seed, "generate", None);
                    let started = Instant::now();
                    let case =
                        Arc::new(generate(case_seed, mode_of(case_seed), &mut local.coverage));
                    local.generate_seconds += started.elapsed().as_secs_f64();
                    if let Some(c) = lock(slot).as_mut() {
                        c.case = Some(Arc::clone(&case));
                    }
                    let checked = check_observed(&case, &|stage| enter(slot, stage));
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
                            let mut k = lock(&kinds);
                            let n = k.entry(first.kind.clone()).or_default();
                            *n += 1;
                            *n
                        };
                        let out = out.as_deref().filter(|_| seen <= per_kind);
                        report(&case, first, out, slot);
                    }
                    *lock(slot) = None;
                    progress
                        .mismatching_cases
                        .fetch_add(u64::from(!checked.mismatches.is_empty()), Ordering::SeqCst);
                    progress.cases.fetch_add(1, Ordering::SeqCst);
                }
                let mut t = lock(&totals);
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
    // If the watchdog is ending the run, this waits for it to exit the process.
    let _ending = lock(&ending);
    let elapsed = start_time.elapsed().as_secs_f64().max(1e-9);
    let t = lock(&totals);
    let missing = t.coverage.missing();
    println!(
        "requests: {} allow, {} deny, {} with policy errors; {} invalid policy sets; {} cases not loaded",
        t.allows, t.denies, t.with_errors, t.invalid_sets, t.not_loaded
    );
    println!(
        "time (summed over workers): generating {:.1} s, thuja {:.1} s, cedar-policy {:.1} s",
        t.generate_seconds, t.thuja_seconds, t.cedar_seconds
    );
    let kinds = lock(&kinds);
    if !kinds.is_empty() {
        let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!("mismatch kinds: {}", list.join(", "));
    }
    if !missing.is_empty() {
        println!("constructs never generated: {}", missing.join(", "));
    }
    print_final_line(t.cases, t.mismatching_cases, elapsed);
    if t.mismatching_cases == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The last line of every run.
fn print_final_line(cases: u64, mismatching_cases: u64, elapsed_seconds: f64) {
    println!(
        "drt: {} cases, {} mismatches, {:.1} cases/s",
        cases,
        mismatching_cases,
        cases as f64 / elapsed_seconds.max(1e-9)
    );
}

/// Watches the workers' current cases; on one running past `limit`, reports it, writes it
/// under `out`, prints the final line and exits with status 1. Returns if `main` ends first.
fn watchdog(
    slots: &[Slot],
    limit: Duration,
    progress: &Progress,
    ending: &Mutex<()>,
    out: Option<&std::path::Path>,
    start_time: Instant,
) {
    let poll = (limit / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    loop {
        std::thread::sleep(poll);
        let hung: Vec<(u64, &'static str, Duration, Option<Arc<Case>>)> = slots
            .iter()
            .filter_map(|slot| {
                let s = lock(slot);
                let c = s.as_ref()?;
                let running = c.started.elapsed();
                (running > limit).then(|| (c.seed, c.stage, running, c.case.clone()))
            })
            .collect();
        if hung.is_empty() {
            continue;
        }
        let Ok(_ending) = ending.try_lock() else {
            // `main` is printing its summary: the run is over.
            return;
        };
        // Counted before writing, which may take a while.
        let cases = progress.cases.load(Ordering::SeqCst) + hung.len() as u64;
        let mismatching = progress.mismatching_cases.load(Ordering::SeqCst) + hung.len() as u64;
        let elapsed = start_time.elapsed().as_secs_f64();
        for (seed, stage, running, case) in &hung {
            eprintln!(
                "drt: hang: seed {seed} still running after {running:.1?} (limit {limit:?}), in stage {stage}"
            );
            if let (Some(dir), Some(case)) = (out, case) {
                write_hung(case, dir, limit);
            }
        }
        print_final_line(cases, mismatching, elapsed);
        std::process::exit(1);
    }
}

/// Writes a hung case as a conformance test (unshrunk). Writing runs `cedar-policy` and Thuja on
/// the case again, which may hang as well: after waiting (at least 10 s, at most `limit`),
/// the raw case is written instead.
fn write_hung(case: &Arc<Case>, dir: &std::path::Path, limit: Duration) {
    let name = format!("drt-{}-hang", case.seed);
    let (sender, receiver) = std::sync::mpsc::channel();
    let (to_write, folder, test) = (Arc::clone(case), dir.to_path_buf(), name.clone());
    let spawned = std::thread::Builder::new().spawn(move || {
        let _ = sender.send(shrink::write_conformance(&to_write, &folder, &test));
    });
    let written = match spawned {
        Ok(_) => receiver
            .recv_timeout(limit.max(Duration::from_secs(10)))
            .ok(),
        Err(_) => None,
    };
    match written {
        Some(Ok(path)) => eprintln!("  written to {}", path.display()),
        Some(Err(e)) => eprintln!("  could not write {name}: {e}"),
        None => {
            let path = dir.join(format!("{name}.case.json"));
            let raw = serde_json::json!({
                "seed": case.seed,
                "mode": format!("{:?}", case.mode),
                "schema": case.schema,
                "policies": case.policies,
                "entities": case.entities,
                "requests": case.requests.iter().map(|r| serde_json::json!({
                    "principal": r.principal,
                    "action": r.action,
                    "resource": r.resource,
                    "context": r.context,
                })).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string_pretty(&raw).unwrap_or_default();
            match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text + "\n")) {
                Ok(()) => eprintln!(
                    "  writing it as a test hangs too; the raw case is in {}",
                    path.display()
                ),
                Err(e) => eprintln!("  could not write {}: {e}", path.display()),
            }
        }
    }
}

/// Prints a mismatch; shrinks the case and writes it as a conformance test under `out`. Each
/// shrinking candidate is timed by the watchdog like a case.
fn report(
    case: &Case,
    mismatch: &thuja_fuzz::Mismatch,
    out: Option<&std::path::Path>,
    slot: &Slot,
) {
    println!(
        "mismatch: seed {} ({:?}) {}: {}",
        case.seed, case.mode, mismatch.kind, mismatch.detail
    );
    let Some(dir) = out else {
        return;
    };
    let small = shrink::shrink_by(case, |candidate| {
        start(
            slot,
            case.seed,
            "shrinking",
            Some(Arc::new(candidate.clone())),
        );
        let stage = |s: &'static str| {
            enter(
                slot,
                match s {
                    "thuja" => "shrinking: thuja",
                    "cedar" => "shrinking: cedar",
                    _ => "shrinking",
                },
            )
        };
        check_observed(candidate, &stage)
            .mismatches
            .iter()
            .any(|m| m.kind == mismatch.kind)
    });
    let kind: String = mismatch
        .kind
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("drt-{}-{kind}", case.seed);
    start(slot, case.seed, "write", Some(Arc::new(small.clone())));
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
