//! The VM against the reference interpreter: full responses — decision, reasons, and every
//! error's policy id, error value and span — must be equal. On every corpus-dev test's own
//! requests, on the recombined requests `corpus_differential` also uses (other requests'
//! principals and resources, entities as principal and resource), and on the benchmark
//! workloads. Skipped (with a message) when the corpus is absent.
//!
//! The VM runs twice: on code compiled from the policies alone, and on code specialised on the
//! validator's types against the test's schema (every request here is validated against it).
//! The JIT runs on both programs too (with Cranelift's verifier on, as in every debug build).
//! Every engine runs both as compiled and bound to the test's entities.

mod support;

use thuja::{Authorizer, Evaluator, Request, input};
use thuja_benches::{Workload, abac, rbac, tinytodo};

/// How much of the compiled code was specialised on types.
#[derive(Debug, Default)]
struct Specialised {
    policies: usize,
    typed_policies: usize,
    instructions: usize,
    typed_instructions: usize,
    /// Policies the JIT left to the VM (of untyped and typed programs both).
    jit_declined: usize,
}

/// Compares the engines on every request: appends the requests where they differ, described,
/// to `disagreements`; returns how many responses had errors.
fn compare(
    what: &str,
    policies: &thuja::PolicySet,
    schema: &thuja::Schema,
    entities: &thuja::Entities,
    requests: &[Request],
    disagreements: &mut Vec<String>,
    specialised: &mut Specialised,
) -> usize {
    let interp = Authorizer::with_engine(Evaluator::Interp);
    let vm = Authorizer::with_engine(Evaluator::Vm);
    let jit = Authorizer::with_engine(Evaluator::Jit);
    let compiled = vm.compile(policies);
    let typed = vm.compile_for_schema(policies, schema);
    specialised.policies += compiled.program().policies.len();
    specialised.typed_policies += typed.program().policies.iter().filter(|p| p.typed).count();
    specialised.instructions += compiled.program().code.len();
    specialised.typed_instructions += typed.program().code.len();
    for code in [&compiled, &typed] {
        let native = code.native().map_or(0, thuja::NativeCode::native_count);
        specialised.jit_declined += code.program().policies.len() - native;
    }
    let runs = [
        ("vm", &vm, &compiled),
        ("typed vm", &vm, &typed),
        ("jit", &jit, &compiled),
        ("typed jit", &jit, &typed),
    ];
    // Each engine runs as compiled, and bound to the entities (its index joined with them).
    let bound: Vec<_> = runs
        .iter()
        .map(|(_, a, code)| a.bind(code, entities))
        .collect();
    let mut erroring = 0;
    for request in requests {
        let expected = interp.is_authorized(request, policies, entities);
        erroring += usize::from(!expected.errors.is_empty());
        for ((engine, authorizer, code), bound) in runs.iter().zip(&bound) {
            let bound = authorizer.is_authorized_bound(request, bound);
            let compiled = authorizer.is_authorized_compiled(request, code, entities);
            for (how, actual) in [("", compiled), (" bound", bound)] {
                if expected != actual {
                    disagreements.push(format!(
                        "{what}: {} {} {}:\n  interp    {expected:?}\n  {engine}{how} {actual:?}",
                        request.principal(),
                        request.action(),
                        request.resource()
                    ));
                }
            }
        }
    }
    erroring
}

fn report(compared: usize, disagreements: &[String]) {
    eprintln!("{compared} requests compared");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn vm_agrees_with_the_interpreter_on_the_corpus() {
    let Some(files) = support::corpus() else {
        return;
    };
    let tests = support::corpus_tests(&files);
    assert!(tests.len() > 1000, "the corpus holds thousands of tests");
    let (mut compared, mut erroring) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    let mut specialised = Specialised::default();
    for (name, test) in &tests {
        let file = |key: &str| support::named_file(&files, test, key);
        let schema = input::schema_from_str("schema", file("schema")).expect("schema");
        let policies = input::policies_from_str("policies", file("policies")).expect("policies");
        let entities = input::entities_from_str("entities", file("entities"), Some(&schema))
            .expect("entities");
        let mut cases = support::own_cases(test);
        cases.extend(support::cases_of(test, file("entities")));
        let requests: Vec<Request> = cases
            .iter()
            .filter_map(|c| {
                input::request_from_json_values(
                    &c.principal,
                    &c.action,
                    &c.resource,
                    &c.context,
                    thuja::input::RequestSchema::Validated(&schema),
                )
                .ok()
            })
            .collect();
        compared += requests.len();
        erroring += compare(
            name,
            &policies,
            &schema,
            &entities,
            &requests,
            &mut disagreements,
            &mut specialised,
        );
    }
    eprintln!("{erroring} of them with evaluation errors; {specialised:?}");
    // Most corpus policies validate, and typing removes instructions from their code.
    assert!(specialised.typed_policies * 2 > specialised.policies);
    assert!(specialised.typed_instructions < specialised.instructions);
    // The JIT compiles every policy of the corpus (none is too big).
    assert_eq!(specialised.jit_declined, 0);
    assert!(compared > 30_000, "the corpus and its recombinations");
    assert!(erroring > 100, "errors must be exercised too");
    report(compared, &disagreements);
}

fn workload_disagreements(w: &Workload) -> (usize, Vec<String>) {
    let schema = input::schema_from_str("schema", &w.schema).expect("schema");
    let policies = input::policies_from_str("policies", &w.policies).expect("policies");
    let entities =
        input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    let requests: Vec<Request> = w
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
            .expect("requests are valid for the schema")
        })
        .collect();
    let mut disagreements = Vec::new();
    let mut specialised = Specialised::default();
    compare(
        &w.name,
        &policies,
        &schema,
        &entities,
        &requests,
        &mut disagreements,
        &mut specialised,
    );
    assert_eq!(
        specialised.typed_policies, specialised.policies,
        "{}: every workload policy validates",
        w.name
    );
    (requests.len(), disagreements)
}

#[test]
fn vm_agrees_with_the_interpreter_on_the_bench_workloads() {
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for w in [
        tinytodo(400, 200, 10, 300, 1),
        abac(300, 300, 300, 2),
        rbac(50, 300, 3),
        rbac(2_000, 300, 4),
    ] {
        let (n, d) = workload_disagreements(&w);
        compared += n;
        disagreements.extend(d);
    }
    report(compared, &disagreements);
}
