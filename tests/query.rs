//! Queries ("what may alice read?") equal brute force: deciding every entity of the type (or
//! every action) one by one with `Engine::decide`. Checked on the bundled tinytodo example, on
//! the bench workloads, on every request of the conformance corpus, and on random stores and
//! policies (templates and links included); and
//! the scopes spare decisions where they can (a scoped RBAC store).

mod support;

use std::collections::BTreeSet;

use thuja::{
    Decision, Engine, EntityType, EntityUid, Evaluator, QueryAnswer, Record, Request, input,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tinytodo");

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{EXAMPLE}/{file}")).expect("example file")
}

fn tinytodo(evaluator: Evaluator) -> Engine {
    let mut set = input::policies_from_str("policies.cedar", &read("policies.cedar"))
        .expect("the example's policies");
    input::rename_from_id_annotations(&mut set).expect("distinct ids");
    let schema = input::schema_from_str("tinytodo.cedarschema", &read("tinytodo.cedarschema"))
        .expect("the example's schema");
    Engine::builder()
        .policies(set)
        .schema(schema)
        .entities_json("entities.json", read("entities.json"))
        .evaluator(evaluator)
        .build()
        .expect("the example builds")
}

fn allowed(engine: &Engine, request: &Request) -> bool {
    engine
        .decide(request)
        .is_ok_and(|r| r.decision == Decision::Allow)
}

/// The entities of type `ty` in the store, sorted.
fn of_type(engine: &Engine, ty: &EntityType) -> Vec<EntityUid> {
    let mut uids: Vec<EntityUid> = engine
        .entities()
        .iter()
        .map(|e| e.uid().clone())
        .filter(|u| u.entity_type() == ty)
        .collect();
    uids.sort();
    uids
}

/// The entity types of the store (action types aside).
fn types(engine: &Engine) -> BTreeSet<EntityType> {
    engine
        .entities()
        .iter()
        .map(|e| e.uid())
        .filter(|u| !u.is_action())
        .map(|u| u.entity_type().clone())
        .collect()
}

/// The actions a query considers: the schema's for the two types, or the store's.
fn actions_for(engine: &Engine, principal: &EntityUid, resource: &EntityUid) -> Vec<EntityUid> {
    let mut actions: Vec<EntityUid> = match engine.schema() {
        Some(schema) => schema
            .actions
            .values()
            .filter(|a| {
                a.principals.contains(principal.entity_type())
                    && a.resources.contains(resource.entity_type())
            })
            .map(|a| a.uid.clone())
            .collect(),
        None => engine
            .entities()
            .iter()
            .map(|e| e.uid().clone())
            .filter(EntityUid::is_action)
            .collect(),
    };
    actions.sort();
    actions
}

#[derive(Default)]
struct Totals {
    queries: usize,
    nonempty: usize,
    evaluated: usize,
    candidates: usize,
}

impl Totals {
    fn add(&mut self, answer: &QueryAnswer, candidates: usize) {
        self.queries += 1;
        self.nonempty += usize::from(!answer.uids.is_empty());
        self.evaluated += answer.evaluated;
        self.candidates += candidates;
        assert!(
            answer.evaluated <= candidates,
            "decided more than brute force"
        );
        assert!(answer.skipped <= answer.evaluated);
    }
}

