//! A [`Response`] (and an [`Entity`]) as JSON, for programs that answer over a wire (the C
//! ABI's JSON calls, an HTTP server).
//!
//! ```text
//! {"decision":"allow","reasons":["policy3"],
//!  "errors":[{"policy":"policy1","message":"...","location":{"file":"p.cedar","line":4,"column":16}}]}
//! ```
//!
//! `reasons` are sorted (as [`PolicyIds`](crate::PolicyIds) keeps them); `errors` are in the
//! order the response lists them, each with its policy's id, the error's message and, when the
//! engine knows it, where the expression that raised it starts (`null` otherwise).

use serde::Serialize;
use thuja_runtime::{Decision, Entity, Location, PolicyError, Record, Response};

/// A response in its JSON shape (see the [module](self)): serialize it with `serde_json`, or
/// embed it in a larger answer. Its fields serialize in the order shown, whatever features
/// `serde_json` is built with.
#[derive(Clone, Debug, Serialize)]
pub struct ResponseJson<'a> {
    decision: &'static str,
    reasons: Vec<&'a str>,
    errors: Vec<ErrorJson<'a>>,
}

#[derive(Clone, Debug, Serialize)]
struct ErrorJson<'a> {
    policy: &'a str,
    message: String,
    location: Option<LocationJson<'a>>,
}

#[derive(Clone, Debug, Serialize)]
struct LocationJson<'a> {
    file: &'a str,
    line: u32,
    column: u32,
}

impl<'a> From<&'a Response> for ResponseJson<'a> {
    fn from(response: &'a Response) -> Self {
        ResponseJson {
            decision: decision_str(response.decision),
            reasons: response.reasons.iter().map(AsRef::as_ref).collect(),
            errors: response.errors.iter().map(ErrorJson::from).collect(),
        }
    }
}

impl<'a> From<&'a PolicyError> for ErrorJson<'a> {
    fn from(error: &'a PolicyError) -> Self {
        ErrorJson {
            policy: &error.policy_id,
            message: error.error.to_string(),
            location: error.location.as_ref().map(LocationJson::from),
        }
    }
}

impl<'a> From<&'a Location> for LocationJson<'a> {
    fn from(location: &'a Location) -> Self {
        LocationJson {
            file: &location.file,
            line: location.line,
            column: location.column,
        }
    }
}

/// `response` as compact JSON text: `{"decision":...,"reasons":[...],"errors":[...]}`.
pub fn response_json(response: &Response) -> String {
    serde_json::to_string(&ResponseJson::from(response))
        // Serializing strings and numbers into a string cannot fail.
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `entity` as one element of Cedar's entities JSON (`{"uid", "attrs", "parents", "tags"}`),
/// which [`input::entity_list_from_str`](crate::input::entity_list_from_str) reads back to the
/// same entity.
pub fn entity_json(entity: &Entity) -> Result<serde_json::Value, String> {
    thuja_runtime::json::entity_to_json_value(entity).map_err(|e| e.to_string())
}

/// A request's context as Cedar's context JSON (extension values as `{"__extn": ...}`, entity
/// references as `{"__entity": ...}`).
pub fn context_json(context: &Record) -> Result<serde_json::Value, String> {
    thuja_runtime::json::context_to_json_value(context).map_err(|e| e.to_string())
}

/// `"allow"` or `"deny"`.
pub fn decision_str(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_with_an_error_as_json() {
        let policies = crate::input::policies_from_str(
            "p.cedar",
            "permit(principal, action, resource);\npermit(principal, action, resource) when { 1 < \"a\" };",
        )
        .expect("policies");
        let engine = crate::Engine::builder()
            .policies(policies)
            .build()
            .expect("engine");
        let request = crate::Request::new(
            crate::uid("User", "a").expect("uid"),
            crate::uid("Action", "view").expect("uid"),
            crate::uid("Photo", "p").expect("uid"),
            crate::Record::default(),
        );
        let response = engine.decide(&request).expect("decided");
        let message = serde_json::to_string(&response.errors[0].error.to_string()).expect("text");
        assert!(message.contains("type"), "{message}");
        assert_eq!(
            response_json(&response),
            format!(
                r#"{{"decision":"allow","reasons":["policy0"],"errors":[{{"policy":"policy1","message":{message},"location":{{"file":"p.cedar","line":2,"column":44}}}}]}}"#
            )
        );
    }
}
