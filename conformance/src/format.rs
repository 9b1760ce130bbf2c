//! The Cedar integration-test file format (see the upstream `cedar-integration-tests`).

use serde::Deserialize;

/// One test file: a policy set, entities and schema (paths), and requests with expectations.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestFile {
    pub policies: String,
    pub entities: String,
    pub schema: String,
    pub should_validate: bool,
    pub requests: Vec<TestRequest>,
}

/// A request and the response Cedar gives it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestRequest {
    pub description: String,
    pub principal: serde_json::Value,
    pub action: serde_json::Value,
    pub resource: serde_json::Value,
    pub context: serde_json::Value,
    #[serde(default = "default_true")]
    pub validate_request: bool,
    pub decision: ExpectedDecision,
    pub reason: Vec<String>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedDecision {
    Allow,
    Deny,
}

fn default_true() -> bool {
    true
}
