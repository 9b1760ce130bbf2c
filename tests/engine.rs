//! The owned engine: built eagerly with every failure reported, deciding as the lower-level
//! `Authorizer` does with each evaluator, validating requests against its schema, locating
//! evaluation errors, and changed (policies, entities upserted and removed) into new engines
//! that leave the old ones as they were.

use std::sync::Arc;

use thuja::{
    Authorizer, BuildError, Decision, Engine, Entity, EntityUid, Evaluator, LiveEngine, Record,
    Request, Response, Value, input,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tinytodo");

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{EXAMPLE}/{file}")).expect("example file")
}

fn uid(ty: &str, id: &str) -> EntityUid {
    thuja::uid(&format!("TinyTodo::{ty}"), id).expect("uid")
}

fn policies() -> thuja::PolicySet {
    let mut set = input::policies_from_str("policies.cedar", &read("policies.cedar"))
        .expect("the example's policies");
    input::rename_from_id_annotations(&mut set).expect("distinct ids");
    set
}

fn schema() -> thuja::Schema {
    input::schema_from_str("tinytodo.cedarschema", &read("tinytodo.cedarschema"))
        .expect("the example's schema")
}

fn tinytodo(evaluator: Evaluator) -> Engine {
    Engine::builder()
        .policies(policies())
        .schema(schema())
        .entities_json("entities.json", read("entities.json"))
        .evaluator(evaluator)
        .build()
        .expect("the example builds")
}

fn request(principal: &str, action: &str, resource: (&str, &str), context: Record) -> Request {
    Request::new(
        uid("User", principal),
        uid("Action", action),
        uid(resource.0, resource.1),
        context,
    )
}

/// Every user doing every action on every resource of the example.
fn all_requests() -> Vec<Request> {
    let mut out = Vec::new();
    for principal in ["alice", "bob", "casey", "dana"] {
        for action in [
            "GetList",
            "UpdateTask",
            "DeleteList",
            "CreateList",
            "GetLists",
        ] {
            for resource in [("List", "groceries"), ("Application", "TinyTodo")] {
                for ip in [None, Some("10.1.2.3"), Some("192.168.0.1")] {
                    let context: Record = ip
                        .map(|ip| ("ip", Value::ipaddr(ip).expect("an address")))
                        .into_iter()
                        .collect();
                    out.push(request(principal, action, resource, context));
                }
            }
        }
    }
    out
}

#[test]
fn each_evaluator_decides_as_the_authorizer_does() {
    let schema = schema();
    let entities =
        input::entities_from_str("entities.json", &read("entities.json"), Some(&schema)).unwrap();
    let mut decided = 0;
    for evaluator in [Evaluator::Interp, Evaluator::Vm, Evaluator::Jit] {
        let engine = tinytodo(evaluator);
        assert_eq!(engine.evaluator(), evaluator);
        assert_eq!(engine.program().is_some(), evaluator != Evaluator::Interp);
        assert_eq!(engine.native_code().is_some(), evaluator == Evaluator::Jit);
        let authorizer = Authorizer::with_engine(Evaluator::Interp);
        for request in all_requests() {
            let valid = request.clone().validated(&schema);
            match engine.decide(&request) {
                Ok(mut response) => {
                    let expected =
                        authorizer.is_authorized(&valid.unwrap(), &policies(), &entities);
                    // The engine locates errors; the bare evaluators do not.
                    for e in &mut response.errors {
                        assert!(e.location.take().is_some(), "{e:?}");
                    }
                    assert_eq!(response, expected, "{evaluator}: {request:?}");
                    decided += 1;
                }
                // Requests the schema refuses are refused by the engine too.
                Err(e) => assert_eq!(valid.unwrap_err(), e),
            }
        }
    }
    assert!(decided > 100, "{decided}");
}

#[test]
fn requests_are_validated_against_the_schema_once() {
    let engine = tinytodo(Evaluator::Vm);
    // A context attribute the action does not declare.
    let context: Record = [("mood", Value::from("good"))].into_iter().collect();
    let bad = request("alice", "GetList", ("List", "groceries"), context);
    let err = engine.decide(&bad).unwrap_err();
    assert!(err.to_string().contains("`mood`"), "{err}");
    // A principal of the wrong type.
    let wrong = Request::new(
        uid("List", "groceries"),
        uid("Action", "GetList"),
        uid("List", "groceries"),
        Record::default(),
    );
    assert!(engine.decide(&wrong).is_err());
    // A validated request is marked, and decided without checking again.
    let mut good = request("alice", "GetList", ("List", "groceries"), Record::default());
    assert!(!good.is_valid_for(engine.schema().unwrap()));
    engine.validate(&mut good).unwrap();
    assert!(good.is_valid_for(engine.schema().unwrap()));
    assert_eq!(engine.decide(&good).unwrap().decision, Decision::Allow);
    // Without request validation the same bad request is decided (as Cedar would, unchecked).
    let unchecked = Engine::builder()
        .policies(policies())
        .schema(schema())
        .entities_json("entities.json", read("entities.json"))
        .request_validation(false)
        .build()
        .unwrap();
    assert!(!unchecked.validates_requests());
    assert_eq!(unchecked.decide(&bad).unwrap().decision, Decision::Allow);
}