/// Every resource, principal and action query over `principals` × `actions` × `resources`
/// equals brute force.
fn check_all(
    engine: &Engine,
    principals: &[EntityUid],
    actions: &[EntityUid],
    resources: &[EntityUid],
    context: &Record,
) -> Totals {
    let mut totals = Totals::default();
    let all_types = types(engine);
    for principal in principals {
        for action in actions {
            for ty in &all_types {
                let brute: Vec<EntityUid> = of_type(engine, ty)
                    .into_iter()
                    .filter(|r| {
                        allowed(
                            engine,
                            &Request::new(
                                principal.clone(),
                                action.clone(),
                                r.clone(),
                                context.clone(),
                            ),
                        )
                    })
                    .collect();
                match engine.query_resources(principal, action, ty, context.clone()) {
                    Ok(answer) => {
                        assert_eq!(
                            answer.uids, brute,
                            "resources: {principal} {action} {ty} {context:?}"
                        );
                        totals.add(&answer, of_type(engine, ty).len());
                    }
                    Err(e) => assert!(brute.is_empty(), "{e} but {brute:?} allowed"),
                }
            }
        }
    }
    for resource in resources {
        for action in actions {
            for ty in &all_types {
                let brute: Vec<EntityUid> = of_type(engine, ty)
                    .into_iter()
                    .filter(|p| {
                        allowed(
                            engine,
                            &Request::new(
                                p.clone(),
                                action.clone(),
                                resource.clone(),
                                context.clone(),
                            ),
                        )
                    })
                    .collect();
                match engine.query_principals(action, resource, ty, context.clone()) {
                    Ok(answer) => {
                        assert_eq!(
                            answer.uids, brute,
                            "principals: {action} {resource} {ty} {context:?}"
                        );
                        totals.add(&answer, of_type(engine, ty).len());
                    }
                    Err(e) => assert!(brute.is_empty(), "{e} but {brute:?} allowed"),
                }
            }
        }
    }
    for principal in principals {
        for resource in resources {
            let candidates = actions_for(engine, principal, resource);
            let brute: Vec<EntityUid> = candidates
                .iter()
                .filter(|a| {
                    allowed(
                        engine,
                        &Request::new(
                            principal.clone(),
                            (*a).clone(),
                            resource.clone(),
                            context.clone(),
                        ),
                    )
                })
                .cloned()
                .collect();
            match engine.query_actions(principal, resource, context.clone()) {
                Ok(answer) => {
                    assert_eq!(
                        answer.uids, brute,
                        "actions: {principal} {resource} {context:?}"
                    );
                    totals.add(&answer, candidates.len());
                }
                Err(e) => assert!(brute.is_empty(), "{e} but {brute:?} allowed"),
            }
        }
    }
    totals
}

fn non_actions(engine: &Engine) -> Vec<EntityUid> {
    let mut uids: Vec<EntityUid> = engine
        .entities()
        .iter()
        .map(|e| e.uid().clone())
        .filter(|u| !u.is_action())
        .collect();
    uids.sort();
    uids
}

fn store_actions(engine: &Engine) -> Vec<EntityUid> {
    let mut uids: Vec<EntityUid> = engine
        .entities()
        .iter()
        .map(|e| e.uid().clone())
        .filter(EntityUid::is_action)
        .collect();
    uids.sort();
    uids
}

#[test]
fn tinytodo_queries_equal_brute_force() {
    for evaluator in [Evaluator::Vm, Evaluator::Interp] {
        let engine = tinytodo(evaluator);
        let everyone = non_actions(&engine);
        let actions = store_actions(&engine);
        let action = thuja::uid("TinyTodo::Action", "GetList").expect("uid");
        let office = input::context_from_str(
            "context.json",
            r#"{"ip": "10.1.2.3"}"#,
            engine.schema(),
            &action,
        )
        .expect("context");
        let outside = input::context_from_str(
            "context.json",
            r#"{"ip": "192.168.0.1"}"#,
            engine.schema(),
            &action,
        )
        .expect("context");
        for context in [Record::default(), office, outside] {
            let totals = check_all(&engine, &everyone, &actions, &everyone, &context);
            assert!(totals.nonempty > 0, "some query allows something");
        }
    }
}

#[test]
fn tinytodo_answers_what_alice_may_do() {
    let engine = tinytodo(Evaluator::Vm);
    let alice = thuja::uid("TinyTodo::User", "alice").expect("uid");
    let groceries = thuja::uid("TinyTodo::List", "groceries").expect("uid");
    let get_list = thuja::uid("TinyTodo::Action", "GetList").expect("uid");
    let list = EntityType::parse("TinyTodo::List").expect("type");
    let lists = engine
        .query_resources(&alice, &get_list, &list, Record::default())
        .expect("query");
    assert!(lists.uids.contains(&groceries), "alice edits groceries");
    let actions = engine
        .query_actions(&alice, &groceries, Record::default())
        .expect("query");
    assert!(actions.uids.contains(&get_list));
    // The action of a resource query that does not apply to the type: every candidate is
    // refused by validation, skipped rather than an error.
    let create = thuja::uid("TinyTodo::Action", "CreateList").expect("uid");
    let answer = engine
        .query_resources(&alice, &create, &list, Record::default())
        .expect("query");
    assert!(answer.uids.is_empty());
    assert_eq!(answer.skipped, answer.evaluated);
    // A type the schema does not declare is an error.
    let nothing = EntityType::parse("TinyTodo::Nothing").expect("type");
    assert!(
        engine
            .query_resources(&alice, &get_list, &nothing, Record::default())
            .is_err()
    );
    let undeclared = thuja::uid("TinyTodo::Action", "Fly").expect("uid");
    assert!(
        engine
            .query_resources(&alice, &undeclared, &list, Record::default())
            .is_err()
    );
}

