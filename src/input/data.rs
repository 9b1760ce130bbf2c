//! JSON data: entities files, contexts and requests, read with a schema when there is one.
//!
//! A request's entity uids may be written as in policies (`"User::\"alice\""`, the `cedar`
//! CLI's request format), as `{"type": "User", "id": "alice"}`, or as `{"__entity": {...}}`.
//! With a schema the context is typed by the action's context type, and when asked the request
//! is validated against the schema.

use std::path::Path;

use serde::Deserialize;
use thuja_compiler::Source;
use thuja_runtime::json as data_json;
use thuja_runtime::value::Record;
use thuja_runtime::{Entities, EntityType, EntityUid, Request, Schema};

use super::{InputError, data_error, entity_uid_from_str, json_error, read_file};

/// Parses an entities file (the JSON array format), typed by `schema` when given; with a schema
/// the action entities it declares are included.
pub fn entities_from_str(
    name: &str,
    text: &str,
    schema: Option<&Schema>,
) -> Result<Entities, InputError> {
    data_json::entities_from_json_str(text, schema)
        .map_err(|e| data_error(&Source::new(name, text), &e))
}

/// Parses an entities file as a list of entities (typed and checked by `schema` when given),
/// without making a store of them: for [`Engine::upsert_entities`](crate::Engine::upsert_entities).
pub fn entity_list_from_str(
    name: &str,
    text: &str,
    schema: Option<&Schema>,
) -> Result<Vec<thuja_runtime::Entity>, InputError> {
    data_json::entity_list_from_json_str(text, schema)
        .map_err(|e| data_error(&Source::new(name, text), &e))
}

/// Reads an entities file: [`entities_from_str`] on the file's text.
pub fn entities_from_file(path: &Path, schema: Option<&Schema>) -> Result<Entities, InputError> {
    entities_from_str(&path.display().to_string(), &read_file(path)?, schema)
}

/// Parses a context object; with a schema it is typed as `action`'s context.
pub fn context_from_str(
    name: &str,
    text: &str,
    schema: Option<&Schema>,
    action: &EntityUid,
) -> Result<Record, InputError> {
    data_json::context_from_json_str(text, schema.map(|s| (s, action)))
        .map_err(|e| data_error(&Source::new(name, text), &e))
}

/// How a request is read: without a schema; with a schema typing its context (strings become
/// extension values and `{"type", "id"}` records entity references where the action's context
/// type says so); or typed by a schema and validated against it, as Cedar validates a request
/// built with a schema (the request then remembers it: see [`Request::is_valid_for`]).
#[derive(Clone, Copy, Debug, Default)]
pub enum RequestSchema<'a> {
    /// No schema: the context as written.
    #[default]
    None,
    /// The context typed by the schema; the request not validated.
    Typed(&'a Schema),
    /// The context typed by the schema, and the request validated against it.
    Validated(&'a Schema),
}

impl<'a> RequestSchema<'a> {
    /// `schema`, validating against it or not.
    pub fn of(schema: Option<&'a Schema>, validate: bool) -> Self {
        match (schema, validate) {
            (None, _) => RequestSchema::None,
            (Some(s), false) => RequestSchema::Typed(s),
            (Some(s), true) => RequestSchema::Validated(s),
        }
    }

    /// The schema typing the context.
    pub fn schema(self) -> Option<&'a Schema> {
        match self {
            RequestSchema::None => None,
            RequestSchema::Typed(s) | RequestSchema::Validated(s) => Some(s),
        }
    }

    /// The schema to validate against.
    fn validating(self) -> Option<&'a Schema> {
        match self {
            RequestSchema::Validated(s) => Some(s),
            _ => None,
        }
    }
}

