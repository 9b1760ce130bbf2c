//! OpenID AuthZEN Search APIs: `POST /access/v1/search/subject`, `/access/v1/search/resource`
//! and `/access/v1/search/action`, answered by the engine's queries
//! ([`Engine::query_principals`], [`Engine::query_resources`], [`Engine::query_actions`]: the
//! same answers as deciding every candidate one by one, deciding only those the policies'
//! scopes reach).
//!
//! - subject search: `{subject: {type}, action: {name}, resource: {type, id}, context?}` → the
//!   subjects of that type in the store that may perform the action on the resource;
//! - resource search: `{subject: {type, id}, action: {name}, resource: {type}, context?}` → the
//!   resources of that type the subject may perform the action on;
//! - action search: `{subject: {type, id}, resource: {type, id}, context?}` → the actions (of
//!   the type map's action type) the subject may perform on the resource.
//!
//! The answer is `{"results": [...], "page": {"next_token": "..."}}`: subjects and resources as
//! `{"type", "id"}` (the type as the request named it), actions as `{"name"}`, in the order of
//! their ids. `page.limit` in the request (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`])
//! bounds a page; a non-empty `next_token` fetches the next one (`page.token`, or
//! `page.next_token` as earlier drafts wrote it). A token names the last id returned, so a page
//! after a policy reload continues where the last one ended rather than repeating or skipping
//! by position. An id given in the searched part is ignored, as the spec says;
//! `properties` are refused (400): a search runs over the store as it is.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use thuja::input::{self, RequestSchema};
use thuja::query::QueryAnswer;
use thuja::{Engine, EntityType, EntityUid, Record};

use crate::authzen::{as_object, kind};
use crate::config::TypeMap;
use crate::http::{ApiError, answered, json_response, parse_json, read_body, with_revision};
use crate::state::App;

/// Results in a page when the request does not say.
pub const DEFAULT_LIMIT: usize = 1_000;
/// The most results in one page.
pub const MAX_LIMIT: usize = 10_000;

const API: &str = "authzen-search";

/// What is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Searched {
    Subject,
    Resource,
    Action,
}

/// `POST /access/v1/search/subject`.
pub(crate) async fn subject(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, search(&app, &headers, body, Searched::Subject)).await
}

/// `POST /access/v1/search/resource`.
pub(crate) async fn resource(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, search(&app, &headers, body, Searched::Resource)).await
}

/// `POST /access/v1/search/action`.
pub(crate) async fn action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answered(&app, API, search(&app, &headers, body, Searched::Action)).await
}

async fn search(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    searched: Searched,
) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body, app.config.max_body_bytes).await?;
    let json = parse_json(&bytes)?;
    let request = as_object(&json, "the request body")?;
    let page = Page::of(request)?;
    let current = app.serving()?;
    let engine = current.live.engine();
    let types = &app.config.type_map;
    let subject = part(request, "subject", searched == Searched::Subject, types)?;
    let resource = part(request, "resource", searched == Searched::Resource, types)?;
    let context = context(request, &engine, types, &subject, &resource, searched)?;
    let answer = match searched {
        Searched::Subject => engine.query_principals(
            &action_uid(request, types)?,
            &resource.uid()?,
            &subject.cedar_type,
            context,
        ),
        Searched::Resource => engine.query_resources(
            &subject.uid()?,
            &action_uid(request, types)?,
            &resource.cedar_type,
            context,
        ),
        Searched::Action => engine.query_actions(&subject.uid()?, &resource.uid()?, context),
    }
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let echoed = match searched {
        Searched::Subject => subject.authzen_type,
        Searched::Resource => resource.authzen_type,
        Searched::Action => "",
    };
    let action_type = EntityType::parse(&types.action_type).ok();
    let body = page.answer(&answer, |uid| match searched {
        Searched::Action => {
            (Some(uid.entity_type()) == action_type.as_ref()).then(|| json!({"name": uid.id()}))
        }
        _ => Some(json!({"type": echoed, "id": uid.id()})),
    });
    Ok(with_revision(
        json_response(StatusCode::OK, &body),
        &current.revision_of(&engine),
    ))
}

