//! `thuja check-parse`: report whether policies, a schema and entities parse.

use std::path::PathBuf;

use clap::Args;
use thuja::input::{self, InputError};
use thuja_compiler::Source;

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
    /// A Cedar expression to parse
    #[arg(long, value_name = "EXPRESSION")]
    pub expression: Option<String>,
}

/// Checks each input given (policies from standard input when none is, as `cedar check-parse`
/// does), reporting every one that does not parse: exit 1 if any, else 0.
pub fn run(args: &CheckParseArgs) -> i32 {
    let errors = check(args);
    for e in &errors {
        super::report(e);
    }
    if errors.is_empty() {
        outln!("Success: the inputs parse");
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
}

fn check(args: &CheckParseArgs) -> Vec<InputError> {
    let mut errors = Vec::new();
    let nothing_given = args.policies.is_none()
        && args.schema.is_none()
        && args.entities.is_none()
        && args.expression.is_none();
    if nothing_given {
        if let Err(e) = policies_from_stdin(args) {
            errors.push(e);
        }
        return errors;
    }
    if let Some(path) = &args.policies
        && let Err(e) =
            input::policy_set_from_file(path, args.policy_format, args.template_linked.as_deref())
    {
        errors.push(e);
    }
    if let Some(text) = &args.expression
        && let Err(e) =
            thuja_compiler::parser::parse_expr(Source::new("<expression>", text.as_str()))
    {
        errors.push(e.into());
    }
    let schema = match args
        .schema
        .as_deref()
        .map(|path| input::schema_from_file_with_format(path, args.schema_format))
        .transpose()
    {
        Ok(schema) => schema,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Some(path) = &args.entities
        && let Err(e) = input::entities_from_file(path, schema.as_ref())
    {
        errors.push(e);
    }
    errors
}

/// The policies on standard input (with the links file, if given).
fn policies_from_stdin(args: &CheckParseArgs) -> Result<(), InputError> {
    let (name, text) = super::read_input(None)?;
    input::policy_set_from_str(
        &name,
        &text,
        args.policy_format,
        args.template_linked.as_deref(),
    )?;
    Ok(())
}
