//! A real gateway in front: nginx with `auth_request` to `thuja serve`'s forward auth, proxying
//! to a small upstream this test starts. Allowed paths get the upstream's 200, denied ones
//! 403, requests without an identity 401; with thuja stopped nginx fails closed (an error,
//! never the upstream's answer).
//!
//! Without nginx installed the test prints why it skips and passes, unless
//! `THUJA_REQUIRE_NGINX=1` (CI installs nginx and sets it).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

fn nginx_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([
            "/usr/sbin".into(),
            "/usr/local/sbin".into(),
            "/usr/local/nginx/sbin".into(),
        ]);
    candidates
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// nginx running in the foreground; stopped (and its workers with it) when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    fn start(
        binary: &Path,
        dir: &Path,
        port: u16,
        thuja: SocketAddr,
        upstream: SocketAddr,
    ) -> Nginx {
        let d = dir.display();
        let conf = format!(
            r#"
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /_thuja_auth {{
            internal;
            proxy_pass http://{thuja}/forward-auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Real-IP $remote_addr;
        }}
        location / {{
            auth_request /_thuja_auth;
            proxy_pass http://{upstream};
        }}
    }}
}}
"#
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen within 15 s: {}",
                nginx.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The upstream: answers `upstream ok: METHOD PATH` to everything.
async fn upstream() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|request: axum::extract::Request| async move {
        format!("upstream ok: {} {}", request.method(), request.uri().path())
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (addr, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_through_thuja_forward_auth() {
    let Some(binary) = nginx_binary() else {
        assert!(
            std::env::var("THUJA_REQUIRE_NGINX").as_deref() != Ok("1"),
            "nginx is not installed and THUJA_REQUIRE_NGINX=1"
        );
        eprintln!("skipping: nginx is not installed (set THUJA_REQUIRE_NGINX=1 to require it)");
        return;
    };
    let scratch = Scratch::new("nginx");
    let server = start(scratch.config()).await;
    let engine = scratch.engine();
    let (upstream, stop_upstream) = upstream().await;
    let port = free_port();
    let nginx = Nginx::start(&binary, &scratch.dir, port, server.api_addr(), upstream);
    let client = client();
    let base = format!("http://127.0.0.1:{port}");

    // nginx passes $remote_addr (127.0.0.1, outside the office network) as the client address.
    let cases = [
        ("GET", "/lists/groceries", "GetList"),
        ("PUT", "/lists/groceries", "UpdateList"),
        ("DELETE", "/lists/groceries", "DeleteList"),
        ("POST", "/lists/groceries/tasks", "CreateTask"),
    ];
    let (mut allows, mut denies) = (0, 0);
    for user in USERS {
        for (method, path, action) in cases {
            let want = allowed(&decide(
                &engine,
                &json!({"type": "TinyTodo::User", "id": user}),
                &json!({"type": "TinyTodo::Action", "id": action}),
                &json!({"type": "TinyTodo::List", "id": "groceries"}),
                &json!({"ip": "127.0.0.1"}),
            ));
            let response = client
                .request(method.parse().expect("method"), format!("{base}{path}"))
                .header("X-User", user)
                .send()
                .await
                .expect("nginx answers");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if want {
                allows += 1;
                assert_eq!(status, 200, "{user} {method} {path}: {body}");
                assert_eq!(body, format!("upstream ok: {method} {path}"));
            } else {
                denies += 1;
                assert_eq!(status, 403, "{user} {method} {path}: {body}");
                assert!(!body.contains("upstream ok"), "{body}");
            }
        }
    }
    assert!(allows > 0 && denies > 0, "{allows} allows, {denies} denies");
    // No identity: 401 from nginx, no upstream answer.
    let response = client
        .get(format!("{base}/lists/groceries"))
        .send()
        .await
        .expect("nginx answers");
    assert_eq!(response.status().as_u16(), 401);
    assert!(
        !response
            .text()
            .await
            .unwrap_or_default()
            .contains("upstream ok")
    );
    // A path no route maps: denied.
    let response = client
        .get(format!("{base}/admin"))
        .header("X-User", "alice")
        .send()
        .await
        .expect("nginx answers");
    assert_eq!(response.status().as_u16(), 403);

    // thuja stopped: nginx fails closed.
    server.shutdown().await;
    let response = client
        .get(format!("{base}/lists/groceries"))
        .header("X-User", "bob")
        .send()
        .await
        .expect("nginx answers");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert!(
        status == 500 || status == 502,
        "with thuja stopped nginx answered {status}: {body}"
    );
    assert!(!body.contains("upstream ok"), "{body}");
    drop(nginx);
    let _ = stop_upstream.send(());
}
