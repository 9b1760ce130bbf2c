//! The scope index against the reference interpreter: for every request, the index's candidates
//! must be exactly the active policies whose scope holds, as `thuja_interp::is_satisfied` decides
//! it for the policy with its `when`/`unless` conditions removed.
//!
//! Requests come from the conformance corpus (each test's own requests, and every combination of
//! the principals, actions and resources its requests and entities name) and from the benches'
//! multi-tenant RBAC workload with 10,000 policies. Skipped (with a message) when the corpus is
//! absent; the RBAC case always runs.

use serde_json::json;
use thuja::input;
use thuja_compiler::ast::{Policy, PolicySet};
use thuja_compiler::index::{RoaringBitmap, ScopeIndex};
use thuja_runtime::value::Record;
use thuja_runtime::{Entities, EntityUid, Request};

mod support;

/// The policies of `set`'s active policies, numbered as the index numbers them, without their
/// conditions: `is_satisfied` on one of these decides its scope alone.
fn scope_only(set: &PolicySet) -> Vec<Policy> {
    set.active()
        .map(|a| {
            let mut p = a.policy.clone();
            p.conditions.clear();
            p
        })
        .collect()
}

/// The numbers of the active policies whose scope holds, by the interpreter.
fn expected(
    set: &PolicySet,
    scopes: &[Policy],
    request: &Request,
    entities: &Entities,
) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    for ((n, active), scope) in set.active().enumerate().zip(scopes) {
        let active = thuja_compiler::ast::ActivePolicy {
            policy: scope,
            ..active
        };
        if matches!(
            thuja_interp::is_satisfied(&active, request, entities),
            Ok(true)
        ) {
            out.insert(u32::try_from(n).expect("fewer than 2^32 policies"));
        }
    }
    out
}

fn request(principal: &EntityUid, action: &EntityUid, resource: &EntityUid) -> Request {
    Request::new(
        principal.clone(),
        action.clone(),
        resource.clone(),
        Record::default(),
    )
}

/// Pushes `uid` unless it is there already or `list` holds `cap` uids.
fn push_unique(list: &mut Vec<EntityUid>, uid: &EntityUid, cap: usize) {
    if list.len() < cap && !list.contains(uid) {
        list.push(uid.clone());
    }
}

/// One corpus test, loaded: its policies, its entities, and the requests to check — its own
/// (with their contexts), then every combination of the principals, actions and resources that
/// its requests and entities name (at most 24 of each, with an empty context).
struct Loaded {
    name: String,
    set: PolicySet,
    entities: Entities,
    own: usize,
    requests: Vec<Request>,
}

fn load_corpus() -> Option<Vec<Loaded>> {
    let files = support::corpus()?;
    let tests = support::corpus_tests(&files);
    assert!(tests.len() > 1000, "the corpus holds thousands of tests");
    let loaded = tests
        .iter()
        .map(|(name, test)| {
            let file = |key: &str| support::named_file(&files, test, key);
            let schema = input::schema_from_str("schema", file("schema")).expect("schema");
            let set = input::policies_from_str("policies", file("policies")).expect("policies");
            let entities = input::entities_from_str("entities", file("entities"), Some(&schema))
                .expect("entities");
            let mut requests = Vec::new();
            let (mut principals, mut actions, mut resources) = (Vec::new(), Vec::new(), Vec::new());
            for r in test["requests"].as_array().into_iter().flatten() {
                let context = if r["context"].is_object() {
                    r["context"].clone()
                } else {
                    json!({})
                };
                let Ok(req) = input::request_from_json_values(
                    &r["principal"],
                    &r["action"],
                    &r["resource"],
                    &context,
                    thuja::input::RequestSchema::None,
                ) else {
                    continue;
                };
                push_unique(&mut principals, req.principal(), 24);
                push_unique(&mut actions, req.action(), 24);
                push_unique(&mut resources, req.resource(), 24);
                requests.push(req);
            }
            let own = requests.len();
            let mut uids: Vec<&EntityUid> = entities.iter().map(|e| e.uid()).collect();
            uids.sort();
            for uid in uids {
                if uid.is_action() {
                    push_unique(&mut actions, uid, 24);
                } else {
                    push_unique(&mut principals, uid, 24);
                    push_unique(&mut resources, uid, 24);
                }
            }
            for p in &principals {
                for a in &actions {
                    for r in &resources {
                        requests.push(request(p, a, r));
                    }
                }
            }
            Loaded {
                name: name.clone(),
                set,
                entities,
                own,
                requests,
            }
        })
        .collect();
    Some(loaded)
}

