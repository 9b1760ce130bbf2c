//! A server's decision loop on a [`LiveEngine`]: worker threads decide requests while one
//! thread swaps in new policies every millisecond and another upserts entities (moving users
//! between groups). Every decision is recorded with the revision of the engine that made it,
//! and checked afterwards against what that engine answers alone, single-threaded.
//!
//! `cargo run --release --example server_loop -- [THREADS] [MILLISECONDS]` (defaults 4, 2000);
//! `cargo test --example server_loop` runs a short loop as a test.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thuja::{
    Decision, Engine, Entity, EntityUid, LiveEngine, PolicySet, Record, Request, Response, input,
};

const USERS: usize = 64;
const GROUPS: usize = 6;
const DOCS: usize = 32;

fn uid(ty: &str, id: String) -> EntityUid {
    thuja::uid(ty, &id).expect("a valid type name")
}

/// Version `v` of the policies: members of group `v % GROUPS` may read everything, one
/// group may write, and user `v % USERS` is forbidden everything.
fn policies(v: usize) -> PolicySet {
    let text = format!(
        r#"permit(principal in Group::"g{}", action == Action::"read", resource);
           permit(principal in Group::"g{}", action == Action::"write", resource is Doc)
             when {{ resource.owner == principal || context.admin }};
           forbid(principal == User::"u{}", action, resource);"#,
        v % GROUPS,
        (v + 1) % GROUPS,
        v % USERS
    );
    input::policies_from_str(&format!("v{v}.cedar"), &text).expect("policies parse")
}

/// User `u` in group `g`.
fn user(u: usize, g: usize) -> Entity {
    Entity::new(
        uid("User", format!("u{u}")),
        Default::default(),
        [uid("Group", format!("g{g}"))].into_iter().collect(),
        Default::default(),
    )
}

fn doc(d: usize) -> Entity {
    let owner = thuja::Value::from(uid("User", format!("u{}", d % USERS)));
    Entity::new(
        uid("Doc", format!("d{d}")),
        [(Arc::from("owner"), owner)].into_iter().collect(),
        Default::default(),
        Default::default(),
    )
}

fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for u in 0..USERS {
        for (a, action) in ["read", "write"].into_iter().enumerate() {
            let d = (u * 7 + a) % DOCS;
            let context: Record = [("admin", thuja::Value::from(u % 5 == 0))]
                .into_iter()
                .collect();
            out.push(Request::new(
                uid("User", format!("u{u}")),
                uid("Action", action.to_string()),
                uid("Doc", format!("d{d}")),
                context,
            ));
        }
    }
    out
}

/// What the loop saw.
struct Outcome {
    decisions: usize,
    revisions_seen: usize,
    allowed: usize,
    mismatches: Vec<String>,
}

/// Runs `threads` deciders for `duration` while policies are swapped and entities upserted
/// every millisecond, then checks every decision against its engine alone.
fn run(threads: usize, duration: Duration) -> Outcome {
    let entities = thuja::Entities::from_entities(
        (0..USERS)
            .map(|u| user(u, u % GROUPS))
            .chain((0..DOCS).map(doc)),
    )
    .expect("entities");
    let first = Engine::builder()
        .policies(policies(0))
        .entities(entities)
        .build()
        .expect("engine");
    // Every engine that was ever current, by revision.
    let engines: Mutex<HashMap<u64, Engine>> =
        Mutex::new([(first.revision(), first.clone())].into_iter().collect());
    let live = LiveEngine::new(first);
    let requests = requests();
    let stop = AtomicBool::new(false);
    let register = |engine: &Engine| {
        engines
            .lock()
            .expect("registry")
            .insert(engine.revision(), engine.clone());
    };

    let records: Vec<Vec<(u64, usize, Response)>> = std::thread::scope(|scope| {
        let deciders: Vec<_> = (0..threads)
            .map(|t| {
                let (live, requests, stop) = (&live, &requests, &stop);
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let n = i % requests.len();
                        // The engine current now; the request is decided on it even if
                        // another is swapped in meanwhile.
                        let engine = live.engine();
                        let response = engine.decide(&requests[n]).expect("valid request");
                        seen.push((engine.revision(), n, response));
                        i += threads;
                    }
                    seen
                })
            })
            .collect();
        let swapper = scope.spawn(|| {
            let mut v = 1;
            while !stop.load(Ordering::Relaxed) {
                live.update(|engine| {
                    let next = engine.with_policies(policies(v))?;
                    register(&next);
                    Ok::<_, thuja::BuildError>(next)
                })
                .expect("policies swap");
                v += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let upserter = scope.spawn(|| {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                live.update(|engine| {
                    let next =
                        engine.upsert_entities([user(k % USERS, (k / USERS + k) % GROUPS)])?;
                    register(&next);
                    Ok::<_, thuja::BuildError>(next)
                })
                .expect("entity upsert");
                k += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let started = Instant::now();
        while started.elapsed() < duration {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().expect("swapper");
        upserter.join().expect("upserter");
        deciders
            .into_iter()
            .map(|d| d.join().expect("decider"))
            .collect()
    });

    let engines = engines.into_inner().expect("registry");
    let mut outcome = Outcome {
        decisions: 0,
        revisions_seen: 0,
        allowed: 0,
        mismatches: Vec::new(),
    };
    let mut revisions = std::collections::HashSet::new();
    for (revision, n, response) in records.into_iter().flatten() {
        outcome.decisions += 1;
        outcome.allowed += usize::from(response.decision == Decision::Allow);
        revisions.insert(revision);
        let alone = engines[&revision]
            .decide(&requests[n])
            .expect("valid request");
        if alone != response && outcome.mismatches.len() < 10 {
            outcome.mismatches.push(format!(
                "revision {revision}, request {n}: {response:?} under load, {alone:?} alone"
            ));
        }
    }
    outcome.revisions_seen = revisions.len();
    outcome
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let millis = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let outcome = run(threads, Duration::from_millis(millis));
    println!(
        "{} decisions on {} threads over {millis} ms, on {} engine revisions ({} allowed); {} mismatches",
        outcome.decisions,
        threads,
        outcome.revisions_seen,
        outcome.allowed,
        outcome.mismatches.len()
    );
    for m in &outcome.mismatches {
        println!("  {m}");
    }
    if !outcome.mismatches.is_empty() {
        std::process::exit(1);
    }
}

#[test]
fn every_decision_under_swaps_and_upserts_is_its_engines_own() {
    let outcome = run(4, Duration::from_millis(400));
    assert!(outcome.mismatches.is_empty(), "{:#?}", outcome.mismatches);
    // The loop really ran across many engines, with both answers.
    assert!(
        outcome.revisions_seen > 10,
        "{} revisions",
        outcome.revisions_seen
    );
    assert!(outcome.allowed > 0 && outcome.allowed < outcome.decisions);
}
