//! Cedar-native endpoints: `POST /v1/is_authorized` takes Cedar's request JSON
//! (`{"principal", "action", "resource", "context"}`, uids as `{"type", "id"}` or
//! `"Type::\"id\""`) and answers `{"decision": "allow"|"deny", "reasons": [...], "errors":
//! [...]}` as [`thuja::output`] writes it; `POST /v1/is_authorized/batch` takes an array of
//! requests and answers an array in the same order, with `{"error": "..."}` for an item that is
//! not a valid request (as batch mode does). A request's optional `entities` (Cedar's entities
//! JSON) replace stored entities of the same uids for that request only
//! ([`overlay`](crate::overlay)).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use thuja::input::{self, RequestSchema};
use thuja::output::{self, ResponseJson};
use thuja::{Decision, Engine};

use crate::authzen::{as_object, kind};
use crate::http::{
    ApiError, answered, json_bytes, json_response, parse_json, read_body, with_revision,
};
use crate::overlay::Overlay;
use crate::state::App;

const API: &str = "cedar";

/// The largest batch answered.
pub const MAX_BATCH: usize = 10_000;

/// `POST /v1/is_authorized`.
pub(crate) async fn is_authorized(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, one(&app, &headers, body)).await
}

async fn one(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body, app.config.max_body_bytes).await?;
    let json = parse_json(&bytes)?;
    let current = app.serving()?;
    let engine = current.live.engine();
    let response = decide(app, &engine, &json)?;
    Ok(with_revision(
        json_bytes(
            StatusCode::OK,
            output::response_json(&response).into_bytes(),
        ),
        &current.revision_of(&engine),
    ))
}

/// `POST /v1/is_authorized/batch`.
pub(crate) async fn batch(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    answered(&app, API, many(&app, &headers, body)).await
}

/// One answer of a batch.
#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Decided(ResponseJson<'a>),
    Failed { error: String },
}

async fn many(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body, app.config.max_body_bytes).await?;
    let json = parse_json(&bytes)?;
    let Value::Array(requests) = &json else {
        return Err(ApiError::bad_request(format!(
            "the request body must be an array of Cedar requests, found {}",
            kind(&json)
        )));
    };
    if requests.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "the batch has {} requests; at most {MAX_BATCH} are answered in one request",
            requests.len()
        )));
    }
    let current = app.serving()?;
    let engine = current.live.engine();
    let responses: Vec<Result<thuja::Response, ApiError>> = requests
        .iter()
        .enumerate()
        .map(|(i, request)| {
            decide(app, &engine, request).map_err(|mut e| {
                app.metrics.decided(API, "error");
                e.message = format!("[{i}]: {}", e.message);
                e
            })
        })
        .collect();
    let items: Vec<Item<'_>> = responses
        .iter()
        .map(|r| match r {
            Ok(response) => Item::Decided(ResponseJson::from(response)),
            Err(e) => Item::Failed {
                error: e.message.clone(),
            },
        })
        .collect();
    Ok(with_revision(
        json_response(StatusCode::OK, &items),
        &current.revision_of(&engine),
    ))
}

/// The fields of a Cedar request.
const FIELDS: [&str; 5] = ["principal", "action", "resource", "context", "entities"];

fn decide(app: &App, engine: &Engine, json: &Value) -> Result<thuja::Response, ApiError> {
    let started = std::time::Instant::now();
    let request = as_object(json, "a Cedar request")?;
    if let Some(unknown) = request.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field `{unknown}` (a Cedar request has `principal`, `action`, `resource`, `context` and `entities`)"
        )));
    }
    let mut overlay = Overlay::default();
    if let Some(entities) = request.get("entities") {
        overlay.entities(engine, entities)?;
    }
    let field = |name: &str| {
        request
            .get(name)
            .ok_or_else(|| ApiError::bad_request(format!("`{name}` is required")))
    };
    let empty = Value::Object(serde_json::Map::new());
    let context = request.get("context").unwrap_or(&empty);
    let schema = RequestSchema::of(engine.schema(), engine.validates_requests());
    let request = input::request_from_json_values(
        field("principal")?,
        field("action")?,
        field("resource")?,
        context,
        schema,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let derived = overlay.apply(engine)?;
    let response = app
        .decide(derived.as_ref().unwrap_or(engine), &request)
        .map_err(|e| {
            ApiError::bad_request(format!("the request is not valid for the schema: {e}"))
        })?;
    app.log_decision(API, engine, &request, &response, started);
    app.metrics.decided(
        API,
        match response.decision {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        },
    );
    Ok(response)
}