/// The subject or resource of a search: its AuthZEN type, Cedar type, and id (none for the
/// searched part).
struct Part<'a> {
    authzen_type: &'a str,
    cedar_type: EntityType,
    id: Option<&'a str>,
    what: &'static str,
}

impl Part<'_> {
    fn uid(&self) -> Result<EntityUid, ApiError> {
        let id = self.id.ok_or_else(|| {
            ApiError::bad_request(format!("`{}.id` is required (a string)", self.what))
        })?;
        Ok(EntityUid::new(self.cedar_type.clone(), id))
    }
}

fn part<'a>(
    request: &'a Map<String, Value>,
    what: &'static str,
    searched: bool,
    types: &TypeMap,
) -> Result<Part<'a>, ApiError> {
    let object = as_object(
        request
            .get(what)
            .filter(|v| !v.is_null())
            .ok_or_else(|| ApiError::bad_request(format!("`{what}` is required")))?,
        &format!("`{what}`"),
    )?;
    let authzen_type = match object.get("type") {
        Some(Value::String(ty)) if !ty.is_empty() => ty.as_str(),
        Some(Value::String(_)) => {
            return Err(ApiError::bad_request(format!(
                "`{what}.type` must not be empty"
            )));
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "`{what}.type` is required (a string), found {}",
                other.map_or("nothing", kind)
            )));
        }
    };
    if object
        .get("properties")
        .is_some_and(|p| !p.is_null() && p.as_object().is_none_or(|p| !p.is_empty()))
    {
        return Err(ApiError::bad_request(format!(
            "`{what}.properties` cannot be given in a search: it runs over the entity store as it is"
        )));
    }
    let cedar = types.cedar_type(authzen_type);
    let cedar_type = EntityType::parse(cedar).map_err(|e| {
        ApiError::bad_request(format!(
            "`{what}.type` `{authzen_type}` is not a Cedar entity type name (and the type map does not rename it): {e}"
        ))
    })?;
    // The searched part's id is ignored, as the spec says.
    let id = match (searched, object.get("id")) {
        (true, _) | (false, None | Some(Value::Null)) => None,
        (false, Some(Value::String(id))) => Some(id.as_str()),
        (false, Some(other)) => {
            return Err(ApiError::bad_request(format!(
                "`{what}.id` must be a string, found {}",
                kind(other)
            )));
        }
    };
    Ok(Part {
        authzen_type,
        cedar_type,
        id,
        what,
    })
}

/// `action.name` as the Cedar action uid.
fn action_uid(request: &Map<String, Value>, types: &TypeMap) -> Result<EntityUid, ApiError> {
    let object = as_object(
        request
            .get("action")
            .filter(|v| !v.is_null())
            .ok_or_else(|| ApiError::bad_request("`action` is required"))?,
        "`action`",
    )?;
    let name = match object.get("name") {
        Some(Value::String(name)) => name,
        other => {
            return Err(ApiError::bad_request(format!(
                "`action.name` is required (a string), found {}",
                other.map_or("nothing", kind)
            )));
        }
    };
    let ty = action_type_uid(types)?.entity_type().clone();
    Ok(EntityUid::new(ty, name.as_str()))
}

