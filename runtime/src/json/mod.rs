//! Cedar's JSON data formats: values, entities, request contexts, and checking a request against a
//! schema.
//!
//! The readers follow `cedar-policy` 4.x: the same inputs are accepted and rejected, with the
//! same meaning. Each reader can take a [`Schema`](crate::Schema); with one, entity references and
//! extension values may be written without their `__entity` / `__extn` escapes, and the data is
//! checked against the declared types.
//!
//! * [`value`]: one Cedar value ([`value_from_json_str`]), and the type checks every reader uses
//!   ([`typecheck_value`], [`value_conforms`]).
//! * [`entities`]: the entities file, an array of `{"uid", "attrs", "parents", "tags"}` objects
//!   ([`entities_from_json_str`]).
//! * [`context`]: a request context, a JSON object ([`context_from_json_str`]).
//! * [`request`]: whether a request fits a schema ([`validate_request`]).
//! * [`write`](mod@write): the other direction, entities, values and contexts to JSON that reads back the
//!   same ([`entities_to_json_string`], [`value_to_json_value`], ...).
//!
//! Duplicate keys in JSON objects are rejected, as Cedar rejects them, except in a context, where
//! Cedar (parsing through `serde_json::Value`) keeps the last one.
//!
//! Documents from callers that may be hostile are bounded in size, depth and count
//! ([`limits`]); past a limit, reading is an error that names it.

pub mod context;
pub mod entities;
pub mod limits;
pub mod request;
mod tree;
pub use tree::{Duplicates, Json, parse as parse_tree};
pub mod value;
pub mod write;

use std::fmt;

pub use context::{context_from_json_str, context_from_json_value};
pub use entities::{
    check_entity, entities_from_json_str, entities_from_json_value, entity_list_from_json_str,
};
pub use request::{RequestValidationError, validate_request};
pub use value::{typecheck_value, value_conforms, value_from_json_str, value_from_json_value};
pub use write::{
    context_to_json_string, context_to_json_value, entities_to_json_string,
    entities_to_json_string_pretty, entities_to_json_value, entity_to_json_value,
    value_to_json_string, value_to_json_value,
};

/// An error reading one of the JSON formats.
///
/// `line` and `column` (1-based) are known for errors in the JSON text itself (syntax errors,
/// duplicate keys, nesting too deep); errors found after the text is read (type mismatches,
/// schema conformance) carry no position, but their message names the entity, attribute or tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct JsonError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// For an entities file: the index of the entity the error concerns, when it is one.
    pub entity: Option<usize>,
}

impl JsonError {
    /// An error without a source position.
    pub fn new(message: impl Into<String>) -> Self {
        JsonError {
            message: message.into(),
            line: None,
            column: None,
            entity: None,
        }
    }

    /// Marks the error as concerning entity number `index` of an entities file.
    pub(crate) fn in_entity(mut self, index: usize) -> Self {
        self.entity.get_or_insert(index);
        self
    }

    /// Places the error at a 1-based line and column of the source text.
    pub(crate) fn at(mut self, (line, column): (usize, usize)) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// An error from `serde_json`, keeping its position when it has one.
    pub(crate) fn from_serde(e: &serde_json::Error) -> Self {
        let (line, column) = if e.line() == 0 {
            (None, None)
        } else {
            (Some(e.line()), Some(e.column()))
        };
        // serde_json's message ends in " at line L column C"; the position is kept separately.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) if line.is_some() => text[..i].to_string(),
            _ => text,
        };
        let message = if message.starts_with("recursion limit exceeded") {
            format!(
                "arrays and objects are nested too deeply (more than {} levels, MAX_JSON_DEPTH)",
                limits::MAX_JSON_DEPTH
            )
        } else {
            message
        };
        JsonError {
            message: format!("invalid JSON: {message}"),
            line,
            column,
            entity: None,
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " at line {line} column {column}")?;
        }
        Ok(())
    }
}
