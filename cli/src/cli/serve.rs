//! `thuja serve`: the authorization server (AuthZEN, Cedar-native JSON, forward auth for
//! gateways), from the `thuja-serve` crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use thuja_serve::{ServeConfig, TypeMap};

use super::exit;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: PathBuf,
    /// Schema file (.cedarschema text, or Cedar's JSON schema when it ends in .json); requests are validated against it
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Entities JSON file
    #[arg(long, value_name = "FILE")]
    pub entities: Option<PathBuf>,
    /// Engine that answers: `vm`, `jit` or `interp`
    #[arg(long, value_name = "ENGINE", default_value_t = thuja::Evaluator::Vm)]
    pub engine: thuja::Evaluator,
    /// Validate the policies against the schema on every load; an invalid set is refused
    #[arg(long, requires = "schema")]
    pub validate: bool,
    /// Address of the API listener
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8180")]
    pub listen: SocketAddr,
    /// Address of the admin listener (/healthz, /readyz, /metrics, /admin/reload)
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// Also serve the API on this unix socket
    #[arg(long, value_name = "PATH")]
    pub unix_socket: Option<PathBuf>,
    /// Serve TLS on every listener with this certificate chain (PEM); needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Address of the gRPC listener for Envoy's ext_authz v3 (uses the --forward-auth mapping)
    #[arg(long, value_name = "ADDR")]
    pub grpc_listen: Option<SocketAddr>,
    /// Require `Authorization: Bearer TOKEN` (all endpoints but /healthz and /readyz)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "THUJA_SERVE_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// AuthZEN type map (JSON): {"types": {"user": "App::User"}, "action_type": "App::Action"}
    #[arg(long, value_name = "FILE")]
    pub type_map: Option<PathBuf>,
    /// Gateway mapping (JSON): how a gateway's HTTP request becomes a Cedar request (forward auth and ext_authz)
    #[arg(long, value_name = "FILE")]
    pub forward_auth: Option<PathBuf>,
    /// Include determining policies and errors in AuthZEN and forward-auth answers
    #[arg(long)]
    pub reveal: bool,
    /// Largest request body in bytes (413 beyond)
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body: usize,
    /// Requests answered at once (more wait within the timeout)
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_concurrency: usize,
    /// Longest a request may take, in milliseconds (503 beyond)
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Longest a client may take to send a request's headers (and an idle connection stays open), in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Connections open at once; beyond, new connections wait to be accepted
    #[arg(long, value_name = "N", default_value_t = 16_384)]
    pub max_connections: usize,
    /// Append a JSON line per decision (request, decision, reasons, errors, revision, duration) to FILE (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Share of decisions the decision log records, in (0, 1]
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 1.0,
        requires = "decision_log"
    )]
    pub decision_log_sample: f64,
    /// Allow everything without evaluating (requests still read, mapped and validated): to measure the server stack; never for production
    #[arg(long)]
    pub null_engine: bool,
    /// Do not reload when an input file changes (SIGHUP and /admin/reload still do)
    #[arg(long)]
    pub no_watch: bool,
}

pub fn run(args: &ServeArgs) -> i32 {
    let type_map = match &args.type_map {
        Some(path) => match TypeMap::from_file(path) {
            Ok(map) => map,
            Err(e) => {
                eprintln!("error: type map: {e}");
                return exit::FAILURE;
            }
        },
        None => TypeMap::default(),
    };
    let mut config = ServeConfig::new(&args.policies);
    config.schema = args.schema.clone();
    config.entities = args.entities.clone();
    config.evaluator = args.engine;
    config.validate = args.validate;
    config.listen = args.listen;
    config.admin_listen = args.admin_listen;
    config.unix_socket = args.unix_socket.clone();
    config.grpc_listen = args.grpc_listen;
    config.tls = args
        .tls_cert
        .clone()
        .zip(args.tls_key.clone())
        .map(|(cert, key)| thuja_serve::TlsFiles { cert, key });
    config.token = args.token.clone();
    config.type_map = type_map;
    config.forward_auth = args.forward_auth.clone();
    config.reveal = args.reveal;
    config.max_body_bytes = args.max_body;
    config.max_concurrency = args.max_concurrency;
    config.request_timeout = Duration::from_millis(args.timeout_ms);
    config.header_timeout = Duration::from_millis(args.header_timeout_ms);
    config.max_connections = args.max_connections;
    config.watch = !args.no_watch;
    config.null_engine = args.null_engine;
    config.decision_log = args.decision_log.clone();
    config.decision_log_sample = args.decision_log_sample;
    if args.null_engine {
        eprintln!("warning: --null-engine: every request is allowed without evaluation");
    }
    match thuja_serve::run(config) {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
