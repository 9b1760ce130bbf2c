//! Writes a generated workload's files (schema, policies, entities, requests as JSON Lines) to a
//! folder, for the CLI's batch mode, for cedar-policy's CLI or for profiling:
//! `cargo run --release -p thuja-benches --example write_workload -- NAME OUT_DIR [REQUESTS [SEED]]`
//! where NAME is `tinytodo`, `abac`, `rbac-N`, `saas-N` or `sharing-N` (see
//! [`thuja_benches::by_name`]); 10,000 requests from seed 7 unless told.

use std::io::Write;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!(
            "usage: write_workload tinytodo|abac|rbac-N|saas-N|sharing-N OUT_DIR [REQUESTS [SEED]]"
        );
        std::process::exit(1);
    };
    let [name, out, rest @ ..] = args.as_slice() else {
        usage()
    };
    let number = |i: usize, default: usize| {
        rest.get(i)
            .map_or(Some(default), |s| s.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let requests = number(0, 10_000);
    let seed = number(1, 7) as u64;
    let Some(w) = thuja_benches::by_name(name, requests, seed) else {
        usage()
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("schema.cedarschema"), &w.schema)?;
    std::fs::write(out.join("policies.cedar"), &w.policies)?;
    std::fs::write(out.join("entities.json"), &w.entities)?;
    let mut lines = std::io::BufWriter::new(std::fs::File::create(out.join("requests.jsonl"))?);
    for r in &w.requests {
        let line = serde_json::json!({"principal": r.principal, "action": r.action, "resource": r.resource, "context": r.context});
        writeln!(lines, "{line}")?;
    }
    lines.flush()?;
    eprintln!(
        "{}: {} policies, {} entities, {} requests in {}",
        w.name,
        w.policies.matches(";\n").count(),
        w.entities.matches("\"uid\"").count(),
        w.requests.len(),
        out.display()
    );
    Ok(())
}
