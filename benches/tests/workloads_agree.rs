//! Every generated workload is valid for both engines, decides its requests both ways (some
//! allow, some deny), and Thuja's decisions, reasons and erroring policies equal `cedar-policy`'s
//! on each of them.

use std::collections::BTreeSet;
use std::str::FromStr;

use thuja_benches::{Workload, abac, rbac, tinytodo};

type Outcome = (bool, BTreeSet<String>, BTreeSet<String>);

fn thuja_outcomes(w: &Workload) -> Vec<Outcome> {
    use thuja::input;
    let schema = input::schema_from_str("schema", &w.schema).expect("schema");
    let policies = input::policies_from_str("policies", &w.policies).expect("policies");
    // The default engine, with the policies compiled once.
    let authorizer = thuja::Authorizer::new();
    let policies = authorizer.compile(&policies);
    let entities =
        input::entities_from_str("entities", &w.entities, Some(&schema)).expect("entities");
    w.requests
        .iter()
        .map(|r| {
            let request = input::request_from_json_values(
                &r.principal,
                &r.action,
                &r.resource,
                &r.context,
                thuja::input::RequestSchema::Validated(&schema),
            )
            .expect("requests are valid for the schema");
            let response = authorizer.is_authorized_compiled(&request, &policies, &entities);
            (
                response.decision == thuja::Decision::Allow,
                response.reasons.iter().map(|s| s.to_string()).collect(),
                response
                    .errors
                    .iter()
                    .map(|e| e.policy_id.to_string())
                    .collect(),
            )
        })
        .collect()
}

fn cedar_outcomes(w: &Workload) -> Vec<Outcome> {
    use cedar_policy::{
        AuthorizationError, Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request,
        Schema,
    };
    let (schema, _) = Schema::from_cedarschema_str(&w.schema).expect("cedar schema");
    let policies = PolicySet::from_str(&w.policies).expect("cedar policies");
    let entities = Entities::from_json_str(&w.entities, Some(&schema)).expect("cedar entities");
    let uid = |j: &serde_json::Value| EntityUid::from_json(j.clone()).expect("uid");
    w.requests
        .iter()
        .map(|r| {
            let action = uid(&r.action);
            let context = Context::from_json_value(r.context.clone(), Some((&schema, &action)))
                .expect("context");
            let request = Request::new(
                uid(&r.principal),
                action,
                uid(&r.resource),
                context,
                Some(&schema),
            )
            .expect("cedar request");
            let response = Authorizer::new().is_authorized(&request, &policies, &entities);
            (
                response.decision() == Decision::Allow,
                response
                    .diagnostics()
                    .reason()
                    .map(|p| p.to_string())
                    .collect(),
                response
                    .diagnostics()
                    .errors()
                    .map(|e| match e {
                        AuthorizationError::PolicyEvaluationError(e) => e.policy_id().to_string(),
                    })
                    .collect(),
            )
        })
        .collect()
}

fn check(w: &Workload) {
    let ours = thuja_outcomes(w);
    let theirs = cedar_outcomes(w);
    let allowed = theirs.iter().filter(|o| o.0).count();
    assert!(
        allowed > 0 && allowed < theirs.len(),
        "{}: {allowed} of {} allowed",
        w.name,
        theirs.len()
    );
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{} request {i}: {:?}", w.name, w.requests[i]);
    }
}

#[test]
fn tinytodo_agrees() {
    check(&tinytodo(400, 200, 40, 500, 11));
}

#[test]
fn abac_agrees() {
    check(&abac(300, 400, 500, 12));
}

#[test]
fn rbac_agrees() {
    for size in [10, 1_000] {
        check(&rbac(size, 300, 13));
    }
}
