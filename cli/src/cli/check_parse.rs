//! `thuja check-parse`: report whether policies, a schema and entities parse.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};

use super::exit;

#[derive(Args, Debug)]
pub struct CheckParseArgs {
    /// Cedar policy file
    #[arg(short, long, value_name = "FILE")]
    pub policies: Option<PathBuf>,
    /// Format of the policies file: `cedar` (policy text) or `json` (Cedar's JSON policy format)
    #[arg(long, value_name = "FORMAT", default_value_t = input::PolicyFormat::Cedar)]
    pub policy_format: input::PolicyFormat,
    /// Template links JSON file (checked against the policies' templates)
    #[arg(short = 'k', long = "template-linked", value_name = "FILE")]
    pub template_linked: Option<PathBuf>,
    /// Schema file (see --schema-format)
    #[arg(short, long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Format of the schema file: `cedar` (.cedarschema text) or `json` (Cedar's JSON schema)
    #[arg(long, value_name = "FORMAT", default_value_t = input::SchemaFormat::Cedar)]
    pub schema_format: input::SchemaFormat,
    /// Entities JSON file (parsed with the schema, if one is given)
    #[arg(long, value_name = "FILE")]
    pub entities: Option<PathBuf>,
}

pub fn run(args: &CheckParseArgs) -> i32 {
    match check(args) {
        Ok(()) => {
            println!("Success: the inputs parse");
            exit::SUCCESS
        }
        Err(e) => {
            super::report(&e);
            exit::FAILURE
        }
    }
}

fn check(args: &CheckParseArgs) -> Result<(), InputError> {
    if args.policies.is_none() && args.schema.is_none() && args.entities.is_none() {
        return Err(InputError::Usage(
            "give at least one of --policies, --schema, --entities".into(),
        ));
    }
    if let Some(path) = &args.policies {
        input::policy_set_from_file(path, args.policy_format, args.template_linked.as_deref())?;
    }
    let schema = args
        .schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()?;
    if let Some(path) = &args.entities {
        input::entities_from_file(path, schema.as_ref())?;
    }
    Ok(())
}
