//! Partial evaluation (`Engine::partially_authorize`): a decision reached with parts of the
//! request unknown is the decision of every completion, and the residual policies decide every
//! completion exactly as the original policies do (decision, reasons, errors with their
//! spans). Checked on every request of the conformance corpus with five kinds of unknowns, and
//! on the bundled TinyTodo example by hand: the residuals' text and JSON, entities whose data
//! is unknown and then filled in differently, errors, template links.

mod support;

use thuja::partial::{NotACompletion, Outcome, PartialRequest, PartialUid};
use thuja::{Decision, Engine, EntityUid, Evaluator, Record, Request, Response, input};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tinytodo");

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{EXAMPLE}/{file}")).expect("example file")
}

fn tinytodo_with(extra_policies: &str) -> Engine {
    let text = format!("{}\n{extra_policies}", read("policies.cedar"));
    let mut set = input::policies_from_str("policies.cedar", &text).expect("the policies");
    input::rename_from_id_annotations(&mut set).expect("distinct ids");
    let schema = input::schema_from_str("tinytodo.cedarschema", &read("tinytodo.cedarschema"))
        .expect("the example's schema");
    Engine::builder()
        .policies(set)
        .schema(schema)
        .entities_json("entities.json", read("entities.json"))
        .evaluator(Evaluator::Interp)
        .build()
        .expect("the example builds")
}

fn tinytodo() -> Engine {
    tinytodo_with("")
}

fn uid(text: &str) -> EntityUid {
    input::entity_uid_from_str("uid", text).expect("a uid")
}

fn known(text: &str) -> PartialUid {
    PartialUid::Known(uid(text))
}

fn unknown(ty: &str) -> PartialUid {
    PartialUid::Unknown(thuja::EntityType::parse(ty).expect("a type"))
}

/// Decision, reasons, and every error's policy, value and span (not its rendered location).
fn essence(r: &Response) -> (Decision, Vec<String>, Vec<String>) {
    (
        r.decision,
        r.reasons.iter().map(|id| id.to_string()).collect(),
        r.errors
            .iter()
            .map(|e| format!("{} {:?} {:?}", e.policy_id, e.error, e.span))
            .collect(),
    )
}

/// The residual policies decide `request` as the engine does.
fn completes_alike(engine: &Engine, partial: &PartialRequest, request: &Request) {
    let answer = engine.partially_authorize(partial).expect("declared");
    let full = engine.decide(request).expect("a valid request");
    let again = answer
        .reauthorize(request, engine.entities())
        .expect("a completion");
    assert_eq!(
        essence(&again),
        essence(&full),
        "{request:?}; residuals:\n{}",
        answer.residuals_to_cedar()
    );
    if let Some(decision) = answer.decision() {
        assert_eq!(decision, full.decision, "{request:?}");
    }
}

