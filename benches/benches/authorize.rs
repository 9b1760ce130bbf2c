//! Time per request, Thuja's tiers (interpreter, VM, JIT) beside `cedar-policy`, on the generated workloads (see the
//! crate docs): `cargo bench -p thuja-benches`. Each group is one workload; its functions are the
//! engines, timed on the same parsed inputs, one request per iteration (cycling through the
//! workload's requests). Requests are read (and validated) before timing, by every engine. The
//! `load` group times reading the policy and entity files.

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use thuja_benches::{Workload, abac, rbac, tinytodo};

/// A workload read by Thuja.
struct ThujaInputs {
    schema: thuja::Schema,
    policies: thuja::PolicySet,
    entities: thuja::Entities,
    requests: Vec<thuja::Request>,
}

/// The same workload read by `cedar-policy`.
struct CedarInputs {
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    requests: Vec<cedar_policy::Request>,
}

fn thuja_inputs(w: &Workload) -> ThujaInputs {
    use thuja::input;
    let schema = input::schema_from_str("schema", &w.schema).expect("schema");
    let policies = input::policies_from_str("policies", &w.policies).expect("policies");
    let entities =
        input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    let requests = w
        .requests
        .iter()
        .map(|r| {
            input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                thuja::input::RequestSchema::Validated(&schema),
            )
            .expect("request")
        })
        .collect();
    ThujaInputs {
        schema,
        policies,
        entities,
        requests,
    }
}

fn cedar_inputs(w: &Workload) -> CedarInputs {
    use cedar_policy::{Context, Entities, EntityUid, PolicySet, Request, Schema};
    let (schema, _) = Schema::from_cedarschema_str(&w.schema).expect("cedar schema");
    let policies = PolicySet::from_str(&w.policies).expect("cedar policies");
    let entities = Entities::from_json_str(&w.entities, Some(&schema)).expect("cedar entities");
    let uid = |j: &serde_json::Value| EntityUid::from_json(j.clone()).expect("uid");
    let requests = w
        .requests
        .iter()
        .map(|r| {
            let action = uid(&r.action);
            let context = Context::from_json_value(r.context.clone(), Some((&schema, &action)))
                .expect("context");
            Request::new(
                uid(&r.principal),
                action,
                uid(&r.resource),
                context,
                Some(&schema),
            )
            .expect("request")
        })
        .collect();
    CedarInputs {
        policies,
        entities,
        requests,
    }
}

fn bench_workload(c: &mut Criterion, w: &Workload, slow: bool) {
    let ours = thuja_inputs(w);
    let theirs = cedar_inputs(w);
    let mut group = c.benchmark_group(&w.name);
    if slow {
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500));
    }
    let cedar = cedar_policy::Authorizer::new();
    group.bench_function("cedar", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &theirs.requests[i % theirs.requests.len()];
            i += 1;
            black_box(cedar.is_authorized(r, &theirs.policies, &theirs.entities))
        })
    });
    let interp = thuja::Authorizer::with_engine(thuja::Evaluator::Interp);
    group.bench_function("thuja-interp", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &ours.requests[i % ours.requests.len()];
            i += 1;
            black_box(interp.is_authorized(r, &ours.policies, &ours.entities))
        })
    });
    // As `thuja authorize --requests` runs with a schema: requests validated against it when
    // read, the policies compiled specialised on their types and bound to the entities.
    let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
    let compiled = vm.compile_for_schema(&ours.policies, &ours.schema);
    let bound = vm.bind(&compiled, &ours.entities);
    group.bench_function("thuja-vm", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &ours.requests[i % ours.requests.len()];
            i += 1;
            black_box(vm.is_authorized_bound(r, &bound))
        })
    });
    // The same without binding: the index walks the principal's and resource's ancestors.
    group.bench_function("thuja-vm-unbound", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &ours.requests[i % ours.requests.len()];
            i += 1;
            black_box(vm.is_authorized_compiled(r, &compiled, &ours.entities))
        })
    });
    // The same program with its policies as native code, bound.
    let jit = thuja::Authorizer::with_engine(thuja::Evaluator::Jit);
    let native = jit.compile_for_schema(&ours.policies, &ours.schema);
    let bound = jit.bind(&native, &ours.entities);
    group.bench_function("thuja-jit", |b| {
        let mut i = 0;
        b.iter(|| {
            let r = &ours.requests[i % ours.requests.len()];
            i += 1;
            black_box(jit.is_authorized_bound(r, &bound))
        })
    });
    group.finish();
}

