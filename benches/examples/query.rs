//! Resource queries, Thuja against cedar-policy, on the same data in one run (issue #21):
//! "which documents may this user read?" over the multi-tenant [`thuja_benches::documents`]
//! store. `cargo run --release -p thuja-benches --example query -- [OPTIONS]`.
//!
//! Both engines read the same schema, policies and entities. Then, for each of a sample of
//! distinct principals (users of all tenants, each queried once: a stream, not a warm loop),
//! Thuja's [`Engine::query_resources`](thuja::Engine::query_resources) is timed, and then
//! cedar-policy's `PolicySet::query_resource` (its experimental `tpe` feature) for the first of
//! them. The two answers must be the same set of documents for every principal both asked
//! (the example exits with status 1 and prints the first difference otherwise). Printed: load
//! times, per engine the median and 99th percentile time per query, the ratio of medians, and
//! how many documents Thuja decided (`QueryAnswer::evaluated`) against how many there are.
//!
//! Options: `--resources N` (documents; default 100,000), `--principals P` (default 200, or 50
//! above 100,000 documents), `--cedar-queries C` (how many of the principals cedar-policy is
//! asked about: its query reads every document, and more, so it is bounded; default all of
//! them up to 100,000 documents, else 20), `--evaluator vm|jit|interp` (default vm),
//! `--seed S` (default 21).

use std::process::ExitCode;
use std::str::FromStr;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

struct Options {
    resources: usize,
    per_tenant: usize,
    principals: Option<usize>,
    cedar_queries: Option<usize>,
    cedar_timeout: f64,
    brute_force: usize,
    evaluator: thuja::Evaluator,
    seed: u64,
}

