//! What each C call does, in safe Rust: the [`ffi`](crate::ffi) module reads the C arguments,
//! calls one function here, and writes its result back.

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thuja::input::{self, InputError, RequestSchema, SchemaFormat};
use thuja::output::ResponseJson;
use thuja::{
    BuildError, Engine, EntityUid, Evaluator, LiveEngine, PolicySet, Request,
    RequestValidationError, Response, Schema,
};

use crate::status::*;

/// Why a call failed: its status and the message for the caller.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: ThujaStatus,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: ThujaStatus, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        let status = match e {
            InputError::Io { .. } => THUJA_STATUS_IO,
            _ => THUJA_STATUS_INPUT,
        };
        // Located errors with their snippet; the others on one line.
        let message = match e {
            InputError::Source(_) => e.render().trim_end().to_string(),
            _ => e.to_string(),
        };
        Failure::new(status, message)
    }
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Input(e) => e.into(),
            other => Failure::new(THUJA_STATUS_BUILD, other.to_string()),
        }
    }
}

impl From<RequestValidationError> for Failure {
    fn from(e: RequestValidationError) -> Self {
        Failure::new(
            THUJA_STATUS_INVALID_REQUEST,
            format!("request is not valid for the schema: {e}"),
        )
    }
}

pub(crate) type Outcome<T> = Result<T, Failure>;

/// An input given to the engine: its text, or the path of the file holding it.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    Text(&'a str),
    File(&'a str),
}

impl<'a> Input<'a> {
    /// The input's name in messages (`name` for a text, the path for a file) and its text.
    fn read(self, name: &str) -> Outcome<(String, Cow<'a, str>)> {
        match self {
            Input::Text(text) => Ok((name.to_string(), Cow::Borrowed(text))),
            Input::File(path) => Ok((
                path.to_string(),
                Cow::Owned(input::read_file(Path::new(path))?),
            )),
        }
    }
}

/// How an engine is built: [`ThujaEngineOptions`](crate::ThujaEngineOptions), checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) evaluator: Evaluator,
    pub(crate) schema_format: SchemaFormat,
    pub(crate) request_validation: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            evaluator: Evaluator::Vm,
            schema_format: SchemaFormat::Cedar,
            request_validation: true,
        }
    }
}

impl Options {
    pub(crate) fn new(
        evaluator: ThujaEvaluator,
        schema_format: ThujaSchemaFormat,
        request_validation: bool,
    ) -> Outcome<Self> {
        let evaluator = match evaluator {
            THUJA_EVALUATOR_VM => Evaluator::Vm,
            THUJA_EVALUATOR_JIT => Evaluator::Jit,
            THUJA_EVALUATOR_INTERP => Evaluator::Interp,
            other => {
                return Err(Failure::new(
                    THUJA_STATUS_INVALID_ARGUMENT,
                    format!(
                        "unknown evaluator {other} (expected THUJA_EVALUATOR_VM, _JIT or _INTERP)"
                    ),
                ));
            }
        };
        let schema_format = match schema_format {
            THUJA_SCHEMA_FORMAT_CEDAR => SchemaFormat::Cedar,
            THUJA_SCHEMA_FORMAT_JSON => SchemaFormat::Json,
            other => {
                return Err(Failure::new(
                    THUJA_STATUS_INVALID_ARGUMENT,
                    format!(
                        "unknown schema format {other} (expected THUJA_SCHEMA_FORMAT_CEDAR or _JSON)"
                    ),
                ));
            }
        };
        Ok(Options {
            evaluator,
            schema_format,
            request_validation,
        })
    }
}

/// The inputs of an engine; everything but the policies may be absent.
pub(crate) struct Sources<'a> {
    pub(crate) policies: Input<'a>,
    pub(crate) schema: Option<Input<'a>>,
    pub(crate) entities: Option<Input<'a>>,
    pub(crate) links: Option<Input<'a>>,
}

/// What a C handle holds: the engine serving requests, and a copy of its schema.
///
/// No call changes the schema (policy swaps and entity changes keep it), so a request's context
/// is read with this copy, and [`decide`] asks the live engine once, through
/// [`LiveEngine::decide`], which writes no memory other threads share (no reference count).
pub(crate) struct Handle {
    live: LiveEngine,
    schema: Option<Schema>,
}

