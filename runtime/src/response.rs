//! The answer to an authorization request: the decision, the policies that determined it, and
//! the policies whose evaluation failed.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::error::EvalError;

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        })
    }
}

/// A policy whose evaluation raised an error (so it was not satisfied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub policy_id: Arc<str>,
    pub error: EvalError,
    /// Byte range, in the policy's source text, of the expression that raised the error.
    pub span: Option<Range<usize>>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error while evaluating policy `{}`: {}",
            self.policy_id, self.error
        )
    }
}

/// The result of authorizing one request.
///
/// `reasons` holds the satisfied policies that determined the decision: the satisfied permits
/// for Allow, the satisfied forbids for Deny (empty when nothing applied). `errors` lists every
/// policy whose evaluation raised an error, in policy-set order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub decision: Decision,
    pub reasons: BTreeSet<Arc<str>>,
    pub errors: Vec<PolicyError>,
}