#[test]
fn an_unknown_resource_leaves_the_conditions_on_it() {
    let engine = tinytodo();
    let partial = PartialRequest::new(
        known(r#"TinyTodo::User::"alice""#),
        uid(r#"TinyTodo::Action::"UpdateTask""#),
        unknown("TinyTodo::List"),
        Some(Record::default()),
    );
    let answer = engine.partially_authorize(&partial).expect("declared");
    assert_eq!(answer.decision(), None);
    let residuals: Vec<(String, String)> = answer
        .residuals()
        .map(|p| match p.outcome() {
            Outcome::Residual(e) => (p.id().to_string(), e.to_string()),
            other => panic!("not a residual: {other:?}"),
        })
        .collect();
    assert_eq!(
        residuals,
        [
            (
                "owner-has-full-access".to_string(),
                r#"resource.owner == TinyTodo::User::"alice""#.to_string()
            ),
            (
                "editors-edit".to_string(),
                r#"TinyTodo::User::"alice" in resource.editors"#.to_string()
            ),
        ]
    );
    // `resource is List` held for a List; the other policies cannot apply to this action.
    for p in answer.policies() {
        if !matches!(p.outcome(), Outcome::Residual(_)) {
            assert_eq!(p.outcome(), &Outcome::NotSatisfied, "{}", p.id());
        }
    }
    let request = Request::new(
        uid(r#"TinyTodo::User::"alice""#),
        uid(r#"TinyTodo::Action::"UpdateTask""#),
        uid(r#"TinyTodo::List::"groceries""#),
        Record::default(),
    );
    completes_alike(&engine, &partial, &request);
    // A list not in the store: a completion too (denied).
    let elsewhere = Request::new(
        request.principal().clone(),
        request.action().clone(),
        uid(r#"TinyTodo::List::"nowhere""#),
        Record::default(),
    );
    completes_alike(&engine, &partial, &elsewhere);
}

#[test]
fn decisions_the_unknowns_cannot_change_are_made() {
    let engine = tinytodo();
    // Anyone may list the lists: allowed whoever asks.
    let anyone = PartialRequest::new(
        unknown("TinyTodo::User"),
        uid(r#"TinyTodo::Action::"GetLists""#),
        known(r#"TinyTodo::Application::"TinyTodo""#),
        Some(Record::default()),
    );
    let answer = engine.partially_authorize(&anyone).expect("declared");
    assert_eq!(answer.decision(), Some(Decision::Allow));
    assert_eq!(
        answer
            .reasons()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
        ["anyone-creates-lists"]
    );
    assert_eq!(answer.residuals().count(), 0);
    // No permit applies to DeleteList on the application, whoever asks.
    let nobody = PartialRequest::new(
        unknown("TinyTodo::User"),
        uid(r#"TinyTodo::Action::"DeleteList""#),
        known(r#"TinyTodo::Application::"TinyTodo""#),
        None,
    );
    let answer = engine.partially_authorize(&nobody).expect("declared");
    assert_eq!(answer.decision(), Some(Decision::Deny));
    assert!(answer.reasons().is_empty());
    // CreateList: permitted for everyone, but forbidden to interns, so it depends on who.
    let create = PartialRequest::new(
        unknown("TinyTodo::User"),
        uid(r#"TinyTodo::Action::"CreateList""#),
        known(r#"TinyTodo::Application::"TinyTodo""#),
        Some(Record::default()),
    );
    let answer = engine.partially_authorize(&create).expect("declared");
    assert_eq!(answer.decision(), None);
    let forbid = answer
        .policies()
        .iter()
        .find(|p| p.id().as_str() == "interns-do-not-create")
        .expect("the forbid");
    assert_eq!(
        forbid.outcome().to_string_for_test(),
        r#"principal in TinyTodo::Team::"interns""#
    );
    for user in ["alice", "bob", "casey", "dana"] {
        let request = Request::new(
            uid(&format!(r#"TinyTodo::User::"{user}""#)),
            uid(r#"TinyTodo::Action::"CreateList""#),
            uid(r#"TinyTodo::Application::"TinyTodo""#),
            Record::default(),
        );
        completes_alike(&engine, &create, &request);
    }
}

#[test]
fn an_unknown_context_leaves_the_conditions_on_it() {
    let engine = tinytodo();
    let partial = PartialRequest::new(
        known(r#"TinyTodo::User::"bob""#),
        uid(r#"TinyTodo::Action::"DeleteList""#),
        known(r#"TinyTodo::List::"groceries""#),
        None,
    );
    let answer = engine.partially_authorize(&partial).expect("declared");
    // Bob owns the list, but deleting it from outside the office is forbidden.
    assert_eq!(answer.decision(), None);
    let text = answer.residuals_to_cedar();
    assert!(
        text.contains(r#"when { (context has ip) && (!context.ip.isInRange(ip("10.0.0.0/8"))) };"#),
        "{text}"
    );
    assert!(text.contains("// owner-has-full-access\n"), "{text}");
    let schema = engine.schema().expect("a schema");
    for ip in ["10.1.2.3", "192.168.0.1"] {
        let context = input::context_from_str(
            "context",
            &format!(r#"{{"ip": "{ip}"}}"#),
            Some(schema),
            &partial.action,
        )
        .expect("a context");
        let request = Request::new(
            uid(r#"TinyTodo::User::"bob""#),
            partial.action.clone(),
            uid(r#"TinyTodo::List::"groceries""#),
            context,
        );
        completes_alike(&engine, &partial, &request);
    }
}

#[test]
fn unknown_entity_data_is_filled_in_by_the_completion() {
    let engine = tinytodo();
    // Alice's teams are unknown: whether she edits the groceries list depends on them.
    let partial = PartialRequest::new(
        known(r#"TinyTodo::User::"alice""#),
        uid(r#"TinyTodo::Action::"UpdateTask""#),
        known(r#"TinyTodo::List::"groceries""#),
        Some(Record::default()),
    )
    .with_unknown_entity(uid(r#"TinyTodo::User::"alice""#));
    let answer = engine.partially_authorize(&partial).expect("declared");
    assert_eq!(answer.decision(), None);
    let residuals: Vec<String> = answer
        .residuals()
        .map(|p| match p.outcome() {
            Outcome::Residual(e) => e.to_string(),
            other => panic!("not a residual: {other:?}"),
        })
        .collect();
    assert_eq!(
        residuals,
        [r#"TinyTodo::User::"alice" in TinyTodo::Team::"groceries-editors""#]
    );
    let request = Request::new(
        uid(r#"TinyTodo::User::"alice""#),
        partial.action.clone(),
        uid(r#"TinyTodo::List::"groceries""#),
        Record::default(),
    );
    // As stored, Alice edits the list; filled in without her teams, she does not.
    completes_alike(&engine, &partial, &request);
    let alice = engine
        .entities_from_json(
            "alice.json",
            r#"[{"uid": {"type": "TinyTodo::User", "id": "alice"},
                 "attrs": {"name": "Alice"}, "parents": []}]"#,
        )
        .expect("alice without teams");
    let moved = engine.upsert_entities(alice).expect("upserted");
    let full = moved.decide(&request).expect("valid");
    assert_eq!(full.decision, Decision::Deny);
    let again = answer
        .reauthorize(&request, moved.entities())
        .expect("a completion");
    assert_eq!(essence(&again), essence(&full));
}

#[test]
fn errors_and_links_keep_their_ids_and_err_again() {
    let engine = tinytodo_with(
        r#"
        @id("always-errs")
        forbid (principal, action, resource) when { 1 + "one" == 2 };
        @id("errs-on-the-resource")
        forbid (principal, action == TinyTodo::Action::"UpdateTask", resource)
        when { resource.nope };
        @id("template")
        permit (principal == ?principal, action, resource in ?resource);
        "#,
    );
    let mut set = engine.policies().clone();
    input::links_from_str(
        "links.json",
        r#"[{"template_id": "template", "link_id": "link-casey", "args": {
            "?principal": "TinyTodo::User::\"casey\"",
            "?resource": "TinyTodo::Application::\"TinyTodo\""}}]"#,
        &mut set,
    )
    .expect("linked");
    let engine = engine.with_policies(set).expect("rebuilt");
    let partial = PartialRequest::new(
        unknown("TinyTodo::User"),
        uid(r#"TinyTodo::Action::"UpdateTask""#),
        unknown("TinyTodo::List"),
        Some(Record::default()),
    );
    let answer = engine.partially_authorize(&partial).expect("declared");
    let errors: Vec<&str> = answer.errors().map(|(id, _)| id.as_str()).collect();
    assert_eq!(errors, ["always-errs"]);
    let outcome = |id: &str| {
        answer
            .policies()
            .iter()
            .find(|p| p.id().as_str() == id)
            .unwrap_or_else(|| panic!("{id}"))
            .outcome()
            .clone()
    };
    assert!(matches!(
        outcome("errs-on-the-resource"),
        Outcome::Residual(_)
    ));
    assert_eq!(
        outcome("link-casey").to_string_for_test(),
        r#"(principal == TinyTodo::User::"casey") && (resource in TinyTodo::Application::"TinyTodo")"#
    );
    for (user, list) in [
        ("casey", "groceries"),
        ("alice", "groceries"),
        ("casey", "gone"),
    ] {
        let request = Request::new(
            uid(&format!(r#"TinyTodo::User::"{user}""#)),
            partial.action.clone(),
            uid(&format!(r#"TinyTodo::List::"{list}""#)),
            Record::default(),
        );
        completes_alike(&engine, &partial, &request);
    }
}

/// The residual expression's text (a helper for comparing outcomes).
trait OutcomeText {
    fn to_string_for_test(&self) -> String;
}

impl OutcomeText for Outcome {
    fn to_string_for_test(&self) -> String {
        match self {
            Outcome::Residual(e) => e.to_string(),
            other => format!("{other:?}"),
        }
    }
}

#[test]
fn residuals_read_back_as_cedar_text_and_json() {
    let engine = tinytodo();
    let partial = PartialRequest::new(
        unknown("TinyTodo::User"),
        uid(r#"TinyTodo::Action::"GetList""#),
        unknown("TinyTodo::List"),
        None,
    );
    let answer = engine.partially_authorize(&partial).expect("declared");
    let from_text = input::policies_from_str("residuals.cedar", &answer.residuals_to_cedar())
        .expect("the residuals parse");
    let from_json =
        thuja::input::policies_from_json_str("residuals.json", &answer.residuals_to_json())
            .expect("the residuals' JSON reads");
    let expected: Vec<String> = answer
        .residual_policies()
        .policies()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(expected.len(), 3, "owner, readers and editors");
    for set in [&from_text, &from_json] {
        let printed: Vec<String> = set.policies().iter().map(|p| p.to_string()).collect();
        assert_eq!(printed, expected);
    }
    // A request that is not a completion is refused.
    let other_action = Request::new(
        uid(r#"TinyTodo::User::"alice""#),
        uid(r#"TinyTodo::Action::"UpdateList""#),
        uid(r#"TinyTodo::List::"groceries""#),
        Record::default(),
    );
    assert_eq!(
        answer.reauthorize(&other_action, engine.entities()),
        Err(NotACompletion("action"))
    );
    let wrong_type = Request::new(
        uid(r#"TinyTodo::User::"alice""#),
        uid(r#"TinyTodo::Action::"GetList""#),
        uid(r#"TinyTodo::Team::"kitchen""#),
        Record::default(),
    );
    assert_eq!(
        answer.reauthorize(&wrong_type, engine.entities()),
        Err(NotACompletion("resource"))
    );
}

#[test]
fn undeclared_names_are_refused_with_a_schema() {
    let engine = tinytodo();
    let partial = PartialRequest::new(
        unknown("TinyTodo::Nobody"),
        uid(r#"TinyTodo::Action::"GetList""#),
        unknown("TinyTodo::List"),
        None,
    );
    let error = engine
        .partially_authorize(&partial)
        .expect_err("undeclared");
    assert!(error.to_string().contains("TinyTodo::Nobody"), "{error}");
}

/// Every request of the corpus with, in turn, the principal, the resource, the context, the
/// principal's and resource's data, and all of these unknown.
#[test]
fn residuals_decide_every_corpus_request_as_the_policies_do() {
    let Some(files) = support::corpus() else {
        return;
    };
    let tests = support::corpus_tests(&files);
    let (mut compared, mut decided) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for (name, test) in &tests {
        let (engine, requests) = support::corpus_engine(&files, test, Evaluator::Interp);
        for (_, request) in requests {
            let Ok(full) = engine.decide(&request) else {
                continue;
            };
            let p = || PartialUid::Known(request.principal().clone());
            let r = || PartialUid::Known(request.resource().clone());
            let some_p = || PartialUid::Unknown(request.principal().entity_type().clone());
            let some_r = || PartialUid::Unknown(request.resource().entity_type().clone());
            let ctx = Some(request.context().clone());
            let a = request.action().clone();
            let data = |partial: PartialRequest| {
                partial
                    .with_unknown_entity(request.principal().clone())
                    .with_unknown_entity(request.resource().clone())
            };
            let modes = [
                PartialRequest::new(some_p(), a.clone(), r(), ctx.clone()),
                PartialRequest::new(p(), a.clone(), some_r(), ctx.clone()),
                PartialRequest::new(p(), a.clone(), r(), None),
                data(PartialRequest::new(p(), a.clone(), r(), ctx)),
                data(PartialRequest::new(some_p(), a.clone(), some_r(), None)),
            ];
            for partial in modes {
                compared += 1;
                let answer = engine.partially_authorize(&partial).expect("declared");
                if let Some(decision) = answer.decision() {
                    decided += 1;
                    if decision != full.decision {
                        disagreements.push(format!("{name}: {partial:?} decided {decision:?}"));
                    }
                }
                let again = answer
                    .reauthorize(&request, engine.entities())
                    .expect("a completion");
                if essence(&again) != essence(&full) {
                    disagreements.push(format!(
                        "{name}: {partial:?}: residuals {again:?}, policies {full:?}"
                    ));
                }
            }
        }
    }
    eprintln!("{compared} partial requests, {decided} decided");
    assert!(compared > 5_000, "the corpus's requests, five ways");
    assert!(decided > compared / 10, "some are decided");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(10)].join("\n")
    );
}
