//! # `thuja serve`: the authorization server gateways call
//!
//! An HTTP/1.1 and HTTP/2 server (tokio, axum; TLS by rustls when given a certificate), and
//! optionally a gRPC one for Envoy (tonic), over one Thuja [`Engine`](thuja::Engine) built from a
//! policy file, an optional schema and an optional entities file, swapped atomically when the
//! inputs change. It listens on 127.0.0.1 unless told otherwise.
//!
//! ## Endpoints
//!
//! On the API listener (`--listen`, default `127.0.0.1:8180`; also `--unix-socket`):
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /access/v1/evaluation` | AuthZEN 1.0 access evaluation → `{"decision": bool}` |
//! | `POST /access/v1/evaluations` | AuthZEN 1.0 batch: top-level defaults, per-item overrides, `options.evaluations_semantic` = `execute_all` (default), `deny_on_first_deny`, `permit_on_first_permit` → `{"evaluations": [...]}` |
//! | `POST /access/v1/search/subject`, `/search/resource`, `/search/action` | AuthZEN search: the subjects, resources or actions a request allows (the engine's queries), `{"results": [...], "page": {"next_token"}}`, paged by `page.limit` and `page.token` |
//! | `GET /.well-known/authzen-configuration` | AuthZEN PDP metadata (`policy_decision_point`, `access_evaluation_endpoint`, `access_evaluations_endpoint`, the three `search_*_endpoint`s) |
//! | `POST /v1/is_authorized` | Cedar's request JSON → `{"decision": "allow"\|"deny", "reasons", "errors"}` ([`thuja::output`]) |
//! | `POST /v1/is_authorized/batch` | an array of Cedar requests → an array of answers (`{"error": ...}` for an invalid item) |
//! | any `/forward-auth` | forward auth for nginx `auth_request`, Traefik, Caddy: 200 allow, 403 deny, 401 no principal ([`mapping`]) |
//! | `GET /healthz`, `GET /readyz` | liveness; readiness (200 once the first engine is built: revision, counts, last reload error) |
//!
//! On the gRPC listener (`--grpc-listen`, none by default): Envoy's external authorization
//! `envoy.service.auth.v3.Authorization/Check`, through the same mapping as forward auth
//! (`OK`; `PERMISSION_DENIED` with a 403; `UNAUTHENTICATED` with a 401: see `ext_authz`).
//!
//! On the admin listener (`--admin-listen`; without one, on the API listener): `/healthz`,
//! `/readyz`, `GET /metrics` (Prometheus text: see [`metrics`](crate#metrics)) and
//! `POST /admin/reload`.
//!
//! Every answer carries `x-thuja-revision`, the content hash of the inputs of the engine that
//! answered, and echoes `X-Request-ID`. With `--token`, every request but `/healthz` and
//! `/readyz` needs `Authorization: Bearer <token>` (401 otherwise).
//!
//! ## AuthZEN → Cedar
//!
//! - `subject.type`, `resource.type` name the Cedar entity type, renamed by the type map
//!   (`--type-map`, [`TypeMap`]) when it lists them; `subject.id`, `resource.id` are the ids
//!   as given.
//! - `action.name` is the id of an action entity of type `Action` (the type map's
//!   `action_type` changes it, e.g. `TinyTodo::Action`).
//! - `context` is the Cedar context, typed by the schema when there is one; with a schema the
//!   request is validated against it, so an unknown entity type, an action the schema does
//!   not apply to those types, or a context of the wrong shape is a 400 naming the problem.
//! - `properties` of the subject and the resource are request-scoped attributes of those
//!   entities: for this request only, they replace the stored entity's attributes of the same
//!   names (parents and tags stay; an entity the store lacks is made of them), typed and
//!   checked by the schema. `action.properties` are a 400: actions come from the schema.
//! - The answer is `{"decision": true|false}`; with `--reveal`, `context` holds the
//!   determining policies (`reasons`) and the policies whose evaluation failed (`errors`).
//!
//! ## Guarantees
//!
//! - No input crashes the server: a malformed request is a 4xx with
//!   `{"error": {"status", "message"}}`, a body over the limit (1 MiB by default) a 413, a
//!   request not answered within the timeout a 503; forward auth denies anything it cannot
//!   map or decide (fail closed).
//! - A client slower than the header timeout to send its headers (or idle that long on a
//!   keep-alive connection) is disconnected; at most `max_connections` TCP connections are open
//!   at once (beyond, accepting waits), so slow or numerous clients cannot stall the others.
//! - Reloads (file changes, debounced; SIGHUP; `POST /admin/reload`) rebuild on a blocking
//!   thread and swap atomically: requests in flight finish on the engine they started on; a
//!   failed reload keeps the previous engine and is logged, shown in `/readyz`
//!   (`last_reload_error`) and counted (`thuja_reloads_total{result="error"}`).
//! - SIGTERM or ctrl-c stops accepting, lets requests in flight finish (10 s at most), exits.
//!
//! ## Metrics
//!
//! `thuja_decisions_total{api, decision}`, `thuja_request_duration_seconds{api}`,
//! `thuja_reloads_total{result}`, `thuja_policies`, `thuja_entities`,
//! `thuja_revision_info{revision}`.

mod authzen;
mod cedar_api;
pub mod config;
pub mod decision_log;
mod ext_authz;
mod forward_auth;
mod gateway;
mod http;
pub mod jwt;
pub mod mapping;
mod metrics;
mod ops;
mod overlay;
mod reload;
mod search;
mod server;
mod state;
pub mod tls;

pub use config::{Decider, ExternalDecider, ServeConfig, TypeMap};
pub use mapping::Mapping;
pub use reload::ReloadOutcome;
pub use server::{ServeError, Server, Signals};
pub use tls::TlsFiles;

/// Starts logging to standard error (`RUST_LOG` filters; `info` by default), unless a
/// subscriber is already set.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Raises the process's open-file limit to the hard limit (a connection is a descriptor; the
/// usual soft limit of 1,024 would make accepting fail long before `max_connections`), and
/// warns when even that is below what the connection limit needs.
fn raise_open_file_limit(max_connections: usize) {
    // The listeners, the watcher, the input files and the log, beyond the connections.
    const SPARE: u64 = 256;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < max_connections as u64 + SPARE => tracing::warn!(
            "the open-file limit is {limit}: fewer than the {max_connections} connections --max-connections allows; accepting fails beyond it"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
}

/// Runs the server until SIGTERM or ctrl-c: logging, the async runtime, the listeners, the
/// first engine. Prints the listeners' addresses to standard error once serving.
pub fn run(config: ServeConfig) -> Result<(), ServeError> {
    init_logging();
    raise_open_file_limit(config.max_connections);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Server::start(config).await?;
        let signals = Signals::install()?;
        let admin = server
            .admin_addr()
            .map(|a| format!(", admin on http://{a}"))
            .unwrap_or_default();
        let grpc = server
            .grpc_addr()
            .map(|a| format!(", ext_authz gRPC on {a}"))
            .unwrap_or_default();
        eprintln!(
            "thuja serve: listening on http://{}{admin}{grpc}; revision {}",
            server.api_addr(),
            server.revision().unwrap_or_default()
        );
        server.run_until_signal(signals).await
    })
}
