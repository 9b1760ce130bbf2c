//! Schema files, in the human-readable `.cedarschema` format or in Cedar's JSON schema format.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use thuja_compiler::Source;
use thuja_runtime::Schema;

use super::{InputError, read_file};

/// The format of a schema file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SchemaFormat {
    /// The human-readable `.cedarschema` format.
    #[default]
    Cedar,
    /// Cedar's JSON schema format.
    Json,
}

impl FromStr for SchemaFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cedar" => Ok(SchemaFormat::Cedar),
            "json" => Ok(SchemaFormat::Json),
            other => Err(format!(
                "unknown schema format `{other}`: expected `cedar` or `json`"
            )),
        }
    }
}

impl fmt::Display for SchemaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SchemaFormat::Cedar => "cedar",
            SchemaFormat::Json => "json",
        })
    }
}

/// Parses and resolves a `.cedarschema` text.
pub fn schema_from_str(name: &str, text: &str) -> Result<Schema, InputError> {
    schema_from_str_with_format(name, text, SchemaFormat::Cedar)
}

/// Parses and resolves a schema text in the given format.
pub fn schema_from_str_with_format(
    name: &str,
    text: &str,
    format: SchemaFormat,
) -> Result<Schema, InputError> {
    let source = Source::new(name, text);
    Ok(match format {
        SchemaFormat::Cedar => thuja_compiler::schema::parse_schema(source).map_err(|mut e| {
            // A JSON schema read as text fails at its first `{`: say what it probably is.
            if text.trim_start().starts_with('{')
                && let Some(first) = e.errors.first_mut()
                && first.help.is_none()
            {
                first.help = Some(
                    "this looks like a JSON schema; read it in the JSON format (`--schema-format json`)"
                        .into(),
                );
            }
            e
        })?,
        SchemaFormat::Json => thuja_compiler::schema::parse_schema_json(source)?,
    })
}

/// Reads a `.cedarschema` file.
pub fn schema_from_file(path: &Path) -> Result<Schema, InputError> {
    schema_from_file_with_format(path, SchemaFormat::Cedar)
}

/// Reads a schema file in the given format.
pub fn schema_from_file_with_format(
    path: &Path,
    format: SchemaFormat,
) -> Result<Schema, InputError> {
    schema_from_str_with_format(&path.display().to_string(), &read_file(path)?, format)
}

/// Translates a schema text to the other format: `.cedarschema` text to pretty-printed JSON, or
/// JSON to `.cedarschema` text. `from` is the format of `text`.
pub fn translate_schema(name: &str, text: &str, from: SchemaFormat) -> Result<String, InputError> {
    let source = Source::new(name, text);
    Ok(match from {
        SchemaFormat::Cedar => thuja_compiler::schema::translate_cedar_to_json(source)?,
        SchemaFormat::Json => thuja_compiler::schema::translate_json_to_cedar(source)?,
    })
}
