//! `hostile`: runs the `hostile` fuzz target's body on random recipes (issue #23), without
//! libFuzzer: a random generator mode for long chains, deep nesting, huge literals and
//! alias-heavy schemas.
//!
//! ```text
//! cargo run --release -p thuja-fuzz --bin hostile -- [--seconds T] [--seed S] [--case-timeout SECONDS]
//! cargo run --release -p thuja-fuzz --bin hostile -- --recipe HEX [--write DIR]
//! ```
//!
//! Recipe `i` is 8 to 256 random bytes drawn from seed `S + i`, given to
//! [`thuja_fuzz::targets::hostile`], which panics on a bug. A panic stops the run with the
//! recipe (hex) on stderr; so does a case running past `--case-timeout` (default 30 s), caught
//! by a watchdog thread. The last line is `hostile: N cases, M failures, R cases/s`; the exit
//! status is 0 only without failures.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};

fn arg<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .ok_or(format!("{name} needs a value"))?
            .parse()
            .map_err(|_| format!("{name}: not a number")),
        None => Ok(default),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `--recipe HEX`: runs that one recipe and says how long it took; with `--write DIR`, writes
/// the files it makes into `DIR` instead, to try them with the command line.
fn replay(hex_text: &str, write_to: Option<&str>) -> ExitCode {
    let bytes: Option<Vec<u8>> = (0..hex_text.len())
        .step_by(2)
        .map(|i| {
            hex_text
                .get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    let Some(recipe) = bytes else {
        eprintln!("hostile: --recipe takes hexadecimal bytes");
        return ExitCode::from(2);
    };
    if let Some(dir) = write_to {
        for (name, text) in thuja_fuzz::targets::hostile_inputs(&recipe) {
            let path = std::path::Path::new(dir).join(name);
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("hostile: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
            println!("{}", path.display());
        }
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    thuja_fuzz::targets::hostile(&recipe);
    println!("hostile: the recipe took {:.2?}", start.elapsed());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--recipe") {
        let write_to = args
            .iter()
            .position(|a| a == "--write")
            .and_then(|w| args.get(w + 1));
        return replay(
            args.get(i + 1).map_or("", String::as_str),
            write_to.map(String::as_str),
        );
    }
    let (seconds, seed, timeout) = match (
        arg("--seconds", 60.0f64),
        arg("--seed", 0u64),
        arg("--case-timeout", 30.0f64),
    ) {
        (Ok(s), Ok(seed), Ok(t)) => (s, seed, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("hostile: {e}");
            return ExitCode::from(2);
        }
    };
    // The case being run, and when it started (ms since the run began), for the watchdog.
    let current: Arc<Mutex<(Vec<u8>, u64)>> = Arc::new(Mutex::new((Vec::new(), 0)));
    let cases = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    {
        let (current, cases) = (current.clone(), cases.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(500));
                let (recipe, started) = current.lock().map(|c| c.clone()).unwrap_or_default();
                let now = start.elapsed().as_millis() as u64;
                if !recipe.is_empty() && now.saturating_sub(started) > (timeout * 1000.0) as u64 {
                    eprintln!(
                        "hostile: a case ran over {timeout} s: recipe {}",
                        hex(&recipe)
                    );
                    let n = cases.load(Ordering::Relaxed);
                    println!("hostile: {n} cases, 1 failures (a hang)");
                    std::process::exit(1);
                }
            }
        });
    }
    let deadline = Duration::from_secs_f64(seconds);
    // Debug builds need large stacks for the deepest (allowed) expressions; so may libFuzzer's.
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn({
        let (current, cases) = (current.clone(), cases.clone());
        move || -> Result<(), Vec<u8>> {
            let mut i = 0u64;
            while start.elapsed() < deadline {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i));
                let len = rng.random_range(8..=256);
                let recipe: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                if let Ok(mut c) = current.lock() {
                    *c = (recipe.clone(), start.elapsed().as_millis() as u64);
                }
                if std::panic::catch_unwind(|| thuja_fuzz::targets::hostile(&recipe)).is_err() {
                    return Err(recipe);
                }
                i += 1;
                cases.store(i, Ordering::Relaxed);
            }
            Ok(())
        }
    });
    let outcome = match worker {
        Ok(handle) => handle.join().unwrap_or(Err(Vec::new())),
        Err(e) => {
            eprintln!("hostile: could not start the worker: {e}");
            return ExitCode::from(2);
        }
    };
    let n = cases.load(Ordering::Relaxed);
    let rate = n as f64 / start.elapsed().as_secs_f64().max(1e-9);
    match outcome {
        Ok(()) => {
            println!("hostile: {n} cases, 0 failures, {rate:.1} cases/s");
            ExitCode::SUCCESS
        }
        Err(recipe) => {
            eprintln!("hostile: a case failed: recipe {}", hex(&recipe));
            println!("hostile: {} cases, 1 failures, {rate:.1} cases/s", n + 1);
            ExitCode::from(1)
        }
    }
}
