//! Listeners, routes and the server's life: start (listen, then build the first engine),
//! watch the input files, reload on SIGHUP, and shut down gracefully on SIGTERM or ctrl-c.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::ServeConfig;
use crate::decision_log::DecisionLog;
use crate::metrics::Metrics;
use crate::reload::{self, Current};
use crate::state::App;
use crate::tls::TlsFiles;
use crate::{authzen, cedar_api, ext_authz, forward_auth, http, ops, search};
use tokio_rustls::TlsAcceptor;

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A configuration file (type map, forward-auth mapping) is not valid.
    #[error("configuration: {0}")]
    Config(String),
    /// A listener could not be opened.
    #[error("cannot listen on {what}: {error}")]
    Listen {
        /// The address or socket path.
        what: String,
        /// Why.
        error: std::io::Error,
    },
    /// The first engine could not be built.
    #[error("loading the inputs: {0}")]
    Load(String),
    /// The async runtime or a signal handler could not be set up.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How long a shutdown waits for requests in flight before closing their connections.
const DRAIN: Duration = Duration::from_secs(10);

/// A running server: its listeners' addresses, and the means to stop it.
pub struct Server {
    app: Arc<App>,
    api: SocketAddr,
    admin: Option<SocketAddr>,
    grpc: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Kept alive while the server runs; dropped, it stops watching.
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Server {
    /// Opens the listeners, then builds the first engine (`/readyz` answers 503 meanwhile)
    /// and, when asked, starts watching the input files. Fails when a configuration file is
    /// invalid, a listener cannot be opened or the first engine cannot be built.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        let metrics = Metrics::new().map_err(|e| ServeError::Config(e.to_string()))?;
        let decision_log = config
            .decision_log
            .as_deref()
            .map(|path| {
                DecisionLog::open(
                    path,
                    config.decision_log_sample,
                    metrics.log_dropped.clone(),
                )
            })
            .transpose()
            .map_err(|e| ServeError::Config(e.to_string()))?;
        let tls = config
            .tls
            .as_ref()
            .map(TlsFiles::acceptor)
            .transpose()
            .map_err(|e| ServeError::Config(e.to_string()))?;
        let grpc_tls = config
            .tls
            .as_ref()
            .map(TlsFiles::grpc_identity)
            .transpose()
            .map_err(|e| ServeError::Config(e.to_string()))?;
        let app = Arc::new(App::new(config, metrics, decision_log));
        let (shutdown, stopped) = watch::channel(false);

        let api_listener = bind(app.config.listen).await?;
        let api = api_listener.local_addr()?;
        let admin_listener = match app.config.admin_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let admin = admin_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let grpc_listener = match app.config.grpc_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let grpc = grpc_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        // Every listener is open before any serves: a failure leaves nothing running.
        let unix_listener = app.config.unix_socket.as_ref().map(bind_unix).transpose()?;
        let mut tasks = Vec::new();
        let api_routes = api_router(&app, admin.is_none());
        tasks.push(tokio::spawn(serve_tcp(
            api_listener,
            api_routes.clone(),
            stopped.clone(),
            Arc::clone(&app),
            tls.clone(),
        )));
        if let Some(listener) = admin_listener {
            tasks.push(tokio::spawn(serve_tcp(
                listener,
                admin_router(&app),
                stopped.clone(),
                Arc::clone(&app),
                tls.clone(),
            )));
        }
        if let Some(listener) = grpc_listener {
            tasks.push(tokio::spawn(serve_grpc(
                listener,
                stopped.clone(),
                Arc::clone(&app),
                grpc_tls,
            )));
        }
        if let Some(listener) = unix_listener {
            tasks.push(tokio::spawn(serve_unix(
                listener,
                api_routes,
                stopped.clone(),
            )));
        }

        let config = app.config.clone();
        let loaded = tokio::task::spawn_blocking(move || reload::load(&config))
            .await
            .unwrap_or_else(|e| Err(format!("the loading task failed: {e}")));
        let server = Server {
            app: Arc::clone(&app),
            api,
            admin,
            grpc,
            shutdown,
            tasks,
            _watcher: None,
        };
        match loaded {
            Ok(loaded) => app.set_current(Current::new(loaded)),
            Err(e) => {
                let _ = app.startup_error.set(e.clone());
                server.shutdown().await;
                return Err(ServeError::Load(e));
            }
        }
        let watcher = if app.config.watch {
            Some(watch_inputs(&app, stopped)?)
        } else {
            None
        };
        Ok(Server {
            _watcher: watcher,
            ..server
        })
    }

