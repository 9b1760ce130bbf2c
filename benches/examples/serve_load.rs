//! Load on `thuja serve` over loopback, bounded in time: the server runs in-process, once per
//! engine of `--engines` — `vm`, `jit`, `null` (allow without evaluating: the HTTP, JSON and
//! mapping stack alone) and `cedar` (the same server with cedar-policy deciding in the engine's
//! place, through `ServeConfig::decider`; bench-only) — alternated for `--rounds`; clients send
//! requests on keep-alive connections. Prints requests per second, p50 and p99 latency for
//! each, and each engine's throughput relative to the null engine's, then one JSON line.
//!
//! ```sh
//! cargo run --release -p thuja-benches --example serve_load -- --seconds 5 --connections 4 --api authzen
//! cargo run --release -p thuja-benches --example serve_load -- --workload rbac-100000 --engines vm,null,cedar
//! ```
//!
//! `--workload tinytodo` (default) is the TinyTodo example (its type map and forward-auth
//! mapping; the only workload `ext_authz` runs on); any other is a generated workload of
//! `thuja_benches::by_name` (`rbac-100000`, `saas-1000`, ...), its files written to a scratch
//! directory, its requests the bodies (`--requests N`, default 2,000, each sent in turn).
//!
//! Options: `--seconds S` per run (default 3), `--connections N` client threads, each with one
//! connection (default 4), `--server-threads N` (default 1), `--rounds R` (default 2), `--api
//! authzen|cedar|ext_authz` (`/access/v1/evaluation`, `/v1/is_authorized`, or Envoy's
//! `Authorization/Check` over gRPC through the forward-auth mapping, each client one HTTP/2
//! connection). On a 2-core machine the clients and the server share the cores; compare runs
//! of one invocation only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;
use thuja_benches::Workload;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

struct Options {
    seconds: f64,
    connections: usize,
    server_threads: usize,
    rounds: usize,
    api: String,
    workload: String,
    requests: usize,
    engines: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 3.0,
        connections: 4,
        server_threads: 1,
        rounds: 2,
        api: "authzen".into(),
        workload: "tinytodo".into(),
        requests: 2_000,
        engines: vec!["vm".into(), "null".into()],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--seconds" => o.seconds = number()?.clamp(0.1, 600.0),
            "--connections" => o.connections = number()?.clamp(1.0, 256.0) as usize,
            "--server-threads" => o.server_threads = number()?.clamp(1.0, 64.0) as usize,
            "--rounds" => o.rounds = number()?.clamp(1.0, 20.0) as usize,
            "--api" if ["authzen", "cedar", "ext_authz"].contains(&value.as_str()) => o.api = value,
            "--workload" => o.workload = value,
            "--requests" => o.requests = number()?.clamp(1.0, 1e6) as usize,
            "--engines" => {
                o.engines = value.split(',').map(str::to_string).collect();
                if let Some(bad) = o
                    .engines
                    .iter()
                    .find(|e| !["vm", "jit", "null", "cedar"].contains(&e.as_str()))
                {
                    return Err(format!("unknown engine {bad} (vm, jit, null, cedar)"));
                }
            }
            other => return Err(format!("unknown option {other} {value}")),
        }
    }
    if o.api == "ext_authz" && o.workload != "tinytodo" {
        return Err("--api ext_authz runs on the tinytodo workload only (its mapping)".into());
    }
    Ok(o)
}

