//! The state every request shares: the configuration, the serving engine (once built), the
//! metrics, the decision log and the concurrency permits (the gateway mapping is read with the
//! inputs: see [`Current`]).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::config::ServeConfig;
use crate::decision_log::{DecisionLog, Entry};
use crate::http::ApiError;
use crate::metrics::Metrics;
use crate::reload::{Current, ReloadOutcome};

pub(crate) struct App {
    pub config: ServeConfig,
    /// Set once the first engine is built.
    current: OnceLock<Current>,
    /// Why the first engine could not be built.
    pub startup_error: OnceLock<String>,
    pub metrics: Metrics,
    pub permits: Semaphore,
    pub decision_log: Option<DecisionLog>,
}

impl App {
    pub fn new(config: ServeConfig, metrics: Metrics, decision_log: Option<DecisionLog>) -> Self {
        let permits = Semaphore::new(config.max_concurrency.max(1));
        App {
            config,
            current: OnceLock::new(),
            startup_error: OnceLock::new(),
            metrics,
            permits,
            decision_log,
        }
    }

    /// Records a decision of `api` in the decision log, when there is one: `engine` is the
    /// serving engine the request was decided on (or derived from), naming the revision.
    pub fn log_decision(
        &self,
        api: &str,
        engine: &thuja::Engine,
        request: &thuja::Request,
        response: &thuja::Response,
        started: Instant,
    ) {
        if let Some(log) = &self.decision_log {
            let revision = self
                .current()
                .map(|c| c.revision_of(engine))
                .unwrap_or_else(|| "unknown".into());
            log.record(&Entry {
                api,
                request,
                response,
                revision: &revision,
                started,
            });
        }
    }

    /// The serving engine, once there is one.
    pub fn current(&self) -> Option<&Current> {
        self.current.get()
    }

    /// The serving engine, or the 503 that says there is none yet.
    pub fn serving(&self) -> Result<&Current, ApiError> {
        self.current().ok_or_else(|| {
            ApiError::unavailable(match self.startup_error.get() {
                Some(e) => format!("no engine: loading the inputs failed: {e}"),
                None => "not ready: the engine is being built".to_string(),
            })
        })
    }

    /// Decides `request` on `engine`; with the null engine (`ServeConfig::null_engine`), allows
    /// without evaluating anything; with an external decider, validates the request with
    /// `engine` and lets the decider answer.
    pub fn decide(
        &self,
        engine: &thuja::Engine,
        request: &thuja::Request,
    ) -> Result<thuja::Response, thuja::RequestValidationError> {
        if self.config.null_engine {
            return Ok(thuja::Response {
                decision: thuja::Decision::Allow,
                reasons: thuja::PolicyIds::default(),
                errors: Vec::new(),
            });
        }
        if let Some(decider) = &self.config.decider {
            let mut request = request.clone();
            engine.validate(&mut request)?;
            return Ok(decider.0.decide(&request));
        }
        engine.decide(request)
    }

    /// Makes `current` the serving state (the first load).
    pub fn set_current(&self, current: Current) {
        let engine = current.live.engine();
        self.metrics.serving(
            &current.revision(),
            engine.policies().len(),
            engine.entities().len(),
        );
        // Only the first load sets it; later engines are swapped inside `Current`.
        let _ = self.current.set(current);
    }

    /// Rebuilds the engine from the files and swaps it in, off the async runtime; records the
    /// outcome in the metrics and the log.
    pub async fn reload(self: &Arc<Self>, trigger: &str) -> Result<ReloadOutcome, ApiError> {
        let app = Arc::clone(self);
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            let current = app.serving().map_err(|e| e.message)?;
            current.reload(&app.config)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the reload task failed: {e}")));
        match &outcome {
            Ok(ReloadOutcome::Swapped(revision)) => {
                self.metrics.reloads.with_label_values(&["ok"]).inc();
                if let Some(current) = self.current() {
                    let engine = current.live.engine();
                    self.metrics.serving(
                        revision,
                        engine.policies().len(),
                        engine.entities().len(),
                    );
                }
                tracing::info!(
                    trigger,
                    %revision,
                    ms = started.elapsed().as_millis() as u64,
                    "reloaded"
                );
            }
            Ok(ReloadOutcome::Unchanged(revision)) => {
                self.metrics.reloads.with_label_values(&["unchanged"]).inc();
                tracing::info!(trigger, %revision, "reload: inputs unchanged");
            }
            Err(e) => {
                self.metrics.reloads.with_label_values(&["error"]).inc();
                tracing::error!(
                    trigger,
                    "reload failed, the previous engine keeps serving: {e}"
                );
            }
        }
        outcome.map_err(|message| ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
        })
    }
}
