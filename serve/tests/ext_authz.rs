//! Envoy's ext_authz v3 over real gRPC (a tonic client on 127.0.0.1): allow and deny as the
//! engine decides, the 403 and 401 answers Envoy relays, malformed and unmapped checks denied,
//! raw headers, the source address, the revision, `--reveal`, the token, and the metrics.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use envoy_types::ext_authz::v3::pb::{CheckRequest, CheckResponse, HttpResponse};
use envoy_types::pb::envoy::config::core::v3::{
    Address, HeaderMap, HeaderValue, SocketAddress, address,
};
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Peer, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use serde_json::{Value, json};
use support::*;
use thuja_serve::{ServeConfig, Server};
use tonic::transport::Channel;

const OK: i32 = 0;
const PERMISSION_DENIED: i32 = 7;
const UNAUTHENTICATED: i32 = 16;

/// A check as Envoy sends it: the downstream request's method, path, host and headers, and
/// the client's address.
fn check(method: &str, path: &str, headers: &[(&str, &str)], source: Option<&str>) -> CheckRequest {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    CheckRequest {
        attributes: Some(AttributeContext {
            source: source.map(|ip| Peer {
                address: Some(Address {
                    address: Some(address::Address::SocketAddress(SocketAddress {
                        address: ip.to_string(),
                        ..Default::default()
                    })),
                }),
                ..Default::default()
            }),
            request: Some(Request {
                http: Some(HttpRequest {
                    method: method.to_string(),
                    path: path.to_string(),
                    host: "todo.example".to_string(),
                    headers,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

async fn start_grpc(mut config: ServeConfig) -> (Server, AuthorizationClient<Channel>) {
    config.grpc_listen = Some("127.0.0.1:0".parse().expect("addr"));
    let server = start(config).await;
    let addr = server.grpc_addr().expect("a gRPC listener");
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .expect("connects");
    (server, AuthorizationClient::new(channel))
}

/// Calls Check: the answer and its gRPC response headers.
async fn call(
    grpc: &mut AuthorizationClient<Channel>,
    request: CheckRequest,
) -> (CheckResponse, tonic::metadata::MetadataMap) {
    let answer = grpc.check(request).await.expect("the check is answered");
    let metadata = answer.metadata().clone();
    (answer.into_inner(), metadata)
}

fn code(answer: &CheckResponse) -> i32 {
    answer.status.as_ref().map_or(-1, |s| s.code)
}

/// The denial's HTTP status and JSON body; (0, Null) when the answer is no denial.
fn denial(answer: &CheckResponse) -> (i32, Value) {
    match &answer.http_response {
        Some(HttpResponse::DeniedResponse(denied)) => (
            denied.status.as_ref().map_or(0, |s| s.code),
            serde_json::from_str(&denied.body).unwrap_or(Value::Null),
        ),
        _ => (0, Value::Null),
    }
}

/// The headers an allow adds to the upstream request.
fn upstream_headers(answer: &CheckResponse) -> Vec<(String, String)> {
    match &answer.http_response {
        Some(HttpResponse::OkResponse(ok)) => ok
            .headers
            .iter()
            .filter_map(|h| h.header.as_ref())
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_allow_and_deny_as_the_engine_decides() {
    let scratch = Scratch::new("ext-authz");
    let (server, mut grpc) = start_grpc(scratch.config()).await;
    let engine = scratch.engine();
    let revision = server.revision().expect("serving");
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
        for (method, path, action) in routes {
            for ip in ["10.1.2.3", "192.0.2.7"] {
                let want = allowed(&decide(
                    &engine,
                    &json!({"type": "TinyTodo::User", "id": user}),
                    &json!({"type": "TinyTodo::Action", "id": action}),
                    &json!({"type": "TinyTodo::List", "id": "groceries"}),
                    &json!({"ip": ip}),
                ));
                let request = check(method, path, &[("X-User", user), ("X-Real-IP", ip)], None);
                let (answer, metadata) = call(&mut grpc, request).await;
                let what = format!("{user} {method} {path} from {ip}");
                assert_eq!(
                    metadata
                        .get("x-thuja-revision")
                        .and_then(|v| v.to_str().ok()),
                    Some(revision.as_str()),
                    "{what}"
                );
                if want {
                    allows += 1;
                    assert_eq!(code(&answer), OK, "{what}");
                    assert!(
                        matches!(answer.http_response, Some(HttpResponse::OkResponse(_))),
                        "{what}"
                    );
                    // Without --reveal, nothing is added upstream.
                    assert!(upstream_headers(&answer).is_empty(), "{what}");
                } else {
                    denies += 1;
                    assert_eq!(code(&answer), PERMISSION_DENIED, "{what}");
                    assert_eq!(
                        denial(&answer),
                        (403, json!({"decision": "deny"})),
                        "{what}"
                    );
                }
            }
        }
    }
    assert!(allows > 3 && denies > 3, "{allows} allows, {denies} denies");

    // No identity header: 401 for the client, UNAUTHENTICATED for Envoy.
    for headers in [
        vec![("X-Real-IP", "10.1.2.3")],
        vec![("X-User", ""), ("X-Real-IP", "10.1.2.3")],
    ] {
        let (answer, _) = call(&mut grpc, check("GET", "/lists/groceries", &headers, None)).await;
        assert_eq!(code(&answer), UNAUTHENTICATED);
        assert_eq!(denial(&answer).0, 401);
    }

    // Malformed or unmapped: denied with a reason.
    let cases = [
        ("GET", "/nowhere", "10.1.2.3", "no route"),
        ("PATCH", "/lists/groceries", "10.1.2.3", "no route"),
        ("GET", "/lists/../admin", "10.1.2.3", "normalized"),
        (
            "GET",
            "/lists/groceries",
            "not-an-address",
            "not an IP address",
        ),
    ];
    for (method, path, ip, why) in cases {
        let request = check(
            method,
            path,
            &[("X-User", "alice"), ("X-Real-IP", ip)],
            None,
        );
        let (answer, _) = call(&mut grpc, request).await;
        assert_eq!(code(&answer), PERMISSION_DENIED, "{method} {path} {ip}");
        let (status, body) = denial(&answer);
        assert_eq!(status, 403, "{method} {path} {ip}");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{method} {path} {ip}: {reason}");
    }
    // A check without HTTP attributes at all.
    let (answer, _) = call(&mut grpc, CheckRequest { attributes: None }).await;
    assert_eq!(code(&answer), PERMISSION_DENIED);
    assert_eq!(denial(&answer).0, 403);
    // An unknown user (not in the schema's entities) is still decided: Cedar denies.
    let request = check(
        "GET",
        "/lists/groceries",
        &[("X-User", "mallory"), ("X-Real-IP", "10.1.2.3")],
        None,
    );
    let (answer, _) = call(&mut grpc, request).await;
    assert_eq!(code(&answer), PERMISSION_DENIED);

    // Every check was counted under its API.
    let metrics_url = format!("http://{}/metrics", server.admin_addr().expect("admin"));
    let (_, metrics, _) = get(&client(), &metrics_url).await;
    let count = |decision: &str| -> u64 {
        let prefix = format!("thuja_decisions_total{{api=\"ext_authz\",decision=\"{decision}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(count("allow"), allows);
    assert_eq!(count("deny"), denies + cases.len() as u64 + 2);
    assert_eq!(count("unauthenticated"), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_address_raw_headers_reveal_and_the_token() {
    let scratch = Scratch::new("ext-authz-source");
    // A mapping reading the client address from the check's source, not a header.
    let mapping = std::fs::read_to_string(scratch.path("forward-auth.json")).expect("mapping");
    let mut mapping: Value = serde_json::from_str(&mapping).expect("JSON");
    mapping
        .as_object_mut()
        .expect("object")
        .remove("source_ip_header");
    scratch.write("forward-auth.json", &mapping.to_string());
    let mut config = scratch.config();
    config.reveal = true;
    config.token = Some("s3cret".to_string());
    let log = scratch.path("decisions.jsonl");
    config.decision_log = Some(log.clone());
    let (server, mut grpc) = start_grpc(config).await;
    let engine = scratch.engine();

    let with_token = |request: CheckRequest| {
        let mut request = tonic::Request::new(request);
        request
            .metadata_mut()
            .insert("authorization", "Bearer s3cret".parse().expect("metadata"));
        request
    };
    // Without the token (or with a wrong one) the call itself fails.
    for token in [None, Some("Bearer wrong")] {
        let mut request = tonic::Request::new(check(
            "GET",
            "/lists/groceries",
            &[("X-User", "alice")],
            Some("10.1.2.3"),
        ));
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", token.parse().expect("metadata"));
        }
        let status = grpc.check(request).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    let mut seen_allow = false;
    for user in USERS {
        for ip in ["10.1.2.3", "192.0.2.7"] {
            let want = decide(
                &engine,
                &json!({"type": "TinyTodo::User", "id": user}),
                &json!({"type": "TinyTodo::Action", "id": "GetList"}),
                &json!({"type": "TinyTodo::List", "id": "groceries"}),
                &json!({"ip": ip}),
            );
            // The address comes from the check's source peer.
            let request = check("GET", "/lists/groceries", &[("X-User", user)], Some(ip));
            let answer = grpc
                .check(with_token(request))
                .await
                .expect("answered")
                .into_inner();
            if allowed(&want) {
                seen_allow = true;
                assert_eq!(code(&answer), OK, "{user} from {ip}");
                let reasons: Vec<&str> = want.reasons.iter().map(AsRef::as_ref).collect();
                assert_eq!(
                    upstream_headers(&answer),
                    vec![("x-thuja-reasons".to_string(), reasons.join(","))],
                    "{user} from {ip}"
                );
            } else {
                assert_eq!(code(&answer), PERMISSION_DENIED, "{user} from {ip}");
            }
            // The same check with Envoy's raw header encoding (`encode_raw_headers`).
            let mut raw = check("GET", "/lists/groceries", &[], Some(ip));
            if let Some(http) = raw
                .attributes
                .as_mut()
                .and_then(|a| a.request.as_mut())
                .and_then(|r| r.http.as_mut())
            {
                http.header_map = Some(HeaderMap {
                    headers: vec![HeaderValue {
                        key: "x-user".to_string(),
                        raw_value: user.as_bytes().to_vec(),
                        ..Default::default()
                    }],
                });
            }
            let raw = grpc
                .check(with_token(raw))
                .await
                .expect("answered")
                .into_inner();
            assert_eq!(code(&raw), code(&answer), "{user} from {ip}, raw headers");
        }
    }
    assert!(seen_allow, "some check is allowed");
    // No source address and no header for it: deny (fail closed).
    let request = check("GET", "/lists/groceries", &[("X-User", "alice")], None);
    let answer = grpc
        .check(with_token(request))
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(code(&answer), PERMISSION_DENIED);
    // The checked request's X-Request-ID, else Envoy's id for it, goes into the decision log.
    let request = check(
        "GET",
        "/lists/groceries",
        &[("X-User", "alice"), ("X-Request-ID", "from-header")],
        Some("10.1.2.3"),
    );
    grpc.check(with_token(request)).await.expect("answered");
    let mut request = check(
        "GET",
        "/lists/groceries",
        &[("X-User", "bob")],
        Some("10.1.2.3"),
    );
    if let Some(http) = request
        .attributes
        .as_mut()
        .and_then(|a| a.request.as_mut())
        .and_then(|r| r.http.as_mut())
    {
        http.id = "envoy-stream-9".to_string();
    }
    grpc.check(with_token(request)).await.expect("answered");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let ids = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let ids: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line")["request_id"].clone())
            .collect();
        if ids.iter().any(|id| id == "envoy-stream-9") || std::time::Instant::now() > deadline {
            break ids;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let named: Vec<&Value> = ids.iter().filter(|id| !id.is_null()).collect();
    assert_eq!(named, [&json!("from-header"), &json!("envoy-stream-9")]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_over_tls() {
    let scratch = Scratch::new("ext-authz-tls");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    scratch.write("cert.pem", &certified.cert.pem());
    scratch.write("key.pem", &certified.key_pair.serialize_pem());
    let mut config = scratch.config();
    config.tls = Some(thuja_serve::TlsFiles {
        cert: scratch.path("cert.pem"),
        key: scratch.path("key.pem"),
    });
    config.grpc_listen = Some("127.0.0.1:0".parse().expect("addr"));
    let server = start(config).await;
    let addr = server.grpc_addr().expect("a gRPC listener");
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(
            certified.cert.pem(),
        ))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://{addr}"))
        .expect("endpoint")
        .tls_config(tls)
        .expect("TLS config")
        .connect()
        .await
        .expect("connects over TLS");
    let mut grpc = AuthorizationClient::new(channel);
    let engine = scratch.engine();
    let want = allowed(&decide(
        &engine,
        &json!({"type": "TinyTodo::User", "id": "alice"}),
        &json!({"type": "TinyTodo::Action", "id": "GetList"}),
        &json!({"type": "TinyTodo::List", "id": "groceries"}),
        &json!({"ip": "10.1.2.3"}),
    ));
    let request = check(
        "GET",
        "/lists/groceries",
        &[("X-User", "alice"), ("X-Real-IP", "10.1.2.3")],
        None,
    );
    let (answer, _) = call(&mut grpc, request).await;
    assert_eq!(code(&answer), if want { OK } else { PERMISSION_DENIED });
    // A plain-text gRPC client gets nothing from the TLS listener.
    let plain = Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut grpc = AuthorizationClient::new(channel);
        assert!(grpc.check(CheckRequest { attributes: None }).await.is_err());
    }
    server.shutdown().await;
}