/// Builds a request from uids written as in policies (`User::"alice"`) and an optional
/// context file's `(name, text)`, read as `schema` says.
pub fn request_from_parts(
    principal: &str,
    action: &str,
    resource: &str,
    context: Option<(&str, &str)>,
    schema: RequestSchema<'_>,
) -> Result<Request, InputError> {
    let principal = entity_uid_from_str("principal", principal)?;
    let action = entity_uid_from_str("action", action)?;
    let resource = entity_uid_from_str("resource", resource)?;
    let (name, text) = context.unwrap_or(("context", "{}"));
    let context = context_from_str(name, text, schema.schema(), &action)?;
    finish_request(principal, action, resource, context, schema)
}

/// The `cedar` CLI's request file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestJson {
    principal: serde_json::Value,
    action: serde_json::Value,
    resource: serde_json::Value,
    #[serde(default)]
    context: Option<serde_json::Value>,
}

/// Parses a request file: `{"principal", "action", "resource", "context"}`, read as `schema`
/// says.
pub fn request_json_from_str(
    name: &str,
    text: &str,
    schema: RequestSchema<'_>,
) -> Result<Request, InputError> {
    let source = Source::new(name, text);
    let json: RequestJson = serde_json::from_str(text).map_err(|e| json_error(&source, &e))?;
    let context = json.context.unwrap_or_else(|| serde_json::json!({}));
    request_from_json_values(
        &json.principal,
        &json.action,
        &json.resource,
        &context,
        schema,
    )
    .map_err(|e| match e {
        InputError::Data { what, message } => InputError::Data {
            what: format!("{name}: {what}"),
            message,
        },
        other => other,
    })
}

/// Reads a request file: [`request_json_from_str`] on the file's text.
pub fn request_json_from_file(
    path: &Path,
    schema: RequestSchema<'_>,
) -> Result<Request, InputError> {
    request_json_from_str(&path.display().to_string(), &read_file(path)?, schema)
}

/// Builds a request from JSON values, as Cedar's integration tests and request files give
/// them, read as `schema` says.
pub fn request_from_json_values(
    principal: &serde_json::Value,
    action: &serde_json::Value,
    resource: &serde_json::Value,
    context: &serde_json::Value,
    schema: RequestSchema<'_>,
) -> Result<Request, InputError> {
    let principal = uid_from_json("principal", principal)?;
    let action = uid_from_json("action", action)?;
    let resource = uid_from_json("resource", resource)?;
    let context =
        data_json::context_from_json_value(context, schema.schema().map(|s| (s, &action)))
            .map_err(|e| InputError::data("context", &e.message))?;
    finish_request(principal, action, resource, context, schema)
}

fn finish_request(
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    context: Record,
    schema: RequestSchema<'_>,
) -> Result<Request, InputError> {
    let mut request = Request::new(principal, action, resource, context);
    if let Some(schema) = schema.validating() {
        request
            .validate(schema)
            .map_err(|e| InputError::data("request is not valid for the schema", e))?;
    }
    Ok(request)
}

/// An entity uid in any of the JSON forms.
fn uid_from_json(what: &str, json: &serde_json::Value) -> Result<EntityUid, InputError> {
    use serde_json::Value as J;
    match json {
        J::String(text) => entity_uid_from_str(what, text),
        J::Object(map) => {
            if let Some(inner) = map.get("__entity").filter(|_| map.len() == 1) {
                return uid_from_json(what, inner);
            }
            match (map.get("type"), map.get("id"), map.len()) {
                (Some(J::String(ty)), Some(J::String(id)), 2) => {
                    let ty = EntityType::parse(ty).map_err(|e| {
                        InputError::data(what, format!("`{ty}` is not an entity type name: {e}"))
                    })?;
                    Ok(EntityUid::new(ty, id.as_str()))
                }
                _ => Err(InputError::data(
                    what,
                    format!(
                        "expected {{\"type\": ..., \"id\": ...}} with two strings, found {json}"
                    ),
                )),
            }
        }
        other => Err(InputError::data(
            what,
            format!(
                "expected an entity uid such as \"User::\\\"alice\\\"\" or {{\"type\": \"User\", \"id\": \"alice\"}}, found {other}"
            ),
        )),
    }
}
