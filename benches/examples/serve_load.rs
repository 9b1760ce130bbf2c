//! Load on `thuja serve` over loopback, bounded in time: the server runs in-process on the
//! TinyTodo example, once deciding with the VM and once with the null engine (allow without
//! evaluating: the HTTP, JSON and mapping stack alone), alternated for `--rounds`; client
//! threads send requests on keep-alive connections. Prints requests per second, p50 and p99
//! latency for each, and Thuja's throughput relative to the null engine's, then one JSON line.
//!
//! ```sh
//! cargo run --release -p thuja-benches --example serve_load -- --seconds 5 --connections 4 --api authzen
//! ```
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

use serde_json::json;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

struct Options {
    seconds: f64,
    connections: usize,
    server_threads: usize,
    rounds: usize,
    api: String,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 3.0,
        connections: 4,
        server_threads: 1,
        rounds: 2,
        api: "authzen".into(),
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
            other => return Err(format!("unknown option {other} {value}")),
        }
    }
    Ok(o)
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

fn run(options: &Options, null_engine: bool) -> Result<Run, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.server_threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let example = Path::new(EXAMPLE);
    let mut config = thuja_serve::ServeConfig::new(example.join("policies.cedar"));
    config.schema = Some(example.join("tinytodo.cedarschema"));
    config.entities = Some(example.join("entities.json"));
    config.type_map = thuja_serve::TypeMap::from_file(&example.join("serve/type-map.json"))?;
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.watch = false;
    config.null_engine = null_engine;
    if options.api == "ext_authz" {
        config.grpc_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.forward_auth = Some(example.join("serve/forward-auth.json"));
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
    let bodies = bodies(&options.api);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let results: Vec<(usize, Vec<u64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.connections)
            .map(|_| scope.spawn(|| client(addr, path, &bodies, deadline)))
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
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut thuja = Vec::new();
    let mut null = Vec::new();
    for _ in 0..options.rounds {
        for (null_engine, runs) in [(false, &mut thuja), (true, &mut null)] {
            match run(&options, null_engine) {
                Ok(r) => runs.push(r),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let summary = |name: &str, runs: &[Run]| {
        let requests: usize = runs.iter().map(|r| r.requests).sum();
        let failures: usize = runs.iter().map(|r| r.failures).sum();
        let seconds: f64 = runs.iter().map(|r| r.seconds).sum();
        let mut all: Vec<u64> = runs
            .iter()
            .flat_map(|r| r.latencies_ns.iter().copied())
            .collect();
        all.sort_unstable();
        let merged = Run {
            requests,
            failures,
            seconds,
            latencies_ns: all,
        };
        println!(
            "{name:<6} {:>10.0} req/s   p50 {:>8.1} µs   p99 {:>8.1} µs   failures {}",
            merged.rps(),
            merged.percentile(0.50),
            merged.percentile(0.99),
            merged.failures
        );
        merged
    };
    println!(
        "thuja serve, {} API, {} connections, {} server threads, {} × {} s per engine",
        options.api, options.connections, options.server_threads, options.rounds, options.seconds
    );
    let t = summary("vm", &thuja);
    let n = summary("null", &null);
    let ratio = if n.rps() > 0.0 {
        t.rps() / n.rps()
    } else {
        0.0
    };
    println!(
        "vm throughput / null engine throughput: {:.1}%",
        ratio * 100.0
    );
    println!(
        "{}",
        json!({
            "api": options.api,
            "connections": options.connections,
            "vm": {"rps": t.rps(), "p50_us": t.percentile(0.5), "p99_us": t.percentile(0.99), "failures": t.failures},
            "null": {"rps": n.rps(), "p50_us": n.percentile(0.5), "p99_us": n.percentile(0.99), "failures": n.failures},
            "ratio": ratio,
        })
    );
    if t.failures + n.failures > 0 {
        std::process::exit(1);
    }
}
