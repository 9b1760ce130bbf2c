//! Memory held by each engine's loaded inputs, on the benchmark workloads — the bytes live on
//! the heap after reading the policies (and compiling them) and the entities — and the heap
//! allocations each makes per request (answering the workload's requests), counted by a
//! global allocator that counts allocations (`stats_alloc`). `cargo run --release -p thuja-benches --example memory`.

use std::alloc::System;
use std::str::FromStr;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use thuja_benches::{Workload, abac, rbac, tinytodo};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live bytes added by building `f`'s result (kept alive until measured).
fn held<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let value = f();
    let stats = region.change();
    let live = stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
        + stats.bytes_reallocated as i128;
    (value, usize::try_from(live).unwrap_or(0))
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The workload's memory row and its allocations-per-request row.
fn measure(w: &Workload) -> (String, String) {
    let schema = thuja::input::schema_from_str("schema", &w.schema).expect("schema");
    let (policies, ours_policies) = held(|| {
        let policies = thuja::input::policies_from_str("policies", &w.policies).expect("policies");
        let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
        vm.compile_for_schema(&policies, &schema)
    });
    let (entities, ours_entities) = held(|| {
        thuja::input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities")
    });
    let (cedar_schema, _) =
        cedar_policy::Schema::from_cedarschema_str(&w.schema).expect("cedar schema");
    let (cedar_policies, theirs_policies) =
        held(|| cedar_policy::PolicySet::from_str(&w.policies).expect("cedar policies"));
    let (cedar_entities, theirs_entities) = held(|| {
        cedar_policy::Entities::from_json_str(&w.entities, Some(&cedar_schema))
            .expect("cedar entities")
    });
    let memory = format!(
        "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        w.name,
        mib(theirs_policies),
        mib(ours_policies),
        mib(theirs_entities),
        mib(ours_entities)
    );
    // Heap allocations per request: the VM's, and cedar-policy's, over the workload's requests.
    let requests: Vec<_> = w
        .requests
        .iter()
        .map(|r| {
            thuja::input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                thuja::input::RequestSchema::Validated(&schema),
            )
            .expect("request")
        })
        .collect();
    let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
    let region = Region::new(GLOBAL);
    for r in &requests {
        std::hint::black_box(vm.is_authorized_compiled(r, &policies, &entities));
    }
    let ours = region.change().allocations as f64 / requests.len() as f64;
    let uid = |j: &serde_json::Value| cedar_policy::EntityUid::from_json(j.clone()).expect("uid");
    let cedar_requests: Vec<_> = w
        .requests
        .iter()
        .map(|r| {
            let action = uid(&r.action);
            let context = cedar_policy::Context::from_json_value(
                r.context.clone(),
                Some((&cedar_schema, &action)),
            )
            .expect("context");
            cedar_policy::Request::new(uid(&r.principal), action, uid(&r.resource), context, None)
                .expect("request")
        })
        .collect();
    let cedar = cedar_policy::Authorizer::new();
    let region = Region::new(GLOBAL);
    for r in &cedar_requests {
        std::hint::black_box(cedar.is_authorized(r, &cedar_policies, &cedar_entities));
    }
    let theirs = region.change().allocations as f64 / cedar_requests.len() as f64;
    drop((policies, entities, cedar_policies, cedar_entities));
    (memory, format!("| {} | {theirs:.1} | {ours:.1} |", w.name))
}

fn main() {
    let mut rows = vec![measure(&tinytodo(4_000, 2_000, 40, 1_000, 1))];
    rows.push(measure(&abac(2_000, 3_000, 1_000, 2)));
    for size in [1_000, 100_000] {
        rows.push(measure(&rbac(size, 1_000, 3)));
    }
    println!(
        "| workload | cedar policies MiB | thuja compiled MiB | cedar entities MiB | thuja entities MiB |"
    );
    println!("|---|---|---|---|---|");
    for (memory, _) in &rows {
        println!("{memory}");
    }
    println!();
    println!("| workload | cedar allocations per request | thuja vm allocations per request |");
    println!("|---|---|---|");
    for (_, allocations) in &rows {
        println!("{allocations}");
    }
}
