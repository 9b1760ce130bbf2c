//! OpenID AuthZEN Authorization API 1.0: `POST /access/v1/evaluation`,
//! `POST /access/v1/evaluations` and `GET /.well-known/authzen-configuration`.
//!
//! An evaluation `{subject, action, resource, context}` becomes the Cedar request
//! `principal = <type map(subject.type)>::"<subject.id>"`, `action = <action type>::"<action.name>"`,
//! `resource = <type map(resource.type)>::"<resource.id>"`, `context` = the context object
//! (typed by the schema when there is one, and the request validated against it). The answer
//! is `{"decision": true|false}`; with `--reveal`, `context` carries the determining policies
//! (`reasons`) and the policies whose evaluation failed (`errors`).
//!
//! `properties` of the subject and the resource are request-scoped attributes of those
//! entities, laid over the store for this request only and typed by the schema (see
//! [`overlay`](crate::overlay)); `action.properties` are refused (400): Cedar actions come from
//! the schema.
//!
//! A request that cannot be read is a 400 with `{"error": {"status", "message"}}`; in an
//! `evaluations` batch, an item that cannot be mapped is answered `{"decision": false,
//! "context": {"error": {...}}}` and the others are still evaluated, as the spec asks.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use thuja::input::{self, RequestSchema};
use thuja::output::ResponseJson;
use thuja::{Decision, Engine};

use crate::config::TypeMap;
use crate::http::{ApiError, answered, json_response, parse_json, read_body, with_revision};
use crate::overlay::Overlay;
use crate::state::App;

/// The largest `evaluations` array answered.
pub const MAX_EVALUATIONS: usize = 10_000;

const API: &str = "authzen";

/// `POST /access/v1/evaluation`.
pub(crate) async fn evaluation(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, evaluate_one(&app, &headers, body)).await
}

async fn evaluate_one(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body, app.config.max_body_bytes).await?;
    let json = parse_json(&bytes)?;
    let request = as_object(&json, "the request body")?;
    let current = app.serving()?;
    let engine = current.live.engine();
    let answer = decide(app, &engine, &Parts::of(request), &app.config.type_map)?;
    Ok(with_revision(
        json_response(StatusCode::OK, &answer),
        &current.revision_of(&engine),
    ))
}

/// `POST /access/v1/evaluations`.
pub(crate) async fn evaluations(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, evaluate_many(&app, &headers, body)).await
}

/// How an `evaluations` batch runs (`options.evaluations_semantic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Semantic {
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

async fn evaluate_many(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body, app.config.max_body_bytes).await?;
    let json = parse_json(&bytes)?;
    let request = as_object(&json, "the request body")?;
    let semantic = semantic(request)?;
    let items = match request.get("evaluations") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.is_empty() => None,
        Some(Value::Array(items)) => Some(items),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`evaluations` must be an array of evaluation objects, found {}",
                kind(other)
            )));
        }
    };
    let current = app.serving()?;
    let engine = current.live.engine();
    let defaults = Parts::of(request);
    // Without `evaluations`, the request is a single evaluation (backwards compatible).
    let Some(items) = items else {
        let answer = decide(app, &engine, &defaults, &app.config.type_map)?;
        return Ok(with_revision(
            json_response(StatusCode::OK, &answer),
            &current.revision_of(&engine),
        ));
    };
    if items.len() > MAX_EVALUATIONS {
        return Err(ApiError::bad_request(format!(
            "`evaluations` has {} items; at most {MAX_EVALUATIONS} are answered in one request",
            items.len()
        )));
    }
    let mut answers = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let answer = match as_object(item, &format!("evaluations[{i}]")) {
            Ok(item) => decide(
                app,
                &engine,
                &Parts::of(item).over(&defaults),
                &app.config.type_map,
            )
            .unwrap_or_else(|mut e| {
                e.message = format!("evaluations[{i}]: {}", e.message);
                app.metrics.decided(API, "error");
                json!({"decision": false, "context": {"error": e.to_json()}})
            }),
            Err(e) => {
                app.metrics.decided(API, "error");
                json!({"decision": false, "context": {"error": e.to_json()}})
            }
        };
        let allowed = answer.get("decision") == Some(&Value::Bool(true));
        answers.push(answer);
        match semantic {
            Semantic::DenyOnFirstDeny if !allowed => break,
            Semantic::PermitOnFirstPermit if allowed => break,
            _ => {}
        }
    }
    Ok(with_revision(
        json_response(StatusCode::OK, &json!({"evaluations": answers})),
        &current.revision_of(&engine),
    ))
}