/// Builds an engine from its inputs.
pub(crate) fn build(sources: Sources<'_>, options: Options) -> Outcome<Handle> {
    let policies = read_policies(sources.policies, sources.links)?;
    let mut builder = Engine::builder()
        .policies(policies)
        .evaluator(options.evaluator)
        .request_validation(options.request_validation);
    if let Some(schema) = sources.schema {
        let default_name = match options.schema_format {
            SchemaFormat::Json => "schema.cedarschema.json",
            _ => "schema.cedarschema",
        };
        let (name, text) = schema.read(default_name)?;
        builder = builder.schema(input::schema_from_str_with_format(
            &name,
            &text,
            options.schema_format,
        )?);
    }
    if let Some(entities) = sources.entities {
        let (name, text) = entities.read("entities.json")?;
        builder = builder.entities_json(name, text.into_owned());
    }
    let engine = builder.build()?;
    Ok(Handle {
        schema: engine.schema().cloned(),
        live: LiveEngine::new(engine),
    })
}

/// Policies, named by their `@id` annotations where they have one (as the `cedar` CLI does),
/// with the template links in `links`.
fn read_policies(policies: Input<'_>, links: Option<Input<'_>>) -> Outcome<PolicySet> {
    let (name, text) = policies.read("policies.cedar")?;
    let mut set = input::policies_from_str(&name, &text)?;
    input::rename_from_id_annotations(&mut set)?;
    if let Some(links) = links {
        let (name, text) = links.read("links.json")?;
        input::links_from_str(&name, &text, &mut set)?;
    }
    Ok(set)
}

/// Decides one request given as its parts: uids as Cedar text (`User::"alice"`) or JSON
/// (`{"type": "User", "id": "alice"}`), the context as a JSON object (none: `{}`).
pub(crate) fn decide(
    handle: &Handle,
    principal: &str,
    action: &str,
    resource: &str,
    context: Option<&str>,
) -> Outcome<Response> {
    let principal = uid("principal", principal)?;
    let action = uid("action", action)?;
    let resource = uid("resource", resource)?;
    let schema = handle.schema.as_ref();
    let context = input::context_from_str("context", context.unwrap_or("{}"), schema, &action)?;
    let request = Request::new(principal, action, resource, context);
    Ok(handle.live.decide(&request)?)
}

