//! Cedar schemas, in the human-readable format (`.cedarschema`) and in Cedar's JSON schema format:
//! text to the resolved [`thuja_runtime::Schema`], and translation between the two formats.
//!
//! Both formats read into one [`syntax`] tree: [`parse`] reads text, [`json`] reads (and writes)
//! JSON, [`print`](mod@print) writes text. [`parse_schema`] and [`parse_schema_json`] then resolve names
//! ([`resolve`]):
//! namespaces, entity types (with parents, attributes, tags, or enumerated ids), common types
//! (expanded), and actions (groups, `appliesTo`, context). Annotations are kept in the tree (and
//! translated) but carry no meaning in the resolved schema. [`translate_cedar_to_json`] and
//! [`translate_json_to_cedar`] check that the schema resolves, then write the other format; the
//! result resolves to the same schema (for text output, up to the context of actions that apply
//! to no request, see [`print`](mod@print)).
//! Errors are located in the source and render as `file:line:col` with the offending snippet;
//! syntax errors stop at the first, resolution reports them all. No input panics.

pub mod json;
pub mod parse;
pub mod print;
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

/// Parses and resolves a schema in Cedar's JSON schema format.
pub fn parse_schema_json(source: Source) -> Result<Schema, SourceErrors> {
    let file = match json::parse_json_schema_file(&source.text) {
        Ok(file) => file,
        Err(d) => return Err(SourceErrors::single(source, d)),
    };
    resolve::resolve(&file).map_err(|errors| SourceErrors::new(source, errors))
}

/// Translates a `.cedarschema` text to Cedar's JSON schema format (pretty-printed). The schema
/// must be valid: resolution errors are reported, not translated.
pub fn translate_cedar_to_json(source: Source) -> Result<String, SourceErrors> {
    let file = match parse::parse_schema_file(&source.text) {
        Ok(file) => file,
        Err(d) => return Err(SourceErrors::single(source, d)),
    };
    if let Err(errors) = resolve::resolve(&file) {
        return Err(SourceErrors::new(source, errors));
    }
    Ok(json::to_json_string(&file))
}

/// Translates a JSON schema to `.cedarschema` text. The schema must be valid, and expressible in
/// the text format (see [`print`](mod@print)).
pub fn translate_json_to_cedar(source: Source) -> Result<String, SourceErrors> {
    let file = match json::parse_json_schema_file(&source.text) {
        Ok(file) => file,
        Err(d) => return Err(SourceErrors::single(source, d)),
    };
    if let Err(errors) = resolve::resolve(&file) {
        return Err(SourceErrors::new(source, errors));
    }
    print::to_cedarschema(&file).map_err(|d| SourceErrors::single(source, d))
}

#[cfg(test)]
mod tests;
