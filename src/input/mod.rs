//! Reading Cedar's file formats into Thuja's types, with errors that say where the problem is.
//!
//! Text formats (policies, schemas, expressions, entity uids) report `file:line:col` and the
//! offending snippet. JSON formats report the JSON syntax error's position, or the entity,
//! attribute path and expectation that failed.

mod data;
mod policies;
mod schema;

use std::fmt;
use std::path::Path;

use thuja_compiler::diagnostic::json_message;
use thuja_compiler::{Diagnostic, ReportFormat, Source, SourceErrors, Span};
use thuja_interp::EvalFailure;

pub use data::{
    RequestSchema, context_from_str, entities_from_file, entities_from_str, entity_list_from_str,
    request_from_json_values, request_from_parts, request_json_from_file, request_json_from_str,
};
pub use policies::{
    PolicyDirection, PolicyFormat, append_link_to_file, entity_uid_from_str, links_from_file,
    links_from_str, policies_from_file, policies_from_json_str, policies_from_str,
    policy_set_from_file, policy_set_from_str, rename_from_id_annotations, translate_policy,
};
pub use schema::{
    SchemaFormat, schema_from_file, schema_from_file_with_format, schema_from_str,
    schema_from_str_with_format, translate_schema,
};

/// Anything that can go wrong reading inputs.
#[derive(Debug)]
#[non_exhaustive]
pub enum InputError {
    /// A file could not be read.
    Io {
        /// The file.
        path: String,
        /// Why it could not be read.
        error: std::io::Error,
    },
    /// Located problems in a text (policies, schema, JSON, an entity uid argument).
    Source(SourceErrors),
    /// A problem with the meaning of some data, named by what it concerns.
    Data {
        /// What the data is (a file, `context`, `principal`, ...).
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// The command line does not describe a complete input.
    Usage(String),
    /// Evaluating an expression failed (for `evaluate`).
    Evaluation {
        /// The expression's text.
        source: Source,
        /// The error and where in `source` it was raised. Boxed: an evaluation error holds
        /// values, and the other variants are small.
        failure: Box<EvalFailure>,
    },
}

impl InputError {
    /// The error of reading the file at `path`.
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        InputError::Io {
            path: path.display().to_string(),
            error,
        }
    }

    pub(crate) fn data(what: impl Into<String>, message: impl fmt::Display) -> Self {
        InputError::Data {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// The full report: location, message and snippet where there is one.
    pub fn render(&self) -> String {
        self.render_as(ReportFormat::Human)
    }

    /// The full report in `format`: for [`ReportFormat::Json`], one JSON object per line.
    pub fn render_as(&self, format: ReportFormat) -> String {
        match self {
            InputError::Source(errs) => errs.render_as(format),
            InputError::Evaluation { source, failure } => SourceErrors::single(
                source.clone(),
                Diagnostic::new(failure.error.to_string(), failure.span.unwrap_or_default()),
            )
            .render_as(format),
            other => match format {
                ReportFormat::Json => format!("{}\n", json_message(&other.to_string())),
                ReportFormat::Human | ReportFormat::Plain => format!("error: {other}\n"),
            },
        }
    }

    /// What is wrong, without where: for input that arrived as a value rather than a file
    /// (a request body re-serialized, say), whose line and column would mean nothing.
    pub fn message(&self) -> String {
        match self {
            InputError::Source(errs) => errs
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            InputError::Data { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// One line, for listings.
    pub fn summary(&self) -> String {
        self.to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Io { path, error } => write!(f, "cannot read {path}: {error}"),
            InputError::Source(errs) => write!(f, "{errs}"),
            InputError::Data { what, message } => write!(f, "{what}: {message}"),
            InputError::Usage(msg) => f.write_str(msg),
            InputError::Evaluation { failure, .. } => write!(f, "{}", failure.error),
        }
    }
}

impl std::error::Error for InputError {}

impl From<SourceErrors> for InputError {
    fn from(e: SourceErrors) -> Self {
        InputError::Source(e)
    }
}

/// Reads a whole file as UTF-8 text.
pub fn read_file(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| InputError::io(path, e))
}

/// A located error for a JSON text that is not well-formed or not of the expected shape.
pub fn json_error(source: &Source, err: &serde_json::Error) -> InputError {
    let message = err.to_string();
    // serde_json appends " at line L column C"; the location is shown separately.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_string();
    let message = if message.starts_with("recursion limit exceeded") {
        format!(
            "arrays and objects are nested too deeply (more than {} levels, MAX_JSON_DEPTH)",
            thuja_runtime::json::limits::MAX_JSON_DEPTH
        )
    } else {
        message
    };
    located(source, err.line(), err.column(), message)
}

/// An error in a JSON data file: located when the reader knows the position (syntax errors,
/// duplicate keys), otherwise named by the file, with the reader's message naming the entity or
/// attribute concerned.
pub(crate) fn data_error(source: &Source, err: &thuja_runtime::json::JsonError) -> InputError {
    match (err.line, err.column) {
        (Some(line), Some(column)) => located(source, line, column, err.message.clone()),
        _ => InputError::data(source.name.to_string(), &err.message),
    }
}

fn located(source: &Source, line: usize, column: usize, message: String) -> InputError {
    let offset = offset_of_line_col(&source.text, line, column);
    InputError::Source(SourceErrors::single(
        source.clone(),
        Diagnostic::new(message, Span::new(offset, offset)),
    ))
}

/// Byte offset of a 1-based line and column (column counted in bytes, as serde_json does).
fn offset_of_line_col(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
