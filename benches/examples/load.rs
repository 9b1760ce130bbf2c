//! Loading times, Thuja beside cedar-policy, on a workload's files (as `write_workload` writes
//! them, or any folder with `schema.cedarschema`, `policies.cedar` and `entities.json`):
//! `cargo run --release -p thuja-benches --example load -- DIR [REPS]` prints, for each step, the
//! median of REPS runs (default 5) in ms:
//!
//! - `cedar parse`: cedar-policy parses the policy text (`PolicySet::from_str`);
//! - `thuja parse`, `thuja types` (the validator's expression types,
//!   `thuja_compiler::validator::expression_types`), `thuja lower` (bytecode and scope index,
//!   untyped) and `thuja lower typed` (the same specialised on the types);
//! - `thuja compile` (`Authorizer::compile`: lowering, untyped) and `thuja compile_for_schema`
//!   (types and typed lowering), both from parsed policies, and `thuja load` (parse and
//!   `compile_for_schema` from the text);
//! - `cedar entities` and `thuja entities`: the entities file read with the schema;
//! - `thuja bind`: the compiled policies joined with the entities.
//!
//! `load DIR --rss cedar|thuja` instead reads the entities file with one engine and prints the
//! process's peak resident set (`VmHWM`) before and after, in MiB, for comparing peak memory in
//! separate processes.

use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;

fn read(dir: &str, file: &str) -> String {
    std::fs::read_to_string(format!("{dir}/{file}")).expect("workload file")
}

/// The process's peak resident set so far, in MiB.
fn peak_rss() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The median time of `reps` runs of `f`, in ms.
fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let started = Instant::now();
            black_box(f());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: load DIR [REPS] | load DIR --rss cedar|thuja");
        std::process::exit(1);
    };
    let schema_text = read(dir, "schema.cedarschema");
    let entities_text = read(dir, "entities.json");
    if args.get(1).map(String::as_str) == Some("--rss") {
        let before = peak_rss();
        let started = Instant::now();
        match args.get(2).map(String::as_str) {
            Some("cedar") => {
                let (schema, _) =
                    cedar_policy::Schema::from_cedarschema_str(&schema_text).expect("schema");
                let entities = cedar_policy::Entities::from_json_str(&entities_text, Some(&schema))
                    .expect("entities");
                black_box(&entities);
            }
            _ => {
                let schema = thuja::input::schema_from_str("s", &schema_text).expect("schema");
                let entities = thuja::input::entities_from_str("e", &entities_text, Some(&schema))
                    .expect("entities");
                black_box(&entities);
            }
        }
        println!(
            "peak RSS before {before:.1} MiB, after {:.1} MiB ({:.0} ms)",
            peak_rss(),
            started.elapsed().as_secs_f64() * 1e3
        );
        return;
    }
    let reps: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let policies_text = read(dir, "policies.cedar");
    let show = |what: &str, ms: f64| println!("| {what} | {ms:.1} |");
    println!("| {dir} | ms (median of {reps}) |");
    println!("|---|---|");
    let cedar_parse = time(reps, || {
        cedar_policy::PolicySet::from_str(&policies_text).expect("cedar policies")
    });
    show("cedar parse", cedar_parse);
    let schema = thuja::input::schema_from_str("s", &schema_text).expect("schema");
    show(
        "thuja parse",
        time(reps, || {
            thuja::input::policies_from_str("p", &policies_text).expect("policies")
        }),
    );
    let set = thuja::input::policies_from_str("p", &policies_text).expect("policies");
    let types = thuja_compiler_types(&schema, &set, reps);
    let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
    let untyped = time(reps, || vm.compile(&set));
    show("thuja compile (untyped)", untyped);
    let typed = time(reps, || vm.compile_for_schema(&set, &schema));
    show("thuja compile_for_schema", typed);
    show("  of which types", types);
    // Both compiles take their own copy of the set and drop it: what that costs.
    show(
        "  of which copying and dropping the set",
        time(reps, || set.clone()),
    );
    println!("| typed / untyped | {:.2}x |", typed / untyped);
    let load = time(reps, || {
        let set = thuja::input::policies_from_str("p", &policies_text).expect("policies");
        vm.compile_for_schema(&set, &schema)
    });
    show("thuja load (parse + compile_for_schema)", load);
    println!("| cedar parse / thuja load | {:.2}x |", cedar_parse / load);
    let (cedar_schema, _) =
        cedar_policy::Schema::from_cedarschema_str(&schema_text).expect("cedar schema");
    let cedar_entities = time(reps, || {
        cedar_policy::Entities::from_json_str(&entities_text, Some(&cedar_schema))
            .expect("cedar entities")
    });
    show("cedar entities", cedar_entities);
    let thuja_entities = time(reps, || {
        thuja::input::entities_from_str("e", &entities_text, Some(&schema)).expect("entities")
    });
    show("thuja entities", thuja_entities);
    println!(
        "| cedar / thuja entities | {:.2}x |",
        cedar_entities / thuja_entities
    );
    let entities =
        thuja::input::entities_from_str("e", &entities_text, Some(&schema)).expect("entities");
    let compiled = vm.compile_for_schema(&set, &schema);
    show("thuja bind", time(reps, || vm.bind(&compiled, &entities)));
}

/// The validator's expression types alone (what `compile_for_schema` adds before lowering).
fn thuja_compiler_types(schema: &thuja::Schema, set: &thuja::PolicySet, reps: usize) -> f64 {
    time(reps, || {
        thuja::CompiledPolicies::for_schema(set.clone(), schema)
    })
}
