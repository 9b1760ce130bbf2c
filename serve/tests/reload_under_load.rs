//! Reload under load: clients decide over HTTP without pause while the policies are swapped
//! every 100 ms between two versions that answer differently. Every request must succeed, and
//! every answer must be what the revision named in its `x-thuja-revision` header answers.
//!
//! Bounded: `THUJA_RELOAD_SECONDS` (default 3) of load; the 60-second run is
//! `THUJA_RELOAD_SECONDS=60 cargo test -p thuja-serve --test reload_under_load -- --nocapture`.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

/// A forbid that changes answers: on the second version, nobody may read a list.
const SECOND: &str =
    "\n@id(\"no-reads\")\nforbid (principal, action == TinyTodo::Action::\"GetList\", resource);\n";

/// Every (user, action) evaluation body, with what an engine answers to it.
fn answers(engine: &thuja::Engine) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for user in USERS {
        for action in LIST_ACTIONS {
            let want = allowed(&decide(
                engine,
                &json!({"type": "TinyTodo::User", "id": user}),
                &json!({"type": "TinyTodo::Action", "id": action}),
                &json!({"type": "TinyTodo::List", "id": "groceries"}),
                &json!({"ip": "10.0.0.1"}),
            ));
            let body = json!({"subject": {"type": "user", "id": user}, "action": {"name": action},
                "resource": {"type": "list", "id": "groceries"}, "context": {"ip": "10.0.0.1"}});
            out.push((body.to_string(), want));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answer_during_reloads_is_the_old_or_the_new_engines() {
    let seconds: f64 = std::env::var("THUJA_RELOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0_f64)
        .clamp(0.5, 600.0);
    let scratch = Scratch::new("reload-under-load");
    let first_text = std::fs::read_to_string(scratch.path("policies.cedar")).expect("policies");
    let second_text = format!("{first_text}{SECOND}");
    let server = Arc::new(start(scratch.config()).await);
    let first_revision = server.revision().expect("serving");
    let first = answers(&scratch.engine());
    scratch.write("policies.cedar", &second_text);
    let second = answers(&scratch.engine());
    assert_ne!(
        first.iter().map(|a| a.1).collect::<Vec<_>>(),
        second.iter().map(|a| a.1).collect::<Vec<_>>(),
        "the two versions answer differently"
    );
    scratch.write("policies.cedar", &first_text);

    // The swapper: every 100 ms the other version, through the same path SIGHUP takes.
    let stop = Arc::new(AtomicBool::new(false));
    let revisions: Arc<std::sync::Mutex<HashMap<String, usize>>> = Arc::new(std::sync::Mutex::new(
        HashMap::from([(first_revision.clone(), 0)]),
    ));
    let swapper = {
        let (server, stop, revisions) = (
            Arc::clone(&server),
            Arc::clone(&stop),
            Arc::clone(&revisions),
        );
        let dir = scratch.dir.clone();
        let texts = [first_text.clone(), second_text.clone()];
        tokio::spawn(async move {
            let mut swaps = 0usize;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let version = (swaps + 1) % 2;
                std::fs::write(dir.join("policies.cedar"), &texts[version]).expect("write");
                server.reload().await.expect("the reload succeeds");
                let revision = server.revision().expect("serving");
                revisions.lock().expect("lock").insert(revision, version);
                swaps += 1;
            }
            swaps
        })
    };

    // The clients: decide without pause, remember (revision, request, decision).
    let url = format!("http://{}/access/v1/evaluation", server.api_addr());
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let failures = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..2 {
        let (url, failures) = (url.clone(), Arc::clone(&failures));
        let bodies: Vec<String> = first.iter().map(|(b, _)| b.clone()).collect();
        clients.push(tokio::spawn(async move {
            let client = client();
            let mut seen = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let body = &bodies[i % bodies.len()];
                match client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 200 => {
                        let revision = response
                            .headers()
                            .get("x-thuja-revision")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        let answer: Value = response.json().await.unwrap_or(Value::Null);
                        seen.push((revision, i % bodies.len(), answer["decision"].clone()));
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
            seen
        }));
    }
    let mut seen = Vec::new();
    for client in clients {
        seen.extend(client.await.expect("client"));
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.await.expect("swapper");
    let revisions = revisions.lock().expect("lock").clone();
    assert_eq!(
        revisions.len(),
        2,
        "two versions, two revisions: {revisions:?}"
    );

    let mut by_version = [0usize; 2];
    for (revision, index, decision) in &seen {
        let version = revisions.get(revision).copied().unwrap_or(usize::MAX);
        assert!(
            version < 2,
            "an answer from an unknown revision `{revision}`"
        );
        let want = if version == 0 { &first } else { &second }[*index].1;
        assert_eq!(
            decision,
            &json!(want),
            "request {index} answered by revision {revision} (version {version})"
        );
        by_version[version] += 1;
    }
    eprintln!(
        "reload under load: {seconds} s, {swaps} swaps, {} answers ({} old, {} new version), {} failures",
        seen.len(),
        by_version[0],
        by_version[1],
        failures.load(Ordering::Relaxed)
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests");
    assert!(swaps >= 3, "{swaps} swaps");
    assert!(by_version[0] > 0 && by_version[1] > 0, "{by_version:?}");
    let server = Arc::try_unwrap(server)
        .map_err(|_| "shared")
        .expect("the swapper has ended: the server is no longer shared");
    server.shutdown().await;
}
