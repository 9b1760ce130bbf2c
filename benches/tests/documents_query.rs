//! The resource-query workload (`thuja_benches::documents`, timed by the `query` example) on a
//! small size: it is deterministic, both engines read it, some of its principals may read some
//! documents, Thuja decides only a small share of the documents per query, and
//! its answers equal `cedar-policy`'s `query_resource` for every principal. No timing here.

use std::collections::BTreeSet;
use std::str::FromStr;

use thuja_benches::{DOCUMENTS_PER_TENANT, documents};

type Key = (String, String);

fn uid_parts(j: &serde_json::Value) -> (&str, &str) {
    (
        j["type"].as_str().expect("a uid's type"),
        j["id"].as_str().expect("a uid's id"),
    )
}

#[test]
fn generated_the_same_from_the_same_seed() {
    let a = documents(500, DOCUMENTS_PER_TENANT, 20, 3);
    let b = documents(500, DOCUMENTS_PER_TENANT, 20, 3);
    assert_eq!(a.schema, b.schema);
    assert_eq!(a.policies, b.policies);
    assert_eq!(a.entities, b.entities);
    assert_eq!(a.principals, b.principals);
    let distinct: BTreeSet<String> = a.principals.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        distinct.len(),
        a.principals.len(),
        "principals are distinct"
    );
}

#[test]
fn queries_answer_as_cedar_and_decide_few_documents() {
    let w = documents(2_000, DOCUMENTS_PER_TENANT, 40, 5);
    let schema = thuja::input::schema_from_str("schema", &w.schema).expect("schema");
    let set = thuja::input::policies_from_str("policies", &w.policies).expect("policies");
    let engine = thuja::Engine::builder()
        .schema(schema)
        .policies(set)
        .entities_json("entities", w.entities.as_str())
        .build()
        .expect("engine");
    let cedar_schema = cedar_policy::Schema::from_cedarschema_str(&w.schema)
        .expect("cedar schema")
        .0;
    let cedar_policies = cedar_policy::PolicySet::from_str(&w.policies).expect("cedar policies");
    let cedar_entities = cedar_policy::Entities::from_json_str(&w.entities, Some(&cedar_schema))
        .expect("cedar entities");
    let (ty, id) = uid_parts(&w.action);
    let action = thuja::uid(ty, id).expect("action");
    let resource_type = thuja::EntityType::parse(&w.resource_type).expect("type");
    let cedar_action = cedar_policy::EntityUid::from_json(w.action.clone()).expect("action");
    let cedar_type = cedar_policy::EntityTypeName::from_str(&w.resource_type).expect("type");

    let mut nonempty = 0;
    for p in &w.principals {
        let (ty, id) = uid_parts(p);
        let principal = thuja::uid(ty, id).expect("principal");
        let answer = engine
            .query_resources(
                &principal,
                &action,
                &resource_type,
                thuja::Record::default(),
            )
            .expect("query");
        assert!(
            answer.evaluated <= 2 * DOCUMENTS_PER_TENANT,
            "{p}: {} documents decided, more than its tenant holds",
            answer.evaluated
        );
        assert_eq!(answer.skipped, 0);
        let ours: BTreeSet<Key> = answer
            .uids
            .iter()
            .map(|u| (u.entity_type().as_str().to_string(), u.id().to_string()))
            .collect();
        let request = cedar_policy::ResourceQueryRequest::new(
            cedar_policy::EntityUid::from_json(p.clone()).expect("principal"),
            cedar_action.clone(),
            cedar_type.clone(),
            cedar_policy::Context::empty(),
            &cedar_schema,
        )
        .expect("cedar request");
        let theirs: BTreeSet<Key> = cedar_policies
            .query_resource(&request, &cedar_entities, &cedar_schema)
            .expect("cedar query")
            .map(|u| (u.type_name().to_string(), u.id().unescaped().to_string()))
            .collect();
        assert_eq!(ours, theirs, "{p}");
        if !ours.is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty > 0, "no principal may read any document");
}