fn requests(c: &mut Criterion) {
    bench_workload(c, &tinytodo(4_000, 2_000, 40, 1_000, 1), false);
    bench_workload(c, &abac(2_000, 3_000, 1_000, 2), false);
    for size in [10, 100, 1_000, 10_000, 100_000] {
        bench_workload(c, &rbac(size, 1_000, 3), size >= 10_000);
    }
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    let store = rbac(10_000, 1, 4);
    group.bench_function("policies_rbac_10000/cedar", |b| {
        b.iter(|| black_box(cedar_policy::PolicySet::from_str(&store.policies).expect("policies")))
    });
    group.bench_function("policies_rbac_10000/thuja", |b| {
        b.iter(|| {
            black_box(thuja::input::policies_from_str("p", &store.policies).expect("policies"))
        })
    });
    // Parsing and compiling (scope index and bytecode; without a schema) together.
    group.bench_function("policies_rbac_10000/thuja-compile", |b| {
        let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
        b.iter(|| {
            let policies = thuja::input::policies_from_str("p", &store.policies).expect("policies");
            black_box(vm.compile(&policies))
        })
    });
    // Binding the compiled policies to the store's entities (10,000 of them).
    group.bench_function("bind_rbac_10000/thuja", |b| {
        let vm = thuja::Authorizer::with_engine(thuja::Evaluator::Vm);
        let schema = thuja::input::schema_from_str("s", &store.schema).expect("schema");
        let policies = thuja::input::policies_from_str("p", &store.policies).expect("policies");
        let entities =
            thuja::input::entities_from_str("e", &store.entities, Some(&schema)).expect("entities");
        let compiled = vm.compile(&policies);
        b.iter(|| black_box(vm.bind(&compiled, &entities)))
    });
    // Parsing and compiling, and native code for every policy.
    group.bench_function("policies_rbac_10000/thuja-jit-compile", |b| {
        let jit = thuja::Authorizer::with_engine(thuja::Evaluator::Jit);
        b.iter(|| {
            let policies = thuja::input::policies_from_str("p", &store.policies).expect("policies");
            black_box(jit.compile(&policies))
        })
    });
    // Compiling the ABAC set for its schema, to bytecode and then also to native code: the
    // difference is the JIT's compile time, which the requests it speeds up must pay back.
    let attrs = abac(2_000, 3_000, 1, 2);
    let attrs_schema = thuja::input::schema_from_str("s", &attrs.schema).expect("schema");
    let attrs_policies = thuja::input::policies_from_str("p", &attrs.policies).expect("policies");
    for engine in [thuja::Evaluator::Vm, thuja::Evaluator::Jit] {
        let authorizer = thuja::Authorizer::with_engine(engine);
        group.bench_function(format!("compile_abac/thuja-{engine}"), |b| {
            b.iter(|| black_box(authorizer.compile_for_schema(&attrs_policies, &attrs_schema)))
        });
    }
    let app = tinytodo(4_000, 2_000, 40, 1, 5);
    let (cedar_schema, _) =
        cedar_policy::Schema::from_cedarschema_str(&app.schema).expect("schema");
    let schema = thuja::input::schema_from_str("s", &app.schema).expect("schema");
    group.bench_function("entities_tinytodo/cedar", |b| {
        b.iter(|| {
            black_box(
                cedar_policy::Entities::from_json_str(&app.entities, Some(&cedar_schema))
                    .expect("entities"),
            )
        })
    });
    group.bench_function("entities_tinytodo/thuja", |b| {
        b.iter(|| {
            black_box(
                thuja::input::entities_from_str("e", &app.entities, Some(&schema))
                    .expect("entities"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, requests, load);
criterion_main!(benches);