#[test]
fn build_failures_are_reported() {
    // Entities JSON with a syntax error: located.
    let err = Engine::builder()
        .entities_json("bad.json", "[\n  {\"uid\": ")
        .build()
        .unwrap_err();
    let BuildError::Input(input) = &err else {
        panic!("{err:?}")
    };
    assert!(input.render().contains("bad.json:2:"), "{}", input.render());
    // An entity the schema does not allow.
    let err = Engine::builder()
        .schema(schema())
        .entities_json(
            "e.json",
            r#"[{"uid": {"type": "TinyTodo::User", "id": "x"}, "attrs": {}, "parents": []}]"#,
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`name`"), "{err}");
    // The same entity given as a store is checked too.
    let store = input::entities_from_str(
        "e.json",
        r#"[{"uid": {"type": "TinyTodo::User", "id": "x"}, "attrs": {}, "parents": []}]"#,
        None,
    )
    .unwrap();
    let err = Engine::builder()
        .schema(schema())
        .entities(store)
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Entities(_)), "{err:?}");
    // A hierarchy with a cycle.
    let cyclic = r#"[{"uid": {"type": "T", "id": "a"}, "attrs": {}, "parents": [{"type": "T", "id": "b"}]},
                     {"uid": {"type": "T", "id": "b"}, "attrs": {}, "parents": [{"type": "T", "id": "a"}]}]"#;
    let err = Engine::builder()
        .entities_json("c.json", cyclic)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn evaluation_errors_carry_their_location() {
    let text = "permit(principal, action, resource);\n\npermit(principal, action, resource)\n  when { principal.missing == 1 };\n";
    let set = input::policies_from_str("errs.cedar", text).unwrap();
    for evaluator in [Evaluator::Interp, Evaluator::Vm, Evaluator::Jit] {
        let engine = Engine::builder()
            .policies(set.clone())
            .evaluator(evaluator)
            .build()
            .unwrap();
        let response = engine
            .decide(&Request::new(
                thuja::uid("User", "a").unwrap(),
                thuja::uid("Action", "b").unwrap(),
                thuja::uid("Doc", "c").unwrap(),
                Record::default(),
            ))
            .unwrap();
        assert_eq!(response.decision, Decision::Allow);
        let [error] = &response.errors[..] else {
            panic!("{response:?}")
        };
        assert_eq!(error.policy_id, "policy1");
        let location = error.location.as_ref().expect("located");
        assert_eq!(location.to_string(), "errs.cedar:4:10", "{evaluator}");
    }
}

fn user(id: &str, name: &str, teams: &[&str]) -> Entity {
    Entity::new(
        uid("User", id),
        [(Arc::from("name"), Value::from(name))]
            .into_iter()
            .collect(),
        teams.iter().map(|t| uid("Team", t)).collect(),
        Default::default(),
    )
}

fn decision(engine: &Engine, principal: &str, action: &str) -> Decision {
    engine
        .decide(&request(
            principal,
            action,
            ("List", "groceries"),
            Record::default(),
        ))
        .expect("a valid request")
        .decision
}

