//! A [`Response`] as JSON, for programs that answer over a wire (the C ABI's JSON calls, an
//! HTTP server).
//!
//! ```text
//! {"decision":"allow","reasons":["policy3"],
//!  "errors":[{"policy":"policy1","message":"...","location":{"file":"p.cedar","line":4,"column":16}}]}
//! ```
//!
//! `reasons` are sorted (as [`PolicyIds`](crate::PolicyIds) keeps them); `errors` are in the
//! order the response lists them, each with its policy's id, the error's message and, when the
//! engine knows it, where the expression that raised it starts (`null` otherwise).

use serde_json::{Value, json};
use thuja_runtime::{Decision, Location, PolicyError, Response};

/// `response` as a JSON object: `decision` (`"allow"` or `"deny"`), `reasons` (policy ids) and
/// `errors` (`policy`, `message`, `location`); see the [module](self).
pub fn response_json(response: &Response) -> Value {
    json!({
        "decision": decision_str(response.decision),
        "reasons": response.reasons.iter().map(AsRef::<str>::as_ref).collect::<Vec<&str>>(),
        "errors": response.errors.iter().map(error_json).collect::<Vec<Value>>(),
    })
}

/// `"allow"` or `"deny"`.
pub fn decision_str(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    }
}

fn error_json(error: &PolicyError) -> Value {
    json!({
        "policy": error.policy_id.as_str(),
        "message": error.error.to_string(),
        "location": error.location.as_ref().map(location_json),
    })
}

fn location_json(location: &Location) -> Value {
    json!({
        "file": &*location.file,
        "line": location.line,
        "column": location.column,
    })
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
        let json = response_json(&response);
        assert_eq!(json["decision"], "allow");
        assert_eq!(json["reasons"], json!(["policy0"]));
        let error = &json["errors"][0];
        assert_eq!(error["policy"], "policy1");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("type")),
            "{error}"
        );
        assert_eq!(
            error["location"],
            json!({"file": "p.cedar", "line": 2, "column": 44})
        );
    }
}