/// The inputs a run serves: files, the AuthZEN type map, and the request bodies.
struct Inputs {
    policies: PathBuf,
    schema: PathBuf,
    entities: PathBuf,
    type_map: thuja_serve::TypeMap,
    bodies: Vec<String>,
    /// The generated workload (none for the example), for the cedar decider.
    _scratch: Option<Scratch>,
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn inputs(o: &Options) -> Result<Inputs, String> {
    if o.workload == "tinytodo" {
        let example = Path::new(EXAMPLE);
        return Ok(Inputs {
            policies: example.join("policies.cedar"),
            schema: example.join("tinytodo.cedarschema"),
            entities: example.join("entities.json"),
            type_map: thuja_serve::TypeMap::from_file(&example.join("serve/type-map.json"))?,
            bodies: bodies(&o.api),
            _scratch: None,
        });
    }
    let w: Workload = thuja_benches::by_name(&o.workload, o.requests, 7)
        .ok_or(format!("unknown workload {}", o.workload))?;
    let dir = std::env::temp_dir().join(format!("thuja-serve-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let scratch = Scratch(dir.clone());
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| e.to_string())?;
        Ok::<PathBuf, String>(dir.join(name))
    };
    // AuthZEN names the action by its id; the workload's actions share one type.
    let action_type = w
        .requests
        .first()
        .and_then(|r| r.action["type"].as_str())
        .unwrap_or("Action")
        .to_string();
    let bodies = w
        .requests
        .iter()
        .map(|r| {
            if o.api == "authzen" {
                json!({"subject": r.principal, "action": {"name": r.action["id"]},
                       "resource": r.resource, "context": r.context})
            } else {
                json!({"principal": r.principal, "action": r.action, "resource": r.resource,
                       "context": r.context})
            }
            .to_string()
        })
        .collect();
    Ok(Inputs {
        policies: write("policies.cedar", &w.policies)?,
        schema: write("schema.cedarschema", &w.schema)?,
        entities: write("entities.json", &w.entities)?,
        type_map: thuja_serve::TypeMap::from_json(
            &json!({"types": {}, "action_type": action_type}).to_string(),
        )?,
        bodies,
        _scratch: Some(scratch),
    })
}

/// cedar-policy deciding in the server's place (bench-only: the product never links it).
struct CedarDecider {
    schema: cedar_policy::Schema,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    authorizer: cedar_policy::Authorizer,
}

impl CedarDecider {
    fn new(inputs: &Inputs) -> Result<Self, String> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| e.to_string());
        let schema = cedar_policy::Schema::from_cedarschema_str(&read(&inputs.schema)?)
            .map_err(|e| e.to_string())?
            .0;
        let policies: cedar_policy::PolicySet = read(&inputs.policies)?
            .parse()
            .map_err(|e| format!("{e}"))?;
        let entities =
            cedar_policy::Entities::from_json_str(&read(&inputs.entities)?, Some(&schema))
                .map_err(|e| e.to_string())?;
        Ok(CedarDecider {
            schema,
            policies,
            entities,
            authorizer: cedar_policy::Authorizer::new(),
        })
    }
}

impl thuja_serve::Decider for CedarDecider {
    fn decide(&self, request: &thuja::Request) -> thuja::Response {
        use cedar_policy::{Context, EntityUid};
        let deny = || thuja::Response {
            decision: thuja::Decision::Deny,
            reasons: thuja::PolicyIds::default(),
            errors: Vec::new(),
        };
        let uid = |u: &thuja::EntityUid| u.to_string().parse::<EntityUid>().ok();
        let (Some(principal), Some(action), Some(resource)) = (
            uid(request.principal()),
            uid(request.action()),
            uid(request.resource()),
        ) else {
            return deny();
        };
        let Ok(context) = thuja::output::context_json(request.context()) else {
            return deny();
        };
        let Ok(context) = Context::from_json_value(context, Some((&self.schema, &action))) else {
            return deny();
        };
        let Ok(cedar) =
            cedar_policy::Request::new(principal, action, resource, context, Some(&self.schema))
        else {
            return deny();
        };
        let answer = self
            .authorizer
            .is_authorized(&cedar, &self.policies, &self.entities);
        thuja::Response {
            decision: match answer.decision() {
                cedar_policy::Decision::Allow => thuja::Decision::Allow,
                cedar_policy::Decision::Deny => thuja::Decision::Deny,
            },
            reasons: answer
                .diagnostics()
                .reason()
                .map(|id| thuja::PolicyId::from(id.to_string().as_str()))
                .collect(),
            errors: Vec::new(),
        }
    }
}

/// The request bodies: every user, list action and client address, on the one list.
fn bodies(api: &str) -> Vec<String> {
    let mut out = Vec::new();
    for user in ["alice", "bob", "casey"] {
        for action in [
            "GetList",
            "UpdateList",
            "DeleteList",
            "CreateTask",
            "UpdateTask",
        ] {
            for ip in ["10.1.2.3", "192.0.2.7"] {
                out.push(
                    if api == "authzen" {
                        json!({"subject": {"type": "user", "id": user}, "action": {"name": action},
                           "resource": {"type": "list", "id": "groceries"}, "context": {"ip": ip}})
                    } else {
                        json!({"principal": {"type": "TinyTodo::User", "id": user},
                           "action": {"type": "TinyTodo::Action", "id": action},
                           "resource": {"type": "TinyTodo::List", "id": "groceries"},
                           "context": {"ip": ip}})
                    }
                    .to_string(),
                );
            }
        }
    }
    out
}

