//! The owned engine against the lower-level bound authorizer it replaces, on the same inputs in
//! one run: `cargo bench -p thuja-benches --bench engine`. For each workload (TinyTodo-style,
//! ABAC, RBAC at 10 and 100,000 policies) and each compiled evaluator (VM, JIT):
//! `bound` is `Authorizer::is_authorized_bound` on policies compiled for the schema and bound
//! to the entities; `engine` is `Engine::decide` on an engine built from the same inputs (its
//! requests validated against the schema when read, as batch mode reads them, so `decide`
//! does not check them again); `live` is `LiveEngine::decide`. One request per iteration,
//! cycling through the workload's requests.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use thuja::{Authorizer, Engine, Evaluator, LiveEngine, Request, input};
use thuja_benches::{Workload, abac, rbac, tinytodo};

fn requests(w: &Workload, schema: &thuja::Schema) -> Vec<Request> {
    w.requests
        .iter()
        .map(|r| {
            input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                thuja::input::RequestSchema::Validated(schema),
            )
            .expect("request")
        })
        .collect()
}

/// One request per call, cycling through `requests`.
fn cycle<'a>(requests: &'a [Request], decide: impl Fn(&Request) + 'a) -> impl FnMut() + 'a {
    let mut i = 0;
    move || {
        decide(&requests[i % requests.len()]);
        i += 1;
    }
}

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let schema = input::schema_from_str("schema", &w.schema).expect("schema");
    let policies = input::policies_from_str("policies", &w.policies).expect("policies");
    let entities =
        input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    let requests = requests(w, &schema);
    let mut group = c.benchmark_group(format!("engine/{}", w.name));
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for evaluator in [Evaluator::Vm, Evaluator::Jit] {
        let authorizer = Authorizer::with_engine(evaluator);
        let compiled = authorizer.compile_for_schema(&policies, &schema);
        let bound = authorizer.bind(&compiled, &entities);
        group.bench_function(format!("{evaluator}-bound"), |b| {
            let decide = |r: &Request| {
                black_box(authorizer.is_authorized_bound(r, &bound));
            };
            b.iter(cycle(&requests, decide))
        });
        let engine = Engine::builder()
            .policies(policies.clone())
            .schema(schema.clone())
            .entities(entities.clone())
            .evaluator(evaluator)
            .build()
            .expect("engine");
        // Requests validated against the engine's own schema (a clone keeps the stamp).
        group.bench_function(format!("{evaluator}-engine"), |b| {
            let decide = |r: &Request| {
                black_box(engine.decide(r).expect("valid"));
            };
            b.iter(cycle(&requests, decide))
        });
        let live = LiveEngine::new(engine.clone());
        group.bench_function(format!("{evaluator}-live"), |b| {
            let decide = |r: &Request| {
                black_box(live.decide(r).expect("valid"));
            };
            b.iter(cycle(&requests, decide))
        });
    }
    group.finish();
}

fn engine(c: &mut Criterion) {
    // The same workloads as the `authorize` suite.
    bench_workload(c, &tinytodo(4_000, 2_000, 40, 1_000, 1));
    bench_workload(c, &abac(2_000, 3_000, 1_000, 2));
    bench_workload(c, &rbac(10, 1_000, 3));
    bench_workload(c, &rbac(100_000, 1_000, 3));
}

criterion_group!(benches, engine);
criterion_main!(benches);
