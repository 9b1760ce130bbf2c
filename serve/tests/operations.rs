//! Operations over real HTTP: readiness and metrics content, reloads (admin endpoint, a
//! failing reload keeping the old engine, file watching), forward auth (allow, deny, 401,
//! malformed), and graceful shutdown.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_and_metrics_describe_the_serving_engine() {
    let scratch = Scratch::new("readyz-metrics");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let admin = format!("http://{}", server.admin_addr().expect("admin"));
    let (status, text, headers) = get(&client, &format!("{admin}/readyz")).await;
    assert_eq!(status, 200);
    let ready: Value = serde_json::from_str(&text).expect("json");
    let revision = server.revision().expect("revision");
    assert_eq!(ready["ready"], json!(true));
    assert_eq!(ready["revision"], json!(revision));
    assert_eq!(ready["evaluator"], json!("vm"));
    assert_eq!(ready["policies"], json!(engine.policies().len()));
    assert_eq!(ready["entities"], json!(engine.entities().len()));
    assert_eq!(ready["last_reload_error"], Value::Null);
    assert_eq!(
        headers
            .get("x-thuja-revision")
            .and_then(|v| v.to_str().ok()),
        Some(revision.as_str())
    );
    let (status, text, _) = get(&client, &format!("{admin}/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["revision"],
        json!(revision)
    );

    // Two allows and a deny on the AuthZEN API, one allow on the Cedar API.
    let base = format!("http://{}", server.api_addr());
    for (user, action) in [("alice", "GetList"), ("bob", "GetList"), ("bob", "Fly")] {
        let item = json!({"subject": {"type": "user", "id": user}, "action": {"name": action},
                          "resource": {"type": "list", "id": "groceries"}});
        post(
            &client,
            &format!("{base}/access/v1/evaluation"),
            &item.to_string(),
        )
        .await;
    }
    let request = std::fs::read_to_string(format!("{EXAMPLE}/request.json")).expect("request");
    post(&client, &format!("{base}/v1/is_authorized"), &request).await;
    let (status, metrics, headers) = get(&client, &format!("{admin}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/plain")),
        "{headers:?}"
    );
    let allow_alice = allowed(&decide(
        &engine,
        &json!({"type": "TinyTodo::User", "id": "alice"}),
        &json!({"type": "TinyTodo::Action", "id": "GetList"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({}),
    ));
    let allow_bob = allowed(&decide(
        &engine,
        &json!({"type": "TinyTodo::User", "id": "bob"}),
        &json!({"type": "TinyTodo::Action", "id": "GetList"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({}),
    ));
    let allows = u32::from(allow_alice) + u32::from(allow_bob);
    let count = |needle: &str| -> Option<u32> {
        metrics
            .lines()
            .find(|l| l.starts_with(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
    };
    assert_eq!(
        count("thuja_decisions_total{api=\"authzen\",decision=\"allow\"}"),
        (allows > 0).then_some(allows)
    );
    assert_eq!(
        count("thuja_decisions_total{api=\"authzen\",decision=\"error\"}"),
        Some(1)
    );
    assert_eq!(
        count("thuja_decisions_total{api=\"cedar\",decision=\"allow\"}"),
        Some(1)
    );
    assert_eq!(
        count("thuja_request_duration_seconds_count{api=\"authzen\"}"),
        Some(3)
    );
    assert_eq!(
        count("thuja_policies"),
        Some(engine.policies().len() as u32)
    );
    assert_eq!(
        count("thuja_entities"),
        Some(engine.entities().len() as u32)
    );
    assert_eq!(
        count(&format!("thuja_revision_info{{revision=\"{revision}\"}}")),
        Some(1)
    );
    // Metrics are on the admin listener only, when there is one.
    assert_eq!(get(&client, &format!("{base}/metrics")).await.0, 404);
    server.shutdown().await;
}

const FORBID_BOB: &str =
    "\n@id(\"no-bob\")\nforbid (principal == TinyTodo::User::\"bob\", action, resource);\n";

fn bob_get_list() -> String {
    json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "GetList"},
           "resource": {"type": "list", "id": "groceries"}})
    .to_string()
}

async fn bob_decision(client: &reqwest::Client, base: &str) -> (bool, String) {
    let (status, body, headers) = post(
        client,
        &format!("{base}/access/v1/evaluation"),
        &bob_get_list(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let revision = headers
        .get("x-thuja-revision")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (body["decision"].as_bool().expect("decision"), revision)
}

fn engine_bob(scratch: &Scratch) -> bool {
    allowed(&decide(
        &scratch.engine(),
        &json!({"type": "TinyTodo::User", "id": "bob"}),
        &json!({"type": "TinyTodo::Action", "id": "GetList"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({}),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_swap_good_inputs_and_keep_the_engine_on_bad_ones() {
    let scratch = Scratch::new("reload");
    let server = start(scratch.config()).await;
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let admin = format!("http://{}", server.admin_addr().expect("admin"));
    let first = server.revision().expect("revision");
    let before = engine_bob(&scratch);
    assert!(before, "bob owns the list in the example");
    assert_eq!(bob_decision(&client, &base).await, (before, first.clone()));

    // Nothing changed: nothing rebuilt.
    let (status, body, _) = post(&client, &format!("{admin}/admin/reload"), "").await;
    assert_eq!(status, 200);
    assert_eq!(body["reloaded"], json!(false));
    assert_eq!(body["revision"], json!(first));

    // A good change: a new revision, answering as the new files say.
    let policies = std::fs::read_to_string(scratch.path("policies.cedar")).expect("policies");
    scratch.write("policies.cedar", &format!("{policies}{FORBID_BOB}"));
    let after = engine_bob(&scratch);
    assert!(!after);
    let (status, body, _) = post(&client, &format!("{admin}/admin/reload"), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reloaded"], json!(true));
    let second = body["revision"].as_str().expect("revision").to_string();
    assert_ne!(second, first);
    assert_eq!(bob_decision(&client, &base).await, (after, second.clone()));

    // A bad change: 422 naming the problem; the previous engine keeps serving.
    scratch.write(
        "policies.cedar",
        &format!("{policies}{FORBID_BOB}\npermit (principal, action, resource) when {{ oops"),
    );
    let (status, body, _) = post(&client, &format!("{admin}/admin/reload"), "").await;
    assert_eq!(status, 422, "{body}");
    let message = error_message(&body);
    assert!(message.contains("policies.cedar"), "{message}");
    assert_eq!(bob_decision(&client, &base).await, (after, second.clone()));
    let (_, text, _) = get(&client, &format!("{admin}/readyz")).await;
    let ready: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(ready["revision"], json!(second));
    assert!(
        ready["last_reload_error"]
            .as_str()
            .is_some_and(|e| e.contains("policies.cedar")),
        "{ready}"
    );
    assert_eq!(ready["reloads"], json!({"ok": 2, "failed": 1}));
    // An entities file that does not conform to the schema fails too.
    scratch.write("policies.cedar", &format!("{policies}{FORBID_BOB}"));
    scratch.write(
        "entities.json",
        r#"[{"uid": {"type": "TinyTodo::User", "id": "x"}, "attrs": {"name": 5}, "parents": []}]"#,
    );
    let (status, body, _) = post(&client, &format!("{admin}/admin/reload"), "").await;
    assert_eq!(status, 422, "{body}");
    let (_, metrics, _) = get(&client, &format!("{admin}/metrics")).await;
    for line in [
        "thuja_reloads_total{result=\"ok\"} 1",
        "thuja_reloads_total{result=\"unchanged\"} 1",
        "thuja_reloads_total{result=\"error\"} 2",
        &format!("thuja_revision_info{{revision=\"{second}\"}} 1"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}` in\n{metrics}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_reloaded_by_the_watcher() {
    let scratch = Scratch::new("watch");
    let mut config = scratch.config();
    config.watch = true;
    config.watch_debounce = Duration::from_millis(50);
    let server = start(config).await;
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let first = server.revision().expect("revision");
    assert!(bob_decision(&client, &base).await.0);
    let policies = std::fs::read_to_string(scratch.path("policies.cedar")).expect("policies");
    // Written as editors do: a new file renamed over the old one.
    scratch.write("policies.cedar.tmp", &format!("{policies}{FORBID_BOB}"));
    std::fs::rename(
        scratch.path("policies.cedar.tmp"),
        scratch.path("policies.cedar"),
    )
    .expect("rename");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (allowed, revision) = bob_decision(&client, &base).await;
        if revision != first {
            assert!(!allowed, "the new revision answers with the new policies");
            assert_eq!(allowed, engine_bob(&scratch));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no reload within 20 s of the change"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}

/// A forward-auth call as nginx makes it.
async fn forward(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    uri: &str,
    user: Option<&str>,
    ip: &str,
) -> u16 {
    let mut request = client
        .get(format!("{base}/forward-auth"))
        .header("X-Original-Method", method)
        .header("X-Original-URI", uri)
        .header("X-Real-IP", ip);
    if let Some(user) = user {
        request = request.header("X-User", user);
    }
    request.send().await.expect("answer").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_allows_denies_and_asks_for_a_principal() {
    let scratch = Scratch::new("forward-auth");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let routes = [
        ("GET", "/lists/groceries", "GetList"),
        ("PUT", "/lists/groceries", "UpdateList"),
        ("DELETE", "/lists/groceries", "DeleteList"),
        ("POST", "/lists/groceries/tasks", "CreateTask"),
        ("PUT", "/lists/groceries/tasks/7?done=true", "UpdateTask"),
        ("DELETE", "/lists/groceries/tasks/7", "DeleteTask"),
    ];
    let (mut allows, mut denies) = (0, 0);
    for user in USERS {
        for (method, uri, action) in routes {
            for ip in ["10.1.2.3", "192.0.2.7"] {
                let want = allowed(&decide(
                    &engine,
                    &json!({"type": "TinyTodo::User", "id": user}),
                    &json!({"type": "TinyTodo::Action", "id": action}),
                    &json!({"type": "TinyTodo::List", "id": "groceries"}),
                    &json!({"ip": ip}),
                ));
                let status = forward(&client, &base, method, uri, Some(user), ip).await;
                assert_eq!(
                    status,
                    if want { 200 } else { 403 },
                    "{user} {method} {uri} from {ip}"
                );
                if want { allows += 1 } else { denies += 1 }
            }
        }
    }
    assert!(allows > 3 && denies > 3, "{allows} allows, {denies} denies");
    // The application-level routes.
    for user in USERS {
        let want = allowed(&decide(
            &engine,
            &json!({"type": "TinyTodo::User", "id": user}),
            &json!({"type": "TinyTodo::Action", "id": "CreateList"}),
            &json!({"type": "TinyTodo::Application", "id": "TinyTodo"}),
            &json!({}),
        ));
        // The route's own (empty) context: CreateList's context type has no `ip`.
        let status = forward(&client, &base, "POST", "/lists", Some(user), "10.1.2.3").await;
        assert_eq!(status, if want { 200 } else { 403 }, "{user}: CreateList");
    }
    // No principal: 401.
    assert_eq!(
        forward(&client, &base, "GET", "/lists/groceries", None, "10.1.2.3").await,
        401
    );
    assert_eq!(
        forward(
            &client,
            &base,
            "GET",
            "/lists/groceries",
            Some(""),
            "10.1.2.3"
        )
        .await,
        401
    );
    // Malformed or unmapped: 403.
    for (method, uri, ip) in [
        ("GET", "/nowhere", "10.1.2.3"),
        ("PATCH", "/lists/groceries", "10.1.2.3"),
        ("GET", "/lists/../admin", "10.1.2.3"),
        ("GET", "/lists/groceries", "not-an-address"),
        ("GET", "lists/groceries", "10.1.2.3"),
    ] {
        assert_eq!(
            forward(&client, &base, method, uri, Some("alice"), ip).await,
            403,
            "{method} {uri} {ip}"
        );
    }
    // No original URI at all: 403.
    let status = client
        .get(format!("{base}/forward-auth"))
        .header("X-User", "alice")
        .send()
        .await
        .expect("answer")
        .status()
        .as_u16();
    assert_eq!(status, 403);
    // Traefik's and Caddy's headers.
    let status = client
        .get(format!("{base}/forward-auth"))
        .header("X-Forwarded-Method", "GET")
        .header("X-Forwarded-Uri", "/lists/groceries")
        .header("X-Forwarded-Host", "todo.example")
        .header("X-Real-IP", "10.1.2.3")
        .header("X-User", "alice")
        .send()
        .await
        .expect("answer")
        .status()
        .as_u16();
    let want = allowed(&decide(
        &engine,
        &json!({"type": "TinyTodo::User", "id": "alice"}),
        &json!({"type": "TinyTodo::Action", "id": "GetList"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({"ip": "10.1.2.3"}),
    ));
    assert_eq!(status, if want { 200 } else { 403 });
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_listeners_and_a_failed_start_is_reported() {
    let scratch = Scratch::new("shutdown");
    let server = start(scratch.config()).await;
    let addr = server.api_addr();
    let client = client();
    assert_eq!(get(&client, &format!("http://{addr}/healthz")).await.0, 200);
    tokio::time::timeout(Duration::from_secs(15), server.shutdown())
        .await
        .expect("shutdown within 15 s");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the listener is closed"
    );

    // Inputs that do not build: start fails with the reason.
    scratch.write(
        "policies.cedar",
        "permit(principal, action, resource) when { 1 + };",
    );
    let error = match thuja_serve::Server::start(scratch.config()).await {
        Ok(_) => panic!("a server started on broken policies"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("policies.cedar"), "{error}");
    // A broken mapping file too.
    scratch.write("forward-auth.json", "{\"principal\": {}}");
    let mut config = scratch.config();
    config.policies = std::path::PathBuf::from(format!("{EXAMPLE}/policies.cedar"));
    let error = match thuja_serve::Server::start(config).await {
        Ok(_) => panic!("a server started with a broken mapping"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("forward-auth.json"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_validate_policies_the_schema_rejects_are_refused() {
    let scratch = Scratch::new("validate");
    let mut config = scratch.config();
    config.validate = true;
    let server = start(config.clone()).await;
    let client = client();
    let admin = format!("http://{}", server.admin_addr().expect("admin"));
    let first = server.revision().expect("revision");
    // Parses, but reads an attribute the schema does not declare.
    let policies = std::fs::read_to_string(scratch.path("policies.cedar")).expect("policies");
    let invalid = format!(
        "{policies}\n@id(\"bad\")\npermit (principal, action, resource) when {{ principal.age > 3 }};\n"
    );
    scratch.write("policies.cedar", &invalid);
    let (status, body, _) = post(&client, &format!("{admin}/admin/reload"), "").await;
    assert_eq!(status, 422, "{body}");
    let message = error_message(&body);
    assert!(
        message.contains("not valid for the schema") && message.contains("bad"),
        "{message}"
    );
    assert_eq!(server.revision().as_deref(), Some(first.as_str()));
    server.shutdown().await;
    // The same files do not start a validating server.
    let error = match thuja_serve::Server::start(config).await {
        Ok(_) => panic!("a validating server started on invalid policies"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("not valid for the schema"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_until_the_first_engine_is_built() {
    let scratch = Scratch::new("not-ready");
    // The policy file is a FIFO: loading blocks until the test writes the policies into it.
    let fifo = scratch.path("policies.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let _unblock = Unblock(fifo.clone());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut config = scratch.config();
    config.policies = fifo.clone();
    config.listen = format!("127.0.0.1:{port}").parse().expect("addr");
    config.admin_listen = None;
    let starting = tokio::spawn(thuja_serve::Server::start(config));
    let client = client();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, text) = loop {
        if let Ok(answer) = client.get(format!("{base}/readyz")).send().await {
            let status = answer.status().as_u16();
            break (status, answer.text().await.unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "the listener did not open within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("building the engine"), "{text}");
    let item = json!({"subject": {"type": "user", "id": "alice"}, "action": {"name": "GetList"},
                      "resource": {"type": "list", "id": "groceries"}});
    let (status, body, _) = post(
        &client,
        &format!("{base}/access/v1/evaluation"),
        &item.to_string(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(error_message(&body).contains("not ready"), "{body}");
    let policies = std::fs::read_to_string(format!("{EXAMPLE}/policies.cedar")).expect("policies");
    tokio::task::spawn_blocking(move || std::fs::write(&fifo, policies).expect("write the FIFO"))
        .await
        .expect("task");
    let server = tokio::time::timeout(Duration::from_secs(60), starting)
        .await
        .expect("started within a minute")
        .expect("task")
        .expect("the server starts");
    assert_eq!(get(&client, &format!("{base}/readyz")).await.0, 200);
    assert_eq!(
        post(
            &client,
            &format!("{base}/access/v1/evaluation"),
            &item.to_string()
        )
        .await
        .0,
        200
    );
    server.shutdown().await;
}

/// Should the test fail before writing the FIFO, opens it for writing (without blocking: a
/// FIFO nobody reads fails to open at once) so that the loading thread reads an end of file
/// and the test ends instead of hanging.
struct Unblock(std::path::PathBuf);

impl Drop for Unblock {
    fn drop(&mut self) {
        use std::os::unix::fs::OpenOptionsExt;
        /// Linux's O_NONBLOCK.
        const O_NONBLOCK: i32 = 0o4000;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(&self.0);
    }
}

/// The decision log's lines, once it has `count` of them (polled: a thread writes it).
fn log_lines(path: &std::path::Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        if lines.len() >= count || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_log_records_every_decision_or_a_sample() {
    let scratch = Scratch::new("decision-log");
    let log = scratch.path("decisions.jsonl");
    let mut config = scratch.config();
    config.decision_log = Some(log.clone());
    let server = start(config).await;
    let engine = scratch.engine();
    let revision = server.revision().expect("serving");
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let mut wanted = Vec::new();
    for user in USERS {
        for action in LIST_ACTIONS {
            let response = decide(
                &engine,
                &json!({"type": "TinyTodo::User", "id": user}),
                &json!({"type": "TinyTodo::Action", "id": action}),
                &json!({"type": "TinyTodo::List", "id": "groceries"}),
                &json!({"ip": "10.0.0.1"}),
            );
            let body = json!({"subject": {"type": "user", "id": user}, "action": {"name": action},
                "resource": {"type": "list", "id": "groceries"}, "context": {"ip": "10.0.0.1"}});
            let (status, _, _) = post(
                &client,
                &format!("{base}/access/v1/evaluation"),
                &body.to_string(),
            )
            .await;
            assert_eq!(status, 200);
            wanted.push(("authzen", user, action, response));
        }
    }
    // A Cedar-native decision and a forward-auth one are logged too; a malformed request is not.
    let cedar = json!({"principal": {"type": "TinyTodo::User", "id": "alice"},
        "action": {"type": "TinyTodo::Action", "id": "GetLists"},
        "resource": {"type": "TinyTodo::Application", "id": "TinyTodo"}});
    // Its X-Request-ID goes into its line.
    let status = client
        .post(format!("{base}/v1/is_authorized"))
        .header("Content-Type", "application/json")
        .header("X-Request-ID", "req-42")
        .body(cedar.to_string())
        .send()
        .await
        .expect("answered")
        .status();
    assert_eq!(status, 200);
    let (status, _, _) = post(
        &client,
        &format!("{base}/v1/is_authorized"),
        "{\"principal\": 1}",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        forward(
            &client,
            &base,
            "GET",
            "/lists/groceries",
            Some("casey"),
            "10.1.2.3"
        )
        .await,
        200
    );

    let lines = log_lines(&log, wanted.len() + 2);
    assert_eq!(lines.len(), wanted.len() + 2, "{lines:?}");
    for (line, (api, user, action, response)) in lines.iter().zip(&wanted) {
        assert_eq!(line["api"], json!(api));
        assert_eq!(
            line["principal"],
            json!(format!("TinyTodo::User::\"{user}\""))
        );
        assert_eq!(
            line["action"],
            json!(format!("TinyTodo::Action::\"{action}\""))
        );
        assert_eq!(line["resource"], json!("TinyTodo::List::\"groceries\""));
        assert_eq!(line["context"]["ip"]["__extn"]["arg"], json!("10.0.0.1"));
        assert_eq!(
            line["decision"],
            json!(if allowed(response) { "allow" } else { "deny" })
        );
        let reasons: Vec<&str> = response.reasons.iter().map(AsRef::as_ref).collect();
        assert_eq!(line["reasons"], json!(reasons));
        assert_eq!(line["errors"], json!([]));
        assert_eq!(line["revision"], json!(revision));
        assert!(line["duration_us"].is_u64(), "{line}");
        assert!(
            line.get("request_id").is_none(),
            "no X-Request-ID sent: {line}"
        );
        let time = line["time"].as_str().expect("time");
        assert!(
            time.len() == 24 && time.ends_with('Z') && time.starts_with("20"),
            "{time}"
        );
    }
    assert_eq!(lines[wanted.len()]["api"], json!("cedar"));
    assert_eq!(lines[wanted.len()]["request_id"], json!("req-42"));
    assert_eq!(lines[wanted.len() + 1]["api"], json!("forward_auth"));
    assert_eq!(lines[wanted.len() + 1]["decision"], json!("allow"));
    server.shutdown().await;

    // Sampled: every fourth decision.
    let sampled = scratch.path("sampled.jsonl");
    let mut config = scratch.config();
    config.decision_log = Some(sampled.clone());
    config.decision_log_sample = 0.25;
    let server = start(config).await;
    let base = format!("http://{}", server.api_addr());
    for _ in 0..40 {
        let (status, _, _) = post(
            &client,
            &format!("{base}/v1/is_authorized"),
            &cedar.to_string(),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(log_lines(&sampled, 10).len(), 10);
    // Give the writer time to write any line beyond the sample: there must be none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log_lines(&sampled, 10).len(), 10);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_mapping_is_reloaded_with_the_inputs() {
    let scratch = Scratch::new("mapping-reload");
    let server = start(scratch.config()).await;
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let engine = scratch.engine();
    let casey = |action: &str| {
        allowed(&decide(
            &engine,
            &json!({"type": "TinyTodo::User", "id": "casey"}),
            &json!({"type": "TinyTodo::Action", "id": action}),
            &json!({"type": "TinyTodo::List", "id": "groceries"}),
            &json!({"ip": "10.1.2.3"}),
        ))
    };
    assert!(
        casey("GetList") && !casey("DeleteList"),
        "casey reads, may not delete"
    );
    let get = || {
        forward(
            &client,
            &base,
            "GET",
            "/lists/groceries",
            Some("casey"),
            "10.1.2.3",
        )
    };
    assert_eq!(get().await, 200);
    let first = server.revision().expect("serving");

    // GET now maps to DeleteList: the reload takes the new mapping, with a new revision.
    let original = std::fs::read_to_string(scratch.path("forward-auth.json")).expect("mapping");
    let changed = original.replacen(
        "\"methods\": [\"GET\"], \"path\": \"/lists/{list}\", \"action\": \"GetList\"",
        "\"methods\": [\"GET\"], \"path\": \"/lists/{list}\", \"action\": \"DeleteList\"",
        1,
    );
    assert_ne!(
        changed, original,
        "the example's GetList route is as expected"
    );
    scratch.write("forward-auth.json", &changed);
    server.reload().await.expect("reloaded");
    assert_ne!(server.revision().expect("serving"), first);
    assert_eq!(get().await, 403);

    // A broken mapping is refused and the previous one keeps serving.
    scratch.write("forward-auth.json", "{\"principal\": {}}");
    let error = server.reload().await.expect_err("refused");
    assert!(error.contains("forward-auth.json"), "{error}");
    assert_eq!(get().await, 403);
    scratch.write("forward-auth.json", &original);
    server.reload().await.expect("reloaded");
    assert_eq!(get().await, 200);
    assert_eq!(server.revision().expect("serving"), first);
    server.shutdown().await;
}

/// Seconds since the epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_claim_names_the_principal_when_the_token_verifies() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let scratch = Scratch::new("jwt");
    let signer = rcgen::KeyPair::generate().expect("an ES256 key pair");
    scratch.write("jwt-public.pem", &signer.public_key_pem());
    let original = std::fs::read_to_string(scratch.path("forward-auth.json")).expect("mapping");
    let mut mapping: Value = serde_json::from_str(&original).expect("JSON");
    mapping["principal"] = json!({"type": "TinyTodo::User", "jwt": {
        "algorithm": "ES256", "key_file": "jwt-public.pem",
        "issuer": "https://idp.test", "audience": "todo"}});
    scratch.write("forward-auth.json", &mapping.to_string());
    let server = start(scratch.config()).await;
    let client = client();
    let url = format!("http://{}/forward-auth", server.api_addr());
    let sign = |claims: Value, key: &rcgen::KeyPair| {
        let key = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).expect("key");
        encode(&Header::new(Algorithm::ES256), &claims, &key).expect("token")
    };
    let claims = |sub: &str| json!({"sub": sub, "exp": now() + 600, "iss": "https://idp.test", "aud": "todo"});
    let ask = |method: &'static str, token: Option<String>| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let mut request = client
                .get(&url)
                .header("X-Original-Method", method)
                .header("X-Original-URI", "/lists/groceries")
                .header("X-Real-IP", "10.1.2.3")
                // A plain identity header means nothing when the mapping asks for a token.
                .header("X-User", "bob");
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (
                status,
                body["reason"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    // casey may read the list, not delete it.
    assert_eq!(
        ask("GET", Some(sign(claims("casey"), &signer))).await.0,
        200
    );
    assert_eq!(
        ask("DELETE", Some(sign(claims("casey"), &signer))).await.0,
        403
    );
    // Tokens that do not name a principal: 401, saying why.
    let other_key = rcgen::KeyPair::generate().expect("another key pair");
    let mut expired = claims("casey");
    expired["exp"] = json!(now() - 3600);
    let mut wrong_issuer = claims("casey");
    wrong_issuer["iss"] = json!("https://evil.test");
    let mut wrong_audience = claims("casey");
    wrong_audience["aud"] = json!("other");
    let mut no_subject = claims("casey");
    no_subject.as_object_mut().expect("object").remove("sub");
    let hs256 = encode(
        &Header::new(Algorithm::HS256),
        &claims("casey"),
        &EncodingKey::from_secret(signer.public_key_pem().as_bytes()),
    )
    .expect("token");
    for (what, token, needle) in [
        ("no token", None, "no token"),
        ("expired", Some(sign(expired, &signer)), "not valid"),
        (
            "wrong issuer",
            Some(sign(wrong_issuer, &signer)),
            "not valid",
        ),
        (
            "wrong audience",
            Some(sign(wrong_audience, &signer)),
            "not valid",
        ),
        (
            "another key",
            Some(sign(claims("casey"), &other_key)),
            "not valid",
        ),
        ("another algorithm", Some(hs256), "not valid"),
        (
            "no subject",
            Some(sign(no_subject, &signer)),
            "no `sub` claim",
        ),
        ("garbage", Some("not.a.token".to_string()), "not valid"),
    ] {
        let (status, reason) = ask("GET", token).await;
        assert_eq!(status, 401, "{what}");
        assert!(reason.contains(needle), "{what}: {reason}");
    }
    server.shutdown().await;

    // Configurations that cannot verify anything are refused at start.
    for (jwt, needle) in [
        (
            json!({"algorithm": "XX999", "key_file": "jwt-public.pem"}),
            "not a JWT algorithm",
        ),
        (json!({"algorithm": "ES256"}), "needs `key_file`"),
        (json!({"algorithm": "HS256"}), "needs `secret_file`"),
        (
            json!({"algorithm": "ES256", "key_file": "missing.pem"}),
            "missing.pem",
        ),
        (
            json!({"algorithm": "RS256", "key_file": "jwt-public.pem"}),
            "key_file",
        ),
    ] {
        mapping["principal"] = json!({"type": "TinyTodo::User", "jwt": jwt});
        scratch.write("forward-auth.json", &mapping.to_string());
        let error = match thuja_serve::Server::start(scratch.config()).await {
            Ok(server) => {
                server.shutdown().await;
                "started".to_string()
            }
            Err(e) => e.to_string(),
        };
        assert!(error.contains(needle), "{jwt}: {error}");
    }
}
