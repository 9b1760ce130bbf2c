//! `thuja translate-schema`: translate a schema between the `.cedarschema` text format and Cedar's
//! JSON schema format, printing the translation to stdout. The schema must be valid; errors are
//! reported with their location and exit 1.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use thuja::input::{self, InputError, SchemaFormat};

use super::exit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// `.cedarschema` text to JSON
    CedarToJson,
    /// JSON to `.cedarschema` text
    JsonToCedar,
}

#[derive(Args, Debug)]
pub struct TranslateSchemaArgs {
    /// Which way to translate
    #[arg(long, value_enum)]
    pub direction: Direction,
    /// The schema file to translate
    #[arg(short, long, value_name = "FILE")]
    pub schema: PathBuf,
}

pub fn run(args: &TranslateSchemaArgs) -> i32 {
    match translate(args) {
        Ok(text) => {
            out!("{text}");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn translate(args: &TranslateSchemaArgs) -> Result<String, InputError> {
    let text = input::read_file(&args.schema)?;
    let from = match args.direction {
        Direction::CedarToJson => SchemaFormat::Cedar,
        Direction::JsonToCedar => SchemaFormat::Json,
    };
    input::translate_schema(&args.schema.display().to_string(), &text, from)
}
