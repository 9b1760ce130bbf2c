//! The arguments that describe a request, shared by `authorize` and `evaluate`, and the inputs
//! (policies, schema, entities) they read.

use std::path::PathBuf;

use clap::{ArgAction, Args};
use thuja::input::{self, InputError};
use thuja::{Request, Schema};

#[derive(Args, Debug)]
pub struct RequestArgs {
    /// Principal of the request, e.g. User::"alice"
    #[arg(short = 'l', long)]
    pub principal: Option<String>,
    /// Action of the request, e.g. Action::"view"
    #[arg(short, long)]
    pub action: Option<String>,
    /// Resource of the request, e.g. Photo::"vacation.jpg"
    #[arg(short, long)]
    pub resource: Option<String>,
    /// JSON file holding the request's context (an object)
    #[arg(short, long = "context", value_name = "FILE")]
    pub context: Option<PathBuf>,
    /// JSON file holding the whole request: {"principal", "action", "resource", "context"}
    #[arg(long = "request-json", value_name = "FILE", conflicts_with_all = ["principal", "action", "resource", "context"])]
    pub request_json: Option<PathBuf>,
    /// Validate the request against the schema (no effect without a schema)
    #[arg(long = "request-validation", action = ArgAction::Set, default_value_t = true)]
    pub request_validation: bool,
}

impl RequestArgs {
    /// Whether any part of a request was given.
    pub fn is_given(&self) -> bool {
        self.principal.is_some()
            || self.action.is_some()
            || self.resource.is_some()
            || self.context.is_some()
            || self.request_json.is_some()
    }

    /// Reads the request, parsing the context with `schema` and validating against it when
    /// asked.
    pub fn request(&self, schema: Option<&Schema>) -> Result<Request, InputError> {
        let schema = input::RequestSchema::of(schema, self.request_validation);
        if let Some(path) = &self.request_json {
            return input::request_json_from_file(path, schema);
        }
        match (&self.principal, &self.action, &self.resource) {
            (Some(p), Some(a), Some(r)) => {
                let context = match &self.context {
                    Some(path) => Some((path.display().to_string(), input::read_file(path)?)),
                    None => None,
                };
                input::request_from_parts(
                    p,
                    a,
                    r,
                    context.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
                    schema,
                )
            }
            _ => Err(InputError::Usage(
                "the request needs all three of --principal, --action and --resource (or --request-json)".into(),
            )),
        }
    }
}
