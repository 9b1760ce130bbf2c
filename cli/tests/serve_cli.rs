//! `thuja serve` as a process: it prints where it listens, answers over HTTP, reloads on
//! SIGHUP, exits 0 on SIGTERM, and exits 1 with a located error on inputs that do not build.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thuja-serve-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for file in ["policies.cedar", "tinytodo.cedarschema", "entities.json"] {
        std::fs::copy(Path::new(EXAMPLE).join(file), dir.join(file)).expect("copy");
    }
    dir
}

/// The server process; killed if the test ends without stopping it.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// One HTTP/1.1 exchange: the status line and the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn revision(addr: &str) -> String {
    let (_, body) = http(addr, "GET", "/readyz", "");
    let ready: serde_json::Value = serde_json::from_str(&body).expect("json");
    ready["revision"].as_str().expect("revision").to_string()
}

#[test]
fn serve_answers_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = scratch("signals");
    let mut child = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .arg("serve")
        .arg("-p")
        .arg(dir.join("policies.cedar"))
        .arg("-s")
        .arg(dir.join("tinytodo.cedarschema"))
        .arg("--entities")
        .arg(dir.join("entities.json"))
        .args(["--listen", "127.0.0.1:0", "--no-watch"])
        .args(["--grpc-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("thuja serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("a line");
    let serve = Serve(child);
    let after = |label: &str| {
        line.split(label)
            .nth(1)
            .and_then(|rest| rest.split([';', ',']).next())
            .unwrap_or_else(|| panic!("no `{label}` address in `{line}`"))
            .to_string()
    };
    let addr = after("listening on http://");
    // The ext_authz listener is open (its checks are tested in thuja-serve's ext_authz tests).
    let grpc = after("ext_authz gRPC on ");
    std::net::TcpStream::connect(&grpc).expect("the gRPC listener accepts");
    // Log lines keep coming; drain them so the server never blocks on a full pipe.
    let drained = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });

    let request =
        std::fs::read_to_string(Path::new(EXAMPLE).join("request.json")).expect("request");
    let (status, body) = http(&addr, "POST", "/v1/is_authorized", &request);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"decision\":\"allow\""), "{body}");

    // SIGHUP after a change: a new revision, and the new policies decide.
    let first = revision(&addr);
    let policies = std::fs::read_to_string(dir.join("policies.cedar")).expect("policies");
    std::fs::write(
        dir.join("policies.cedar"),
        format!("{policies}\nforbid (principal, action, resource);\n"),
    )
    .expect("write");
    signal(&serve.0, "HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while revision(&addr) == first {
        assert!(Instant::now() < deadline, "no reload within 20 s of SIGHUP");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, body) = http(&addr, "POST", "/v1/is_authorized", &request);
    assert!(body.contains("\"decision\":\"deny\""), "{body}");

    // SIGTERM: a clean exit.
    signal(&serve.0, "TERM");
    let mut serve = serve;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = serve.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let log = drained.join().expect("log");
    assert!(log.contains("reloaded"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_inputs_that_do_not_build() {
    let dir = scratch("broken");
    std::fs::write(
        dir.join("policies.cedar"),
        "permit(principal, action, resource) when { 1 + };",
    )
    .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_thuja"))
        .arg("serve")
        .arg("-p")
        .arg(dir.join("policies.cedar"))
        .args(["--listen", "127.0.0.1:0", "--no-watch"])
        .output()
        .expect("thuja serve runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("policies.cedar:1:"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `thuja serve` on the example under a soft open-file limit of 1,024 (the usual
/// default, which the server raises itself); its API address.
fn serve_with_low_file_limit(dir: &Path) -> (Serve, String) {
    let thuja = env!("CARGO_BIN_EXE_thuja");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -Sn 1024 && exec '{thuja}' serve -p '{}' -s '{}' --entities '{}' --listen 127.0.0.1:0 --no-watch",
            dir.join("policies.cedar").display(),
            dir.join("tinytodo.cedarschema").display(),
            dir.join("entities.json").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("thuja serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("listening on http://") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("a line") > 0,
            "no listening line"
        );
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
    });
    let addr = line
        .split("listening on http://")
        .nth(1)
        .and_then(|rest| rest.split([';', ',']).next())
        .unwrap_or_default()
        .to_string();
    (Serve(child), addr)
}

#[test]
fn ten_thousand_idle_connections_do_not_stall_a_new_client() {
    // This process holds the client ends: raise its own limit (the server raises its own).
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("the open-file limit");
    let connections = 10_000.min(limit.saturating_sub(512) as usize);
    assert!(
        connections >= 2_000,
        "the hard open-file limit ({limit}) is too low for this test"
    );
    let dir = scratch("connections");
    let (_serve, addr) = serve_with_low_file_limit(&dir);
    let request =
        std::fs::read_to_string(Path::new(EXAMPLE).join("request.json")).expect("request");
    let started = Instant::now();
    let idle: Vec<TcpStream> = (0..connections)
        .map(|_| TcpStream::connect(&addr))
        .collect::<Result<_, _>>()
        .expect("every connection is taken");
    let opened = started.elapsed();
    // Accepted, not merely queued: each idle connection gets a server-side descriptor, beyond
    // the soft limit of 1,024 the server started under.
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let (status, body) = http(&addr, "POST", "/v1/is_authorized", &request);
    let answered = asked.elapsed();
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"decision\":\"allow\""), "{body}");
    assert!(
        answered < Duration::from_secs(5),
        "a new client waited {answered:?} behind {connections} idle connections"
    );
    eprintln!(
        "{connections} idle connections opened in {opened:?}; a new request answered in {answered:?}"
    );
    drop(idle);
    let _ = std::fs::remove_dir_all(&dir);
}
