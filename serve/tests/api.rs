//! The decision APIs over real HTTP: AuthZEN 1.0 (evaluation, evaluations with all three
//! semantics, the metadata document), the Cedar-native endpoints, and their error answers
//! (malformed JSON, wrong types, unknown entity types, oversized bodies, missing token), each
//! decision compared with the engine's own answer on the same files.

mod support;

use std::io::{Read, Write};

use serde_json::{Value, json};
use support::*;

fn authzen_item(user: &str, action: &str, resource: (&str, &str), ip: Option<&str>) -> Value {
    let mut item = json!({
        "subject": {"type": "user", "id": user},
        "action": {"name": action},
        "resource": {"type": resource.0, "id": resource.1},
    });
    if let Some(ip) = ip {
        item["context"] = json!({"ip": ip});
    }
    item
}

/// What the engine answers to an AuthZEN item, mapped by hand as the type map says.
fn expected(engine: &thuja::Engine, item: &Value) -> bool {
    fn ty(t: &str) -> &str {
        match t {
            "user" => "TinyTodo::User",
            "list" => "TinyTodo::List",
            "application" => "TinyTodo::Application",
            // Not renamed: used as given, as the server does.
            other => other,
        }
    }
    let response = decide(
        engine,
        &json!({"type": ty(item["subject"]["type"].as_str().unwrap_or_default()), "id": item["subject"]["id"]}),
        &json!({"type": "TinyTodo::Action", "id": item["action"]["name"]}),
        &json!({"type": ty(item["resource"]["type"].as_str().unwrap_or_default()), "id": item["resource"]["id"]}),
        item.get("context").unwrap_or(&json!({})),
    );
    allowed(&response)
}