fn workload_engine(workload: &thuja_benches::Workload) -> Engine {
    let schema = input::schema_from_str("w.cedarschema", &workload.schema).expect("schema");
    let set = input::policies_from_str("w.cedar", &workload.policies).expect("policies");
    Engine::builder()
        .policies(set)
        .schema(schema)
        .entities_json("w.entities.json", workload.entities.clone())
        .build()
        .expect("the workload builds")
}

fn workload_context(engine: &Engine, workload: &thuja_benches::Workload) -> Record {
    let r = &workload.requests[0];
    let schema = engine.schema().expect("a schema");
    let request = input::request_from_json_values(
        &r.principal,
        &r.action,
        &r.resource,
        &r.context,
        input::RequestSchema::Typed(schema),
    )
    .expect("the workload's request");
    request.into_parts().3
}

/// Every `step`-th element.
fn sample(uids: &[EntityUid], step: usize) -> Vec<EntityUid> {
    uids.iter().step_by(step.max(1)).cloned().collect()
}

#[test]
fn bench_workload_queries_equal_brute_force() {
    for workload in [
        thuja_benches::rbac(50, 1, 1),
        thuja_benches::tinytodo(30, 20, 4, 1, 2),
        thuja_benches::sharing(40, 1, 3),
        thuja_benches::saas(1, 1, 4),
        thuja_benches::abac(20, 20, 1, 5),
    ] {
        let engine = workload_engine(&workload);
        let everyone = non_actions(&engine);
        let step = everyone.len() / 25;
        let some = sample(&everyone, step);
        let actions = store_actions(&engine);
        // The context of the workload's first request (its policies read `context`).
        let context = workload_context(&engine, &workload);
        let totals = check_all(&engine, &some, &actions, &some, &context);
        eprintln!(
            "{}: {} queries ({} allowing something), {} requests decided of {} by brute force",
            workload.name, totals.queries, totals.nonempty, totals.evaluated, totals.candidates
        );
    }
}

#[test]
fn a_scoped_rbac_resource_query_decides_only_the_tenants_documents() {
    let workload = thuja_benches::rbac(200, 1, 7);
    let engine = workload_engine(&workload);
    let document = EntityType::parse("Document").expect("type");
    let documents = of_type(&engine, &document);
    let users = of_type(&engine, &EntityType::parse("User").expect("type"));
    let read = thuja::uid("Action", "read").expect("uid");
    let mut allowed_some = false;
    for user in &users {
        let answer = engine
            .query_resources(user, &read, &document, Record::default())
            .expect("query");
        let brute: Vec<EntityUid> = documents
            .iter()
            .filter(|d| {
                allowed(
                    &engine,
                    &Request::new(user.clone(), read.clone(), (*d).clone(), Record::default()),
                )
            })
            .cloned()
            .collect();
        assert_eq!(answer.uids, brute, "{user}");
        allowed_some |= !brute.is_empty();
        // Only the user's own tenant's documents are reached by the permits of its role.
        assert!(
            answer.evaluated * 10 < documents.len(),
            "{user}: {} decided of {}",
            answer.evaluated,
            documents.len()
        );
    }
    assert!(allowed_some);
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> &'a String {
        &items[self.below(items.len())]
    }
}