fn semantic(request: &Map<String, Value>) -> Result<Semantic, ApiError> {
    let options = match request.get("options") {
        None | Some(Value::Null) => return Ok(Semantic::ExecuteAll),
        Some(Value::Object(options)) => options,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`options` must be an object, found {}",
                kind(other)
            )));
        }
    };
    match options.get("evaluations_semantic") {
        None | Some(Value::Null) => Ok(Semantic::ExecuteAll),
        Some(Value::String(s)) if s == "execute_all" => Ok(Semantic::ExecuteAll),
        Some(Value::String(s)) if s == "deny_on_first_deny" => Ok(Semantic::DenyOnFirstDeny),
        Some(Value::String(s)) if s == "permit_on_first_permit" => {
            Ok(Semantic::PermitOnFirstPermit)
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "`options.evaluations_semantic` must be \"execute_all\", \"deny_on_first_deny\" or \"permit_on_first_permit\", found {other}"
        ))),
    }
}

/// The four parts of an evaluation as given (each may be missing in a batch item).
#[derive(Clone, Copy, Default)]
struct Parts<'a> {
    subject: Option<&'a Value>,
    action: Option<&'a Value>,
    resource: Option<&'a Value>,
    context: Option<&'a Value>,
}

impl<'a> Parts<'a> {
    fn of(object: &'a Map<String, Value>) -> Self {
        let get = |key| object.get(key).filter(|v| !v.is_null());
        Parts {
            subject: get("subject"),
            action: get("action"),
            resource: get("resource"),
            context: get("context"),
        }
    }

    /// These parts, with `defaults` for those missing (a part given replaces the default
    /// whole).
    fn over(self, defaults: &Parts<'a>) -> Self {
        Parts {
            subject: self.subject.or(defaults.subject),
            action: self.action.or(defaults.action),
            resource: self.resource.or(defaults.resource),
            context: self.context.or(defaults.context),
        }
    }
}

/// Maps one evaluation to a Cedar request, decides it, and writes the answer.
fn decide(
    app: &App,
    engine: &Engine,
    parts: &Parts<'_>,
    types: &TypeMap,
) -> Result<Value, ApiError> {
    let started = std::time::Instant::now();
    let (subject_type, subject_id, subject_properties) = entity(parts.subject, "subject", types)?;
    let (resource_type, resource_id, resource_properties) =
        entity(parts.resource, "resource", types)?;
    let action = action_name(parts.action)?;
    let empty = Value::Object(Map::new());
    let context = match parts.context {
        None => &empty,
        Some(context @ Value::Object(_)) => context,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`context` must be an object, found {}",
                kind(other)
            )));
        }
    };
    let schema = RequestSchema::of(engine.schema(), engine.validates_requests());
    let request = input::request_from_json_values(
        &json!({"type": subject_type, "id": subject_id}),
        &json!({"type": types.action_type, "id": action}),
        &json!({"type": resource_type, "id": resource_id}),
        context,
        schema,
    )
    .map_err(|e| ApiError::bad_request(authzen_names(&e.to_string())))?;
    let mut overlay = Overlay::default();
    for (properties, uid, what) in [
        (subject_properties, request.principal(), "subject"),
        (resource_properties, request.resource(), "resource"),
    ] {
        if let Some(properties) = properties {
            overlay.properties(engine, uid, properties, what)?;
        }
    }
    let derived = overlay.apply(engine)?;
    let response = app
        .decide(derived.as_ref().unwrap_or(engine), &request)
        .map_err(|e| {
            ApiError::bad_request(format!("the request is not valid for the schema: {e}"))
        })?;
    app.log_decision(API, engine, &request, &response, started);
    let allowed = response.decision == Decision::Allow;
    app.metrics
        .decided(API, if allowed { "allow" } else { "deny" });
    let mut answer = json!({"decision": allowed});
    if app.config.reveal {
        answer["context"] = reveal(&response);
    }
    Ok(answer)
}

