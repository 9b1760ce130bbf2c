//! Reading Cedar's file formats into Thuja's types, with errors that say where the problem is.
//!
//! Text formats (policies, schemas, expressions, entity uids) report `file:line:col` and the
//! offending snippet. JSON formats report the JSON syntax error's position, or the entity,
//! attribute path and expectation that failed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use thuja_compiler::ast::{PolicySet, SlotId};
use thuja_compiler::{Diagnostic, Source, SourceErrors, Span};
use thuja_interp::EvalFailure;
use thuja_runtime::{Entities, EntityUid, Request, Schema};

/// Anything that can go wrong reading inputs.
#[derive(Debug)]
pub enum InputError {
    /// A file could not be read.
    Io { path: String, error: std::io::Error },
    /// Located problems in a text (policies, schema, JSON, an entity uid argument).
    Source(SourceErrors),
    /// A problem with the meaning of some data, named by what it concerns.
    Data { what: String, message: String },
    /// The command line does not describe a complete input.
    Usage(String),
    /// Evaluating an expression failed (for `evaluate`).
    Evaluation { source: Source, failure: EvalFailure },
}

impl InputError {
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        InputError::Io {
            path: path.display().to_string(),
            error,
        }
    }

    fn data(what: impl Into<String>, message: impl fmt::Display) -> Self {
        InputError::Data {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// The full report: location, message and snippet where there is one.
    pub fn render(&self) -> String {
        match self {
            InputError::Source(errs) => errs.render(),
            InputError::Evaluation { source, failure } => SourceErrors::single(
                source.clone(),
                Diagnostic::new(failure.error.to_string(), failure.span),
            )
            .render(),
            other => format!("error: {other}\n"),
        }
    }

    /// One line, for listings.
    pub fn summary(&self) -> String {
        self.to_string().lines().next().unwrap_or_default().to_string()
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

/// Parses a policy file; policies get the ids `policy0`, `policy1`, ... in file order.
pub fn policies_from_str(name: &str, text: &str) -> Result<PolicySet, InputError> {
    Ok(thuja_compiler::parser::parse_policy_set(Source::new(name, text))?)
}

pub fn policies_from_file(path: &Path) -> Result<PolicySet, InputError> {
    policies_from_str(&path.display().to_string(), &read_file(path)?)
}

/// Gives each policy with an `@id("...")` annotation that id, as the `cedar` CLI does.
pub fn rename_from_id_annotations(policies: &mut PolicySet) -> Result<(), InputError> {
    let mut taken: Vec<String> = Vec::new();
    for p in policies.policies() {
        let id = p.annotation("id").unwrap_or(&p.id).to_string();
        if taken.contains(&id) {
            return Err(InputError::data(
                "policies",
                format!("two policies would have the id `{id}` (from @id annotations)"),
            ));
        }
        taken.push(id);
    }
    policies.rename(|p| p.annotation("id").map(Into::into));
    Ok(())
}

/// Parses an entity uid written as in policies, e.g. `User::"alice"`.
pub fn entity_uid_from_str(what: &str, text: &str) -> Result<EntityUid, InputError> {
    Ok(thuja_compiler::parser::parse_entity_uid(Source::new(what, text))?)
}

/// One template link, in the `cedar` CLI's `--template-linked` format.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkJson {
    template_id: String,
    link_id: String,
    args: BTreeMap<String, String>,
}

/// Adds the template links in `text` to `policies`.
pub fn links_from_str(name: &str, text: &str, policies: &mut PolicySet) -> Result<(), InputError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let source = Source::new(name, text);
    let links: Vec<LinkJson> = serde_json::from_str(text).map_err(|e| json_error(&source, &e))?;
    for link in links {
        let mut values = BTreeMap::new();
        for (slot, uid_text) in &link.args {
            let slot_id = match slot.as_str() {
                "?principal" => SlotId::Principal,
                "?resource" => SlotId::Resource,
                other => {
                    return Err(InputError::data(
                        format!("{name}: link `{}`", link.link_id),
                        format!("`{other}` is not a slot; expected ?principal or ?resource"),
                    ));
                }
            };
            let uid = entity_uid_from_str(&format!("{name}: link `{}` {slot}", link.link_id), uid_text)?;
            values.insert(slot_id, uid);
        }
        thuja_compiler::template::link(policies, &link.template_id, &link.link_id, values)
            .map_err(|e| InputError::data(format!("{name}: link `{}`", link.link_id), e))?;
    }
    Ok(())
}

pub fn links_from_file(path: &Path, policies: &mut PolicySet) -> Result<(), InputError> {
    links_from_str(&path.display().to_string(), &read_file(path)?, policies)
}

/// A located error for a JSON text that is not well-formed or not of the expected shape.
pub fn json_error(source: &Source, err: &serde_json::Error) -> InputError {
    let offset = offset_of_line_col(&source.text, err.line(), err.column());
    let message = err.to_string();
    // serde_json appends " at line L column C"; the location is shown separately.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_string();
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
