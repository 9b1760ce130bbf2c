//! The answer to an authorization request: the decision, the policies that determined it, and
//! the policies whose evaluation failed.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;
use smol_str::SmolStr;

use crate::error::{EvalError, EvalFailure};
use crate::span::Span;

/// A policy's id, or a template link's: stored inline up to 23 bytes, so that copying one into a
/// response writes no shared reference count and reads no other memory.
pub type PolicyId = SmolStr;

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
    pub policy_id: PolicyId,
    pub error: EvalError,
    /// Where, in the policy's source text, the expression that raised the error is (`None`
    /// only for an internal error raised outside any expression).
    pub span: Option<Span>,
    /// Where that expression starts: its file, line and column. Filled in by the engines that
    /// keep the policies' sources (the facade's `Engine`); `None` from the bare evaluators.
    pub location: Option<Location>,
}

impl PolicyError {
    /// The `failure` of policy `policy_id`, not yet located.
    pub fn new(policy_id: PolicyId, failure: EvalFailure) -> Self {
        PolicyError {
            policy_id,
            error: failure.error,
            span: failure.span,
            location: None,
        }
    }
}

/// A position in a policy file: the file's name, and a 1-based line and column (in
/// characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
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
    pub reasons: PolicyIds,
    pub errors: Vec<PolicyError>,
}

/// A set of policy ids in increasing order. The first two are held inline, so deciding a request
/// that one or two policies determine allocates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyIds(SmallVec<[PolicyId; 2]>);

impl PolicyIds {
    pub fn new() -> Self {
        PolicyIds::default()
    }

    /// Adds `id`; false when it was already there.
    pub fn insert(&mut self, id: PolicyId) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(id)).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids in increasing order.
    pub fn iter(&self) -> std::slice::Iter<'_, PolicyId> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a PolicyIds {
    type Item = &'a PolicyId;
    type IntoIter = std::slice::Iter<'a, PolicyId>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<PolicyId> for PolicyIds {
    fn from_iter<I: IntoIterator<Item = PolicyId>>(ids: I) -> Self {
        let mut set = PolicyIds::new();
        for id in ids {
            set.insert(id);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ids_are_a_sorted_set() {
        let ids: PolicyIds = ["p2", "p10", "p1", "p2", "a"]
            .into_iter()
            .map(PolicyId::from)
            .collect();
        let listed: Vec<&str> = ids.iter().map(PolicyId::as_str).collect();
        assert_eq!(listed, ["a", "p1", "p10", "p2"]);
        assert_eq!(ids.len(), 4);
        assert!(ids.contains("p10") && !ids.contains("p3"));
        assert!(PolicyIds::new().is_empty());
    }
}
