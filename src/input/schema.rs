//! Schema files in the human-readable `.cedarschema` format.

use std::path::Path;

use thuja_compiler::Source;
use thuja_runtime::Schema;

use super::{InputError, read_file};

/// Parses and resolves a `.cedarschema` text.
pub fn schema_from_str(name: &str, text: &str) -> Result<Schema, InputError> {
    Ok(thuja_compiler::schema::parse_schema(Source::new(
        name, text,
    ))?)
}

pub fn schema_from_file(path: &Path) -> Result<Schema, InputError> {
    schema_from_str(&path.display().to_string(), &read_file(path)?)
}
