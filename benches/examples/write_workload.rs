//! Writes a generated workload's files (schema, policies, entities, requests as JSON Lines) to a
//! folder, for the CLI's batch mode or for profiling:
//! `cargo run --release -p thuja-benches --example write_workload -- rbac 10000 OUT_DIR`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, size, out) = match args.as_slice() {
        [kind, size, out] => (
            kind.as_str(),
            size.parse::<usize>().unwrap_or(1000),
            PathBuf::from(out),
        ),
        _ => {
            eprintln!("usage: write_workload tinytodo|abac|rbac SIZE OUT_DIR");
            std::process::exit(1);
        }
    };
    let w = match kind {
        "tinytodo" => thuja_benches::tinytodo(size, size / 2, 40, 1_000, 1),
        "abac" => thuja_benches::abac(size, size * 3 / 2, 1_000, 2),
        _ => thuja_benches::rbac(size, 1_000, 3),
    };
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("schema.cedarschema"), &w.schema)?;
    std::fs::write(out.join("policies.cedar"), &w.policies)?;
    std::fs::write(out.join("entities.json"), &w.entities)?;
    let lines: Vec<String> = w
        .requests
        .iter()
        .map(|r| {
            serde_json::json!({"principal": r.principal, "action": r.action, "resource": r.resource, "context": r.context})
                .to_string()
        })
        .collect();
    std::fs::write(out.join("requests.jsonl"), lines.join("\n") + "\n")?;
    Ok(())
}