struct Run {
    requests: usize,
    failures: usize,
    seconds: f64,
    latencies_ns: Vec<u64>,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_ns.len() - 1) as f64 * p).round() as usize;
        self.latencies_ns[i] as f64 / 1000.0
    }
}

/// One client: requests on one keep-alive connection until `deadline`.
fn client(addr: SocketAddr, path: &str, bodies: &[String], deadline: Instant) -> (usize, Vec<u64>) {
    let mut failures = 0;
    let mut latencies = Vec::new();
    let Ok(stream) = TcpStream::connect(addr) else {
        return (1, latencies);
    };
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else {
        return (1, latencies);
    };
    let mut reader = BufReader::new(stream);
    let mut i = 0;
    while Instant::now() < deadline {
        let body = &bodies[i % bodies.len()];
        i += 1;
        let started = Instant::now();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(request.as_bytes()).is_err() {
            failures += 1;
            break;
        }
        match read_response(&mut reader) {
            Some(200) => latencies.push(started.elapsed().as_nanos() as u64),
            Some(_) => failures += 1,
            None => {
                failures += 1;
                break;
            }
        }
    }
    (failures, latencies)
}

/// Reads one response; its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> Option<u16> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(status)
}

fn run(options: &Options, inputs: &Inputs, engine: &str) -> Result<Run, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.server_threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut config = thuja_serve::ServeConfig::new(&inputs.policies);
    config.schema = Some(inputs.schema.clone());
    config.entities = Some(inputs.entities.clone());
    config.type_map = inputs.type_map.clone();
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.watch = false;
    match engine {
        "null" => config.null_engine = true,
        "jit" => config.evaluator = thuja::Evaluator::Jit,
        "cedar" => {
            config.decider = Some(thuja_serve::ExternalDecider(Arc::new(CedarDecider::new(
                inputs,
            )?)))
        }
        _ => {}
    }
    if options.api == "ext_authz" {
        config.grpc_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.forward_auth = Some(Path::new(EXAMPLE).join("serve/forward-auth.json"));
    }
    let server = runtime
        .block_on(thuja_serve::Server::start(config))
        .map_err(|e| e.to_string())?;
    if options.api == "ext_authz" {
        let addr = server.grpc_addr().ok_or("no gRPC listener")?;
        let result = grpc::load(addr, options);
        runtime.block_on(server.shutdown());
        return result;
    }
    let addr = server.api_addr();
    let path = if options.api == "authzen" {
        "/access/v1/evaluation"
    } else {
        "/v1/is_authorized"
    };
    let bodies = &inputs.bodies;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let results: Vec<(usize, Vec<u64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.connections)
            .map(|_| scope.spawn(|| client(addr, path, bodies, deadline)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((1, Vec::new())))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    runtime.block_on(server.shutdown());
    let failures = results.iter().map(|(f, _)| f).sum();
    let mut latencies_ns: Vec<u64> = results.into_iter().flat_map(|(_, l)| l).collect();
    latencies_ns.sort_unstable();
    Ok(Run {
        requests: latencies_ns.len(),
        failures,
        seconds,
        latencies_ns,
    })
}

/// The `ext_authz` clients: Envoy's checks over gRPC, one HTTP/2 connection each, on a
/// runtime of their own.
mod grpc {
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use envoy_types::ext_authz::v3::pb::CheckRequest;
    use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
    use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
    use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
    use tonic::transport::Channel;

    use super::{Options, Run};