/// Every user, every list action, on the list, from inside and outside the office network;
/// and the application-level actions.
fn all_items() -> Vec<Value> {
    let mut items = Vec::new();
    for user in USERS {
        for action in LIST_ACTIONS {
            for ip in [None, Some("10.1.2.3"), Some("192.0.2.7")] {
                items.push(authzen_item(user, action, ("list", "groceries"), ip));
            }
        }
        for action in ["CreateList", "GetLists"] {
            items.push(authzen_item(
                user,
                action,
                ("application", "TinyTodo"),
                None,
            ));
        }
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_evaluation_answers_as_the_engine_does() {
    let scratch = Scratch::new("authzen-evaluation");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let url = format!("http://{}/access/v1/evaluation", server.api_addr());
    let (mut allows, mut denies) = (0, 0);
    for item in all_items() {
        let (status, body, headers) = post(&client, &url, &item.to_string()).await;
        assert_eq!(status, 200, "{item} -> {body}");
        let want = expected(&engine, &item);
        assert_eq!(body, json!({"decision": want}), "{item}");
        assert_eq!(
            headers
                .get("x-thuja-revision")
                .and_then(|v| v.to_str().ok()),
            server.revision().as_deref()
        );
        if want { allows += 1 } else { denies += 1 }
    }
    // The set exercises both answers.
    assert!(allows > 5 && denies > 5, "{allows} allows, {denies} denies");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_reveal_puts_reasons_and_errors_in_the_context() {
    let scratch = Scratch::new("authzen-reveal");
    let mut config = scratch.config();
    config.reveal = true;
    let server = start(config).await;
    let engine = scratch.engine();
    let client = client();
    let url = format!("http://{}/access/v1/evaluation", server.api_addr());
    let item = authzen_item(
        "alice",
        "UpdateTask",
        ("list", "groceries"),
        Some("10.1.2.3"),
    );
    let (status, body, _) = post(&client, &url, &item.to_string()).await;
    assert_eq!(status, 200);
    let response = decide(
        &engine,
        &json!({"type": "TinyTodo::User", "id": "alice"}),
        &json!({"type": "TinyTodo::Action", "id": "UpdateTask"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({"ip": "10.1.2.3"}),
    );
    let reasons: Vec<&str> = response.reasons.iter().map(AsRef::as_ref).collect();
    assert!(!reasons.is_empty());
    assert_eq!(body["decision"], json!(allowed(&response)));
    assert_eq!(body["context"]["reasons"], json!(reasons));
    assert_eq!(body["context"]["errors"], json!([]));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_evaluations_defaults_overrides_and_the_three_semantics() {
    let scratch = Scratch::new("authzen-evaluations");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let url = format!("http://{}/access/v1/evaluations", server.api_addr());

    // Top-level subject and context are defaults; items give action and resource, and one
    // item overrides the subject.
    let items: Vec<Value> = vec![
        json!({"action": {"name": "GetLists"}, "resource": {"type": "application", "id": "TinyTodo"}, "context": {}}),
        json!({"action": {"name": "DeleteList"}, "resource": {"type": "list", "id": "groceries"}}),
        json!({"action": {"name": "GetList"}, "resource": {"type": "list", "id": "groceries"},
               "subject": {"type": "user", "id": "casey"}}),
        json!({"action": {"name": "UpdateList"}, "resource": {"type": "list", "id": "groceries"},
               "subject": {"type": "user", "id": "casey"}}),
        json!({"action": {"name": "GetList"}, "resource": {"type": "list", "id": "groceries"}}),
    ];
    let defaults =
        json!({"subject": {"type": "user", "id": "alice"}, "context": {"ip": "192.0.2.7"}});
    let merged: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut full = defaults.clone();
            for (k, v) in item.as_object().expect("object") {
                full[k] = v.clone();
            }
            full
        })
        .collect();
    let want: Vec<bool> = merged.iter().map(|item| expected(&engine, item)).collect();
    assert!(want.contains(&true) && want.contains(&false), "{want:?}");

    let request = |semantic: Option<&str>| {
        let mut body = defaults.clone();
        body["evaluations"] = json!(items);
        if let Some(semantic) = semantic {
            body["options"] = json!({"evaluations_semantic": semantic});
        }
        body.to_string()
    };
    let decisions = |body: &Value| -> Vec<bool> {
        body["evaluations"]
            .as_array()
            .expect("evaluations array")
            .iter()
            .map(|e| e["decision"].as_bool().expect("boolean decision"))
            .collect()
    };

    for semantic in [None, Some("execute_all")] {
        let (status, body, _) = post(&client, &url, &request(semantic)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(decisions(&body), want, "{semantic:?}");
    }
    let first_deny = want.iter().position(|d| !d).expect("a deny");
    let (status, body, _) = post(&client, &url, &request(Some("deny_on_first_deny"))).await;
    assert_eq!(status, 200);
    assert_eq!(decisions(&body), want[..=first_deny].to_vec());
    let first_permit = want.iter().position(|d| *d).expect("a permit");
    let (status, body, _) = post(&client, &url, &request(Some("permit_on_first_permit"))).await;
    assert_eq!(status, 200);
    assert_eq!(decisions(&body), want[..=first_permit].to_vec());

    // Without `evaluations`, the request is one evaluation.
    let single = merged[0].to_string();
    let (status, body, _) = post(&client, &url, &single).await;
    assert_eq!((status, body), (200, json!({"decision": want[0]})));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_errors_are_clear_4xx_answers() {
    let scratch = Scratch::new("authzen-errors");
    let mut config = scratch.config();
    config.max_body_bytes = 64 * 1024;
    let server = start(config).await;
    let client = client();
    let one = format!("http://{}/access/v1/evaluation", server.api_addr());
    let many = format!("http://{}/access/v1/evaluations", server.api_addr());
    let good = authzen_item("alice", "GetList", ("list", "groceries"), None);
    let with = |path: &str, value: Value| {
        let mut item = good.clone();
        let (outer, inner) = path.split_once('.').unwrap_or((path, ""));
        if inner.is_empty() {
            item[outer] = value;
        } else {
            item[outer][inner] = value;
        }
        item.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("{not json".to_string(), "not valid JSON"),
        ("[1, 2]".to_string(), "must be a JSON object"),
        (
            with("subject.id", json!(7)),
            "`subject.id` must be a string",
        ),
        (
            with("subject.type", json!(null)),
            "`subject.type` is required",
        ),
        (
            with("resource", json!("groceries")),
            "`resource` must be a JSON object",
        ),
        (
            with("action.name", json!(["GetList"])),
            "`action.name` must be a string",
        ),
        (with("context", json!([1])), "`context` must be an object"),
        (with("context", json!({"ip": 5})), "context"),
        (with("subject.type", json!("robot")), "`robot`"),
        (
            with("subject.type", json!("not a type")),
            "not a Cedar entity type name",
        ),
        (with("action.name", json!("Fly")), "Fly"),
        (
            with("subject.properties", json!({"department": "Sales"})),
            "`subject.properties`",
        ),
        (
            with("resource.properties", json!({"name": 5})),
            "`resource.properties`",
        ),
        (
            with("action.properties", json!({"risky": true})),
            "`action.properties` cannot be set",
        ),
        (
            with("resource.properties", json!("x")),
            "`resource.properties` must be an object",
        ),
    ];
    for (body, needle) in &cases {
        let (status, answer, _) = post(&client, &one, body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["status"], json!(400));
        let message = error_message(&answer);
        assert!(
            message.contains(needle),
            "{body}: `{message}` should mention `{needle}`"
        );
    }
    // Empty properties are no properties.
    let (status, _, _) = post(&client, &one, &with("subject.properties", json!({}))).await;
    assert_eq!(status, 200);

    // In a batch, a bad item is a deny with its error; the others are still answered.
    let body = json!({"evaluations": [good, {"subject": 1}, good]}).to_string();
    let (status, answer, _) = post(&client, &many, &body).await;
    assert_eq!(status, 200, "{answer}");
    let evaluations = answer["evaluations"].as_array().expect("array");
    assert_eq!(evaluations.len(), 3);
    assert_eq!(evaluations[1]["decision"], json!(false));
    assert_eq!(evaluations[1]["context"]["error"]["status"], json!(400));
    assert!(
        evaluations[1]["context"]["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("evaluations[1]")
    );
    assert_eq!(evaluations[0], evaluations[2]);
    for (body, needle) in [
        (json!({"evaluations": 5}), "`evaluations` must be an array"),
        (
            json!({"evaluations": [good], "options": {"evaluations_semantic": "any"}}),
            "evaluations_semantic",
        ),
        (
            json!({"evaluations": [good], "options": []}),
            "`options` must be an object",
        ),
    ] {
        let (status, answer, _) = post(&client, &many, &body.to_string()).await;
        assert_eq!(status, 400, "{body}");
        assert!(error_message(&answer).contains(needle), "{answer}");
    }

    // A body over the limit: 413, whether its length is declared or not.
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(100 * 1024));
    let (status, answer, _) = post(&client, &one, &huge).await;
    assert_eq!(status, 413);
    assert!(error_message(&answer).contains("limit"), "{answer}");
    let chunked = raw_chunked_post(server.api_addr(), "/access/v1/evaluation", &huge);
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    // A 100 MB body announced: answered (413) or the connection closed at once, never read.
    let addr = server.api_addr();
    let announced = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("timeout");
        let _ = write!(
            stream,
            "POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n{{\"pad\": \""
        );
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .expect("task");
    assert!(
        announced.is_empty() || announced.starts_with("HTTP/1.1 413"),
        "{announced}"
    );

    // Wrong method and unknown path: JSON errors too.
    let (status, text, _) = get(&client, &one).await;
    assert_eq!(status, 405);
    assert!(text.contains("\"status\":405"), "{text}");
    let (status, _, _) = get(
        &client,
        &format!("http://{}/access/v2/x", server.api_addr()),
    )
    .await;
    assert_eq!(status, 404);
    // The server still answers.
    let (status, _, _) = post(&client, &one, &good.to_string()).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

/// Sends `body` with `Transfer-Encoding: chunked` (no declared length) and returns the raw
/// answer.
fn raw_chunked_post(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(8192) {
        request.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            String::from_utf8_lossy(chunk)
        ));
    }
    request.push_str("0\r\n\r\n");
    // The server may answer and close before reading everything.
    let _ = stream.write_all(request.as_bytes());
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_metadata_names_the_endpoints() {
    let scratch = Scratch::new("authzen-metadata");
    let server = start(scratch.config()).await;
    let base = format!("http://{}", server.api_addr());
    let answer = client()
        .get(format!("{base}/.well-known/authzen-configuration"))
        .header("X-Request-ID", "bfe9eb29-ab87")
        .send()
        .await
        .expect("answer");
    assert_eq!(
        answer
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("bfe9eb29-ab87"),
        "the request id is echoed"
    );
    let (status, text, headers) = get(
        &client(),
        &format!("{base}/.well-known/authzen-configuration"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let metadata: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(metadata["policy_decision_point"], json!(base));
    assert_eq!(
        metadata["access_evaluation_endpoint"],
        json!(format!("{base}/access/v1/evaluation"))
    );
    assert_eq!(
        metadata["access_evaluations_endpoint"],
        json!(format!("{base}/access/v1/evaluations"))
    );
    for what in ["subject", "resource", "action"] {
        assert_eq!(
            metadata[format!("search_{what}_endpoint")],
            json!(format!("{base}/access/v1/search/{what}"))
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cedar_native_endpoints_answer_as_batch_mode_writes() {
    let scratch = Scratch::new("cedar-native");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let request = std::fs::read_to_string(format!("{EXAMPLE}/request.json")).expect("request");
    let (status, body, _) = post(&client, &format!("{base}/v1/is_authorized"), &request).await;
    assert_eq!(status, 200);
    let parsed: Value = serde_json::from_str(&request).expect("json");
    let schema = thuja::input::RequestSchema::of(engine.schema(), true);
    let want = engine
        .decide(
            &thuja::input::request_json_from_str("request.json", &request, schema)
                .expect("request"),
        )
        .expect("decided");
    let want: Value = serde_json::from_str(&thuja::output::response_json(&want)).expect("json");
    assert_eq!(body, want);
    assert!(parsed["principal"].is_string());

    // A batch: every user on every list action, plus invalid items, answered in order.
    let mut requests = Vec::new();
    let mut wanted = Vec::new();
    for user in USERS {
        for action in LIST_ACTIONS {
            let principal = json!({"type": "TinyTodo::User", "id": user});
            let action = json!({"type": "TinyTodo::Action", "id": action});
            let resource = json!({"type": "TinyTodo::List", "id": "groceries"});
            let context = json!({"ip": "10.0.0.1"});
            let response = decide(&engine, &principal, &action, &resource, &context);
            wanted.push(
                serde_json::from_str::<Value>(&thuja::output::response_json(&response))
                    .expect("json"),
            );
            requests.push(json!({"principal": principal, "action": action, "resource": resource, "context": context}));
        }
    }
    requests.push(json!({"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"GetList\""}));
    requests.push(
        json!({"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"GetList\"",
                          "resource": "TinyTodo::List::\"groceries\"", "entities": {}}),
    );
    requests.push(json!(42));
    let (status, body, _) = post(
        &client,
        &format!("{base}/v1/is_authorized/batch"),
        &json!(requests).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answers = body.as_array().expect("array");
    assert_eq!(answers.len(), requests.len());
    assert_eq!(answers[..wanted.len()].to_vec(), wanted);
    let errors: Vec<&str> = answers[wanted.len()..]
        .iter()
        .map(|a| a["error"].as_str().expect("error"))
        .collect();
    assert!(errors[0].contains("`resource` is required"), "{errors:?}");
    assert!(
        errors[1].contains("`entities` must be an array"),
        "{errors:?}"
    );
    assert!(errors[2].contains("must be a JSON object"), "{errors:?}");

    for (body, needle) in [
        ("{", "not valid JSON"),
        (
            "{\"principal\": 1, \"action\": 2, \"resource\": 3}",
            "principal",
        ),
        (
            "{\"principal\": \"TinyTodo::User::\\\"alice\\\"\", \"action\": \"TinyTodo::Action::\\\"GetList\\\"\", \"resource\": \"TinyTodo::List::\\\"groceries\\\"\", \"extra\": 1}",
            "unknown field `extra`",
        ),
        (
            "{\"principal\": \"Nope::\\\"alice\\\"\", \"action\": \"TinyTodo::Action::\\\"GetList\\\"\", \"resource\": \"TinyTodo::List::\\\"groceries\\\"\"}",
            "Nope",
        ),
    ] {
        let (status, answer, _) = post(&client, &format!("{base}/v1/is_authorized"), body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(error_message(&answer).contains(needle), "{body}: {answer}");
    }
    let (status, answer, _) = post(&client, &format!("{base}/v1/is_authorized/batch"), "{}").await;
    assert_eq!(status, 400);
    assert!(
        error_message(&answer).contains("must be an array"),
        "{answer}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_everything_but_health() {
    let scratch = Scratch::new("token");
    let mut config = scratch.config();
    config.token = Some("s3cret".to_string());
    let server = start(config).await;
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let admin = format!("http://{}", server.admin_addr().expect("admin"));
    let item = authzen_item("alice", "GetList", ("list", "groceries"), None).to_string();
    let (status, body, headers) =
        post(&client, &format!("{base}/access/v1/evaluation"), &item).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let answer = client
        .post(format!("{base}/access/v1/evaluation"))
        .bearer_auth("wrong")
        .body(item.clone())
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 401);
    let answer = client
        .post(format!("{base}/access/v1/evaluation"))
        .bearer_auth("s3cret")
        .body(item)
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(get(&client, &format!("{admin}/metrics")).await.0, 401);
    assert_eq!(get(&client, &format!("{admin}/healthz")).await.0, 200);
    assert_eq!(get(&client, &format!("{base}/readyz")).await.0, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_is_served_on_a_unix_socket_too() {
    let scratch = Scratch::new("unix");
    let mut config = scratch.config();
    let socket = scratch.path("thuja.sock");
    config.unix_socket = Some(socket.clone());
    let server = start(config).await;
    let item = authzen_item("alice", "GetList", ("list", "groceries"), None).to_string();
    let want = expected(
        &scratch.engine(),
        &authzen_item("alice", "GetList", ("list", "groceries"), None),
    );
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "POST /access/v1/evaluation HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{item}",
            item.len()
        )
        .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    })
    .await
    .expect("task");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(&json!({"decision": want}).to_string()),
        "{answer}"
    );
    server.shutdown().await;
    assert!(
        !scratch.path("thuja.sock").exists(),
        "the socket is removed on shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_null_engine_allows_everything_it_can_read() {
    let scratch = Scratch::new("null-engine");
    let mut config = scratch.config();
    config.null_engine = true;
    let server = start(config).await;
    let engine = scratch.engine();
    let client = client();
    let url = format!("http://{}/access/v1/evaluation", server.api_addr());
    let denied = all_items()
        .into_iter()
        .find(|item| !expected(&engine, item))
        .expect("a request the engine denies");
    let (status, body, _) = post(&client, &url, &denied.to_string()).await;
    assert_eq!((status, body), (200, json!({"decision": true})));
    // Requests are still read and validated.
    let mut unknown = denied.clone();
    unknown["subject"]["type"] = json!("robot");
    assert_eq!(post(&client, &url, &unknown.to_string()).await.0, 400);
    let (_, text, _) = get(
        &client,
        &format!("http://{}/readyz", server.admin_addr().expect("admin")),
    )
    .await;
    assert!(text.contains("\"evaluator\":\"null\""), "{text}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_gets_a_503_and_does_not_stall_others() {
    let scratch = Scratch::new("slow-client");
    let mut config = scratch.config();
    config.request_timeout = std::time::Duration::from_millis(300);
    let server = start(config).await;
    let addr = server.api_addr();
    // Headers, then a tenth of the declared body, then nothing.
    let slow = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"subject\""
        )
        .expect("write");
        let mut answer = vec![0; 4096];
        let n = stream.read(&mut answer).expect("an answer");
        (
            String::from_utf8_lossy(&answer[..n]).into_owned(),
            started.elapsed(),
        )
    });
    // Meanwhile other clients are answered.
    let client = client();
    let url = format!("http://{addr}/access/v1/evaluation");
    let item = authzen_item("alice", "GetList", ("list", "groceries"), None).to_string();
    for _ in 0..20 {
        assert_eq!(post(&client, &url, &item).await.0, 200);
    }
    let (answer, waited) = slow.await.expect("task");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("not answered within 300 ms"), "{answer}");
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_slow_to_send_headers_is_disconnected() {
    let scratch = Scratch::new("slow-headers");
    let mut config = scratch.config();
    config.header_timeout = std::time::Duration::from_millis(300);
    let server = start(config).await;
    let addr = server.api_addr();
    let closed = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("timeout");
        write!(stream, "POST /access/v1/evaluation HTTP/1.1\r\nHost: t\r\n").expect("write");
        let mut answer = Vec::new();
        // The server closes the connection (an answer before closing is allowed, a hang is not).
        let _ = stream.read_to_end(&mut answer);
        started.elapsed()
    })
    .await
    .expect("task");
    assert!(closed < std::time::Duration::from_secs(15), "{closed:?}");
    // The server still answers.
    let item = authzen_item("alice", "GetList", ("list", "groceries"), None).to_string();
    let url = format!("http://{addr}/access/v1/evaluation");
    assert_eq!(post(&client(), &url, &item).await.0, 200);
    server.shutdown().await;
}

/// The engine the server should answer as when `change` is made to the entities file.
fn engine_with_entities(scratch: &Scratch, change: impl FnOnce(&mut Vec<Value>)) -> thuja::Engine {
    let text = std::fs::read_to_string(scratch.path("entities.json")).expect("entities");
    let mut entities: Vec<Value> = serde_json::from_str(&text).expect("entities JSON");
    change(&mut entities);
    let mut policies =
        thuja::input::policies_from_file(&scratch.path("policies.cedar")).expect("policies");
    thuja::input::rename_from_id_annotations(&mut policies).expect("ids");
    let schema =
        thuja::input::schema_from_file(&scratch.path("tinytodo.cedarschema")).expect("schema");
    thuja::Engine::builder()
        .policies(policies)
        .schema(schema)
        .entities_json("entities.json", Value::Array(entities).to_string())
        .build()
        .expect("engine")
}

fn entity_mut<'a>(entities: &'a mut [Value], ty: &str, id: &str) -> &'a mut Value {
    entities
        .iter_mut()
        .find(|e| e["uid"]["type"] == ty && e["uid"]["id"] == id)
        .expect("the entity is in the example")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_and_request_entities_overlay_the_store_for_one_request() {
    let scratch = Scratch::new("overlay");
    let server = start(scratch.config()).await;
    let client = client();
    let base = format!("http://{}", server.api_addr());
    let one = format!("{base}/access/v1/evaluation");
    let stored = scratch.engine();
    let casey = json!({"type": "TinyTodo::User", "id": "casey"});
    let groceries = json!({"type": "TinyTodo::List", "id": "groceries"});
    let office = json!({"ip": "10.0.0.1"});

    // casey (a reader) owns the groceries list for this request only: the owner's policy applies.
    let casey_owns = engine_with_entities(&scratch, |entities| {
        entity_mut(entities, "TinyTodo::List", "groceries")["attrs"]["owner"] = casey.clone();
    });
    for action in LIST_ACTIONS {
        let want = allowed(&decide(
            &casey_owns,
            &casey,
            &json!({"type": "TinyTodo::Action", "id": action}),
            &groceries,
            &office,
        ));
        let body = json!({
            "subject": {"type": "user", "id": "casey"},
            "action": {"name": action},
            "resource": {"type": "list", "id": "groceries", "properties": {"owner": casey}},
            "context": office,
        });
        let (status, answer, _) = post(&client, &one, &body.to_string()).await;
        assert_eq!(status, 200, "{action}: {answer}");
        assert_eq!(
            answer["decision"],
            json!(want),
            "{action} with casey as owner"
        );
        // The store is unchanged for the next request.
        let mut plain = body.clone();
        plain["resource"]
            .as_object_mut()
            .expect("object")
            .remove("properties");
        let (_, answer, _) = post(&client, &one, &plain.to_string()).await;
        let stored_answer = allowed(&decide(
            &stored,
            &casey,
            &json!({"type": "TinyTodo::Action", "id": action}),
            &groceries,
            &office,
        ));
        assert_eq!(
            answer["decision"],
            json!(stored_answer),
            "{action} as stored"
        );
    }
    assert!(
        allowed(&decide(
            &casey_owns,
            &casey,
            &json!({"type": "TinyTodo::Action", "id": "DeleteList"}),
            &groceries,
            &office
        )) && !allowed(&decide(
            &stored,
            &casey,
            &json!({"type": "TinyTodo::Action", "id": "DeleteList"}),
            &groceries,
            &office
        )),
        "the overlay changes a decision"
    );

    // A subject the store lacks is made of its properties (no parents); the schema requires
    // `name`, so without it the properties are refused.
    let dave = json!({"type": "TinyTodo::User", "id": "dave"});
    let with_dave = engine_with_entities(&scratch, |entities| {
        entities.push(json!({"uid": dave, "attrs": {"name": "Dave"}, "parents": []}));
        entity_mut(entities, "TinyTodo::List", "groceries")["attrs"]["owner"] = dave.clone();
    });
    let body = json!({
        "subject": {"type": "user", "id": "dave", "properties": {"name": "Dave"}},
        "action": {"name": "UpdateList"},
        "resource": {"type": "list", "id": "groceries", "properties": {"owner": dave}},
        "context": office,
    });
    let (status, answer, _) = post(&client, &one, &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let want = allowed(&decide(
        &with_dave,
        &dave,
        &json!({"type": "TinyTodo::Action", "id": "UpdateList"}),
        &groceries,
        &office,
    ));
    assert!(want, "the new owner may update the list");
    assert_eq!(answer["decision"], json!(want));
    let mut nameless = body.clone();
    nameless["subject"]["properties"] = json!({"joinedAt": "2024-01-01T00:00:00Z"});
    let (status, answer, _) = post(&client, &one, &nameless.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    let message = error_message(&answer);
    assert!(
        message.contains("`subject.properties`") && message.contains("name"),
        "{message}"
    );

    // Cedar's endpoint: `entities` replace stored entities for that request.
    let mut list = std::fs::read_to_string(scratch.path("entities.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
        .expect("entities");
    let mut groceries_entity = entity_mut(&mut list, "TinyTodo::List", "groceries").clone();
    groceries_entity["attrs"]["owner"] = casey.clone();
    let request = json!({
        "principal": casey, "action": {"type": "TinyTodo::Action", "id": "DeleteList"},
        "resource": groceries, "context": office, "entities": [groceries_entity],
    });
    let url = format!("{base}/v1/is_authorized");
    let (status, answer, _) = post(&client, &url, &request.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["decision"], json!("allow"));
    let mut plain = request.clone();
    plain.as_object_mut().expect("object").remove("entities");
    let (_, answer, _) = post(&client, &url, &plain.to_string()).await;
    assert_eq!(answer["decision"], json!("deny"));
    // An entity of the wrong shape is a 400 naming `entities`.
    let mut bad = request.clone();
    bad["entities"][0]["attrs"]["owner"] = json!(5);
    let (status, answer, _) = post(&client, &url, &bad.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(error_message(&answer).contains("`entities`"), "{answer}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_cleartext_is_served_on_the_same_listener() {
    let scratch = Scratch::new("h2c");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client");
    let url = format!("http://{}/access/v1/evaluation", server.api_addr());
    // Many requests on one HTTP/2 connection, several at once.
    let mut answers = Vec::new();
    for item in all_items() {
        let h2 = h2.clone();
        let url = url.clone();
        answers.push(tokio::spawn(async move {
            let response = h2
                .post(&url)
                .header("content-type", "application/json")
                .body(item.to_string())
                .send()
                .await
                .expect("answered");
            let version = response.version();
            let body: Value = response.json().await.expect("JSON");
            (item, version, body)
        }));
    }
    for answer in answers {
        let (item, version, body) = answer.await.expect("task");
        assert_eq!(version, reqwest::Version::HTTP_2);
        assert_eq!(body["decision"], json!(expected(&engine, &item)), "{item}");
    }
    // HTTP/1.1 still works beside it.
    let (status, _, _) = post(&client(), &url, &all_items()[0].to_string()).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM files in the scratch
/// directory; the certificate's PEM text (the client's root).
fn self_signed(scratch: &Scratch) -> (thuja_serve::TlsFiles, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("a certificate");
    let cert = certified.cert.pem();
    scratch.write("cert.pem", &cert);
    scratch.write("key.pem", &certified.key_pair.serialize_pem());
    (
        thuja_serve::TlsFiles {
            cert: scratch.path("cert.pem"),
            key: scratch.path("key.pem"),
        },
        cert,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_http1_and_http2_and_refuses_plain_text() {
    let scratch = Scratch::new("tls");
    let (files, root) = self_signed(&scratch);
    let mut config = scratch.config();
    config.tls = Some(files);
    let server = start(config).await;
    let engine = scratch.engine();
    let root = reqwest::Certificate::from_pem(root.as_bytes()).expect("root");
    let url = format!("https://{}/access/v1/evaluation", server.api_addr());
    for http2 in [false, true] {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(root.clone())
            .timeout(std::time::Duration::from_secs(30));
        if !http2 {
            builder = builder.http1_only();
        }
        let client = builder.build().expect("client");
        for item in all_items() {
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(item.to_string())
                .send()
                .await
                .expect("answered over TLS");
            // HTTP/2 is chosen by ALPN when the client offers it.
            let want_version = if http2 {
                reqwest::Version::HTTP_2
            } else {
                reqwest::Version::HTTP_11
            };
            assert_eq!(response.version(), want_version);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["decision"], json!(expected(&engine, &item)), "{item}");
        }
    }
    // The admin listener is under TLS too.
    let admin = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root.clone())
        .build()
        .expect("client");
    let ready = admin
        .get(format!(
            "https://{}/readyz",
            server.admin_addr().expect("admin")
        ))
        .send()
        .await
        .expect("readyz over TLS");
    assert_eq!(ready.status(), 200);
    // Plain HTTP on the TLS port gets no answer; a client that does not trust the certificate
    // cannot connect.
    let plain = client()
        .post(format!("http://{}/access/v1/evaluation", server.api_addr()))
        .body(all_items()[0].to_string())
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .build()
        .expect("client");
    assert!(
        untrusting
            .get(format!("https://{}/healthz", server.api_addr()))
            .send()
            .await
            .is_err()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_files_that_do_not_make_a_pair_are_refused_at_start() {
    let scratch = Scratch::new("tls-bad");
    let (files, _) = self_signed(&scratch);
    for (cert, key, needle) in [
        ("key.pem", "key.pem", "no certificate"),
        ("cert.pem", "cert.pem", "no private key"),
        ("missing.pem", "key.pem", "missing.pem"),
    ] {
        let mut config = scratch.config();
        config.tls = Some(thuja_serve::TlsFiles {
            cert: scratch.path(cert),
            key: scratch.path(key),
        });
        let error = match thuja_serve::Server::start(config).await {
            Ok(server) => {
                server.shutdown().await;
                String::from("started")
            }
            Err(e) => e.to_string(),
        };
        assert!(error.contains(needle), "{cert}/{key}: {error}");
    }
    let _ = files;
}

/// The ids of the entities of Cedar type `ty` in the engine's store, sorted.
fn ids_of_type(engine: &thuja::Engine, ty: &str) -> Vec<String> {
    let mut ids: Vec<String> = engine
        .entities()
        .iter()
        .filter(|e| e.uid().entity_type().to_string() == ty)
        .map(|e| e.uid().id().to_string())
        .collect();
    ids.sort();
    ids
}

/// Whether the engine allows the request (a request the schema refuses is not allowed).
fn allows(engine: &thuja::Engine, p: (&str, &str), a: &str, r: (&str, &str), ip: &str) -> bool {
    let schema = thuja::input::RequestSchema::of(engine.schema(), engine.validates_requests());
    thuja::input::request_from_json_values(
        &json!({"type": p.0, "id": p.1}),
        &json!({"type": "TinyTodo::Action", "id": a}),
        &json!({"type": r.0, "id": r.1}),
        &json!({"ip": ip}),
        schema,
    )
    .ok()
    .and_then(|request| engine.decide(&request).ok())
    .is_some_and(|response| allowed(&response))
}

/// Every page of a search, following `next_token`, with `limit` results a page.
async fn all_pages(client: &reqwest::Client, url: &str, body: &Value, limit: usize) -> Vec<Value> {
    let mut results = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 1_000, "the pages do not end");
        let mut request = body.clone();
        request["page"] = json!({"limit": limit, "token": token});
        let (status, answer, _) = post(client, url, &request.to_string()).await;
        assert_eq!(status, 200, "{request} -> {answer}");
        let page = answer["results"].as_array().expect("results");
        assert!(page.len() <= limit);
        results.extend(page.iter().cloned());
        token = answer["page"]["next_token"]
            .as_str()
            .expect("next_token")
            .to_string();
        if token.is_empty() {
            return results;
        }
    }
}

/// AuthZEN search: subjects, resources and actions a request allows, each equal to deciding
/// every candidate one by one with the engine, whole and page by page; and its errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authzen_search_lists_what_deciding_one_by_one_allows() {
    let scratch = Scratch::new("authzen-search");
    // More lists, owned by each user and shared with the example's teams.
    let mut entities: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(scratch.path("entities.json")).expect("entities"),
    )
    .expect("entities JSON");
    let list = entities
        .iter()
        .find(|e| e["uid"]["type"] == "TinyTodo::List")
        .cloned()
        .expect("the example's list");
    let teams = [
        "everyone",
        "interns",
        "kitchen",
        "groceries-readers",
        "groceries-editors",
    ];
    for (i, owner) in USERS.iter().cycle().take(9).enumerate() {
        let mut more = list.clone();
        more["uid"]["id"] = json!(format!("list-{i}"));
        more["attrs"]["owner"]["id"] = json!(owner);
        more["attrs"]["readers"]["id"] = json!(teams[i % teams.len()]);
        more["attrs"]["editors"]["id"] = json!(teams[(i + 2) % teams.len()]);
        entities.push(more);
    }
    scratch.write("entities.json", &Value::Array(entities).to_string());
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let client = client();
    let base = format!("http://{}/access/v1/search", server.api_addr());
    let lists = ids_of_type(&engine, "TinyTodo::List");
    let users = ids_of_type(&engine, "TinyTodo::User");
    assert!(lists.len() > 1 && users.len() > 1);
    let mut found = 0;
    for ip in ["10.1.2.3", "192.0.2.7"] {
        for action in LIST_ACTIONS {
            // Resources each user may act on.
            for user in &users {
                let body = json!({
                    "subject": {"type": "user", "id": user},
                    "action": {"name": action},
                    "resource": {"type": "list"},
                    "context": {"ip": ip},
                });
                let want: Vec<Value> = lists
                    .iter()
                    .filter(|l| {
                        allows(
                            &engine,
                            ("TinyTodo::User", user),
                            action,
                            ("TinyTodo::List", l),
                            ip,
                        )
                    })
                    .map(|l| json!({"type": "list", "id": l}))
                    .collect();
                let (status, answer, _) =
                    post(&client, &format!("{base}/resource"), &body.to_string()).await;
                assert_eq!(status, 200, "{answer}");
                assert_eq!(answer["results"], json!(want), "{body}");
                assert_eq!(answer["page"]["next_token"], "");
                assert_eq!(
                    all_pages(&client, &format!("{base}/resource"), &body, 1).await,
                    want
                );
                found += want.len();
            }
            // Subjects that may act on each list.
            for list in &lists {
                let body = json!({
                    "subject": {"type": "user"},
                    "action": {"name": action},
                    "resource": {"type": "list", "id": list},
                    "context": {"ip": ip},
                });
                let want: Vec<Value> = users
                    .iter()
                    .filter(|u| {
                        allows(
                            &engine,
                            ("TinyTodo::User", u),
                            action,
                            ("TinyTodo::List", list),
                            ip,
                        )
                    })
                    .map(|u| json!({"type": "user", "id": u}))
                    .collect();
                assert_eq!(
                    all_pages(&client, &format!("{base}/subject"), &body, 2).await,
                    want,
                    "{body}"
                );
            }
        }
        // Actions each user may perform on each list.
        let schema = engine.schema().expect("the example has a schema");
        let mut actions: Vec<String> = schema
            .actions
            .keys()
            .map(|uid| uid.id().to_string())
            .collect();
        actions.sort();
        for user in &users {
            for list in &lists {
                let body = json!({
                    "subject": {"type": "user", "id": user},
                    "resource": {"type": "list", "id": list},
                    "context": {"ip": ip},
                });
                let want: Vec<Value> = actions
                    .iter()
                    .filter(|a| {
                        allows(
                            &engine,
                            ("TinyTodo::User", user),
                            a,
                            ("TinyTodo::List", list),
                            ip,
                        )
                    })
                    .map(|a| json!({"name": a}))
                    .collect();
                assert_eq!(
                    all_pages(&client, &format!("{base}/action"), &body, 3).await,
                    want,
                    "{body}"
                );
            }
        }
    }
    assert!(found > 10, "the searches find something: {found}");

    // Errors: the searched part's type is required; tokens are the server's; properties and
    // limits are checked.
    let bad = [
        (
            "resource",
            json!({"subject": {"type": "user", "id": "alice"}, "action": {"name": "GetList"}, "resource": {}}),
        ),
        (
            "resource",
            json!({"subject": {"type": "user", "id": "alice"}, "action": {"name": "GetList"}, "resource": {"type": "list"}, "page": {"token": "zz"}}),
        ),
        (
            "resource",
            json!({"subject": {"type": "user", "id": "alice"}, "action": {"name": "GetList"}, "resource": {"type": "list"}, "page": {"limit": 0}}),
        ),
        (
            "subject",
            json!({"subject": {"type": "user", "properties": {"a": 1}}, "action": {"name": "GetList"}, "resource": {"type": "list", "id": "groceries"}}),
        ),
        (
            "subject",
            json!({"subject": {"type": "user"}, "action": {"name": "GetList"}, "resource": {"type": "list"}}),
        ),
        (
            "action",
            json!({"subject": {"type": "user", "id": "alice"}, "resource": {"type": "list", "id": "groceries"}, "context": 3}),
        ),
    ];
    for (what, body) in bad {
        let (status, answer, _) = post(&client, &format!("{base}/{what}"), &body.to_string()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(!error_message(&answer).is_empty(), "{answer}");
    }
    server.shutdown().await;
}