/// An entity uid as Cedar text or as JSON (`{"type": ..., "id": ...}`, or that inside
/// `{"__entity": ...}`).
pub(crate) fn uid(what: &str, text: &str) -> Outcome<EntityUid> {
    if !text.trim_start().starts_with('{') {
        return Ok(input::entity_uid_from_str(what, text)?);
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum UidJson {
        Wrapped {
            #[serde(rename = "__entity")]
            entity: Plain,
        },
        Plain(Plain),
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Plain {
        #[serde(rename = "type")]
        ty: String,
        id: String,
    }
    let json: UidJson = serde_json::from_str(text).map_err(|_| {
        Failure::new(
            THUJA_STATUS_INPUT,
            format!(
                "{what}: `{text}` is not an entity uid: expected Cedar text such as `User::\"alice\"` or JSON such as {{\"type\": \"User\", \"id\": \"alice\"}}"
            ),
        )
    })?;
    let (UidJson::Wrapped { entity: plain } | UidJson::Plain(plain)) = json;
    thuja::uid(&plain.ty, &plain.id).map_err(|e| {
        Failure::new(
            THUJA_STATUS_INPUT,
            format!("{what}: `{}` is not an entity type name: {e}", plain.ty),
        )
    })
}

/// Decides a request given as the `cedar` CLI's request file; answers with the response as
/// JSON ([`thuja::output::response_json`]: `decision`, `reasons`, `errors`).
pub(crate) fn decide_json(handle: &Handle, request: &str) -> Outcome<String> {
    // The context typed by the schema; the engine validates the request when it validates
    // requests.
    let schema = RequestSchema::of(handle.schema.as_ref(), false);
    let request = input::request_json_from_str("request", request, schema)?;
    let response = handle.live.decide(&request)?;
    Ok(thuja::output::response_json(&response))
}

/// One request of a batch, as the `cedar` CLI's request file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestJson {
    principal: serde_json::Value,
    action: serde_json::Value,
    resource: serde_json::Value,
    #[serde(default)]
    context: Option<serde_json::Value>,
}

/// Decides a batch of requests — a JSON array, or JSON Lines (one request per non-blank line) —
/// all on the same engine; answers with a JSON array holding, in order, each request's response
/// or `{"error": "..."}` for a request that could not be decided.
pub(crate) fn decide_batch(handle: &Handle, requests: &str) -> Outcome<String> {
    // One engine for the whole batch.
    let engine = handle.live.engine();
    let items: Vec<(String, Result<serde_json::Value, String>)> =
        if requests.trim_start().starts_with('[') {
            let array: Vec<serde_json::Value> = serde_json::from_str(requests).map_err(|e| {
                Failure::new(
                    THUJA_STATUS_INPUT,
                    format!("requests: not a JSON array of requests: {e}"),
                )
            })?;
            array
                .into_iter()
                .enumerate()
                .map(|(i, value)| (format!("request {i}"), Ok(value)))
                .collect()
        } else {
            requests
                .lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(i, line)| {
                    (
                        format!("line {}", i + 1),
                        serde_json::from_str(line).map_err(|e| e.to_string()),
                    )
                })
                .collect()
        };
    let responses: Vec<Result<Response, String>> = items
        .into_iter()
        .map(|(label, item)| {
            item.and_then(|value| decide_value(&engine, value).map_err(|f| f.message))
                .map_err(|message| format!("{label}: {message}"))
        })
        .collect();
    let answers: Vec<Answer<'_>> = responses
        .iter()
        .map(|response| match response {
            Ok(response) => Answer::Response(ResponseJson::from(response)),
            Err(error) => Answer::Error { error },
        })
        .collect();
    serde_json::to_string(&answers)
        .map_err(|e| Failure::new(THUJA_STATUS_PANIC, format!("internal error: {e}")))
}

/// One answer of a batch.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<'a> {
    Response(ResponseJson<'a>),
    Error { error: &'a str },
}

fn decide_value(engine: &Engine, value: serde_json::Value) -> Outcome<Response> {
    let json: RequestJson = serde_json::from_value(value).map_err(|e| {
        Failure::new(
            THUJA_STATUS_INPUT,
            format!("not a request {{\"principal\", \"action\", \"resource\", \"context\"}}: {e}"),
        )
    })?;
    let context = json.context.unwrap_or_else(|| serde_json::json!({}));
    let request = input::request_from_json_values(
        &json.principal,
        &json.action,
        &json.resource,
        &context,
        RequestSchema::of(engine.schema(), false),
    )
    .map_err(|e| Failure::new(THUJA_STATUS_INPUT, e.to_string()))?;
    Ok(engine.decide(&request)?)
}

/// Replaces the engine's policies (its schema and entities stay).
pub(crate) fn swap_policies(
    handle: &Handle,
    policies: Input<'_>,
    links: Option<Input<'_>>,
) -> Outcome<()> {
    let set = read_policies(policies, links)?;
    Ok(handle.live.update(|engine| engine.with_policies(set))?)
}

/// Adds the entities of an entities file's text, replacing those of the same uids.
pub(crate) fn upsert_entities(handle: &Handle, entities: &str) -> Outcome<()> {
    Ok(handle.live.update(|engine| {
        let list = engine.entities_from_json("entities.json", entities)?;
        engine.upsert_entities(list)
    })?)
}

/// Removes the entities with these uids (each as Cedar text or JSON); uids not in the store are
/// ignored.
pub(crate) fn remove_entities(handle: &Handle, uids: &[&str]) -> Outcome<()> {
    let uids = uids
        .iter()
        .enumerate()
        .map(|(i, text)| uid(&format!("uid {i}"), text))
        .collect::<Outcome<Vec<EntityUid>>>()?;
    Ok(handle.live.update(|engine| engine.remove_entities(uids))?)
}