    /// The checks: every user, list route and client address, as Envoy describes them.
    fn checks() -> Vec<CheckRequest> {
        let mut out = Vec::new();
        for user in ["alice", "bob", "casey"] {
            for (method, path) in [
                ("GET", "/lists/groceries"),
                ("PUT", "/lists/groceries"),
                ("DELETE", "/lists/groceries"),
                ("POST", "/lists/groceries/tasks"),
                ("PUT", "/lists/groceries/tasks/7"),
            ] {
                for ip in ["10.1.2.3", "192.0.2.7"] {
                    let headers = [("x-user", user), ("x-real-ip", ip)]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    out.push(CheckRequest {
                        attributes: Some(AttributeContext {
                            request: Some(Request {
                                http: Some(HttpRequest {
                                    method: method.into(),
                                    path: path.into(),
                                    host: "todo.example".into(),
                                    headers,
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                    });
                }
            }
        }
        out
    }

    pub fn load(addr: SocketAddr, options: &Options) -> Result<Run, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.connections.min(4))
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let checks = checks();
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(options.seconds);
        let results: Vec<(usize, Vec<u64>)> = runtime.block_on(async {
            let mut tasks = Vec::new();
            for c in 0..options.connections {
                let checks = checks.clone();
                tasks.push(tokio::spawn(async move {
                    let channel = match Channel::from_shared(format!("http://{addr}")) {
                        Ok(endpoint) => endpoint.connect().await,
                        Err(_) => return (1, Vec::new()),
                    };
                    let Ok(channel) = channel else {
                        return (1, Vec::new());
                    };
                    let mut client = AuthorizationClient::new(channel);
                    let (mut failures, mut latencies) = (0, Vec::new());
                    let mut i = c;
                    while Instant::now() < deadline {
                        let check = checks[i % checks.len()].clone();
                        i += 1;
                        let sent = Instant::now();
                        match client.check(check).await {
                            Ok(_) => latencies.push(sent.elapsed().as_nanos() as u64),
                            Err(_) => failures += 1,
                        }
                    }
                    (failures, latencies)
                }));
            }
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap_or((1, Vec::new())));
            }
            results
        });
        let seconds = started.elapsed().as_secs_f64();
        let failures = results.iter().map(|(f, _)| f).sum();
        let mut latencies_ns: Vec<u64> = results.into_iter().flat_map(|(_, l)| l).collect();
        latencies_ns.sort_unstable();
        Ok(Run {
            requests: latencies_ns.len(),
            failures,
            seconds,
            latencies_ns,
        })
    }
}

fn main() {
    let fail = |e: String| -> ! {
        eprintln!("error: {e}");
        std::process::exit(1);
    };
    let options = options().unwrap_or_else(|e| fail(e));
    let inputs = inputs(&options).unwrap_or_else(|e| fail(e));
    let mut runs: Vec<Vec<Run>> = options.engines.iter().map(|_| Vec::new()).collect();
    for _ in 0..options.rounds {
        for (engine, runs) in options.engines.iter().zip(&mut runs) {
            runs.push(run(&options, &inputs, engine).unwrap_or_else(|e| fail(e)));
        }
    }
    println!(
        "thuja serve, {} API, {} workload ({} bodies), {} connections, {} server threads, {} × {} s per engine",
        options.api,
        options.workload,
        inputs.bodies.len(),
        options.connections,
        options.server_threads,
        options.rounds,
        options.seconds
    );
    let merged: Vec<Run> = runs
        .into_iter()
        .map(|runs| {
            let mut all: Vec<u64> = runs
                .iter()
                .flat_map(|r| r.latencies_ns.iter().copied())
                .collect();
            all.sort_unstable();
            Run {
                requests: runs.iter().map(|r| r.requests).sum(),
                failures: runs.iter().map(|r| r.failures).sum(),
                seconds: runs.iter().map(|r| r.seconds).sum(),
                latencies_ns: all,
            }
        })
        .collect();
    let null_rps = options
        .engines
        .iter()
        .position(|e| e == "null")
        .map(|i| merged[i].rps());
    let mut report = serde_json::Map::new();
    for (engine, run) in options.engines.iter().zip(&merged) {
        let ratio = null_rps.filter(|n| *n > 0.0).map(|n| run.rps() / n);
        println!(
            "{engine:<6} {:>10.0} req/s   p50 {:>8.1} µs   p99 {:>8.1} µs   failures {}{}",
            run.rps(),
            run.percentile(0.50),
            run.percentile(0.99),
            run.failures,
            ratio.map_or(String::new(), |r| format!("   {:.1}% of null", r * 100.0))
        );
        report.insert(
            engine.clone(),
            json!({"rps": run.rps(), "p50_us": run.percentile(0.5), "p99_us": run.percentile(0.99),
                   "failures": run.failures, "of_null": ratio}),
        );
    }
    println!(
        "{}",
        json!({"api": options.api, "workload": options.workload, "connections": options.connections,
               "engines": report})
    );
    if merged.iter().any(|r| r.failures > 0) {
        std::process::exit(1);
    }
}
