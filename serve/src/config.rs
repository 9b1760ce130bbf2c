//! What the server is told: input files, evaluator, listeners, limits, and the AuthZEN type map.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thuja::Evaluator;

/// Everything `thuja serve` needs to run.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The Cedar policy file (`@id("...")` annotations name policies).
    pub policies: PathBuf,
    /// The schema (`.cedarschema` text, or Cedar's JSON schema when the name ends in `.json`).
    /// With a schema, requests are validated against it and contexts typed by it.
    pub schema: Option<PathBuf>,
    /// The entities JSON file; none: an empty store (plus the schema's actions).
    pub entities: Option<PathBuf>,
    /// Which evaluator decides.
    pub evaluator: Evaluator,
    /// Validate the policies against the schema (strict mode) on every load; a set with errors
    /// is refused (the first load fails, a reload keeps the old engine).
    pub validate: bool,
    /// The API listener.
    pub listen: SocketAddr,
    /// The admin listener (`/healthz`, `/readyz`, `/metrics`, `/admin/reload`); none: no admin
    /// listener (health endpoints stay on the API listener).
    pub admin_listen: Option<SocketAddr>,
    /// Also serve the API on this unix socket.
    pub unix_socket: Option<PathBuf>,
    /// Serve TLS on every TCP listener (API, admin, gRPC) with this certificate and key.
    pub tls: Option<crate::tls::TlsFiles>,
    /// The gRPC listener for Envoy's external authorization (`ext_authz` v3, using the
    /// forward-auth mapping); none: no gRPC listener.
    pub grpc_listen: Option<SocketAddr>,
    /// When set, every request but `/healthz` and `/readyz` must carry
    /// `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// AuthZEN type renames and the action type.
    pub type_map: TypeMap,
    /// The gateway mapping file (forward auth and ext_authz), reloaded with the other inputs;
    /// none: gateway requests are denied.
    pub forward_auth: Option<PathBuf>,
    /// Include the determining policies and errors in AuthZEN and forward-auth answers.
    pub reveal: bool,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Requests decided at once; more wait (within the timeout) for a place.
    pub max_concurrency: usize,
    /// Longest a request may take, waiting included (503 beyond).
    pub request_timeout: Duration,
    /// Longest a client may take to send a request's headers, and longest an idle keep-alive
    /// connection stays open; the connection is closed after it.
    pub header_timeout: Duration,
    /// Connections open at once on the TCP listeners; beyond, new connections wait to be
    /// accepted.
    pub max_connections: usize,
    /// Rebuild the engine when an input file changes.
    pub watch: bool,
    /// How long file changes are collected before one reload.
    pub watch_debounce: Duration,
    /// Append a JSON line per decision to this file (`-`: standard output).
    pub decision_log: Option<PathBuf>,
    /// The share of decisions the decision log records (0 < rate ≤ 1).
    pub decision_log_sample: f64,
    /// Allow every request without evaluating it (requests are still read, mapped and
    /// validated): measures the server stack itself. Never for production.
    pub null_engine: bool,
    /// Decide with this instead of the engine (the engine still reads, maps and validates
    /// requests): to measure the server with another engine behind it. Not for production.
    pub decider: Option<ExternalDecider>,
}

/// What decides in the engine's place when [`ServeConfig::decider`] is set.
pub trait Decider: Send + Sync {
    /// The answer to `request`, which the serving engine has validated (when it validates
    /// requests).
    fn decide(&self, request: &thuja::Request) -> thuja::Response;
}

/// A shared [`Decider`].
#[derive(Clone)]
pub struct ExternalDecider(pub std::sync::Arc<dyn Decider>);

impl std::fmt::Debug for ExternalDecider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExternalDecider")
    }
}

impl ServeConfig {
    /// A configuration with the defaults for everything but the policy file.
    pub fn new(policies: impl Into<PathBuf>) -> Self {
        ServeConfig {
            policies: policies.into(),
            schema: None,
            entities: None,
            evaluator: Evaluator::Vm,
            validate: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8180)),
            admin_listen: None,
            unix_socket: None,
            grpc_listen: None,
            tls: None,
            token: None,
            type_map: TypeMap::default(),
            forward_auth: None,
            reveal: false,
            max_body_bytes: 1024 * 1024,
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            max_connections: 16_384,
            watch: true,
            watch_debounce: Duration::from_millis(200),
            decision_log: None,
            decision_log_sample: 1.0,
            null_engine: false,
            decider: None,
        }
    }

    /// The input files, in the order their contents enter the revision hash.
    pub(crate) fn input_files(&self) -> Vec<&Path> {
        let mut files = vec![self.policies.as_path()];
        files.extend(self.schema.as_deref());
        files.extend(self.entities.as_deref());
        files.extend(self.forward_auth.as_deref());
        files
    }
}

/// How AuthZEN names become Cedar names (the `--type-map` file, JSON):
///
/// ```json
/// {"types": {"user": "TinyTodo::User", "list": "TinyTodo::List"}, "action_type": "TinyTodo::Action"}
/// ```
///
/// `types` renames `subject.type` and `resource.type` (a type it does not list is used as
/// given); `action_type` is the type of the action entity `action.name` names (`Action` by
/// default).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeMap {
    /// AuthZEN type → Cedar entity type.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// The Cedar type of actions.
    #[serde(default = "default_action_type")]
    pub action_type: String,
}

fn default_action_type() -> String {
    "Action".to_string()
}

impl Default for TypeMap {
    fn default() -> Self {
        TypeMap {
            types: BTreeMap::new(),
            action_type: default_action_type(),
        }
    }
}

impl TypeMap {
    /// Reads a type map file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads a type map from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let map: TypeMap = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for ty in map.types.values().chain([&map.action_type]) {
            thuja::EntityType::parse(ty)
                .map_err(|e| format!("`{ty}` is not a Cedar entity type name: {e}"))?;
        }
        Ok(map)
    }

    /// The Cedar type an AuthZEN type names.
    pub fn cedar_type<'a>(&'a self, authzen: &'a str) -> &'a str {
        self.types.get(authzen).map_or(authzen, String::as_str)
    }
}
