//! Thuja's partial evaluation and queries against cedar-policy 4.14's experimental type-aware
//! partial evaluation (the `tpe` feature: `PolicySet::tpe`, `query_resource`,
//! `query_principal`), on every corpus test whose policies Cedar's `tpe` accepts (it needs
//! policies valid for the schema), each request with its resource and then its principal
//! unknown:
//!
//! - where both decide, they decide alike (each is sound, so they must);
//! - both residual sets decide the completed request as the full policies do;
//! - resource and principal queries list the same entities.
//!
//! How often only one of the two decides is printed, not asserted: Cedar's `tpe` uses the
//! schema's types to decide more (README, "Partial evaluation").

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use cedar_policy as cedar;
use serde_json::Value as Json;
use thuja::Evaluator;
use thuja::partial::{PartialRequest, PartialUid};

struct Cedar {
    schema: cedar::Schema,
    policies: cedar::PolicySet,
    entities: cedar::Entities,
    partial_entities: cedar::PartialEntities,
}

fn cedar_inputs(files: &BTreeMap<String, String>, test: &Json) -> Option<Cedar> {
    let file = |key: &str| support::named_file(files, test, key);
    let (schema, _) = cedar::Schema::from_cedarschema_str(file("schema")).ok()?;
    let policies = cedar::PolicySet::from_str(file("policies")).ok()?;
    let entities = cedar::Entities::from_json_str(file("entities"), Some(&schema)).ok()?;
    let partial_entities = cedar::PartialEntities::from_concrete(entities.clone(), &schema).ok()?;
    Some(Cedar {
        schema,
        policies,
        entities,
        partial_entities,
    })
}

fn decision(d: thuja::Decision) -> cedar::Decision {
    match d {
        thuja::Decision::Allow => cedar::Decision::Allow,
        thuja::Decision::Deny => cedar::Decision::Deny,
    }
}

#[derive(Debug, Default)]
struct Tally {
    partial_requests: usize,
    both_decide: usize,
    only_thuja_decides: usize,
    only_cedar_decides: usize,
    queries: usize,
    listed: usize,
}

