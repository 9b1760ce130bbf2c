//! Runs one workload's requests through the VM in a loop, for a profiler:
//! `cargo run --release -p thuja-benches --example profile_vm -- NAME ITERATIONS`, NAME as
//! [`thuja_benches::by_name`] takes it (`tinytodo`, `abac`, `rbac-N`, `saas-N`, `sharing-N`).
//! It cycles through 1,000 requests (the warm cycle of the criterion suite); `STREAM=1` makes
//! as many distinct requests as iterations, each decided once (stream mode).
//! `ENGINE=jit` runs the JIT instead; `UNTYPED=1` compiles without the schema's types;
//! `UNBOUND=1` decides without binding the policies to the entities ([`Authorizer::bind`]);
//! `HOT=N` cycles through the first N requests only (a working set that stays in cache).

use std::time::Instant;

use thuja::{Authorizer, Evaluator, input};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("tinytodo", String::as_str);
    let iterations: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let stream = std::env::var_os("STREAM").is_some();
    let seed = match name {
        "tinytodo" => 1,
        "abac" => 2,
        _ => 3,
    };
    let w = thuja_benches::by_name(name, if stream { iterations } else { 1_000 }, seed)
        .expect("a workload name");
    let schema = input::schema_from_str("schema", &w.schema).expect("schema");
    let policies = input::policies_from_str("policies", &w.policies).expect("policies");
    let entities =
        input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    let requests: Vec<_> = w
        .requests
        .iter()
        .map(|r| {
            input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                input::RequestSchema::Validated(&schema),
            )
            .expect("request")
        })
        .collect();
    let engine = match std::env::var("ENGINE").as_deref() {
        Ok("jit") => Evaluator::Jit,
        _ => Evaluator::Vm,
    };
    let vm = Authorizer::with_engine(engine);
    let compiled = if std::env::var_os("UNTYPED").is_some() {
        vm.compile(&policies)
    } else {
        vm.compile_for_schema(&policies, &schema)
    };
    let bound = vm.bind(&compiled, &entities);
    let unbound = std::env::var_os("UNBOUND").is_some();
    let hot = std::env::var("HOT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(requests.len());
    let started = Instant::now();
    let mut allowed = 0usize;
    for i in 0..iterations {
        let r = &requests[i % hot];
        let response = match unbound {
            true => vm.is_authorized_compiled(r, &compiled, &entities),
            false => vm.is_authorized_bound(r, &bound),
        };
        allowed += usize::from(response.decision == thuja::Decision::Allow);
    }
    let ns = started.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{name} ({engine}): {ns:.0} ns/request, {allowed} allowed of {iterations}");
}