#[test]
fn entity_changes_make_new_engines_and_leave_the_old_ones() {
    for evaluator in [Evaluator::Interp, Evaluator::Vm, Evaluator::Jit] {
        let engine = tinytodo(evaluator);
        assert_eq!(decision(&engine, "casey", "GetList"), Decision::Allow);
        assert_eq!(decision(&engine, "casey", "UpdateTask"), Decision::Deny);
        assert_eq!(decision(&engine, "dana", "GetList"), Decision::Deny);

        // casey moves from the readers to the editors; dana joins as a reader.
        let changed = engine
            .upsert_entities([
                user("casey", "Casey", &["interns", "groceries-editors"]),
                user("dana", "Dana", &["groceries-readers"]),
            ])
            .unwrap();
        assert!(changed.shares_policies_with(&engine));
        assert_ne!(changed.revision(), engine.revision());
        assert_eq!(decision(&changed, "casey", "UpdateTask"), Decision::Allow);
        assert_eq!(decision(&changed, "dana", "GetList"), Decision::Allow);
        // The old engine answers as before.
        assert_eq!(decision(&engine, "casey", "UpdateTask"), Decision::Deny);
        assert_eq!(decision(&engine, "dana", "GetList"), Decision::Deny);

        // The readers' team itself moves under the editors: its members can edit.
        let team = Entity::new(
            uid("Team", "groceries-readers"),
            Default::default(),
            [uid("Team", "groceries-editors")].into_iter().collect(),
            Default::default(),
        );
        let nested = changed.upsert_entities([team]).unwrap();
        assert_eq!(decision(&nested, "dana", "UpdateTask"), Decision::Allow);

        // Removing the editors' team takes away what it gave.
        let removed = nested
            .remove_entities([uid("User", "casey"), uid("Team", "groceries-editors")])
            .unwrap();
        assert_eq!(decision(&removed, "casey", "GetList"), Decision::Deny);
        assert_eq!(decision(&removed, "dana", "GetList"), Decision::Allow);
        // Members still name the removed team as a parent, so they are still `in` it.
        assert_eq!(decision(&removed, "alice", "UpdateTask"), Decision::Allow);
        assert_eq!(decision(&nested, "casey", "GetList"), Decision::Allow);

        // Each change equals building the changed store from scratch.
        let rebuilt = engine.with_entities(removed.entities().clone()).unwrap();
        for request in all_requests() {
            assert_eq!(removed.decide(&request), rebuilt.decide(&request));
        }
    }
}

#[test]
fn entity_changes_are_checked_against_the_schema() {
    let engine = tinytodo(Evaluator::Vm);
    // A user without the required `name`.
    let nameless = Entity::new(
        uid("User", "eve"),
        Default::default(),
        Default::default(),
        Default::default(),
    );
    let err = engine.upsert_entities([nameless]).unwrap_err();
    assert!(err.to_string().contains("`name`"), "{err}");
    // Actions are the schema's.
    let err = engine
        .remove_entities([uid("Action", "GetList")])
        .unwrap_err();
    assert!(err.to_string().contains("declared by the schema"), "{err}");
    // A change closing a cycle.
    let looping = Entity::new(
        uid("Team", "everyone"),
        Default::default(),
        [uid("Team", "kitchen")].into_iter().collect(),
        Default::default(),
    );
    assert!(engine.upsert_entities([looping]).is_err());
    // Entities read from JSON with the engine's schema.
    let read = engine
        .entities_from_json(
            "new.json",
            r#"[{"uid": {"type": "TinyTodo::User", "id": "eve"}, "attrs": {"name": "Eve", "joinedAt": "2025-01-01"}, "parents": [{"type": "TinyTodo::Team", "id": "groceries-readers"}]}]"#,
        )
        .unwrap();
    let changed = engine.upsert_entities(read).unwrap();
    assert_eq!(decision(&changed, "eve", "GetList"), Decision::Allow);
    let joined = changed.entities().get(&uid("User", "eve")).unwrap();
    assert!(matches!(joined.attr("joinedAt"), Some(Value::Ext(_))));
}

#[test]
fn policies_swap_in_a_live_engine() {
    let live = LiveEngine::new(tinytodo(Evaluator::Vm));
    let ask = |live: &LiveEngine| -> Response { live.decide(&ask_request()).unwrap() };
    assert_eq!(ask(&live).decision, Decision::Deny);
    let before = live.engine();
    let lenient = input::policies_from_str(
        "lenient.cedar",
        "permit(principal, action, resource is TinyTodo::List) when { resource.owner == principal };",
    )
    .unwrap();
    live.update(|engine| engine.with_policies(lenient)).unwrap();
    assert_eq!(ask(&live).decision, Decision::Allow);
    // A failed change leaves the current engine in place.
    let current = live.engine().revision();
    let nameless = Entity::new(
        uid("User", "x"),
        Default::default(),
        Default::default(),
        Default::default(),
    );
    let err = live.update(|engine| engine.upsert_entities([nameless]));
    assert!(err.is_err());
    assert_eq!(live.engine().revision(), current);
    // The engine swapped out still answers as it did.
    assert_eq!(
        before.decide(&ask_request()).unwrap().decision,
        Decision::Deny
    );
    let old = live.swap(before);
    assert_eq!(old.revision(), current);
    assert_eq!(ask(&live).decision, Decision::Deny);
}

fn ask_request() -> Request {
    request(
        "bob",
        "DeleteList",
        ("List", "groceries"),
        [("ip", Value::ipaddr("192.168.0.1").expect("an address"))]
            .into_iter()
            .collect(),
    )
}