/// The request's `context` as a record, typed by the schema for the action; for an action
/// search, for the first action applying to the subject's and resource's types that it can be
/// read for (the query then validates it against each action's context type, and skips the
/// actions it does not fit).
fn context(
    request: &Map<String, Value>,
    engine: &Engine,
    types: &TypeMap,
    subject: &Part<'_>,
    resource: &Part<'_>,
    searched: Searched,
) -> Result<Record, ApiError> {
    let context = match request.get("context") {
        None | Some(Value::Null) => return Ok(Record::default()),
        Some(context @ Value::Object(_)) => context,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`context` must be an object, found {}",
                kind(other)
            )));
        }
    };
    // Read as the context of a request of this search's shape (the searched id left empty),
    // without validating that request: the query validates each candidate's.
    let uid_json =
        |part: &Part<'_>| json!({"type": part.cedar_type.to_string(), "id": part.id.unwrap_or("")});
    let read = |action: &EntityUid, typed: bool| {
        let schema = RequestSchema::of(engine.schema().filter(|_| typed), false);
        input::request_from_json_values(
            &uid_json(subject),
            &json!({"type": action.entity_type().to_string(), "id": action.id()}),
            &uid_json(resource),
            context,
            schema,
        )
        .map(|request| request.context().clone())
    };
    if searched != Searched::Action {
        return read(&action_uid(request, types)?, true)
            .map_err(|e| ApiError::bad_request(format!("`context`: {e}")));
    }
    // An action search: typed by the schema as the context of the first action (of those that
    // apply to the subject's and resource's types) it can be read for; untyped without one.
    let applicable = engine.schema().into_iter().flat_map(|schema| {
        schema.actions.values().filter(|a| {
            a.principals.contains(&subject.cedar_type) && a.resources.contains(&resource.cedar_type)
        })
    });
    let mut first_error = None;
    for action in applicable {
        match read(&action.uid, true) {
            Ok(record) => return Ok(record),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(ApiError::bad_request(format!("`context`: {e}"))),
        None => {
            let any = action_type_uid(types)?;
            read(&any, false).map_err(|e| ApiError::bad_request(format!("`context`: {e}")))
        }
    }
}

/// An action uid of the type map's action type (for reading a context without a schema).
fn action_type_uid(types: &TypeMap) -> Result<EntityUid, ApiError> {
    let ty = EntityType::parse(&types.action_type).map_err(|e| {
        ApiError::bad_request(format!(
            "the action type `{}` is not a Cedar entity type name: {e}",
            types.action_type
        ))
    })?;
    Ok(EntityUid::new(ty, ""))
}

/// `page` of a search request: the token to continue after, and the page size.
struct Page {
    after: Option<String>,
    limit: usize,
}

impl Page {
    fn of(request: &Map<String, Value>) -> Result<Self, ApiError> {
        let page = match request.get("page") {
            None | Some(Value::Null) => {
                return Ok(Page {
                    after: None,
                    limit: DEFAULT_LIMIT,
                });
            }
            Some(page) => as_object(page, "`page`")?,
        };
        let token = match page.get("token").or_else(|| page.get("next_token")) {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.is_empty() => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "`page.token` must be a string, found {}",
                    kind(other)
                )));
            }
        };
        let after = token
            .map(|t| {
                decode_token(t).ok_or_else(|| {
                    ApiError::bad_request("`page.token` is not a token this server gave")
                })
            })
            .transpose()?;
        let limit = match page.get("limit") {
            None | Some(Value::Null) => DEFAULT_LIMIT,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "`page.limit` must be a whole number from 1 to {MAX_LIMIT}, found {n}"
                    )));
                }
            },
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "`page.limit` must be a number, found {}",
                    kind(other)
                )));
            }
        };
        Ok(Page { after, limit })
    }

    /// The page of `answer` after the token: its results (each uid written by `result`, or
    /// left out when it gives none) and the token of the next page (empty at the end).
    fn answer(&self, answer: &QueryAnswer, result: impl Fn(&EntityUid) -> Option<Value>) -> Value {
        let mut results = Vec::new();
        let mut last: Option<&str> = None;
        let mut more = false;
        let after = self.after.as_deref();
        for uid in &answer.uids {
            if after.is_some_and(|after| uid.id() <= after) {
                continue;
            }
            let Some(value) = result(uid) else { continue };
            if results.len() == self.limit {
                more = true;
                break;
            }
            results.push(value);
            last = Some(uid.id());
        }
        let next_token = match (more, last) {
            (true, Some(last)) => encode_token(last),
            _ => String::new(),
        };
        json!({"results": results, "page": {"next_token": next_token}})
    }
}

/// A page token: the last id returned, in hexadecimal (opaque to clients, and safe in any
/// JSON or URL).
fn encode_token(last: &str) -> String {
    last.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_what_they_did_not_make() {
        for id in ["", "alice", "o\"q", "é-ü", "a b/c"] {
            assert_eq!(decode_token(&encode_token(id)).as_deref(), Some(id));
        }
        assert_eq!(decode_token("abc"), None);
        assert_eq!(decode_token("zz"), None);
        assert_eq!(decode_token("ff"), None, "not UTF-8");
    }
}
