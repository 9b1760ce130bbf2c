//! Memory held by each engine's loaded inputs, on the benchmark workloads: the bytes live on
//! the heap after reading the policies (and compiling them) and the entities, counted by a
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

fn measure(w: &Workload) {
    let schema = thuja::input::schema_from_str("schema", &w.schema).expect("schema");
    let (policies, ours_policies) = held(|| {
        let policies = thuja::input::policies_from_str("policies", &w.policies).expect("policies");
        let vm = thuja::Authorizer::with_engine(thuja::Engine::Vm);
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
    println!(
        "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        w.name,
        mib(theirs_policies),
        mib(ours_policies),
        mib(theirs_entities),
        mib(ours_entities)
    );
    drop((policies, entities, cedar_policies, cedar_entities));
}

fn main() {
    println!(
        "| workload | cedar policies MiB | thuja compiled MiB | cedar entities MiB | thuja entities MiB |"
    );
    println!("|---|---|---|---|---|");
    measure(&tinytodo(4_000, 2_000, 40, 1, 1));
    measure(&abac(2_000, 3_000, 1, 2));
    for size in [1_000, 100_000] {
        measure(&rbac(size, 1, 3));
    }
}