/// Checks every request of `tests` against the index of `set`; returns the requests checked, the
/// candidates and the scopes that did not hold, and pushes mismatches.
fn check_all(
    set: &PolicySet,
    tests: &[&Loaded],
    mismatches: &mut Vec<String>,
) -> (usize, u64, u64) {
    let index = ScopeIndex::build(set);
    let scopes = scope_only(set);
    assert_eq!(index.len(), scopes.len(), "one number per active policy");
    let (mut checked, mut candidates, mut excluded) = (0usize, 0u64, 0u64);
    for test in tests {
        for req in &test.requests {
            let got = index.candidates(req, &test.entities);
            let want = expected(set, &scopes, req, &test.entities);
            checked += 1;
            candidates += got.len();
            excluded += index.len() as u64 - got.len();
            if got != want {
                mismatches.push(format!(
                    "{}: {} {} {}: index {got:?}, interpreter {want:?}",
                    test.name,
                    req.principal(),
                    req.action(),
                    req.resource()
                ));
            }
        }
    }
    (checked, candidates, excluded)
}

fn assert_no_mismatches(mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn candidates_are_exactly_the_policies_whose_scope_holds_on_the_corpus() {
    let Some(tests) = load_corpus() else {
        return;
    };
    let mut mismatches = Vec::new();
    let (mut checked, mut candidates, mut excluded) = (0, 0, 0);
    for test in &tests {
        let (c, k, e) = check_all(&test.set, &[test], &mut mismatches);
        checked += c;
        candidates += k;
        excluded += e;
    }
    let own: usize = tests.iter().map(|t| t.own).sum();
    eprintln!(
        "{} tests, {checked} requests ({own} the corpus's own): {candidates} candidates, {excluded} policies excluded by scope",
        tests.len()
    );
    assert!(
        own > 10_000,
        "the corpus half holds tens of thousands of requests"
    );
    assert!(excluded > 10_000, "many scopes do not hold");
    assert_no_mismatches(&mismatches);
}

/// The policies of 32 corpus tests at a time in one set (renamed apart), each test's requests
/// checked against the whole set with that test's entities: an index of many keys at once.
#[test]
fn candidates_are_exact_on_corpus_policies_indexed_together() {
    let Some(tests) = load_corpus() else {
        return;
    };
    let mut mismatches = Vec::new();
    let (mut checked, mut candidates, mut policies) = (0usize, 0u64, 0u64);
    for (g, group) in tests.chunks(32).enumerate() {
        let mut set = PolicySet::new();
        for (k, test) in group.iter().enumerate() {
            for p in test.set.policies() {
                let mut p = p.clone();
                p.id = format!("g{g}t{k}-{}", p.id).into();
                set.add(p).expect("renamed apart");
            }
        }
        let group: Vec<&Loaded> = group.iter().collect();
        let (c, k, _) = check_all(&set, &group, &mut mismatches);
        checked += c;
        candidates += k;
        policies += c as u64 * set.active().count() as u64;
    }
    eprintln!(
        "grouped: {checked} requests, {:.2} candidates of {:.2} policies per request",
        candidates as f64 / checked as f64,
        policies as f64 / checked as f64
    );
    assert_no_mismatches(&mismatches);
}

#[test]
fn candidates_are_exact_and_few_on_a_10_000_policy_rbac_store() {
    let workload = thuja_benches::rbac(10_000, 200, 7);
    let schema = input::schema_from_str("rbac.cedarschema", &workload.schema).expect("schema");
    let set = input::policies_from_str("rbac.cedar", &workload.policies).expect("policies");
    let entities =
        input::entities_from_str("rbac.entities.json", &workload.entities, Some(&schema))
            .expect("entities");
    let index = ScopeIndex::build(&set);
    assert_eq!(index.len(), 10_000);
    let scopes = scope_only(&set);
    let mut total = 0u64;
    let mut max = 0u64;
    for r in &workload.requests {
        let req = input::request_from_json_values(
            &r.principal,
            &r.action,
            &r.resource,
            &r.context,
            thuja::input::RequestSchema::Validated(&schema),
        )
        .expect("a valid request");
        let got = index.candidates(&req, &entities);
        assert_eq!(
            got,
            expected(&set, &scopes, &req, &entities),
            "{} {} {}",
            req.principal(),
            req.action(),
            req.resource()
        );
        total += got.len();
        max = max.max(got.len());
    }
    let average = total as f64 / workload.requests.len() as f64;
    eprintln!(
        "rbac: {} requests over {} policies, {average:.2} candidates per request on average, {max} at most",
        workload.requests.len(),
        index.len()
    );
    // A request is decided by its own tenant's ten policies, of which its role's are candidates.
    assert!(max <= 10, "at most one tenant's policies are candidates");
}