fn options() -> Options {
    let mut o = Options {
        resources: 100_000,
        per_tenant: thuja_benches::DOCUMENTS_PER_TENANT,
        principals: None,
        cedar_queries: None,
        cedar_timeout: 120.0,
        brute_force: 3,
        evaluator: thuja::Evaluator::Vm,
        seed: 21,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match arg.as_str() {
            "--resources" => o.resources = value().parse().expect("--resources N"),
            "--per-tenant" => o.per_tenant = value().parse().expect("--per-tenant D"),
            "--cedar-timeout" => o.cedar_timeout = value().parse().expect("--cedar-timeout S"),
            "--brute-force" => o.brute_force = value().parse().expect("--brute-force K"),
            "--principals" => o.principals = Some(value().parse().expect("--principals P")),
            "--cedar-queries" => {
                o.cedar_queries = Some(value().parse().expect("--cedar-queries C"));
            }
            "--evaluator" => {
                o.evaluator = match value().as_str() {
                    "vm" => thuja::Evaluator::Vm,
                    "jit" => thuja::Evaluator::Jit,
                    "interp" => thuja::Evaluator::Interp,
                    other => {
                        eprintln!("unknown evaluator {other}: vm, jit or interp");
                        std::process::exit(2);
                    }
                }
            }
            "--seed" => o.seed = value().parse().expect("--seed S"),
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    o
}

/// Times, sorted, with the median and 99th percentile (nearest rank).
struct Times(Vec<Duration>);

impl Times {
    fn new(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        Times(times)
    }

    fn at(&self, q: f64) -> Duration {
        let n = self.0.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.0[rank - 1]
    }

    fn median(&self) -> Duration {
        self.at(0.5)
    }

    fn p99(&self) -> Duration {
        self.at(0.99)
    }
}

fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// A uid as `(type, id)`, the form both engines' answers are compared in.
type Key = (String, String);

fn thuja_key(uid: &thuja::EntityUid) -> Key {
    (uid.entity_type().as_str().to_string(), uid.id().to_string())
}

fn cedar_key(uid: &cedar_policy::EntityUid) -> Key {
    (
        uid.type_name().to_string(),
        uid.id().unescaped().to_string(),
    )
}

fn json_uid(j: &serde_json::Value) -> (&str, &str) {
    (
        j["type"].as_str().expect("a uid's type"),
        j["id"].as_str().expect("a uid's id"),
    )
}

/// cedar-policy's inputs, shared with the thread that asks it.
struct Cedar {
    schema: cedar_policy::Schema,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    action: cedar_policy::EntityUid,
    resource_type: cedar_policy::EntityTypeName,
}

impl Cedar {
    fn request(&self, principal: &serde_json::Value) -> cedar_policy::ResourceQueryRequest {
        cedar_policy::ResourceQueryRequest::new(
            cedar_policy::EntityUid::from_json(principal.clone()).expect("principal uid"),
            self.action.clone(),
            self.resource_type.clone(),
            cedar_policy::Context::empty(),
            &self.schema,
        )
        .expect("cedar query request")
    }

    /// `query_resource` for `principal`: the answer, sorted, and the time it took (building
    /// the request included).
    fn query(&self, principal: &serde_json::Value) -> (Vec<Key>, Duration) {
        let started = Instant::now();
        let request = self.request(principal);
        let answer: Vec<cedar_policy::EntityUid> = self
            .policies
            .query_resource(&request, &self.entities, &self.schema)
            .expect("cedar query")
            .collect();
        let took = started.elapsed();
        let mut keys: Vec<Key> = answer.iter().map(cedar_key).collect();
        keys.sort();
        (keys, took)
    }

    /// What `query_resource` does for `principal`, in parts: its partial evaluation (with the
    /// store converted to partial entities), how many residual policies that leaves (every
    /// policy, those reduced to `false` included) and how many of them are not trivially true
    /// or false, and the mean time to authorize one document against them (over `sample`
    /// documents).
    fn anatomy(
        &self,
        principal: &serde_json::Value,
        sample: &[&cedar_policy::EntityId],
    ) -> (Duration, usize, usize, Duration) {
        let started = Instant::now();
        let request = self.request(principal);
        let partial =
            cedar_policy::PartialEntities::from_concrete(self.entities.clone(), &self.schema)
                .expect("partial entities");
        let partial_request = cedar_policy::PartialRequest::new(
            cedar_policy::PartialEntityUid::from_concrete(
                cedar_policy::EntityUid::from_json(principal.clone()).expect("principal uid"),
            ),
            self.action.clone(),
            cedar_policy::PartialEntityUid::new(self.resource_type.clone(), None),
            Some(cedar_policy::Context::empty()),
            &self.schema,
        )
        .expect("partial request");
        let response = self
            .policies
            .tpe(&partial_request, &partial, &self.schema)
            .expect("tpe");
        let residuals = response.policy_set();
        let tpe = started.elapsed();
        let all = residuals.policies().count();
        let nontrivial = response.residual_policies().count();
        let authorizer = cedar_policy::Authorizer::new();
        let started = Instant::now();
        for id in sample {
            let concrete = request
                .to_request((*id).clone(), None)
                .expect("concrete request");
            std::hint::black_box(authorizer.is_authorized(&concrete, &residuals, &self.entities));
        }
        let each = started.elapsed() / u32::try_from(sample.len().max(1)).unwrap_or(u32::MAX);
        (tpe, all, nontrivial, each)
    }
}

fn main() -> ExitCode {
    let o = options();
    let principals = o
        .principals
        .unwrap_or(if o.resources > 100_000 { 50 } else { 200 });
    let started = Instant::now();
    let w = thuja_benches::documents(o.resources, o.per_tenant, principals, o.seed);
    println!(
        "workload: {} documents (the type queried), {} per tenant in {} tenants; {} entities, \
         {} policies; {} principals; generated in {:.1} s",
        w.resources,
        o.per_tenant,
        w.tenants,
        w.entity_count,
        w.policy_count,
        w.principals.len(),
        started.elapsed().as_secs_f64()
    );
    let cedar_queries = o
        .cedar_queries
        .unwrap_or(if w.resources > 100_000 {
            20
        } else {
            usize::MAX
        })
        .min(w.principals.len());

    // Thuja: the engine from the same texts.
    let started = Instant::now();
    let schema = thuja::input::schema_from_str("schema", &w.schema).expect("thuja schema");
    let set = thuja::input::policies_from_str("policies", &w.policies).expect("thuja policies");
    let engine = thuja::Engine::builder()
        .schema(schema)
        .policies(set)
        .entities_json("entities", w.entities.as_str())
        .evaluator(o.evaluator)
        .build()
        .expect("thuja engine");
    let thuja_load = started.elapsed();

    // cedar-policy.
    let started = Instant::now();
    let cedar_schema = cedar_policy::Schema::from_cedarschema_str(&w.schema)
        .expect("cedar schema")
        .0;
    let cedar = Arc::new(Cedar {
        policies: cedar_policy::PolicySet::from_str(&w.policies).expect("cedar policies"),
        entities: cedar_policy::Entities::from_json_str(&w.entities, Some(&cedar_schema))
            .expect("cedar entities"),
        action: cedar_policy::EntityUid::from_json(w.action.clone()).expect("action uid"),
        resource_type: cedar_policy::EntityTypeName::from_str(&w.resource_type)
            .expect("resource type"),
        schema: cedar_schema,
    });
    let cedar_load = started.elapsed();
    println!(
        "load (schema, policies, entities): thuja {}, cedar-policy {}",
        show(thuja_load),
        show(cedar_load)
    );

    let (action_type, action_id) = json_uid(&w.action);
    let ours_action = thuja::uid(action_type, action_id).expect("action uid");
    let ours_type = thuja::EntityType::parse(&w.resource_type).expect("resource type");
    let query = |p: &serde_json::Value| {
        let (ty, id) = json_uid(p);
        let principal = thuja::uid(ty, id).expect("principal uid");
        let started = Instant::now();
        let answer = engine
            .query_resources(
                &principal,
                &ours_action,
                &ours_type,
                thuja::Record::default(),
            )
            .expect("thuja query");
        (answer, started.elapsed())
    };

    // One query before the timed ones, for a principal not among them: what the store builds
    // once, on a first query, is not counted per query.
    let first = thuja_benches::documents(o.per_tenant, o.per_tenant, 1, o.seed + 1);
    let (_, first_time) = query(&first.principals[0]);
    println!("thuja's first query (untimed below): {}", show(first_time));

    // Thuja's queries, every principal once.
    let mut ours_times = Vec::with_capacity(w.principals.len());
    let mut ours_answers: Vec<Vec<Key>> = Vec::with_capacity(w.principals.len());
    let mut evaluated = Vec::with_capacity(w.principals.len());
    let mut skipped = 0;
    for p in &w.principals {
        let (answer, took) = query(p);
        ours_times.push(took);
        evaluated.push(answer.evaluated);
        skipped += answer.skipped;
        let mut keys: Vec<Key> = answer.uids.iter().map(thuja_key).collect();
        keys.sort();
        ours_answers.push(keys);
    }
    let ours = Times::new(ours_times.clone());
    let allowed: Vec<usize> = ours_answers.iter().map(Vec::len).collect();
    let nonempty = allowed.iter().filter(|&&n| n > 0).count();
    let mut sorted_evaluated = evaluated.clone();
    sorted_evaluated.sort_unstable();
    let evaluated_median = sorted_evaluated[sorted_evaluated.len() / 2];
    let evaluated_max = sorted_evaluated.last().copied().unwrap_or(0);
    let evaluated_mean = evaluated.iter().sum::<usize>() as f64 / evaluated.len().max(1) as f64;
    println!(
        "answers: {nonempty} of {} principals allowed some documents; {:.1} documents allowed \
         per principal on average, at most {}",
        allowed.len(),
        allowed.iter().sum::<usize>() as f64 / allowed.len().max(1) as f64,
        allowed.iter().max().copied().unwrap_or(0)
    );
    println!(
        "thuja ({:?}): {} queries; median {}, p99 {}; documents evaluated per query: median \
         {evaluated_median}, mean {evaluated_mean:.1}, max {evaluated_max} of {} ({:.4}%); \
         {skipped} refused by the schema",
        o.evaluator,
        ours.0.len(),
        show(ours.median()),
        show(ours.p99()),
        w.resources,
        100.0 * evaluated_mean / w.resources as f64,
    );

    // Thuja's answers against deciding every document, for the first few principals.
    let documents: Vec<thuja::EntityUid> = engine
        .entities()
        .iter()
        .map(thuja::Entity::uid)
        .filter(|u| u.entity_type() == &ours_type)
        .cloned()
        .collect();
    let started = Instant::now();
    for (p, ours) in w.principals.iter().zip(&ours_answers).take(o.brute_force) {
        let (ty, id) = json_uid(p);
        let principal = thuja::uid(ty, id).expect("principal uid");
        let mut all: Vec<Key> = documents
            .iter()
            .filter(|d| {
                let request = thuja::Request::new(
                    principal.clone(),
                    ours_action.clone(),
                    (*d).clone(),
                    thuja::Record::default(),
                );
                engine.decide(&request).expect("decide").decision == thuja::Decision::Allow
            })
            .map(thuja_key)
            .collect();
        all.sort();
        if &all != ours {
            println!(
                "DIFFERENCE for principal {p}: the query allows {} documents, deciding each \
                 document {}",
                ours.len(),
                all.len()
            );
            return ExitCode::FAILURE;
        }
    }
    println!(
        "thuja's answers equal deciding all {} documents one by one for the first {} principals \
         ({:.1} s)",
        documents.len(),
        o.brute_force.min(w.principals.len()),
        started.elapsed().as_secs_f64()
    );

    // What one cedar-policy query costs, in parts, on a sample of documents.
    let sample_ids: Vec<cedar_policy::EntityId> = documents
        .iter()
        .step_by((documents.len() / 100).max(1))
        .map(|d| cedar_policy::EntityId::new(d.id()))
        .collect();
    let sample: Vec<&cedar_policy::EntityId> = sample_ids.iter().collect();
    let (tpe, residuals, nontrivial, each) = cedar.anatomy(&w.principals[0], &sample);
    let projected = tpe + each * u32::try_from(documents.len()).unwrap_or(u32::MAX);
    println!(
        "cedar-policy query_resource, in parts (first principal): partial evaluation {} leaves \
         {residuals} residual policies ({nontrivial} not trivially true or false), against \
         which it authorizes every document: {} per document over {} documents sampled, so \
         about {} per query projected",
        show(tpe),
        show(each),
        sample.len(),
        show(projected),
    );

    // cedar-policy's queries, for the first `cedar_queries` principals, each within the
    // timeout (on another thread, left running when one does not finish).
    let (to_cedar, asked) = mpsc::channel::<serde_json::Value>();
    let (answered, from_cedar) = mpsc::channel::<(Vec<Key>, Duration)>();
    let worker = Arc::clone(&cedar);
    std::thread::spawn(move || {
        for p in asked {
            if answered.send(worker.query(&p)).is_err() {
                break;
            }
        }
    });
    let timeout = Duration::from_secs_f64(o.cedar_timeout);
    let mut theirs_times = Vec::with_capacity(cedar_queries);
    let mut timed_out = false;
    for (p, ours) in w.principals.iter().zip(&ours_answers).take(cedar_queries) {
        to_cedar.send(p.clone()).expect("the cedar thread");
        let Ok((theirs, took)) = from_cedar.recv_timeout(timeout) else {
            timed_out = true;
            break;
        };
        theirs_times.push(took);
        if ours != &theirs {
            let only_ours = ours.iter().find(|k| theirs.binary_search(k).is_err());
            let only_theirs = theirs.iter().find(|k| ours.binary_search(k).is_err());
            println!(
                "DIFFERENCE for principal {p}: thuja allows {} documents, cedar-policy {}; \
                 first only in thuja's answer: {only_ours:?}; first only in cedar-policy's: \
                 {only_theirs:?}",
                ours.len(),
                theirs.len()
            );
            return ExitCode::FAILURE;
        }
    }
    let done = theirs_times.len();
    let ours_same = Times::new(ours_times[..done].to_vec());
    let theirs = Times::new(theirs_times);
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-12);
    let bounded = if cedar_queries < w.principals.len() {
        format!(
            "bounded to the first {cedar_queries} of the {} principals",
            w.principals.len()
        )
    } else {
        "all principals".to_string()
    };
    if done > 0 {
        println!(
            "cedar-policy query_resource: {done} queries ({bounded}); median {}, p99 {}",
            show(theirs.median()),
            show(theirs.p99()),
        );
        println!(
            "answers equal on all {done} principals asked of both; ratio of medians \
             (cedar-policy / thuja): {:.0}× (thuja's median over those same {done} principals: \
             {}, ratio {:.0}×)",
            ratio(theirs.median(), ours.median()),
            show(ours_same.median()),
            ratio(theirs.median(), ours_same.median()),
        );
    }
    if timed_out {
        println!(
            "cedar-policy query_resource: query {} of {cedar_queries} ({bounded}) did not finish \
             within the {} timeout (--cedar-timeout), no more asked; so the ratio of medians is \
             at least {:.0}× (timeout / thuja's median), about {:.0}× projected",
            done + 1,
            show(timeout),
            ratio(timeout, ours.median()),
            ratio(projected, ours.median()),
        );
    }
    ExitCode::SUCCESS
}
