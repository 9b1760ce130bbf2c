//! The human-readable Cedar schema format (`.cedarschema`): text to the resolved
//! [`thuja_runtime::Schema`].
//!
//! [`parse_schema`] parses ([`parse`], to the [`syntax`] tree) then resolves names ([`resolve`]):
//! namespaces, entity types (with parents, attributes, tags, or enumerated ids), common types
//! (expanded), and actions (groups, `appliesTo`, context). Annotations are accepted and ignored.
//! Errors are located in the source and render as `file:line:col` with the offending snippet;
//! syntax errors stop at the first, resolution reports them all. No input panics.

pub mod parse;
pub mod resolve;
pub mod syntax;

use thuja_runtime::Schema;

use crate::diagnostic::SourceErrors;
use crate::source::Source;

/// Parses and resolves a `.cedarschema` text.
pub fn parse_schema(source: Source) -> Result<Schema, SourceErrors> {
    let file = match parse::parse_schema_file(&source.text) {
        Ok(file) => file,
        Err(d) => return Err(SourceErrors::single(source, d)),
    };
    resolve::resolve(&file).map_err(|errors| SourceErrors::new(source, errors))
}

#[cfg(test)]
mod tests;
