//! What the server tests share: the TinyTodo example copied to a scratch directory, a server
//! started on it (127.0.0.1, port 0), an HTTP client, and the engine the answers are compared
//! with.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use thuja::input::{self, RequestSchema};
use thuja::{Decision, Engine, Response};
use thuja_serve::{ServeConfig, Server, TypeMap};

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

/// A scratch directory holding a copy of the TinyTodo example (policies, schema, entities,
/// type map, forward-auth mapping), removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("thuja-serve-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        for file in ["policies.cedar", "tinytodo.cedarschema", "entities.json"] {
            std::fs::copy(Path::new(EXAMPLE).join(file), dir.join(file)).expect("copy example");
        }
        for file in ["type-map.json", "forward-auth.json"] {
            std::fs::copy(Path::new(EXAMPLE).join("serve").join(file), dir.join(file))
                .expect("copy example");
        }
        Scratch { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path(file), text).expect("write scratch file");
    }

    /// The server's configuration on these files: schema, entities, type map, forward-auth
    /// mapping, an admin listener, no file watching; port 0 everywhere.
    pub fn config(&self) -> ServeConfig {
        let mut config = ServeConfig::new(self.path("policies.cedar"));
        config.schema = Some(self.path("tinytodo.cedarschema"));
        config.entities = Some(self.path("entities.json"));
        config.type_map = TypeMap::from_file(&self.path("type-map.json")).expect("type map");
        config.forward_auth = Some(self.path("forward-auth.json"));
        config.listen = "127.0.0.1:0".parse().expect("addr");
        config.admin_listen = Some("127.0.0.1:0".parse().expect("addr"));
        config.watch = false;
        config
    }

    /// The engine the server should answer as, built from the current files.
    pub fn engine(&self) -> Engine {
        let mut policies =
            input::policies_from_file(&self.path("policies.cedar")).expect("policies");
        input::rename_from_id_annotations(&mut policies).expect("ids");
        let schema = input::schema_from_file(&self.path("tinytodo.cedarschema")).expect("schema");
        let entities = std::fs::read_to_string(self.path("entities.json")).expect("entities");
        Engine::builder()
            .policies(policies)
            .schema(schema)
            .entities_json("entities.json", entities)
            .build()
            .expect("engine")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a server, bounded in time.
pub async fn start(config: ServeConfig) -> Server {
    tokio::time::timeout(Duration::from_secs(60), Server::start(config))
        .await
        .expect("the server starts within a minute")
        .expect("the server starts")
}

/// An HTTP client for loopback (no proxy), with a timeout on every request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `POST url` with a JSON text body: the status and the body as JSON (Null if not JSON).
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &str,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

/// `GET url`: the status, the body text and the headers.
pub async fn get(client: &reqwest::Client, url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = client.get(url).send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.expect("body"), headers)
}

/// What `engine` answers to a Cedar request given as JSON parts (uids as `{"type", "id"}`).
pub fn decide(
    engine: &Engine,
    principal: &Value,
    action: &Value,
    resource: &Value,
    context: &Value,
) -> Response {
    let schema = RequestSchema::of(engine.schema(), engine.validates_requests());
    let request = input::request_from_json_values(principal, action, resource, context, schema)
        .expect("a valid request");
    engine.decide(&request).expect("decided")
}

pub fn allowed(response: &Response) -> bool {
    response.decision == Decision::Allow
}

/// The message of an error answer `{"error": {"status", "message"}}`.
pub fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub const USERS: [&str; 3] = ["alice", "bob", "casey"];
pub const LIST_ACTIONS: [&str; 7] = [
    "GetList",
    "UpdateList",
    "DeleteList",
    "CreateTask",
    "UpdateTask",
    "DeleteTask",
    "EditShare",
];