/// A random store (users in groups in groups, documents in folders in folders, a few actions
/// in action groups) and random policies over it, with templates and links; no schema.
fn random_engine(seed: u64) -> Engine {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut entities = Vec::new();
    let groups: Vec<String> = (0..4).map(|i| format!(r#"Group::"g{i}""#)).collect();
    let folders: Vec<String> = (0..4).map(|i| format!(r#"Folder::"f{i}""#)).collect();
    let users: Vec<String> = (0..6).map(|i| format!(r#"User::"u{i}""#)).collect();
    let docs: Vec<String> = (0..8).map(|i| format!(r#"Doc::"d{i}""#)).collect();
    let actions: Vec<String> = ["read", "write", "share", "all"]
        .iter()
        .map(|a| format!(r#"Action::"{a}""#))
        .collect();
    let json_uid = |s: &str| {
        let (ty, id) = s.split_once("::").expect("uid");
        format!(r#"{{"type":"{ty}","id":{}}}"#, &id)
    };
    let parents = |rng: &mut Rng, pool: &[String], upto: usize| -> Vec<String> {
        let n = rng.below(3);
        (0..n)
            .map(|_| pool[rng.below(upto.max(1))].clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let entity = |uid: &str, attrs: String, parents: Vec<String>| {
        let parents: Vec<String> = parents.iter().map(|p| json_uid(p)).collect();
        format!(
            r#"{{"uid":{},"attrs":{attrs},"parents":[{}]}}"#,
            json_uid(uid),
            parents.join(",")
        )
    };
    for (i, g) in groups.iter().enumerate() {
        // Groups only in earlier groups: no cycle.
        let ps = if i == 0 {
            vec![]
        } else {
            parents(&mut rng, &groups, i)
        };
        entities.push(entity(g, "{}".into(), ps));
    }
    for (i, f) in folders.iter().enumerate() {
        let ps = if i == 0 {
            vec![]
        } else {
            parents(&mut rng, &folders, i)
        };
        entities.push(entity(f, "{}".into(), ps));
    }
    for u in &users {
        let level = rng.below(3);
        let ps = parents(&mut rng, &groups, groups.len());
        entities.push(entity(u, format!(r#"{{"level":{level}}}"#), ps));
    }
    for d in &docs {
        let owner = json_uid(rng.pick(&users));
        let level = rng.below(3);
        let ps = parents(&mut rng, &folders, folders.len());
        entities.push(entity(
            d,
            format!(r#"{{"owner":{owner},"level":{level}}}"#),
            ps,
        ));
    }
    for a in &actions[..3] {
        entities.push(entity(a, "{}".into(), vec![actions[3].clone()]));
    }
    entities.push(entity(&actions[3], "{}".into(), vec![]));

    let principal_pool: Vec<String> = users.iter().chain(&groups).cloned().collect();
    let resource_pool: Vec<String> = docs.iter().chain(&folders).cloned().collect();
    let scope = |rng: &mut Rng, var: &str, pool: &[String], types: [&str; 2], slot: bool| match rng
        .below(if slot { 7 } else { 6 })
    {
        0 => var.to_string(),
        1 => format!("{var} == {}", rng.pick(pool)),
        2 => format!("{var} in {}", rng.pick(pool)),
        3 => format!("{var} is {}", types[rng.below(2)]),
        4 => format!("{var} is {} in {}", types[rng.below(2)], rng.pick(pool)),
        5 => format!("{var} in {}", rng.pick(pool)),
        _ => format!("{var} in ?{var}"),
    };
    let conditions = [
        "",
        "when { resource has owner && resource.owner == principal }",
        "when { principal has level && resource has level && principal.level >= resource.level }",
        "unless { resource has level && resource.level == 2 }",
        "when { context has ok && context.ok }",
        // An error for resources without `owner`: the policy does not apply.
        "when { resource.owner == principal }",
    ];
    let mut text = String::new();
    let mut templates = Vec::new();
    for i in 0..(2 + rng.below(6)) {
        let effect = if rng.below(4) == 0 {
            "forbid"
        } else {
            "permit"
        };
        let template = rng.below(5) == 0;
        let principal = scope(
            &mut rng,
            "principal",
            &principal_pool,
            ["User", "Group"],
            template,
        );
        let resource = scope(
            &mut rng,
            "resource",
            &resource_pool,
            ["Doc", "Folder"],
            template,
        );
        let action = match rng.below(4) {
            0 => "action".to_string(),
            1 => format!("action == {}", rng.pick(&actions)),
            2 => format!("action in {}", rng.pick(&actions)),
            _ => format!("action in [{}, {}]", rng.pick(&actions), rng.pick(&actions)),
        };
        let condition = conditions[rng.below(conditions.len())];
        let body = format!("{effect} ({principal}, {action}, {resource}) {condition};\n");
        if body.contains('?') {
            templates.push((
                format!("t{i}"),
                body.contains("?principal"),
                body.contains("?resource"),
            ));
        }
        let id = if body.contains('?') { "t" } else { "p" };
        text.push_str(&format!("@id(\"{id}{i}\")\n{body}"));
    }
    let mut set = input::policies_from_str("random.cedar", &text).expect("random policies");
    input::rename_from_id_annotations(&mut set).expect("distinct ids");
    let mut links = Vec::new();
    for (template, has_principal, has_resource) in &templates {
        for k in 0..2 {
            let mut args = serde_json::Map::new();
            if *has_principal {
                args.insert(
                    "?principal".into(),
                    rng.pick(&principal_pool).clone().into(),
                );
            }
            if *has_resource {
                args.insert("?resource".into(), rng.pick(&resource_pool).clone().into());
            }
            links.push(serde_json::json!({
                "template_id": template,
                "link_id": format!("{template}-link{k}"),
                "args": args,
            }));
        }
    }
    let links = serde_json::Value::from(links).to_string();
    input::links_from_str("links.json", &links, &mut set).expect("links");
    let entities = format!("[{}]", entities.join(","));
    Engine::builder()
        .policies(set)
        .entities_json("random.json", entities)
        .build()
        .expect("the random store builds")
}

#[test]
fn random_queries_equal_brute_force() {
    let context_true: Record = [("ok", thuja::Value::from(true))].into_iter().collect();
    let mut evaluated = 0;
    let mut candidates = 0;
    for seed in 0..30 {
        let engine = random_engine(seed);
        let mut everyone = non_actions(&engine);
        // A principal and a resource absent from the store.
        everyone.push(thuja::uid("User", "stranger").expect("uid"));
        everyone.push(thuja::uid("Doc", "lost").expect("uid"));
        let actions = store_actions(&engine);
        for context in [Record::default(), context_true.clone()] {
            let totals = check_all(&engine, &everyone, &actions, &everyone, &context);
            evaluated += totals.evaluated;
            candidates += totals.candidates;
        }
    }
    eprintln!("random: {evaluated} requests decided of {candidates} by brute force");
    assert!(evaluated < candidates, "the scopes spare some decisions");
}

/// On every request of the conformance corpus: the resources of its resource's type its
/// principal may reach, and the principals of its principal's type that may reach its resource.
#[test]
fn corpus_queries_equal_brute_force() {
    let Some(files) = support::corpus() else {
        return;
    };
    let tests = support::corpus_tests(&files);
    let (mut queries, mut listed) = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for (name, test) in &tests {
        let (engine, requests) = support::corpus_engine(&files, test, Evaluator::Vm);
        for (_, request) in requests {
            let (principal, action, resource) =
                (request.principal(), request.action(), request.resource());
            let context = request.context();
            let answer = engine
                .query_resources(principal, action, resource.entity_type(), context.clone())
                .expect("declared");
            let brute: Vec<EntityUid> = of_type(&engine, resource.entity_type())
                .into_iter()
                .filter(|r| {
                    allowed(
                        &engine,
                        &Request::new(
                            principal.clone(),
                            action.clone(),
                            r.clone(),
                            context.clone(),
                        ),
                    )
                })
                .collect();
            if answer.uids != brute {
                disagreements.push(format!(
                    "{name}: resources {:?}, one by one {brute:?}",
                    answer.uids
                ));
            }
            let answer = engine
                .query_principals(action, resource, principal.entity_type(), context.clone())
                .expect("declared");
            let brute_principals: Vec<EntityUid> = of_type(&engine, principal.entity_type())
                .into_iter()
                .filter(|p| {
                    allowed(
                        &engine,
                        &Request::new(p.clone(), action.clone(), resource.clone(), context.clone()),
                    )
                })
                .collect();
            if answer.uids != brute_principals {
                disagreements.push(format!(
                    "{name}: principals {:?}, one by one {brute_principals:?}",
                    answer.uids
                ));
            }
            queries += 2;
            listed += brute.len() + brute_principals.len();
        }
    }
    eprintln!("{queries} corpus queries, {listed} entities listed");
    assert!(queries > 10_000 && listed > 1_000);
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(10)].join("\n")
    );
}