    /// The API listener's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api
    }

    /// The admin listener's address, if there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
    }

    /// The gRPC (Envoy ext_authz) listener's address, if there is one.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    /// The serving revision.
    pub fn revision(&self) -> Option<String> {
        self.app.current().map(|c| c.revision().to_string())
    }

    /// Rebuilds the engine from the input files now (what SIGHUP and `/admin/reload` do).
    pub async fn reload(&self) -> Result<reload::ReloadOutcome, String> {
        self.app.reload("api").await.map_err(|e| e.message)
    }

    /// Stops accepting connections, lets requests in flight finish (for at most 10 s), and
    /// returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for mut task in self.tasks {
            if tokio::time::timeout(DRAIN, &mut task).await.is_err() {
                task.abort();
            }
        }
        if let Some(path) = &self.app.config.unix_socket {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Serves until SIGTERM or ctrl-c (then shuts down gracefully), reloading on SIGHUP; the
    /// signals are handled from `signals` on, installed before the server says it is serving
    /// (a SIGHUP that came before would end the process).
    pub async fn run_until_signal(self, mut signals: Signals) -> Result<(), ServeError> {
        loop {
            tokio::select! {
                _ = signals.terminate.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
                _ = signals.hangup.recv() => {
                    let app = Arc::clone(&self.app);
                    tokio::spawn(async move { app.reload("SIGHUP").await });
                }
            }
        }
        tracing::info!("shutting down: draining requests in flight");
        self.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The handlers of SIGTERM and SIGHUP, installed: from then on those signals are the server's
/// to answer, not the end of the process.
pub struct Signals {
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside the async runtime).
    pub fn install() -> Result<Signals, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

/// Connections the kernel holds for a listener before it accepts them (capped by
/// `net.core.somaxconn`): tokio's default of 128 overflows when a gateway opens connections in
/// a burst, and every overflow costs the client a one-second SYN retransmission.
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    let listen = || {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    listen().map_err(|error| ServeError::Listen {
        what: addr.to_string(),
        error,
    })
}

fn bind_unix(path: &PathBuf) -> Result<tokio::net::UnixListener, ServeError> {
    use std::os::unix::fs::FileTypeExt;
    // A socket left by a previous run is replaced; any other file is not touched.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
    tokio::net::UnixListener::bind(path).map_err(|error| ServeError::Listen {
        what: path.display().to_string(),
        error,
    })
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Accepts connections until shutdown, at most `max_connections` at once, each served as
/// HTTP/1.1 (with a header read timeout) or HTTP/2 (h2c with prior knowledge, told apart by
/// the connection preface; or by ALPN under TLS); with `tls`, the handshake must end within
/// the header timeout. On shutdown, closes idle connections and waits for requests in flight.
async fn serve_tcp(
    listener: TcpListener,
    router: Router,
    rx: watch::Receiver<bool>,
    app: Arc<App>,
    tls: Option<TlsAcceptor>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let places = Arc::new(tokio::sync::Semaphore::new(
        app.config.max_connections.max(1),
    ));
    let mut stop = std::pin::pin!(stopped(rx));
    loop {
        let place = tokio::select! {
            place = Arc::clone(&places).acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or the peer gave up: wait, go on.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut router = router.clone();
                async move {
                    tower_service::Service::call(&mut router, request.map(axum::body::Body::new))
                        .await
                }
            },
        );
        let watcher = graceful.watcher();
        let (app, tls) = (Arc::clone(&app), tls.clone());
        tokio::spawn(async move {
            let served = match tls {
                None => serve_http(stream, service, &app, watcher).await,
                Some(tls) => {
                    match tokio::time::timeout(app.config.header_timeout, tls.accept(stream)).await
                    {
                        Ok(Ok(stream)) => serve_http(stream, service, &app, watcher).await,
                        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}").into()),
                        Err(_) => Err("TLS handshake timed out".into()),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!("connection from {peer}: {e}");
            }
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection (plain or TLS) as HTTP/1.1 or HTTP/2 until it ends or shutdown
/// closes it.
async fn serve_http<IO, S>(
    io: IO,
    service: S,
    app: &App,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(app.config.header_timeout);
    http.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(u32::try_from(app.config.max_concurrency).unwrap_or(u32::MAX))
        // An idle HTTP/2 connection is pinged, and closed when the ping goes unanswered.
        .keep_alive_interval(app.config.header_timeout)
        .keep_alive_timeout(app.config.header_timeout);
    let connection = http
        .serve_connection(TokioIo::new(io), service)
        .into_owned();
    watcher.watch(connection).await
}

/// Serves Envoy's ext_authz over gRPC (HTTP/2) until shutdown, then lets checks in flight
/// finish. A check's message is limited to the body limit; the concurrency limit and timeout
/// are the API's.
async fn serve_grpc(
    listener: TcpListener,
    rx: watch::Receiver<bool>,
    app: Arc<App>,
    tls: Option<tonic::transport::Identity>,
) {
    use envoy_types::ext_authz::v3::pb::AuthorizationServer;
    let service = AuthorizationServer::new(ext_authz::ExtAuthz {
        app: Arc::clone(&app),
    })
    .max_decoding_message_size(app.config.max_body_bytes);
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = tls {
        builder =
            match builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity)) {
                Ok(builder) => builder,
                Err(e) => {
                    tracing::error!("gRPC listener: TLS: {e}");
                    return;
                }
            };
    }
    if let Err(e) = builder
        .timeout(app.config.request_timeout)
        .max_concurrent_streams(u32::try_from(app.config.max_concurrency).unwrap_or(u32::MAX))
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, stopped(rx))
        .await
    {
        tracing::error!("gRPC listener failed: {e}");
    }
}

async fn serve_unix(listener: tokio::net::UnixListener, router: Router, rx: watch::Receiver<bool>) {
    if let Err(e) = axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(stopped(rx))
        .await
    {
        tracing::error!("unix socket listener failed: {e}");
    }
}

/// The API: AuthZEN, Cedar-native, forward auth, health; with `ops`, metrics and reload too
/// (when there is no admin listener).
fn api_router(app: &Arc<App>, ops: bool) -> Router {
    let mut router = Router::new()
        .route("/access/v1/evaluation", post(authzen::evaluation))
        .route("/access/v1/evaluations", post(authzen::evaluations))
        .route("/access/v1/search/subject", post(search::subject))
        .route("/access/v1/search/resource", post(search::resource))
        .route("/access/v1/search/action", post(search::action))
        .route(
            "/.well-known/authzen-configuration",
            get(authzen::configuration),
        )
        .route("/v1/is_authorized", post(cedar_api::is_authorized))
        .route("/v1/is_authorized/batch", post(cedar_api::batch))
        .route("/forward-auth", any(forward_auth::forward_auth))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    if ops {
        router = router
            .route("/metrics", get(ops::metrics))
            .route("/admin/reload", post(ops::reload));
    }
    layered(router, app)
}

/// The admin listener: health, readiness, metrics, reload.
fn admin_router(app: &Arc<App>) -> Router {
    let router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/admin/reload", post(ops::reload));
    layered(router, app)
}

fn layered(router: Router<Arc<App>>, app: &Arc<App>) -> Router {
    router
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(from_fn_with_state(Arc::clone(app), http::limit))
        .layer(from_fn_with_state(Arc::clone(app), http::require_token))
        .layer(from_fn_with_state(Arc::clone(app), http::stamp))
        .with_state(Arc::clone(app))
}

/// Watches the input files' directories; changes to the files, collected for the debounce
/// time, trigger one reload.
fn watch_inputs(
    app: &Arc<App>,
    mut stopped: watch::Receiver<bool>,
) -> Result<notify::RecommendedWatcher, ServeError> {
    use notify::Watcher;
    let targets = reload::watch_targets(&app.config.input_files());
    let wanted: Vec<PathBuf> = targets.iter().map(|(_, file)| file.clone()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(16);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
            && event.paths.iter().any(|p| wanted.contains(p))
        {
            let _ = tx.try_send(());
        }
    })
    .map_err(|e| ServeError::Config(format!("cannot watch the input files: {e}")))?;
    let mut dirs: Vec<&PathBuf> = targets.iter().map(|(dir, _)| dir).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| ServeError::Config(format!("cannot watch {}: {e}", dir.display())))?;
    }
    let app = Arc::clone(app);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                event = rx.recv() => {
                    if event.is_none() {
                        break;
                    }
                    tokio::time::sleep(app.config.watch_debounce).await;
                    while rx.try_recv().is_ok() {}
                    let _ = app.reload("file change").await;
                }
                _ = stopped.changed() => break,
            }
        }
    });
    Ok(watcher)
}