/// The determining policies and errors of a response, as `{"reasons": [...], "errors": [...]}`.
pub(crate) fn reveal(response: &thuja::Response) -> Value {
    let mut value = serde_json::to_value(ResponseJson::from(response)).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.remove("decision");
    }
    value
}

/// Cedar's names for the request's parts in a message, as AuthZEN calls them.
fn authzen_names(message: &str) -> String {
    let message = message
        .strip_prefix("principal: ")
        .map(|m| format!("subject: {m}"))
        .unwrap_or_else(|| message.to_string());
    message.replace("principal", "principal (subject)")
}

/// A subject or resource as Cedar names it: type, id, and its properties (none when absent or
/// empty).
type Named<'a> = (&'a str, &'a str, Option<&'a Map<String, Value>>);

/// `subject` or `resource`: `{"type": string, "id": string, "properties"?: object}` → its
/// Cedar type (renamed by the type map), id and properties.
fn entity<'a>(
    value: Option<&'a Value>,
    what: &str,
    types: &'a TypeMap,
) -> Result<Named<'a>, ApiError> {
    let object = as_object(
        value.ok_or_else(|| ApiError::bad_request(format!("`{what}` is required")))?,
        &format!("`{what}`"),
    )?;
    let ty = string_field(object, what, "type")?;
    let id = string_field(object, what, "id")?;
    let properties = properties(object, what)?;
    if ty.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{what}.type` must not be empty"
        )));
    }
    let cedar = types.cedar_type(ty);
    thuja::EntityType::parse(cedar).map_err(|e| {
        ApiError::bad_request(format!(
            "`{what}.type` `{ty}` is not a Cedar entity type name (and the type map does not rename it): {e}"
        ))
    })?;
    Ok((cedar, id, properties))
}

/// `action`: `{"name": string, "properties"?: object}` → the action's id.
fn action_name(value: Option<&Value>) -> Result<&str, ApiError> {
    let object = as_object(
        value.ok_or_else(|| ApiError::bad_request("`action` is required"))?,
        "`action`",
    )?;
    let name = string_field(object, "action", "name")?;
    if properties(object, "action")?.is_some() {
        return Err(ApiError::bad_request(
            "`action.properties` cannot be set: Cedar actions and their attributes come from the schema and the entity store; pass request values in `context`",
        ));
    }
    Ok(name)
}

fn string_field<'a>(
    object: &'a Map<String, Value>,
    what: &str,
    field: &str,
) -> Result<&'a str, ApiError> {
    match object.get(field) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ApiError::bad_request(format!(
            "`{what}.{field}` is required (a string)"
        ))),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{what}.{field}` must be a string, found {}",
            kind(other)
        ))),
    }
}

/// An object's `properties`: none when absent, null or empty.
fn properties<'a>(
    object: &'a Map<String, Value>,
    what: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match object.get("properties") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(p)) => Ok((!p.is_empty()).then_some(p)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{what}.properties` must be an object, found {}",
            kind(other)
        ))),
    }
}

pub(crate) fn as_object<'a>(
    value: &'a Value,
    what: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    value.as_object().ok_or_else(|| {
        ApiError::bad_request(format!(
            "{what} must be a JSON object, found {}",
            kind(value)
        ))
    })
}

/// The JSON kind of a value, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `GET /.well-known/authzen-configuration`: the PDP metadata, with endpoint URLs on the host
/// the client called.
pub(crate) async fn configuration(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    json_response(
        StatusCode::OK,
        &json!({
            "policy_decision_point": base,
            "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
            "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
            "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
            "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
            "search_action_endpoint": format!("{base}/access/v1/search/action"),
        }),
    )
}
