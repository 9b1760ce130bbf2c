//! Beyond the corpus's own requests: for every corpus-dev test, new requests are made by
//! recombining its requests (another request's principal or resource) and by taking principals
//! from its entities file, and each is answered by Thuja and by `cedar-policy` on the same files.
//! Both must reject the same requests as invalid for the schema, and otherwise give the same
//! decision, reasons and erroring policies. Skipped (with a message) when the corpus is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde_json::Value as Json;

mod support;

use support::{Case, cases_of};

/// What a request came to: `Err` when the request is invalid, else decision, reasons, errors.
type Outcome = Result<(bool, BTreeSet<String>, BTreeSet<String>), ()>;

fn thuja_outcomes(files: &BTreeMap<String, String>, test: &Json, cases: &[Case]) -> Vec<Outcome> {
    use thuja::input;
    let file = |key: &str| support::named_file(files, test, key);
    let schema = input::schema_from_str("schema", file("schema")).expect("schema");
    let policies = input::policies_from_str("policies", file("policies")).expect("policies");
    // The default engine, with the policies compiled once.
    let authorizer = thuja::Authorizer::new();
    let policies = authorizer.compile(&policies);
    let entities =
        input::entities_from_str("entities", file("entities"), Some(&schema)).expect("entities");
    cases
        .iter()
        .map(|c| {
            let request = input::request_from_json_values(
                &c.principal,
                &c.action,
                &c.resource,
                &c.context,
                thuja::input::RequestSchema::Validated(&schema),
            )
            .map_err(|_| ())?;
            let r = authorizer.is_authorized_compiled(&request, &policies, &entities);
            Ok((
                r.decision == thuja::Decision::Allow,
                r.reasons.iter().map(|s| s.to_string()).collect(),
                r.errors.iter().map(|e| e.policy_id.to_string()).collect(),
            ))
        })
        .collect()
}

fn cedar_outcomes(files: &BTreeMap<String, String>, test: &Json, cases: &[Case]) -> Vec<Outcome> {
    use cedar_policy::{
        Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema,
    };
    let file = |key: &str| support::named_file(files, test, key);
    let (schema, _) = Schema::from_cedarschema_str(file("schema")).expect("cedar schema");
    let policies = PolicySet::from_str(file("policies")).expect("cedar policies");
    let entities =
        Entities::from_json_str(file("entities"), Some(&schema)).expect("cedar entities");
    cases
        .iter()
        .map(|c| {
            let uid = |j: &Json| EntityUid::from_json(j.clone()).map_err(|_| ());
            let action = uid(&c.action)?;
            let context = Context::from_json_value(c.context.clone(), Some((&schema, &action)))
                .map_err(|_| ())?;
            let request = Request::new(
                uid(&c.principal)?,
                action,
                uid(&c.resource)?,
                context,
                Some(&schema),
            )
            .map_err(|_| ())?;
            let r = Authorizer::new().is_authorized(&request, &policies, &entities);
            Ok((
                r.decision() == Decision::Allow,
                r.diagnostics().reason().map(|p| p.to_string()).collect(),
                r.diagnostics()
                    .errors()
                    .map(|e| match e {
                        cedar_policy::AuthorizationError::PolicyEvaluationError(e) => {
                            e.policy_id().to_string()
                        }
                    })
                    .collect(),
            ))
        })
        .collect()
}

#[test]
fn recombined_corpus_requests_agree_with_cedar() {
    let Some(files) = support::corpus() else {
        return;
    };
    let tests = support::corpus_tests(&files);
    assert!(tests.len() > 1000, "the corpus holds thousands of tests");
    let (mut compared, mut decided) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for (_, test) in &tests {
        let entities_text = support::named_file(&files, test, "entities");
        let cases = cases_of(test, entities_text);
        let ours = thuja_outcomes(&files, test, &cases);
        let theirs = cedar_outcomes(&files, test, &cases);
        for ((case, a), b) in cases.iter().zip(&ours).zip(&theirs) {
            compared += 1;
            decided += usize::from(b.is_ok());
            if a != b {
                disagreements.push(format!(
                    "{} principal {} action {} resource {}: thuja {a:?}, cedar {b:?}",
                    test["policies"], case.principal, case.action, case.resource
                ));
            }
        }
    }
    eprintln!("{compared} requests compared, {decided} of them valid");
    assert!(
        decided * 4 >= compared,
        "most recombined requests should be valid"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