#[test]
fn partial_evaluation_and_queries_agree_with_cedar_tpe() {
    let Some(files) = support::corpus() else {
        return;
    };
    let tests = support::corpus_tests(&files);
    let mut tally = Tally::default();
    let mut disagreements = Vec::new();
    let mut tests_compared = 0usize;
    for (name, test) in &tests {
        let Some(theirs) = cedar_inputs(&files, test) else {
            continue;
        };
        let (engine, requests) = support::corpus_engine(&files, test, Evaluator::Interp);
        let mut compared_here = false;
        for (case, request) in requests {
            let Ok(full) = engine.decide(&request) else {
                continue;
            };
            let uid = |j: &Json| cedar::EntityUid::from_json(j.clone()).expect("a uid");
            let (principal, action, resource) =
                (uid(&case.principal), uid(&case.action), uid(&case.resource));
            let Ok(context) = cedar::Context::from_json_value(
                case.context.clone(),
                Some((&theirs.schema, &action)),
            ) else {
                continue;
            };
            let Ok(cedar_request) = cedar::Request::new(
                principal.clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
                Some(&theirs.schema),
            ) else {
                continue;
            };
            for unknown_resource in [true, false] {
                let (ours_p, ours_r, their_p, their_r) = if unknown_resource {
                    (
                        PartialUid::Known(request.principal().clone()),
                        PartialUid::Unknown(request.resource().entity_type().clone()),
                        cedar::PartialEntityUid::from_concrete(principal.clone()),
                        cedar::PartialEntityUid::new(resource.type_name().clone(), None),
                    )
                } else {
                    (
                        PartialUid::Unknown(request.principal().entity_type().clone()),
                        PartialUid::Known(request.resource().clone()),
                        cedar::PartialEntityUid::new(principal.type_name().clone(), None),
                        cedar::PartialEntityUid::from_concrete(resource.clone()),
                    )
                };
                let Ok(their_request) = cedar::PartialRequest::new(
                    their_p,
                    action.clone(),
                    their_r,
                    Some(context.clone()),
                    &theirs.schema,
                ) else {
                    continue;
                };
                let Ok(their_answer) =
                    theirs
                        .policies
                        .tpe(&their_request, &theirs.partial_entities, &theirs.schema)
                else {
                    // Cedar's tpe refuses policies that do not validate.
                    continue;
                };
                compared_here = true;
                let partial = PartialRequest::new(
                    ours_p,
                    request.action().clone(),
                    ours_r,
                    Some(request.context().clone()),
                );
                let our_answer = engine.partially_authorize(&partial).expect("declared");
                tally.partial_requests += 1;
                let what = if unknown_resource {
                    "resource"
                } else {
                    "principal"
                };
                match (our_answer.decision(), their_answer.decision()) {
                    (Some(a), Some(b)) => {
                        tally.both_decide += 1;
                        if decision(a) != b {
                            disagreements
                                .push(format!("{name} {what} unknown: thuja {a:?}, cedar {b:?}"));
                        }
                    }
                    (Some(_), None) => tally.only_thuja_decides += 1,
                    (None, Some(_)) => tally.only_cedar_decides += 1,
                    (None, None) => {}
                }
                let ours_again = our_answer
                    .reauthorize(&request, engine.entities())
                    .expect("a completion");
                let theirs_again = their_answer
                    .reauthorize(&cedar_request, &theirs.entities)
                    .map(|r| r.decision());
                if ours_again.decision != full.decision
                    || theirs_again.as_ref().ok() != Some(&decision(full.decision))
                {
                    disagreements.push(format!(
                        "{name} {what} unknown: full {:?}, thuja's residuals {:?}, cedar's {theirs_again:?}",
                        full.decision, ours_again.decision
                    ));
                }
            }
            // Queries: every resource of the request's resource type, every principal of its
            // principal type.
            let ours: BTreeSet<(String, String)> = engine
                .query_resources(
                    request.principal(),
                    request.action(),
                    request.resource().entity_type(),
                    request.context().clone(),
                )
                .expect("declared")
                .uids
                .iter()
                .map(|u| (u.entity_type().to_string(), u.id().to_string()))
                .collect();
            if let Ok(query) = cedar::ResourceQueryRequest::new(
                principal.clone(),
                action.clone(),
                resource.type_name().clone(),
                context.clone(),
                &theirs.schema,
            ) && let Ok(listed) =
                theirs
                    .policies
                    .query_resource(&query, &theirs.entities, &theirs.schema)
            {
                let listed: BTreeSet<(String, String)> = listed
                    .map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
                    .collect();
                tally.queries += 1;
                tally.listed += listed.len();
                if listed != ours {
                    disagreements.push(format!(
                        "{name}: resources of {principal} for {action}: thuja {ours:?}, cedar {listed:?}"
                    ));
                }
            }
            let ours: BTreeSet<(String, String)> = engine
                .query_principals(
                    request.action(),
                    request.resource(),
                    request.principal().entity_type(),
                    request.context().clone(),
                )
                .expect("declared")
                .uids
                .iter()
                .map(|u| (u.entity_type().to_string(), u.id().to_string()))
                .collect();
            if let Ok(query) = cedar::PrincipalQueryRequest::new(
                principal.type_name().clone(),
                action.clone(),
                resource.clone(),
                context.clone(),
                &theirs.schema,
            ) && let Ok(listed) =
                theirs
                    .policies
                    .query_principal(&query, &theirs.entities, &theirs.schema)
            {
                let listed: BTreeSet<(String, String)> = listed
                    .map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
                    .collect();
                tally.queries += 1;
                tally.listed += listed.len();
                if listed != ours {
                    disagreements.push(format!(
                        "{name}: principals for {action} on {resource}: thuja {ours:?}, cedar {listed:?}"
                    ));
                }
            }
        }
        tests_compared += usize::from(compared_here);
    }
    eprintln!("{tests_compared} corpus tests compared: {tally:?}");
    for d in disagreements.iter().take(5) {
        eprintln!("{d}");
    }
    assert!(tests_compared > 500, "most corpus tests validate");
    assert!(tally.both_decide > tally.partial_requests / 4);
    assert!(tally.queries > 1_000 && tally.listed > 100);
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(20)].join("\n")
    );
}
