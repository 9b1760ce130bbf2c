//! Operations endpoints: `/healthz` (the process answers), `/readyz` (an engine is serving:
//! its revision, counts and the last reload error), `/metrics` (Prometheus text) and
//! `POST /admin/reload`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::{json_response, with_revision};
use crate::reload::ReloadOutcome;
use crate::state::App;

/// `GET /healthz`.
pub(crate) async fn healthz(State(app): State<Arc<App>>) -> Response {
    let revision = app.current().map(|c| c.revision().to_string());
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "revision": revision}),
    )
}

/// `GET /readyz`: 200 once the first engine is built, 503 before (or when it could not be).
pub(crate) async fn readyz(State(app): State<Arc<App>>) -> Response {
    let Some(current) = app.current() else {
        let reason = app
            .startup_error
            .get()
            .map_or("building the engine", String::as_str);
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"ready": false, "reason": reason}),
        );
    };
    let engine = current.live.engine();
    let status = current.status();
    let revision = current.revision_of(&engine);
    with_revision(
        json_response(
            StatusCode::OK,
            &json!({
                "ready": true,
                "revision": &*revision,
                "evaluator": if app.config.null_engine { "null".to_string() } else if app.config.decider.is_some() { "external".to_string() } else { engine.evaluator().to_string() },
                "policies": engine.policies().len(),
                "entities": engine.entities().len(),
                "loaded_at": status.loaded_at,
                "reloads": {"ok": status.reloads_ok, "failed": status.reloads_failed},
                "last_reload_error": status.last_error,
            }),
        ),
        &revision,
    )
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut response = Response::new(Body::from(app.metrics.render()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// `POST /admin/reload`: 200 with the new (or unchanged) revision; 422 with the error when the
/// reload failed and the previous engine keeps serving.
pub(crate) async fn reload(State(app): State<Arc<App>>) -> Response {
    match app.reload("admin").await {
        Ok(ReloadOutcome::Swapped(revision)) => json_response(
            StatusCode::OK,
            &json!({"reloaded": true, "revision": &*revision}),
        ),
        Ok(ReloadOutcome::Unchanged(revision)) => json_response(
            StatusCode::OK,
            &json!({"reloaded": false, "revision": &*revision, "reason": "the inputs did not change"}),
        ),
        Err(e) => e.into_response(),
    }
}
